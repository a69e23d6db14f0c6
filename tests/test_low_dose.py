"""Low-dose maps through ``fuzzy_cluster`` with its defaults (issue 13).

The array-level pieces (adaptive weights smoothing, noise estimates, the noise
guard) are tested in ``test_spatial.py``; here the whole pipeline is: the
count-aware data space (binned axes, empty pixels masked), the automatic
spatial regularisation and the noise guard, on synthetic grain maps with a
known truth and on Poisson draws from the study's map (truth: the published
memberships). Thresholds are the issue's targets where the defaults reach them
and the measured values (minus a margin) where they do not (see
``benchmarks/RESULTS.md``, low-dose section).
"""

import warnings

import dask.array as da
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from hyperspy_cmeans import EDSSEMCmeansSpectrum
from hyperspy_cmeans.data import (
    ground_truth,
    qv120_cross_section,
    qv120_published_result,
    synthetic_eds_map,
)

pytestmark = pytest.mark.slow  # end-to-end runs on whole maps


def _labels(s):
    """Largest-membership labels, -1 where masked."""
    u = s.learning_results.cluster_membership.T
    ok = np.all(np.isfinite(u), axis=1)
    return np.where(ok, np.argmax(np.nan_to_num(u, nan=-1.0), axis=1), -1)


def _grains(dose, shape=(128, 128), seed=0):
    return synthetic_eds_map(
        shape=shape, layout="grains", interface_width=2.0, counts_per_pixel=dose, random_state=seed
    )


def _true_labels(s):
    gt = ground_truth(s)
    return gt.fractions.reshape(len(gt.phase_names), -1).argmax(0)


@pytest.fixture(scope="module")
def study():
    """The study's map (counts per channel, negatives clipped) and the published labels."""
    s = qv120_cross_section()
    counts = np.clip(np.asarray(s.data, dtype=float), 0, None)
    published = qv120_published_result().memberships.data.reshape(4, -1).argmax(0)
    return counts, published


def _study_draw(counts, dose, seed=0):
    lam = counts * (dose / counts.sum(-1).mean())
    data = np.random.default_rng([seed, dose]).poisson(lam).astype(np.float32)
    return EDSSEMCmeansSpectrum(data)


# ----------------------------------------------------------------------------- accuracy


@pytest.mark.parametrize(("dose", "minimum"), [(5, 0.82), (20, 0.92), (50, 0.96), (200, 0.99)])
def test_synthetic_grain_maps(dose, minimum):
    """Measured on 128 x 128 grain maps: 0.847, 0.933, 0.968, 0.998 (per-pixel GK on the
    same data space: 0.16-0.34 at 5, 0.82 at 20)."""
    s = _grains(dose)
    s.fuzzy_cluster(4, random_state=0)
    assert adjusted_rand_score(_true_labels(s), _labels(s)) >= minimum
    spatial = s.learning_results.fuzzy_cluster_parameters["spatial"]
    # the strength follows the noise: none at 200 counts per pixel
    assert (spatial["bandwidth"] == 0) == (dose == 200)


@pytest.mark.parametrize(("dose", "target"), [(5, 0.50), (20, 0.80), (50, 0.85)])
def test_study_map_poisson_draws_against_published_memberships(study, dose, target):
    """The issue's targets (measured: 0.83, 0.87, 0.87)."""
    counts, published = study
    s = _study_draw(counts, dose)
    s.fuzzy_cluster(4, random_state=0)
    assert adjusted_rand_score(published, _labels(s)) >= target


@pytest.mark.parametrize(("dose", "target"), [(100, 0.85), (50, 0.80)])
def test_thinned_map_agrees_with_its_own_full_count_phase_map(study, dose, target):
    """Binomial thinning of a full-dose draw, as a shorter acquisition of the same map."""
    counts, _ = study
    full = _study_draw(counts, 336, seed=1)
    full.fuzzy_cluster(4, random_state=0)
    rng = np.random.default_rng(dose)
    thinned = EDSSEMCmeansSpectrum(
        rng.binomial(full.data.astype(np.int64), dose / 336).astype(np.float32)
    )
    thinned.fuzzy_cluster(4, random_state=0)
    assert adjusted_rand_score(_labels(full), _labels(thinned)) >= target


def test_no_regression_on_the_study_map(study):
    """The shipped map is not smoothed (its signal-to-noise ratio is high)."""
    s = qv120_cross_section()
    s.fuzzy_cluster(4, random_state=0)
    spatial = s.learning_results.fuzzy_cluster_parameters["spatial"]
    assert spatial["bandwidth"] == 0.0
    _, published = study
    assert adjusted_rand_score(published, _labels(s)) >= 0.93


# ----------------------------------------------------------------------------- geometry


def _rim_map(counts_per_pixel, seed=0):
    """Two phases split by a sharp vertical interface, with a one-pixel rim of a third."""
    rng = np.random.default_rng(seed)
    spectra = np.zeros((3, 64))
    for k, centre in enumerate((10, 30, 50)):
        spectra[k] = np.exp(-0.5 * ((np.arange(64) - centre) / 2.0) ** 2)
    spectra /= spectra.sum(1, keepdims=True)
    labels = np.zeros((40, 40), int)
    labels[:, 20:] = 1
    labels[:, 20] = 2  # the rim, one pixel wide
    lam = spectra[labels] * counts_per_pixel + 0.01
    return EDSSEMCmeansSpectrum(rng.poisson(lam).astype(np.float32)), labels


