"""The demo (issue 12): the study's workflow on the study's map, and on a synthetic map.

``hyperspy-cmeans demo`` must reproduce the published result on the study's
map (the agreement lands in ``summary.json``) and write every file it lists,
each holding what it claims; ``--synthetic`` must recover the known phases
and energy calibration.
"""

import json
import re

import hyperspy.api as hs
import matplotlib.image
import numpy as np
import pytest

# the chemistry check of the study's map (net X-ray line intensities -> mineral)
from test_qv120 import mineral  # tests/ is on sys.path under pytest

from hyperspy_cmeans import _demo
from hyperspy_cmeans._cli import main
from hyperspy_cmeans.data import QV120_CITATION, qv120_cross_section, qv120_published_result
from hyperspy_cmeans.data import _qv120 as qv120

pytestmark = pytest.mark.slow  # end-to-end runs on whole maps

#: Every file the demo on the study's map writes (the README lists them).
REAL_FILES = {
    "summary.json",
    "cluster_metric.png",
    "memberships_per_n.png",
    "membership_maps.png",
    "phase_map.png",
    "phase_spectra.png",
    "data_space.png",
    "data_space_memberships.png",
    "overview.png",
    "published_comparison.png",
    "data_space.csv",
    "phase_0_titanite.msa",
    "phase_1_chlorite.msa",
    "phase_2_rutile.msa",
    "phase_3_Fe-rich_phase.msa",
}


@pytest.fixture(scope="module")
def real_demo(tmp_path_factory):
    """``hyperspy-cmeans demo --out DIR --quiet`` on the study's map: (exit status, DIR)."""
    out = tmp_path_factory.mktemp("demo_real")
    status = main(["demo", "--out", str(out), "--quiet"])
    return status, out


@pytest.fixture(scope="module")
def real_summary(real_demo):
    return json.loads((real_demo[1] / "summary.json").read_text())


@pytest.fixture(scope="module")
def synthetic_demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo_synthetic")
    status = main(["demo", "--synthetic", "--out", str(out), "--quiet"])
    return status, out, json.loads((out / "summary.json").read_text())


def _png_ok(path, min_size=(300, 300)):
    """A readable PNG of at least ``min_size`` (width, height) pixels with something drawn."""
    image = matplotlib.image.imread(path)
    height, width = image.shape[:2]
    assert width >= min_size[0] and height >= min_size[1], (path.name, image.shape)
    assert np.ptp(image[..., :3]) > 0.5, f"{path.name} is blank"


# ----------------------------------------------------------------------------
# the study's map
# ----------------------------------------------------------------------------


def test_real_demo_reproduces_the_published_result(real_demo, real_summary):
    """The summary's agreement with the published memberships (see test_qv120)."""
    status, _ = real_demo
    s = real_summary
    assert status == 0 and s["ok"] is True
    assert s["n_clusters"] == 4 and s["estimated_number_of_clusters"] == 4
    assert list(s["xie_beni"]) == ["2", "3", "4", "5", "6"]
    assert min(s["xie_beni"], key=s["xie_beni"].get) == "4"
    # ARI 0.932, RMSE 0.053, 5.4 % unassigned (published 5.7 %, 1349 pixels)
    assert s["adjusted_rand_index"] >= 0.93
    assert s["membership_rmse"] <= 0.055
    assert s["unassigned_fraction"] == pytest.approx(0.054, abs=0.01)
    assert s["published_unassigned_fraction"] == pytest.approx(1349 / 23712)
    assert max(s["membership_rmse_per_cluster"]) <= 0.07
    assert s["same_dominant_phase_fraction"] >= 0.95
    assert s["ok_if"] == "adjusted_rand_index >= 0.9 and membership_rmse <= 0.07"
    assert s["citation"] == QV120_CITATION


def test_real_demo_names_clusters_after_the_published_ones(real_summary):
    s = real_summary
    assert sorted(s["published_cluster"]) == [0, 1, 2, 3]
    assert s["phase_names"] == [qv120.PUBLISHED_PHASES[j] for j in s["published_cluster"]]
    assert list(s["pixels_per_phase"]) == s["phase_names"]
    assigned = sum(s["pixels_per_phase"].values())
    assert assigned == round((1 - s["unassigned_fraction"]) * 23712)


