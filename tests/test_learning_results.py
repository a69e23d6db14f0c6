"""The learning_results adapter (hyperspy_cmeans._learning_results): the only place that
reads or writes HyperSpy's fields, so what it writes must be what HyperSpy's tools read."""

import hyperspy.api as hs
import numpy as np
import pytest

from hyperspy_cmeans import _learning_results as lrio


@pytest.fixture
def signal():
    return hs.signals.Signal1D(np.arange(4 * 5 * 8, dtype=float).reshape(4, 5, 8))


def _fields(c=2, n=20, s=8):
    u = np.zeros((c, n))
    u[0, :12] = 0.9
    u[1, :12] = 0.1
    u[0, 12:] = 0.2
    u[1, 12:] = 0.8
    labels = np.zeros((c, n), bool)
    labels[0, :12] = True
    labels[1, 12:] = True
    return {
        "cluster_membership": u,
        "cluster_labels": labels,
        "cluster_sum_signals": np.ones((c, s)) * labels.sum(1)[:, None],
        "cluster_centroid_signals": np.ones((c, s)),
        "cluster_centers": np.ones((c, s)),
        "cluster_distances": np.ones((c, n)),
        "cluster_centroids": np.zeros((c, 3)),
        "number_of_clusters": c,
        "cluster_algorithm": "probabilistic(m=2.0)",
        "fuzzy_cluster_scores": np.zeros((n, 3)),
        "fuzzy_cluster_parameters": {"m": 2.0, "assignment_threshold": 0.5},
    }


def test_write_then_read_round_trip(signal):
    assert not lrio.has_cluster_results(signal)
    lrio.write_cluster_results(signal, _fields())
    assert lrio.has_cluster_results(signal)
    res = lrio.read_cluster_results(signal)
    assert res["n_clusters"] == 2 and res["parameters"]["m"] == 2.0
    np.testing.assert_array_equal(res["memberships"], _fields()["cluster_membership"])
    # HyperSpy's own tools read the same fields
    merged = signal.get_cluster_labels(merged=True).data.ravel()
    np.testing.assert_array_equal(merged, np.r_[np.zeros(12), np.ones(8)])
    mean = signal.get_cluster_signals("mean").data
    np.testing.assert_allclose(mean, 1.0)


def test_write_resets_fields_not_given(signal):
    lrio.write_cluster_results(signal, _fields())
    lrio.write_cluster_results(signal, {"number_of_clusters": 3})
    assert signal.learning_results.cluster_membership is None
    assert signal.learning_results.number_of_clusters == 3


def test_unknown_field_is_refused(signal):
    with pytest.raises(KeyError, match="not cluster fields"):
        lrio.write_cluster_results(signal, {"cluster_memberships": None})


def test_reading_without_results_says_what_to_run(signal):
    with pytest.raises(RuntimeError, match=r"run `s.fuzzy_cluster\(n_clusters\)` first"):
        lrio.read_cluster_results(signal)


def test_metric_fields_feed_plot_cluster_metric(signal):
    lrio.write_cluster_metric(signal, [2, 3, 4], [0.3, 0.1, 0.2], "xie_beni", 3)
    lr = signal.learning_results
    assert lr.cluster_metric_index == [2, 3, 4] and lr.estimated_number_of_clusters == 3
    ax = signal.plot_cluster_metric()
    points = ax.collections[0].get_offsets()  # HyperSpy draws the metric as a scatter
    np.testing.assert_allclose(points, [[2, 0.3], [3, 0.1], [4, 0.2]])
    assert [line.get_xdata()[0] for line in ax.lines] == [3]  # the estimate


def test_decomposition_scores(signal):
    with pytest.raises(ValueError, match=r"run `s.decomposition\(\)` first"):
        lrio.read_decomposition_scores(signal, "decomposition")
    signal.decomposition(output_dimension=3, print_info=False)
    loadings = lrio.read_decomposition_scores(signal, "decomposition", 2)
    assert loadings.shape == (20, 2)
    with pytest.raises(ValueError, match="choose 1 to"):
        lrio.read_decomposition_scores(signal, "decomposition", 99)
