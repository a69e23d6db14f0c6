"""Tests of the fuzzy validity indices (formulas, directions, choice of n_clusters)."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import silhouette_samples, silhouette_score

from hyperspy_cmeans.cmeans import (
    VALIDITY_INDICES,
    GustafsonKessel,
    Probabilistic,
    best_n_clusters,
    fukuyama_sugeno,
    fuzzy_silhouette,
    partition_coefficient,
    partition_entropy,
    xie_beni,
)

U_SMALL = np.array([[1.0, 0.0], [0.8, 0.2], [0.5, 0.5]])
X_SMALL = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
V_SMALL = np.array([[0.0, 0.0], [3.0, 1.0]])


@pytest.fixture(scope="module")
def four_blobs():
    """Four well-separated 2-D blobs."""
    centers = [[0, 0], [10, 0], [0, 10], [10, 10]]
    return make_blobs(600, centers=centers, cluster_std=1.0, random_state=0)[0]


def test_partition_coefficient_and_entropy_by_hand():
    """PC and PE against hand-computed values and their bounds."""
    assert partition_coefficient(U_SMALL) == pytest.approx((1 + 0.68 + 0.5) / 3)
    expected_pe = -(0.8 * np.log(0.8) + 0.2 * np.log(0.2) + 2 * 0.5 * np.log(0.5)) / 3
    assert partition_entropy(U_SMALL) == pytest.approx(expected_pe)
    crisp = np.eye(3)[[0, 1, 2, 0]]
    assert partition_coefficient(crisp) == 1.0 and partition_entropy(crisp) == 0.0
    uniform = np.full((5, 4), 0.25)
    assert partition_coefficient(uniform) == pytest.approx(0.25)
    assert partition_entropy(uniform) == pytest.approx(np.log(4))


def test_xie_beni_and_fukuyama_sugeno_by_hand():
    """XB and FS against a direct evaluation of their formulas."""
    d2 = ((X_SMALL[:, None, :] - V_SMALL[None]) ** 2).sum(-1)
    compact = (U_SMALL**2 * d2).sum()
    assert xie_beni(X_SMALL, U_SMALL, V_SMALL) == pytest.approx(compact / (3 * 10.0))
    spread = ((V_SMALL - X_SMALL.mean(0)) ** 2).sum(1)
    expected_fs = compact - ((U_SMALL**2).sum(0) * spread).sum()
    assert fukuyama_sugeno(X_SMALL, U_SMALL, V_SMALL) == pytest.approx(expected_fs)
    # given distances replace the Euclidean ones; m changes the weights
    D = np.sqrt(d2) * 2.0
    assert xie_beni(None, U_SMALL, V_SMALL, distances=D) == pytest.approx(4 * compact / 30.0)
    compact_m3 = (U_SMALL**3 * d2).sum()
    assert xie_beni(X_SMALL, U_SMALL, V_SMALL, m=3.0) == pytest.approx(compact_m3 / 30.0)


def test_norm_matrices_enter_the_separation():
    """With norm matrices A_i the separations are (v_j - v_i)^T A_i (v_j - v_i)."""
    A = np.array([np.diag([4.0, 0.25]), np.diag([1.0, 1.0])])
    d2 = ((X_SMALL[:, None, :] - V_SMALL[None]) ** 2).sum(-1)
    compact = (U_SMALL**2 * d2).sum()
    # separations: from 0 in A_0: 9*4 + 1*0.25 = 36.25; from 1 in A_1: 10 -> min 10
    assert xie_beni(X_SMALL, U_SMALL, V_SMALL, norm_matrices=A) == pytest.approx(compact / 30.0)
    A2 = np.array([np.diag([0.1, 0.1]), np.eye(2)])
    assert xie_beni(X_SMALL, U_SMALL, V_SMALL, norm_matrices=A2) == pytest.approx(compact / 3.0)
    offsets = V_SMALL - X_SMALL.mean(0)
    spread = np.einsum("ij,ijk,ik->i", offsets, A, offsets)
    expected_fs = compact - ((U_SMALL**2).sum(0) * spread).sum()
    assert fukuyama_sugeno(X_SMALL, U_SMALL, V_SMALL, norm_matrices=A) == pytest.approx(expected_fs)


def test_coincident_centres_give_infinite_xie_beni():
    """Xie–Beni is inf (worst) when two centres coincide."""
    assert xie_beni(X_SMALL, U_SMALL, np.zeros((2, 2))) == np.inf


def test_fuzzy_silhouette_reduces_to_crisp_silhouette():
    """alpha = 0 gives the mean crisp silhouette; crisp memberships too."""
    X, y = make_blobs(200, centers=3, random_state=0)
    rng = np.random.default_rng(0)
    U = rng.dirichlet(np.ones(3), size=200)
    assert fuzzy_silhouette(X, U, alpha=0.0) == pytest.approx(silhouette_score(X, U.argmax(1)))
    crisp = np.eye(3)[y]
    assert fuzzy_silhouette(X, crisp) == pytest.approx(silhouette_score(X, y))
    a = fuzzy_silhouette(X, U, sample_size=80, random_state=3)
    b = fuzzy_silhouette(X, U, sample_size=80, random_state=3)
    assert a == b and -1 <= a <= 1


def test_fuzzy_silhouette_weights_by_membership_gap():
    """Samples with a larger gap between their two best memberships weigh more."""
    X = np.array([[0.0], [0.1], [5.0], [5.1]])
    U = np.array([[0.9, 0.1], [0.6, 0.4], [0.1, 0.9], [0.3, 0.7]])
    s = silhouette_samples(X, U.argmax(1))
    w = np.array([0.8, 0.2, 0.8, 0.4])
    assert fuzzy_silhouette(X, U) == pytest.approx((w * s).sum() / w.sum())
    assert fuzzy_silhouette(X, U, alpha=2.0) == pytest.approx((w**2 * s).sum() / (w**2).sum())


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: partition_coefficient(np.ones(3)), "memberships must have shape"),
        (lambda: partition_entropy(np.array([[np.nan, 1.0]])), "NaN"),
        (lambda: xie_beni(None, U_SMALL, V_SMALL), "needs X or distances"),
        (lambda: xie_beni(X_SMALL, U_SMALL, V_SMALL[:1]), "centers must have shape"),
        (lambda: xie_beni(X_SMALL[:2], U_SMALL, V_SMALL), "X must have shape"),
        (lambda: xie_beni(X_SMALL, U_SMALL, V_SMALL, distances=np.ones((3, 3))), "distances"),
        (lambda: xie_beni(X_SMALL, U_SMALL, V_SMALL, norm_matrices=np.eye(2)), "norm_matrices"),
        (lambda: fuzzy_silhouette(X_SMALL, np.eye(2)[[0, 0, 0]]), "number of labels"),
        (lambda: best_n_clusters({2: 1.0}, "dunn"), "Unknown validity index"),
    ],
)
def test_invalid_arguments_raise(call, match):
    """Wrong shapes or values raise ValueError with a message."""
    with pytest.raises(ValueError, match=match):
        call()


def test_validity_index_directions_and_best_n_clusters():
    """VALIDITY_INDICES says which direction is better; best_n_clusters follows it."""
    assert {name: d for name, (_, d) in VALIDITY_INDICES.items()} == {
        "partition_coefficient": "max",
        "partition_entropy": "min",
        "xie_beni": "min",
        "fukuyama_sugeno": "min",
        "fuzzy_silhouette": "max",
    }
    assert VALIDITY_INDICES["xie_beni"][0] is xie_beni
    scores = {2: 0.5, 3: 0.2, 4: 0.9}
    assert best_n_clusters(scores, "xie_beni") == 3
    assert best_n_clusters(scores, "fuzzy_silhouette") == 4


def test_indices_pick_four_blobs(four_blobs):
    """Xie–Beni, Fukuyama–Sugeno and the fuzzy silhouette pick 4 on four blobs."""
    X = four_blobs
    scores = {"xie_beni": {}, "fukuyama_sugeno": {}, "fuzzy_silhouette": {}}
    for c in range(2, 8):
        est = Probabilistic(c, n_init=3, random_state=0).fit(X)
        U, V = est.memberships_, est.cluster_centers_
        scores["xie_beni"][c] = xie_beni(X, U, V)
        scores["fukuyama_sugeno"][c] = fukuyama_sugeno(X, U, V)
        scores["fuzzy_silhouette"][c] = fuzzy_silhouette(X, U)
    for name, by_n in scores.items():
        assert best_n_clusters(by_n, name) == 4, (name, by_n)


def test_xie_beni_picks_four_elongated_gk_clusters():
    """Four parallel elongated clusters scored in the GK norms: Xie–Beni picks 4."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(250, 2)) * [5.0, 0.25] + [0, 1.5 * i] for i in range(4)])
    scores = {}
    for c in range(2, 7):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            gk = GustafsonKessel(c, n_init=5, random_state=0).fit(X)
        scores[c] = xie_beni(
            X,
            gk.memberships_,
            gk.cluster_centers_,
            distances=gk.transform(X),
            norm_matrices=gk.norm_matrices_,
        )
    assert best_n_clusters(scores, "xie_beni") == 4, scores
