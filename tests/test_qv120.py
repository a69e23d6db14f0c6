"""The study's own map (QV1.120 FIB cross-section) and its published result (issue 12).

The published Gustafson–Kessel memberships are the first acceptance test: the
engine must reproduce them from the published data space, and fuzzy_cluster's
data space must reproduce them from the map; the four phase spectra must read
as the study's minerals.
"""

import hashlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

import hyperspy_cmeans
from hyperspy_cmeans import evaluation
from hyperspy_cmeans._features import pca_scores
from hyperspy_cmeans.cmeans import GustafsonKessel
from hyperspy_cmeans.data import (
    QV120_CITATION,
    ground_truth,
    qv120_cross_section,
    qv120_published_result,
    synthetic_eds_map,
)
from hyperspy_cmeans.data import _qv120 as qv120

try:  # public from some exspy versions on; private module in exspy 0.3
    from exspy.utils.eds import get_FWHM_at_Energy
except ImportError:  # pragma: no cover - depends on the installed exspy
    from exspy._misc.eds.utils import get_FWHM_at_Energy
from exspy.material import elements as xray_database

#: The data-space defaults that follow the study (to be the signature defaults of
#: fuzzy_cluster and estimate_number_of_fuzzy_clusters).
STUDY_DEFAULTS = {"preprocessing": "composition", "n_components": 3}
CATIONS = ("Mg_Ka", "Al_Ka", "Si_Ka", "Ca_Ka", "Ti_Ka", "Fe_Ka")


@pytest.fixture(scope="module")
def qmap():
    return qv120_cross_section()


@pytest.fixture(scope="module")
def published():
    return qv120_published_result()


@pytest.fixture(scope="module")
def published_u(published):
    return published.memberships.data.reshape(4, -1).T.astype(float)


@pytest.fixture(scope="module")
def clustered(qmap):
    s = qmap.deepcopy()
    s.fuzzy_cluster(4, random_state=0, **STUDY_DEFAULTS)
    return s


def _agreement(u, reference):
    """ARI of the argmax labels, matched-membership RMSE, unassigned fraction."""
    match = evaluation.match_clusters(u, reference)
    ari = adjusted_rand_score(reference.argmax(1), u.argmax(1))
    return ari, evaluation.membership_rmse(u, reference, match), float(np.mean(u.max(1) <= 0.5))


# ----------------------------------------------------------------------------
# the loader
# ----------------------------------------------------------------------------


def test_map_shape_axes_and_metadata(qmap):
    s = qmap
    assert type(s) is hyperspy_cmeans.EDSSEMCmeansSpectrum
    assert s.metadata.Signal.signal_type == "EDS_SEM_cmeans"
    assert s.data.shape == (156, 152, 1024) and s.data.dtype == np.float32
    am = s.axes_manager
    assert am.navigation_shape == (152, 156) and am.signal_shape == (1024,)
    x, y = am.navigation_axes
    assert (x.name, x.units, x.offset, x.scale) == ("x", "nm", 0.0, 17.1875)
    assert (y.name, y.units, y.offset) == ("y", "nm", 0.0)
    # the study's tilt correction: 17.1875 nm / cos(90 - 52 degrees)
    assert y.scale == pytest.approx(21.81125, abs=1e-5)
    assert y.scale == pytest.approx(17.1875 / np.cos(np.radians(90 - 52)), rel=2e-6)
    e = am.signal_axes[0]
    assert (e.name, e.units, e.size) == ("Energy", "keV", 1024)
    assert e.scale == pytest.approx(0.010005, abs=1e-6)
    assert e.offset == pytest.approx(-0.0955, abs=1e-4)
    md = s.metadata
    assert md.Acquisition_instrument.SEM.beam_energy == 10.0
    assert md.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0
    eds = md.Acquisition_instrument.SEM.Detector.EDS
    assert (eds.elevation_angle, eds.azimuth_angle, eds.energy_resolution_MnKa) == (
        35.0,
        0.0,
        130.0,
    )
    assert set(md.Sample.elements) == {"O", "Mg", "Al", "Si", "Ca", "Ti", "Fe", "Pt", "Ga"}
    assert set(md.Sample.xray_lines) == {
        "O_Ka", "Mg_Ka", "Al_Ka", "Si_Ka", "Ca_Ka", "Ti_Ka", "Fe_Ka", "Pt_Ma", "Ga_La",
    }  # fmt: skip
    assert "15-component" in md.General.title and "QV1.120" in md.General.title
    assert md.General.doi == "10.1029/2020GL088472"
    assert "Tominaga" in md.General.authors
    assert QV120_CITATION in md.General.notes and "CC0" in md.General.notes
    # the study's decomposition comes along
    lr = s.learning_results
    assert lr.poissonian_noise_normalized is True and lr.output_dimension == 15
    assert lr.loadings.shape == (156 * 152, 15) and lr.factors.shape == (1024, 15)


