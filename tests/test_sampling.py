"""Sample-then-predict: the model learned from tiles of the map, one pass over every pixel (issue 14).

The sampled fit is compared with the exact fit (``subsample=None``) on the
synthetic grain map and on the study's map, eager, lazy and on a
``dask.distributed`` cluster; the pass is checked for what it stores (phase
sums that satisfy their definition, lazy float32 memberships) and for never
holding more than one block of the map in a task.
"""

import dask
import matplotlib.pyplot as plt
import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score
from test_lazy import LargestResult

from hyperspy_cmeans import _clustering as clustering
from hyperspy_cmeans import _sampling as sampling
from hyperspy_cmeans.cmeans import GustafsonKessel
from hyperspy_cmeans.data import ground_truth, qv120_cross_section, synthetic_eds_map
from hyperspy_cmeans.signals import _sampled as sampled_signals

GRAINS = {"shape": (200, 200), "layout": "grains", "random_state": 0}


def _labels(u):
    u = np.asarray(u, dtype=float)
    invalid = ~np.all(np.isfinite(u), axis=0)
    return np.where(invalid, -1, np.argmax(np.nan_to_num(u, nan=-1.0), axis=0))


def _agreement(exact, sampled):
    """ARI of the largest-membership labels, mean and 99th percentile of |du|."""
    ue = np.asarray(exact.learning_results.cluster_membership, dtype=float)
    us = np.asarray(sampled.learning_results.cluster_membership, dtype=float)
    change = np.abs(ue - us)[:, np.all(np.isfinite(ue), axis=0)]
    return (
        adjusted_rand_score(_labels(ue), _labels(us)),
        float(change.mean()),
        float(np.quantile(change.max(axis=0), 0.99)),
    )


def _truth_ari(s):
    """ARI of the largest-membership labels against the true dominant phase."""
    truth = ground_truth(s).dominant_phase.ravel()
    return adjusted_rand_score(truth, _labels(s.learning_results.cluster_membership))


# ----------------------------------------------------------------------------- the sample size


@pytest.mark.parametrize(
    ("subsample", "n_pixels", "expected"),
    [
        (None, 10**6, None),
        ("auto", 512 * 512, None),  # maps up to 512 x 512 are fitted exactly
        ("auto", 1024 * 1024, 2**16),  # 1 % is fewer than the smallest sample
        ("auto", 2**25, 2**18),  # 1 % is more than the largest
        ("auto", 2**23, 83886),  # 1 %, between the bounds
        (5000, 10**6, 5000),
        (0.1, 10**5, 10**4),
        (1.0, 10**5, None),  # the whole map is the exact fit
        (10**7, 10**5, None),
    ],
)
def test_resolve_subsample(subsample, n_pixels, expected):
    assert sampling.resolve_subsample(subsample, n_pixels) == expected


@pytest.mark.parametrize("bad", ["all", 0, -5, 0.0, 1.5, True, [100], np.nan])
def test_resolve_subsample_refuses(bad):
    with pytest.raises(ValueError, match="subsample="):
        sampling.resolve_subsample(bad, 10**6)


# ----------------------------------------------------------------------------- the tiles


@pytest.mark.parametrize(
    ("shape", "chunks"),
    [
        ((300, 170), None),
        ((7, 64, 50), None),
        ((500,), None),
        ((256, 256), ((64,) * 4, (100, 100, 56))),
    ],
)
def test_tiles_cover_the_map_once(shape, chunks):
    bounds = sampling.tile_bounds(shape, chunks)
    cover = np.zeros(shape, dtype=int)
    everything = sampling.choose_tiles(bounds, 10**9)
    for tile in everything:
        cover[tile] += 1
    assert np.all(cover == 1)
    if chunks is not None:  # a tile never straddles two chunks (one read per tile)
        for axis, c in enumerate(chunks):
            assert {b[0] for b in bounds[axis]} >= set(np.cumsum((0, *c))[:-1].tolist())