def test_real_demo_writes_the_files_it_lists(real_demo, real_summary):
    _, out = real_demo
    written = {p.name for p in out.iterdir()}
    assert written == set(real_summary["files"]) == REAL_FILES
    for name in written:
        assert (out / name).stat().st_size > 0, name
    for name in sorted(n for n in written if n.endswith(".png")):
        _png_ok(out / name)
    # the side-by-side comparison: 5 columns (4 phases and the phase maps) of 3 rows
    _png_ok(out / "published_comparison.png", min_size=(1200, 900))


def test_readme_lists_every_file_the_demo_writes():
    """Issue 15: the README's demo section names every file of both runs."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## The two commands") : readme.index("## Use it in HyperSpy")]
    names = {n for n in REAL_FILES if not n.endswith(".msa")} | {"energy_calibration.png"}
    for name in sorted(names) + ["phase_<k>_<name>.msa"]:
        assert f"`{name}`" in section, name


def test_real_demo_timing_is_recorded(real_summary):
    s = real_summary
    assert list(s["step_seconds"]) == ["load", "scan", "cluster", "compare", "write"]
    # the steps cover the whole run (each rounded to 0.01 s)
    assert sum(s["step_seconds"].values()) == pytest.approx(s["seconds"], abs=0.05)


def test_real_demo_data_space_csv(real_demo, real_summary):
    """One row per pixel: coordinates, 3 scores, 4 memberships summing to 1, the label."""
    _, out = real_demo
    path = out / "data_space.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["y", "x", "score_0", "score_1", "score_2"] + [
        f"membership_{k}" for k in range(4)
    ] + ["label"]  # fmt: skip
    table = np.loadtxt(path, delimiter=",", skiprows=1)
    assert table.shape == (156 * 152, 10)
    np.testing.assert_allclose(table[:, 5:9].sum(1), 1.0, atol=1e-4)
    labels = table[:, -1].astype(int)
    assert np.mean(labels < 0) == pytest.approx(real_summary["unassigned_fraction"])
    counts = [int(np.sum(labels == k)) for k in range(4)]
    assert counts == list(real_summary["pixels_per_phase"].values())


def test_real_demo_msa_hold_the_phase_sums(real_demo, real_summary):
    """Each .msa is its phase's counts summed over the member pixels (the CSV's labels)."""
    _, out = real_demo
    labels = np.loadtxt(out / "data_space.csv", delimiter=",", skiprows=1, usecols=-1)
    X = qv120_cross_section().data.reshape(-1, 1024).astype(float)
    for k, name in enumerate(real_summary["phase_names"]):
        safe = re.sub(r"[^\w-]", "_", name)
        spectrum = hs.load(out / f"phase_{k}_{safe}.msa")
        assert spectrum.data.shape == (1024,)
        assert f"Phase {k} ({name})" in spectrum.metadata.General.title
        axis = spectrum.axes_manager.signal_axes[0]
        assert axis.scale == pytest.approx(qv120.ENERGY_SCALE)
        assert axis.offset == pytest.approx(qv120.ENERGY_OFFSET)
        np.testing.assert_allclose(
            spectrum.data, X[labels == k].sum(0), rtol=1e-4, atol=1e-2 * (labels == k).sum()
        )


def test_real_demo_msa_read_as_their_minerals(real_demo, real_summary):
    """The phase named after the published cluster has that mineral's chemistry."""
    _, out = real_demo
    for path in sorted(out.glob("phase_*.msa")):
        spectrum = hs.load(path)
        energy = spectrum.axes_manager.signal_axes[0].axis
        k = int(path.name.split("_")[1])
        assert mineral(spectrum.data, energy) == real_summary["phase_names"][k], path.name