def test_map_is_the_reconstruction_in_counts(qmap):
    X = qmap.data.reshape(-1, 1024).astype(float)
    totals = X.sum(1)
    assert totals.mean() == pytest.approx(335.8, abs=0.1)
    # pixel totals and channel sums of the raw map are whole counts; the reconstruction keeps them
    np.testing.assert_allclose(totals, np.round(totals), atol=0.01)
    np.testing.assert_allclose(X.sum(0), np.round(X.sum(0)), rtol=2e-6, atol=0.01)
    negative = X < 0
    assert 0 < negative.mean() < 0.02 and X.min() > -3.5


def test_lazy_map_equals_the_eager_one(qmap):
    lazy = qv120_cross_section(lazy=True)
    assert type(lazy) is hyperspy_cmeans.LazyEDSSEMCmeansSpectrum
    assert lazy.data.chunksize[:2] == (64, 64)
    np.testing.assert_allclose(lazy.data.compute(), qmap.data, rtol=1e-5, atol=1e-5)
    assert lazy.metadata.as_dictionary()["General"]["title"] == qmap.metadata.General.title


def test_published_result(qmap, published):
    u = published.memberships
    assert u.data.shape == (4, 156, 152) and u.axes_manager.navigation_shape == (4,)
    assert u.axes_manager.navigation_axes[0].name == "Cluster index"
    for ours, theirs in zip(
        u.axes_manager.signal_axes, qmap.axes_manager.navigation_axes, strict=True
    ):
        assert (ours.name, ours.size, ours.scale, ours.offset, ours.units) == (
            theirs.name, theirs.size, theirs.scale, theirs.offset, theirs.units,
        )  # fmt: skip
    np.testing.assert_allclose(u.data.sum(0), 1.0, atol=1e-6)
    # 1349 pixels without a membership above 0.5 (the notebook: "5.6 %", 1349 / 23712)
    assert int(np.sum(u.data.max(0) <= 0.5)) == 1349
    assert published.data_space.shape == (23712, 3)
    np.testing.assert_allclose(published.data_space.mean(0), 0.0, atol=1e-4)
    assert published.phase_names == ("chlorite", "rutile", "titanite", "Fe-rich phase")
    assert published.citation == QV120_CITATION


