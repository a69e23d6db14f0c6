"""The clustering workflow on lazy (dask-backed) signals: equal to eager, never loads the map."""

import dask
import numpy as np
import pytest
from dask.callbacks import Callback

from hyperspy_cmeans import LazyEDSSEMCmeansSpectrum, evaluation
from hyperspy_cmeans import _features as features
from hyperspy_cmeans.data import synthetic_eds_map

SHAPE = (72, 68)
CHUNKS = (24, 32, 1024)


class LargestResult(Callback):
    """Records the largest array any dask task returned."""

    def __init__(self):
        super().__init__()
        self.largest = 0
        self.n_tasks = 0

    def _posttask(self, key, result, dsk, state, worker_id):
        self.n_tasks += 1
        if isinstance(result, np.ndarray):
            self.largest = max(self.largest, result.size)


@pytest.fixture(scope="module")
def pair():
    eager = synthetic_eds_map(shape=SHAPE, random_state=5)
    lazy = synthetic_eds_map(shape=SHAPE, random_state=5, lazy=True, chunks=CHUNKS)
    assert isinstance(lazy, LazyEDSSEMCmeansSpectrum)
    return eager, lazy


def _cluster_both(pair, **kwargs):
    eager, lazy = pair[0].deepcopy(), pair[1].deepcopy()
    eager.fuzzy_cluster(4, random_state=0, n_init=3, **kwargs)
    lazy.fuzzy_cluster(4, random_state=0, n_init=3, **kwargs)
    return eager, lazy


@pytest.mark.parametrize(
    "kwargs",
    [
        {"algorithm": "gustafson_kessel"},
        {"algorithm": "probabilistic", "preprocessing": "poisson"},
        {"algorithm": "probabilistic", "preprocessing": "center", "n_components": 4},
    ],
)
def test_lazy_equals_eager(pair, kwargs):
    eager, lazy = _cluster_both(pair, **kwargs)
    ue = eager.learning_results.cluster_membership.T
    ul = lazy.learning_results.cluster_membership.T
    # same order after the stable sort; match anyway in case of a tie
    match = evaluation.match_clusters(ul, ue)
    np.testing.assert_allclose(ul[:, np.argsort(match)], ue, atol=1e-3)
    np.testing.assert_allclose(
        lazy.cluster_phase_spectra().data, eager.cluster_phase_spectra().data, rtol=1e-6
    )
    np.testing.assert_allclose(
        lazy.learning_results.fuzzy_cluster_parameters["explained_variance_ratio"],
        eager.learning_results.fuzzy_cluster_parameters["explained_variance_ratio"],
        rtol=1e-5,  # the lazy second moments use float32 products of centred blocks
    )
    assert isinstance(lazy.learning_results.cluster_sum_signals, np.ndarray)


def test_lazy_with_masks_equals_eager(pair):
    nav_mask = np.zeros(SHAPE, dtype=bool)
    nav_mask[:10, :7] = True
    sig_mask = pair[0].axes_manager.signal_axes[0].axis < 0.3
    eager, lazy = _cluster_both(
        pair, algorithm="probabilistic", navigation_mask=nav_mask, signal_mask=sig_mask
    )
    np.testing.assert_allclose(
        lazy.learning_results.cluster_membership,
        eager.learning_results.cluster_membership,
        atol=1e-6,
    )
    np.testing.assert_array_equal(lazy.get_phase_map().data, eager.get_phase_map().data)


def test_lazy_never_materialises_the_map(pair, monkeypatch):
    # keep the stored chunks (large maps merge them up to MIN_BLOCK_PIXELS pixels)
    monkeypatch.setattr(features, "MIN_BLOCK_PIXELS", CHUNKS[0] * CHUNKS[1])
    lazy = pair[1].deepcopy()
    full = int(np.prod(lazy.data.shape))
    block = int(np.prod(CHUNKS))
    with LargestResult() as probe:
        lazy.fuzzy_cluster(4, "gustafson_kessel", random_state=0, n_init=2)
        lazy.cluster_phase_spectra(threshold=0.7)
        lazy.estimate_number_of_fuzzy_clusters([3, 4], algorithm="fcm", n_init=2, random_state=0)
    assert probe.n_tasks > 0
    # single blocks and the (channels + 1) x channels moment matrix are fine; the map never is
    n_channels = CHUNKS[-1]
    assert probe.largest <= max(block, (n_channels + 3) * n_channels)
    assert probe.largest < full


def test_lazy_results_signals(pair):
    lazy = pair[1].deepcopy()
    lazy.fuzzy_cluster(4, "fcm", random_state=0, n_init=2)
    assert lazy.get_cluster_memberships().data.shape == (4, *SHAPE)
    assert lazy.get_phase_map().data.shape == SHAPE
    spectra = lazy.cluster_phase_spectra(weighting="membership")
    assert not spectra._lazy
    lazy.plot_cluster_results()
    lazy.plot_phase_map()


def test_distributed_cluster_gives_same_result(pair):
    distributed = pytest.importorskip("distributed")
    eager = pair[0].deepcopy()
    eager.fuzzy_cluster(4, "fcm", random_state=0, n_init=2)
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster),
    ):
        lazy = pair[1].deepcopy()
        lazy.fuzzy_cluster(4, "fcm", random_state=0, n_init=2)
        spectra = lazy.cluster_phase_spectra()
    np.testing.assert_allclose(
        lazy.learning_results.cluster_membership,
        eager.learning_results.cluster_membership,
        atol=1e-6,
    )
    np.testing.assert_allclose(spectra.data, eager.cluster_phase_spectra().data, rtol=1e-6)
    assert dask.config.get("scheduler", None) != "distributed"  # the client is gone afterwards


def test_coarsen_navigation_chunks_merges_small_blocks():
    x = dask.array.zeros((200, 190, 16), chunks=(16, 16, 8))
    y = features.coarsen_navigation_chunks(x, min_pixels=4096)
    assert y.chunks[-1] == (16,)
    assert max(y.chunks[0]) * max(y.chunks[1]) >= 4096
    assert y.shape == x.shape
    big = dask.array.zeros((200, 190, 16), chunks=(100, 100, 16))
    assert features.coarsen_navigation_chunks(big, min_pixels=4096).chunks == big.chunks


def test_progress_bar_follows_argument_and_preference(pair, capsys):
    import hyperspy.api as hs

    lazy = pair[1].deepcopy()
    lazy.fuzzy_cluster(3, "fcm", random_state=0, n_init=1, show_progressbar=True)
    assert "Completed" in capsys.readouterr().out
    lazy.fuzzy_cluster(3, "fcm", random_state=0, n_init=1, show_progressbar=False)
    assert "Completed" not in capsys.readouterr().out
    old = hs.preferences.General.show_progressbar
    try:
        hs.preferences.General.show_progressbar = True
        lazy.cluster_phase_spectra(threshold=0.8)
        assert "Completed" in capsys.readouterr().out
    finally:
        hs.preferences.General.show_progressbar = old
    # in-memory maps never show one: their passes take seconds
    eager = pair[0].deepcopy()
    eager.fuzzy_cluster(3, "fcm", random_state=0, n_init=1, show_progressbar=True)
    assert "Completed" not in capsys.readouterr().out