@pytest.mark.parametrize(
    ("algorithm", "options"), [("probabilistic", {}), ("gustafson_kessel", {"gamma": 0.1})]
)
def test_wide_interfaces_at_high_counts_with_the_documented_remedies(algorithm, options):
    """The algorithms page: GK's clusters stretch into the mixed pixels of wide interfaces
    at high counts (ARI 0.947 here, 0.742 on 200 x 200 pixels); FCM or GK with gamma = 0.1
    give the true dominant phase (0.986 here, 0.992 on 200 x 200)."""
    s = synthetic_eds_map(
        shape=(128, 128), layout="grains", interface_width=5.0, counts_per_pixel=1000,
        random_state=0,
    )  # fmt: skip
    s.fuzzy_cluster(4, algorithm=algorithm, random_state=0, **options)
    assert adjusted_rand_score(_true_labels(s), _labels(s)) >= 0.97


def test_sharp_interface_and_one_pixel_rim_at_high_counts():
    s, truth = _rim_map(400)
    s.fuzzy_cluster(3, random_state=0)
    labels = _labels(s).reshape(truth.shape)
    assert adjusted_rand_score(truth.ravel(), labels.ravel()) > 0.99
    rim = labels[:, 20]
    assert (rim == np.bincount(rim).argmax()).all()  # every rim pixel is its own phase
    assert rim[0] not in (labels[0, 19], labels[0, 21])


def test_masked_pixels_are_left_out_and_nobodys_neighbours():
    s = _grains(20, shape=(64, 64))
    s.change_dtype("float32")
    mask = np.zeros((64, 64), bool)
    mask[20:30, 20:30] = True
    s.data[20:30, 20:30] = np.nan  # masked pixels may hold anything
    s.fuzzy_cluster(4, random_state=0, navigation_mask=mask)
    u = s.learning_results.cluster_membership.reshape(4, 64, 64)
    assert np.isnan(u[:, mask]).all() and np.isfinite(u[:, ~mask]).all()


def test_lazy_equals_eager_with_spatial_regularisation():
    eager = _grains(20, shape=(96, 80))
    lazy = eager.as_lazy()
    lazy.data = lazy.data.rechunk((17, 23, -1))  # borders inside the smoothing window
    eager.fuzzy_cluster(4, random_state=0)
    lazy.fuzzy_cluster(4, random_state=0)
    info = eager.learning_results.fuzzy_cluster_parameters["spatial"]
    assert info["bandwidth"] > 1  # the regularisation is active
    assert isinstance(lazy.data, da.Array)
    np.testing.assert_allclose(
        lazy.learning_results.cluster_membership,
        eager.learning_results.cluster_membership,
        atol=1e-3,
    )


def test_serial_sections_have_neighbours_in_z():
    a = _grains(20, shape=(48, 40), seed=0)
    s = EDSSEMCmeansSpectrum(np.stack([a.data, a.data, a.data]).astype(np.float32))
    z, y, x = s.axes_manager.navigation_axes[::-1]
    x.scale = y.scale = 20.0
    z.scale = 40.0  # slices twice as far apart as the pixels
    s.fuzzy_cluster(4, random_state=0)
    info = s.learning_results.fuzzy_cluster_parameters["spatial"]
    assert info["spacing"] == [40.0, 20.0, 20.0]
    assert info["bandwidth"] > 1
    u = s.learning_results.cluster_membership.reshape(4, 3, 48, 40)
    assert np.isfinite(u).all()


# ----------------------------------------------------------------------------- empty pixels


def test_pixels_without_counts_are_masked_with_a_warning():
    s = _grains(20, shape=(48, 40))
    s.data[5:8, 5:9] = 0  # a missing chunk, read as zeros
    with pytest.warns(UserWarning, match=r"12 pixel\(s\) recorded no counts: they are masked"):
        s.fuzzy_cluster(4, random_state=0)
    u = s.learning_results.cluster_membership.reshape(4, 48, 40)
    assert np.isnan(u[:, 5:8, 5:9]).all()
    assert s.learning_results.fuzzy_cluster_parameters["empty_pixels"] == 12
    assert (s.get_phase_map().data[5:8, 5:9] == -1).all()


# ----------------------------------------------------------------------------- noise guard


def _one_phase(dose=20, shape=(64, 64)):
    """A single phase: every split is a noise split."""
    s = _grains(dose, shape=shape)
    spectrum = np.asarray(s.data, dtype=float).reshape(-1, s.data.shape[-1]).mean(0)
    rng = np.random.default_rng(3)
    return EDSSEMCmeansSpectrum(rng.poisson(np.tile(spectrum, shape + (1,))).astype(np.float32))


def test_noise_guard_fires_on_pure_noise():
    s = _one_phase()
    with pytest.warns(UserWarning, match="not distinguishable from one phase split by noise"):
        s.fuzzy_cluster(3, random_state=0, spatial=None)
    assert s.learning_results.fuzzy_cluster_parameters["indistinguishable_pairs"]


def test_noise_guard_is_silent_on_a_clean_map():
    s = _grains(200, shape=(96, 96))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        s.fuzzy_cluster(4, random_state=0)
    assert s.learning_results.fuzzy_cluster_parameters["indistinguishable_pairs"] == []


def test_scan_never_picks_a_noise_split():
    clean = _grains(200, shape=(96, 96))
    scan = clean.estimate_number_of_fuzzy_clusters(range(2, 7), random_state=0, return_info=True)
    assert scan.estimate == 4
    assert set(scan.noise_splits) >= {6} and 4 not in scan.noise_splits
    noise = _one_phase()
    scan = noise.estimate_number_of_fuzzy_clusters(
        [2, 3], random_state=0, spatial=None, return_info=True
    )
    assert scan.estimate == 2 and scan.noise_splits == [3]