def test_fewest_tiles_follow_the_map_size():
    def grid(n):
        return [[(i, i + 1) for i in range(n)]] * 2

    assert sampling.fewest_tiles(grid(16), chunked=True) == 32  # 256 chunks: 32
    assert sampling.fewest_tiles(grid(64), chunked=True) == 128  # 4096 chunks: 2 per row
    assert sampling.fewest_tiles(grid(64), chunked=False) == 128
    assert sampling.fewest_tiles(grid(4), chunked=False) == 8
    tiles = sampling.choose_tiles(grid(64), 10, 0, sampling.fewest_tiles(grid(64), True))
    assert len(tiles) == 128
    assert len({t[0].start for t in tiles}) == 64  # every row of chunks is sampled


def test_tiles_are_spread_and_reproducible():
    bounds = sampling.tile_bounds((512, 512))
    tiles = sampling.choose_tiles(bounds, 8192, random_state=3)
    assert tiles == sampling.choose_tiles(bounds, 8192, random_state=3)
    assert tiles != sampling.choose_tiles(bounds, 8192, random_state=4)
    n = sum((t[0].stop - t[0].start) * (t[1].stop - t[1].start) for t in tiles)
    assert 8192 <= n < 8192 + 256
    # stratified in raster order: every eighth of the map's rows holds a tile
    rows = np.array([t[0].start for t in tiles])
    assert len(np.unique(rows // 64)) == 8


# ----------------------------------------------------------------------------- against the exact fit


@pytest.fixture(scope="module")
def grains():
    return synthetic_eds_map(**GRAINS)


@pytest.fixture(scope="module")
def grains_exact(grains):
    s = grains.deepcopy()
    s.fuzzy_cluster(4, random_state=0, subsample=None)
    return s


def test_sampled_fit_agrees_with_the_exact_fit(grains, grains_exact):
    # a small map and a small sample (8000 pixels, 1.6 million counts: "auto" would fit this
    # map exactly); the sampled fit is as close to the truth as the exact one
    s = grains.deepcopy()
    s.fuzzy_cluster(4, random_state=0, subsample=0.2)
    params = s.learning_results.fuzzy_cluster_parameters
    assert params["fit"] in ("sample", "sample, then all pixels")
    assert 7500 <= params["sample_pixels"] <= 8500
    assert params["full_fit_check"]["full_fit_pixels"] == 200 * 200
    ari, mean_change, p99 = _agreement(grains_exact, s)
    assert ari >= 0.98
    assert mean_change < 0.01
    assert p99 < 0.05
    assert _truth_ari(s) >= _truth_ari(grains_exact) - 0.005
    assert grains_exact.learning_results.fuzzy_cluster_parameters["fit"] == "exact"


@pytest.mark.slow
def test_auto_sample_agrees_with_the_exact_fit_on_a_large_map():
    big = synthetic_eds_map(shape=(640, 640), layout="grains", random_state=0)
    sampled = big.deepcopy()
    sampled.fuzzy_cluster(4, random_state=0)  # subsample="auto": 65536 pixels, 13 M counts
    params = sampled.learning_results.fuzzy_cluster_parameters
    assert params["fit"].startswith("sample") and params["sample_pixels"] >= 2**16
    big.fuzzy_cluster(4, random_state=0, subsample=None)
    ari, mean_change, _ = _agreement(big, sampled)
    assert ari >= 0.99  # measured 0.9975
    assert mean_change < 0.01  # measured 0.0009


def test_auto_fits_low_dose_maps_exactly(monkeypatch):
    # too few counts for a sample worth 2**24 counts in half the map: the exact fit
    monkeypatch.setattr(sampling, "AUTO_EXACT_UP_TO", 10_000)
    low = synthetic_eds_map(shape=(120, 120), layout="grains", counts_per_pixel=20, random_state=0)
    low.fuzzy_cluster(3, random_state=0, n_init=2)
    assert low.learning_results.fuzzy_cluster_parameters["fit"] == "exact"
    monkeypatch.setattr(sampling, "AUTO_MIN_PIXELS", 1000)
    monkeypatch.setattr(sampling, "AUTO_SAMPLE_COUNTS", 2**17)  # now a sample can hold enough
    low.fuzzy_cluster(3, random_state=0, n_init=2)
    params = low.learning_results.fuzzy_cluster_parameters
    assert params["fit"].startswith("sample")
    assert params["sample_pixels"] * 20 >= 0.9 * 2**17


def test_sampled_phase_sums_satisfy_their_definition(grains):
    s = grains.deepcopy()
    s.fuzzy_cluster(4, random_state=0, subsample=0.1)
    lr = s.learning_results
    x = s.data.reshape(-1, s.data.shape[-1]).astype(float)
    labels = np.asarray(lr.cluster_labels)
    np.testing.assert_allclose(lr.cluster_sum_signals, labels @ x, rtol=1e-9)
    u = lr.cluster_membership.astype(float)
    weights = u**2  # m = 2
    np.testing.assert_allclose(
        lr.cluster_centers, (weights @ x) / weights.sum(1)[:, None], rtol=2e-4
    )  # memberships are stored as float32
    # memberships of the pass are the closed-form prediction of the stored model
    np.testing.assert_allclose(u.sum(0), 1.0, atol=1e-5)


def test_study_map_sampled_agrees_with_exact():
    exact = qv120_cross_section()
    exact.fuzzy_cluster(4, random_state=0, subsample=None)
    sampled = qv120_cross_section()
    sampled.fuzzy_cluster(4, random_state=0, subsample=0.25)
    ari, mean_change, _ = _agreement(exact, sampled)
    assert ari >= 0.99
    assert mean_change < 0.01


def test_auto_is_exact_on_small_maps(grains):
    s = grains.deepcopy()
    s.fuzzy_cluster(3, random_state=0, n_init=2)
    assert s.learning_results.fuzzy_cluster_parameters["fit"] == "exact"
    assert "sample_pixels" not in s.learning_results.fuzzy_cluster_parameters


def test_every_algorithm_predicts_the_pass(grains, grains_exact):
    for algorithm in ("probabilistic", "possibilistic"):
        s = grains.deepcopy()
        s.fuzzy_cluster(4, algorithm, random_state=0, subsample=0.2, n_init=3)
        u = np.asarray(s.learning_results.cluster_membership)
        assert np.all(np.isfinite(u)) and u.min() >= 0 and u.max() <= 1
        exact = grains.deepcopy()
        exact.fuzzy_cluster(4, algorithm, random_state=0, subsample=None, n_init=3)
        ari, _, _ = _agreement(exact, s)
        assert ari >= 0.98, algorithm


def test_third_party_estimator_with_predict_proba(grains):
    from sklearn.mixture import GaussianMixture

    s = grains.deepcopy()
    s.fuzzy_cluster(4, algorithm=GaussianMixture(4, random_state=0), subsample=0.1)
    params = s.learning_results.fuzzy_cluster_parameters
    assert params["fit"] == "sample"
    assert "full_fit_check" not in params  # no warm start: the sample's model stands
    assert len(np.unique(s.get_phase_map().data)) >= 4


def test_low_dose_sampled_with_regularisation():
    low = synthetic_eds_map(**GRAINS, counts_per_pixel=50)
    exact, sampled = low.deepcopy(), low.deepcopy()
    exact.fuzzy_cluster(4, random_state=0, subsample=None)
    sampled.fuzzy_cluster(4, random_state=0, subsample=0.25)
    spatial = sampled.learning_results.fuzzy_cluster_parameters["spatial"]
    assert spatial["method"] != "none" and spatial["bandwidth"] > 0
    ari, mean_change, _ = _agreement(exact, sampled)
    assert ari >= 0.95  # measured 0.962: the principal axes of a low-dose sample are noisier
    assert mean_change < 0.015
    assert _truth_ari(sampled) >= _truth_ari(exact) - 0.02


# ----------------------------------------------------------------------------- lazy and distributed


@pytest.fixture(scope="module")
def lazy_grains():
    return synthetic_eds_map(**GRAINS, lazy=True, chunks=(20, 20, 1024))


def test_lazy_sampled_memberships_stay_lazy(lazy_grains, grains_exact):
    s = lazy_grains.deepcopy()
    s.fuzzy_cluster(4, random_state=0, subsample=0.15)
    lr = s.learning_results
    assert lr.fuzzy_cluster_parameters["sample_tiles"] >= sampling.MIN_CHUNK_TILES
    assert lr.fuzzy_cluster_parameters["sample_pixels"] < 0.5 * 200 * 200
    for name in ("cluster_membership", "cluster_distances", "fuzzy_cluster_scores"):
        value = getattr(lr, name)
        assert isinstance(value, dask.array.Array), name
        assert value.dtype == np.float32, name
    assert isinstance(lr.cluster_labels, dask.array.Array)
    assert isinstance(lr.cluster_sum_signals, np.ndarray)
    ari, mean_change, _ = _agreement(grains_exact, s)
    assert ari >= 0.975 and mean_change < 0.01
    assert _truth_ari(s) >= _truth_ari(grains_exact) - 0.01
    # everything downstream takes the lazy memberships
    assert s.get_phase_map().data.shape == (200, 200)
    spectra = s.cluster_phase_spectra(threshold=0.7)
    assert spectra.data.shape == (4, 1024)
    s.plot_cluster_results()  # HyperSpy's own tools take the lazy arrays
    assert s.get_cluster_labels()._lazy
    merged = s.get_cluster_labels(merged=True)
    merged.compute()
    np.testing.assert_array_equal(merged.data, s.get_phase_map().data)


def test_lazy_memberships_are_computed_once(lazy_grains, tmp_path):
    from dask.callbacks import Callback

    class Computations(Callback):
        def __init__(self):
            super().__init__()
            self.n = 0

        def _start(self, dsk):
            self.n += 1

    s = lazy_grains.deepcopy()
    s.fuzzy_cluster(4, random_state=0, subsample=0.15, n_init=2)
    first = s.get_phase_map()
    s.plot_data_space()  # computes the scores
    with Computations() as count:
        again = s.get_phase_map()
        s.cluster_phase_spectra()  # the stored threshold: sums of the pass, memberships cached
        s.plot_data_space()
        s.export_data_space(tmp_path / "space.csv")
    assert count.n == 0
    np.testing.assert_array_equal(first.data, again.data)
    # a new clustering is a new result: never the old cached memberships
    s.fuzzy_cluster(3, random_state=0, subsample=0.15, n_init=2)
    assert s.get_phase_map().data.max() == 2
    plt.close("all")


def test_lazy_sampled_task_holds_one_block(lazy_grains, monkeypatch):
    from hyperspy_cmeans import _features as features

    monkeypatch.setattr(features, "MIN_BLOCK_PIXELS", 20 * 20)
    monkeypatch.setattr(sampled_signals, "PASS_MIN_BLOCK_PIXELS", 20 * 20)
    s = lazy_grains.deepcopy()
    with LargestResult() as probe:
        s.fuzzy_cluster(4, random_state=0, subsample=0.15, n_init=2)
    block = 20 * 20 * 1024
    assert probe.n_tasks > 0
    assert probe.largest <= max(block, 1025 * 1024)
    assert probe.largest < s.data.size // 10


def test_distributed_sampled_equals_local(lazy_grains):
    distributed = pytest.importorskip("distributed")
    local = lazy_grains.deepcopy()
    local.fuzzy_cluster(4, "fcm", random_state=0, subsample=0.15, n_init=2)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        remote = lazy_grains.deepcopy()
        remote.fuzzy_cluster(4, "fcm", random_state=0, subsample=0.15, n_init=2)
        remote_u = np.asarray(remote.learning_results.cluster_membership)
    np.testing.assert_allclose(
        remote_u, np.asarray(local.learning_results.cluster_membership), atol=1e-5
    )
    np.testing.assert_allclose(
        remote.learning_results.cluster_sum_signals,
        local.learning_results.cluster_sum_signals,
        rtol=1e-9,
    )


# ----------------------------------------------------------------------------- refusals


def test_bad_subsample_leaves_the_signal_as_it_was(grains_exact):
    s = grains_exact.deepcopy()
    before = s.learning_results.cluster_membership.copy()
    for bad, match in (("half", "subsample="), (2.0, "subsample=")):
        with pytest.raises(ValueError, match=match):
            s.fuzzy_cluster(4, random_state=0, subsample=bad)
    import hyperspy.api as hs

    scores = hs.signals.Signal1D(np.random.default_rng(0).random((200, 200, 3)))
    with pytest.raises(ValueError, match="source='pca'"):
        s.fuzzy_cluster(4, random_state=0, subsample=0.1, source=scores)
    np.testing.assert_array_equal(s.learning_results.cluster_membership, before)


# ----------------------------------------------------------------------------- the check itself


def test_full_fit_check_replaces_a_poor_sample_model():
    rng = np.random.default_rng(0)
    centres = np.array([[0, 0], [4, 0], [0, 4]], float)
    x = np.concatenate([c + rng.normal(size=(3000, 2)) for c in centres])
    good = GustafsonKessel(3, random_state=0).fit(x)
    good_fit = clustering.fit_clusters(good, x, 3)
    check = clustering.check_against_full_fit(good, clustering.Predictor(good, good_fit), x, 3)
    assert check.within_tolerance and check.estimator is None
    # a model fitted on a corner of the data is not the full fit: it is replaced
    corner = x[(x[:, 0] < 1.5) | (x[:, 1] < 0.5)][::20]
    poor = GustafsonKessel(3, random_state=0).fit(corner)
    poor_fit = clustering.fit_clusters(poor, corner, 3)
    check = clustering.check_against_full_fit(poor, clustering.Predictor(poor, poor_fit), x, 3)
    assert not check.within_tolerance
    assert (
        check.mean_membership_change > clustering.FULL_FIT_TOLERANCE
        or check.label_change > clustering.FULL_FIT_LABEL_TOLERANCE
    )
    replaced = clustering.Predictor(check.estimator, check.fit)(x)[0]
    full = clustering.fit_clusters(GustafsonKessel(3, random_state=0), x, 3).memberships
    assert adjusted_rand_score(replaced.argmax(1), full.argmax(1)) > 0.99
    assert check.estimator.n_init == 10  # the user's settings are kept in its description


def test_scan_fits_each_number_on_a_sample(grains):
    exact = grains.deepcopy().estimate_number_of_fuzzy_clusters(
        [3, 4, 5], n_init=3, random_state=0, subsample=None, keep_memberships=True, return_info=True
    )
    sampled = grains.deepcopy().estimate_number_of_fuzzy_clusters(
        [3, 4, 5], n_init=3, random_state=0, subsample=0.25, keep_memberships=True, return_info=True
    )
    assert sampled.estimate == exact.estimate == 4
    np.testing.assert_allclose(sampled.values, exact.values, rtol=0.05)
    assert not np.allclose(sampled.values, exact.values, rtol=1e-9)  # the sample was used
    for n in (3, 4, 5):  # memberships of every pixel, predicted
        assert sampled.memberships[n].shape == (n, 200, 200)
        assert np.all(np.isfinite(sampled.memberships[n]))


class _CountingArray:
    """An array that counts how often its chunks are read."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.reads = 0

    def __getitem__(self, key):
        self.reads += 1
        return self.array[key]


def _counted(lazy_grains, grains):
    counter = _CountingArray(np.asarray(grains.data))
    s = lazy_grains.deepcopy()
    s.data = dask.array.from_array(counter, chunks=(20, 20, 1024), meta=np.empty((0, 0, 0), "u2"))
    counter.reads = 0
    return s, counter


@pytest.mark.parametrize("kept", [True, False])
def test_lazy_map_is_read_about_once(grains, lazy_grains, monkeypatch, kept):
    n_chunks = 100
    if kept:  # the sample's model stands: one pass (a large map's usual case)
        monkeypatch.setattr(clustering, "FULL_FIT_TOLERANCE", 1.0)
        monkeypatch.setattr(clustering, "FULL_FIT_LABEL_TOLERANCE", 1.0)
    s, counter = _counted(lazy_grains, grains)
    s.fuzzy_cluster(4, random_state=0, subsample=0.15)
    params = s.learning_results.fuzzy_cluster_parameters
    assert params["fit"] == ("sample" if kept else "sample, then all pixels")
    passes = 1 if kept else 2  # this small sample is not within the tolerances
    # the sampled tiles, the passes, and the chunk of each cluster's most typical pixel
    # (cluster_centroid_signals: one pixel per cluster)
    assert counter.reads == params["sample_tiles"] + passes * n_chunks + 4
    reads = counter.reads
    s.get_phase_map()
    s.cluster_phase_spectra()  # the stored threshold: from the sums of the pass
    np.asarray(s.learning_results.cluster_membership)  # from the in-memory scores
    assert counter.reads == reads
    if kept:
        exact, counter = _counted(lazy_grains, grains)
        exact.fuzzy_cluster(4, random_state=0, subsample=None)
        assert counter.reads >= 3 * n_chunks  # moments, scores, sums (and count statistics)