def test_published_agreement_matches_and_scores():
    """Clusters in another order are matched; the numbers are those of the matched pairs."""
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.full(3, 0.3), size=500)  # "published", 3 clusters
    order = [2, 0, 1]
    same = _demo.published_agreement(p[:, order], p)
    assert same["published_cluster"] == order
    assert same["adjusted_rand_index"] == pytest.approx(1.0)
    assert same["membership_rmse"] == pytest.approx(0.0, abs=1e-12)
    assert same["same_dominant_phase_fraction"] == 1.0
    assert same["unassigned_fraction"] == same["published_unassigned_fraction"]
    noisy = np.clip(p[:, order] + rng.normal(0, 0.05, p.shape), 0, None)
    noisy /= noisy.sum(1, keepdims=True)
    scores = _demo.published_agreement(noisy, p)
    assert scores["published_cluster"] == order
    per = np.asarray(scores["membership_rmse_per_cluster"])
    expected = [np.sqrt(np.mean((noisy[:, k] - p[:, j]) ** 2)) for k, j in enumerate(order)]
    np.testing.assert_allclose(per, expected)
    assert scores["membership_rmse"] == pytest.approx(np.sqrt(np.mean(per**2)))
    assert 0 < scores["adjusted_rand_index"] < 1


def test_published_comparison_figure():
    """Top: ours in the published order; middle: the published maps; bottom: differences."""
    s = qv120_cross_section()
    published = qv120_published_result()
    s.fuzzy_cluster(4, random_state=0, n_init=1)
    p = published.memberships.data.reshape(4, -1).T
    agreement = _demo.published_agreement(s.learning_results.cluster_membership.T, p)
    names = [published.phase_names[j] for j in agreement["published_cluster"]]
    axs = _demo.plot_published_comparison(s, published, agreement, names)
    assert axs.shape == (3, 5)
    for j in range(4):
        k = agreement["published_cluster"].index(j)
        assert axs[0, j].get_title() == f"ours: cluster {k}\n{published.phase_names[j]}"
        assert axs[1, j].get_title() == f"published: cluster {j}\n{published.phase_names[j]}"
        rmse = agreement["membership_rmse_per_cluster"][k]
        assert axs[2, j].get_title().endswith(f"RMSE {rmse:.3f}")
        np.testing.assert_allclose(axs[1, j].images[0].get_array(), published.memberships.data[j])
    assert "unassigned" in axs[0, 4].get_title() and "published" in axs[1, 4].get_title()
    fig = axs[0, 0].figure
    assert f"ARI {agreement['adjusted_rand_index']:.3f}" in fig.get_suptitle()
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["unassigned"] + [f"cluster {k}: {n}" for k, n in enumerate(names)]


# ----------------------------------------------------------------------------
# the synthetic map
# ----------------------------------------------------------------------------


def test_synthetic_demo_recovers_the_truth(synthetic_demo):
    status, out, s = synthetic_demo
    assert status == 0 and s["ok"] is True
    assert s["estimated_number_of_clusters"] == 4
    assert s["adjusted_rand_index"] >= 0.95 and s["membership_rmse"] <= 0.08
    assert abs(s["energy_offset_error_channels"]) < 0.1
    assert abs(s["energy_scale_error_percent"]) < 0.02
    assert {"Mg_Ka", "Si_Ka", "Ca_Ka", "Ti_Ka", "Fe_Ka"} <= set(s["matched_lines"])
    assert s["pixel_size_nm"] == pytest.approx([17.1875, 17.1875 / np.sin(np.radians(52))])
    assert sorted(s["cluster_phases"]) == ["Fe-rich silicate", "chlorite", "rutile", "titanite"]
    assert list(s["step_seconds"]) == ["generate", "calibrate", "tilt", "scan", "cluster", "write"]


def test_synthetic_demo_writes_the_files_it_lists(synthetic_demo):
    _, out, s = synthetic_demo
    written = {p.name for p in out.iterdir()}
    assert written == set(s["files"])
    msa = [f"phase_{k}_{name.replace(' ', '_')}.msa" for k, name in enumerate(s["cluster_phases"])]
    assert written == (REAL_FILES - {"published_comparison.png"}) - {
        n for n in REAL_FILES if n.endswith(".msa")
    } | {"energy_calibration.png", *msa}
    for name in sorted(n for n in written if n.endswith(".png")):
        _png_ok(out / name)
    for k, name in enumerate(msa):
        spectrum = hs.load(out / name)
        assert s["cluster_phases"][k] in spectrum.metadata.General.title
        assert spectrum.data.sum() > 0