def test_shipped_files_are_the_published_ones():
    """The package data are byte-identical to the public files (SHA-256 in the README)."""
    folder = Path(qv120.__file__).parent / "qv120"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for path in (qv120._DECOMPOSITION, qv120._MEMBERSHIPS, qv120._DATA_SPACE):
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(path.name)}` \| `{digest}`", readme), path.name
    assert "CC0" in readme and "10.1029/2020GL088472" in readme and "13c646a" in readme


# ----------------------------------------------------------------------------
# the published memberships: engine and data space
# ----------------------------------------------------------------------------


def test_engine_reproduces_published_memberships(published, published_u):
    u = GustafsonKessel(n_clusters=4, random_state=0).fit(published.data_space).memberships_
    ari, rmse, unassigned = _agreement(u, published_u)
    assert ari >= 0.999 and rmse <= 0.001
    assert unassigned == pytest.approx(1349 / 23712, abs=2e-4)


def test_snv_is_the_studys_data_space(qmap, published):
    """The study standardised each pixel's spectrum across its channels, then PCA.

    On the map (noise beyond 15 components removed) the scores follow the
    published ones component by component; the rest is the raw map's noise.
    """
    X = qmap.data.reshape(-1, 1024)
    scores = pca_scores(X, 3, "snv").scores
    corr = [abs(np.corrcoef(scores[:, k], published.data_space[:, k])[0, 1]) for k in range(3)]
    assert corr[0] >= 0.99 and corr[1] >= 0.98 and corr[2] >= 0.95


def test_defaults_reproduce_published_memberships(clustered, published_u):
    """fuzzy_cluster(4) with the study's defaults on the study's map.

    Reached: ARI 0.932, RMSE 0.053, 5.4 % unassigned (published 5.7 %). For
    scale: two Poisson replicates of the map clustered the study's own way
    agree with each other at ARI 0.86 and with the published result at 0.88;
    the channel z-score ("standard") gives ARI 0.754, RMSE 0.137.
    """
    u = clustered.learning_results.cluster_membership.T
    ari, rmse, unassigned = _agreement(u, published_u)
    assert ari >= 0.93
    assert rmse <= 0.055
    assert unassigned == pytest.approx(0.056, abs=0.01)


def test_defaults_keep_synthetic_accuracy():
    """The study's defaults on the default synthetic map (ground truth known)."""
    s = synthetic_eds_map()
    s.fuzzy_cluster(4, random_state=0, **STUDY_DEFAULTS)
    truth = ground_truth(s).fractions.reshape(4, -1).T
    u = s.learning_results.cluster_membership.T
    assert evaluation.dominant_phase_ari(u.argmax(1), truth) >= 0.95
    assert evaluation.membership_rmse(u, truth) <= 0.07


def test_signature_defaults_follow_the_study():
    cls = hyperspy_cmeans.EDSSEMCmeansSpectrum
    for method in (cls.fuzzy_cluster, cls.estimate_number_of_fuzzy_clusters):
        params = inspect.signature(method).parameters
        for name, value in STUDY_DEFAULTS.items():
            assert params[name].default == value, (method.__name__, name)


# ----------------------------------------------------------------------------
# chemistry of the phase spectra
# ----------------------------------------------------------------------------


def _snip_background(y, half_width):
    """Peak-stripped background (SNIP, Ryan et al. 1988) on the log-log-sqrt scale."""
    v = np.log(np.log(np.sqrt(np.clip(y, 0, None) + 1) + 1) + 1)
    n = v.size
    for p in range(1, half_width + 1):
        v[p : n - p] = np.minimum(v[p : n - p], 0.5 * (v[: n - 2 * p] + v[2 * p :]))
    return (np.exp(np.exp(v) - 1) - 1) ** 2 - 1


def net_intensities(spectrum, energy, lines, fwhm_mnka=130.0):
    """Background-subtracted counts of X-ray lines in one spectrum.

    The background is SNIP-stripped with a window of two peak widths (at 7
    keV); each line's net intensity is the sum of spectrum minus background
    within one FWHM (detector law at the line energy) of the line.
    """
    scale = energy[1] - energy[0]
    y = np.asarray(spectrum, dtype=float)
    background = _snip_background(y, int(round(2 * get_FWHM_at_Energy(fwhm_mnka, 7.0) / scale)))
    out = {}
    for line in lines:
        element, name = line.split("_")
        e = xray_database[element].Atomic_properties.Xray_lines[name]["energy (keV)"]
        window = np.abs(energy - e) <= get_FWHM_at_Energy(fwhm_mnka, e)
        out[line] = float(np.sum((y - background)[window]))
    return out


def mineral(spectrum, energy):
    """Name the mineral of a phase spectrum from its net line intensities, or None.

    Fractions of the cation lines (Mg, Al, Si, Ca, Ti, Fe Ka) in the sum of
    their net intensities. O Ka must be present in every phase (above a tenth of
    the strongest cation line: at 10 kV it is weak next to Ti Ka in rutile).
    """
    net = net_intensities(spectrum, energy, ("O_Ka",) + CATIONS)
    cat = np.clip([net[line] for line in CATIONS], 0, None)
    f = dict(zip(CATIONS, cat / cat.sum(), strict=True))
    largest = max(f, key=f.get)
    oxide = net["O_Ka"] > 0.1 * max(cat)
    if not oxide:
        return None
    if (
        largest == "Ti_Ka"
        and f["Ti_Ka"] >= 0.4
        and all(f[x] <= 0.1 for x in ("Mg_Ka", "Al_Ka", "Si_Ka", "Ca_Ka"))
    ):
        return "rutile"
    if min(f["Ca_Ka"], f["Ti_Ka"], f["Si_Ka"]) >= 0.15 and max(f["Mg_Ka"], f["Al_Ka"]) <= 0.06:
        return "titanite"
    if (
        min(f["Mg_Ka"], f["Al_Ka"]) >= 0.08
        and min(f["Si_Ka"], f["Fe_Ka"]) >= 0.15
        and max(f["Ca_Ka"], f["Ti_Ka"]) <= 0.15
    ):
        return "chlorite"
    if largest == "Fe_Ka" and f["Fe_Ka"] >= 0.45:
        return "Fe-rich phase"
    return None


def test_published_clusters_are_the_studys_minerals(qmap, published_u):
    energy = qmap.axes_manager.signal_axes[0].axis
    X = qmap.data.reshape(-1, 1024)
    names = [mineral(X[published_u[:, k] > 0.5].mean(0), energy) for k in range(4)]
    assert tuple(names) == qv120.PUBLISHED_PHASES


def test_phase_spectra_read_as_the_studys_minerals(clustered, published_u):
    spectra = clustered.cluster_phase_spectra()
    energy = spectra.axes_manager.signal_axes[0].axis
    names = [mineral(spectra.data[k], energy) for k in range(4)]
    assert sorted(names) == sorted(qv120.PUBLISHED_PHASES)
    # and each cluster is the mineral of the published cluster it matches
    match = evaluation.match_clusters(clustered.learning_results.cluster_membership.T, published_u)
    assert names == [qv120.PUBLISHED_PHASES[j] for j in match]
