"""Correctness tests of the c-means estimators (issue 3).

Tolerances: fits that are compared with closed-form conditions use ``tol=1e-10`` on the
largest membership change, so centres must match the weighted means to about 1e-8
(relative to the data scale) and memberships must equal the closed-form update from the
returned distances to rounding (1e-12).
"""

import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score

from hyperspy_cmeans.cmeans import (
    HAVE_NUMBA,
    GustafsonKessel,
    Possibilistic,
    Probabilistic,
)
from hyperspy_cmeans.cmeans._gustafson_kessel import condition_covariances, data_covariance
from hyperspy_cmeans.cmeans._kernels import probabilistic_memberships, sq_distances

_NEEDS_NUMBA = pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
BACKENDS = ["numpy", pytest.param("numba", marks=_NEEDS_NUMBA)]
ESTIMATORS = [Probabilistic, Possibilistic, GustafsonKessel]
# PCM on structureless or overlapping data merges clusters and warns (tested on its own)
COINCIDENT = "ignore:Possibilistic.*converged onto the same centre:UserWarning"


@pytest.fixture(scope="module")
def blobs():
    """Four well-separated 2-D blobs of 150 samples each."""
    centers = [[0, 0], [10, 0], [0, 10], [10, 10]]
    return make_blobs(600, centers=centers, cluster_std=1.0, random_state=0)


def parallel_elongated(n_per=250, k=3, spacing=1.5, seed=0):
    """Parallel Gaussian clusters with axis ratio 20 (std 5 x 0.25), ``spacing`` apart."""
    rng = np.random.default_rng(seed)
    X = np.vstack([rng.normal(size=(n_per, 2)) * [5.0, 0.25] + [0, spacing * i] for i in range(k)])
    return X, np.repeat(np.arange(k), n_per)


def crossing_elongated(n_per=400, seed=0):
    """Two elongated clusters (std 5 x 0.3) crossing at right angles at the origin."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_per, 2)) * [5.0, 0.3]
    b = (rng.normal(size=(n_per, 2)) * [5.0, 0.3])[:, ::-1]
    return np.vstack([a, b]), np.repeat([0, 1], n_per)


def fit_quiet(est, X):
    """Fit, ignoring convergence warnings (tested separately)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X)


# ---------------------------------------------------------------------- fixed point
@pytest.mark.parametrize("backend", BACKENDS)
def test_probabilistic_fixed_point(blobs, backend):
    """At convergence centres are u^m-weighted means and memberships the closed form."""
    X, _ = blobs
    est = Probabilistic(4, tol=1e-10, max_iter=1000, random_state=0, backend=backend).fit(X)
    U, V = est.memberships_, est.cluster_centers_
    np.testing.assert_allclose(U.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(U, probabilistic_memberships(est.transform(X) ** 2, 2.0), atol=1e-12)
    W = U**2
    np.testing.assert_allclose(V, (W.T @ X) / W.sum(axis=0)[:, None], atol=1e-8)
    assert est.converged_


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("typicality", ["exponential", "power"])
def test_possibilistic_fixed_point(blobs, backend, typicality):
    """Typicalities follow KK's closed form (1996 or 1993) and centres the weighted means."""
    X, _ = blobs
    est = Possibilistic(
        4, m=1.5, typicality=typicality, tol=1e-10, max_iter=2000, random_state=0, backend=backend
    )
    est.fit(X)
    T, V = est.memberships_, est.cluster_centers_
    d2 = est.transform(X) ** 2
    if typicality == "exponential":
        np.testing.assert_allclose(T, np.exp(-d2 / est.eta_), atol=1e-12)
        W = T
    else:
        np.testing.assert_allclose(T, 1.0 / (1.0 + (d2 / est.eta_) ** 2.0), atol=1e-12)
        W = T**1.5
    np.testing.assert_allclose(V, (W.T @ X) / W.sum(axis=0)[:, None], atol=1e-7)


@pytest.mark.parametrize("typicality", ["exponential", "power"])
def test_possibilistic_objective_at_the_fit(blobs, typicality):
    """objective_ is J of the returned typicalities and centres (1996 or 1993 form)."""
    X, _ = blobs
    est = Possibilistic(4, m=1.5, typicality=typicality, random_state=0).fit(X)
    T, eta = est.memberships_, est.eta_
    d2 = est.transform(X) ** 2
    if typicality == "exponential":
        J = (T * d2).sum() + (eta * (T * np.log(T) - T)).sum()
    else:
        J = (T**1.5 * d2).sum() + (eta * (1 - T) ** 1.5).sum()
    assert est.objective_ == pytest.approx(J, rel=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_gustafson_kessel_fixed_point(backend):
    """GK: weighted means, fuzzy covariances, norm matrices and memberships agree."""
    X, _ = parallel_elongated()
    est = GustafsonKessel(3, tol=1e-10, max_iter=2000, random_state=0, backend=backend).fit(X)
    U, V = est.memberships_, est.cluster_centers_
    D = est.transform(X)
    np.testing.assert_allclose(U, probabilistic_memberships(D**2, 2.0), atol=1e-12)
    W = U**2
    np.testing.assert_allclose(V, (W.T @ X) / W.sum(axis=0)[:, None], atol=1e-8)
    for i in range(3):
        diff = X - V[i]
        F = (W[:, i, None] * diff).T @ diff / W[:, i].sum()
        np.testing.assert_allclose(est.covariances_[i], F, rtol=1e-7, atol=1e-9)
        A = np.linalg.det(F) ** 0.5 * np.linalg.inv(F)
        np.testing.assert_allclose(est.norm_matrices_[i], A, rtol=1e-6)
        np.testing.assert_allclose(D[:, i] ** 2, np.einsum("kj,jl,kl->k", diff, A, diff), rtol=1e-6)


# ---------------------------------------------------------------------- objective
@pytest.mark.parametrize(
    "est",
    [
        Probabilistic(4, random_state=1),
        Probabilistic(4, m=1.3, random_state=1),
        Possibilistic(4, random_state=1),
        GustafsonKessel(4, random_state=1),
        GustafsonKessel(4, m=3.0, random_state=1, backend="numpy"),
    ],
    ids=["fcm", "fcm-m1.3", "pcm", "gk", "gk-m3-numpy"],
)
def test_objective_never_increases(blobs, est):
    """objective_history_ is non-increasing (alternating optimisation) and ends at objective_."""
    X, _ = blobs
    fit_quiet(est, X)
    history = est.objective_history_
    assert history.shape == (est.n_iter_ + 1,)
    assert np.all(np.diff(history) <= 1e-12 * history[0])
    assert history[-1] == est.objective_
    assert est.score(X) == pytest.approx(-est.objective_, rel=1e-10)


# ---------------------------------------------------------------------- scikit-fuzzy
@pytest.mark.parametrize("backend", BACKENDS)
def test_probabilistic_equals_scikit_fuzzy(backend):
    """Same data, same initial centres: same centres and memberships as skfuzzy to 1e-6."""
    skfuzzy = pytest.importorskip("skfuzzy")
    X, _ = make_blobs(500, centers=4, cluster_std=1.5, random_state=1)
    init = X[[0, 10, 20, 30]]
    # scikit-fuzzy starts from a membership matrix (c, n): give it the memberships of our
    # initial centres, so both compute the same first centres.
    u0 = probabilistic_memberships(sq_distances(X, init), 2.0).T
    cntr, u, *_ = skfuzzy.cluster.cmeans(X.T, 4, 2.0, error=1e-12, maxiter=1000, init=u0)
    est = Probabilistic(4, init=init, tol=1e-12, max_iter=1000, backend=backend).fit(X)
    np.testing.assert_allclose(est.cluster_centers_, cntr, atol=1e-6)
    np.testing.assert_allclose(est.memberships_, u.T, atol=1e-6)


# ---------------------------------------------------------------------- degenerate data
@pytest.mark.parametrize("cls", [Probabilistic, GustafsonKessel])
@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_on_a_centre(blobs, cls, backend):
    """A sample exactly on a centre has membership 1 there and 0 elsewhere."""
    X, _ = blobs
    est = cls(4, random_state=0, backend=backend).fit(X)
    U = est.predict_membership(est.cluster_centers_)
    np.testing.assert_array_equal(U, np.eye(4))
    # ... also inside fit: start from centres that are samples (first memberships).
    est1 = fit_quiet(cls(4, init=X[:4], max_iter=1, backend=backend), X)
    assert np.all(np.isfinite(est1.memberships_))


@pytest.mark.parametrize("backend", BACKENDS)
def test_possibilistic_sample_on_a_centre(blobs, backend):
    """A sample on a centre has typicality exactly 1 there."""
    X, _ = blobs
    est = Possibilistic(4, random_state=0, backend=backend).fit(X)
    T = est.predict_membership(est.cluster_centers_)
    np.testing.assert_array_equal(np.diag(T), 1.0)
    assert np.all(T[~np.eye(4, dtype=bool)] < 0.05)  # 1 / (1 + 10^2 / eta), eta ~ 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_coincident_centres_share_a_sample(backend):
    """Two coincident centres split a sample lying on them 1/2 - 1/2, without NaN."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0], [3.0, 1.0]])
    init = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 1.0]])
    est = fit_quiet(Probabilistic(3, init=init, max_iter=1, backend=backend), X)
    assert np.all(np.isfinite(est.memberships_))
    U0 = Probabilistic(3, init=init, backend=backend).fit(X).predict_membership(init[:1])
    assert np.all(np.isfinite(U0))
    np.testing.assert_allclose(U0.sum(), 1.0)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicate_samples(cls, backend):
    """Three points each repeated 40 times: exact clusters, finite everything."""
    points = np.array([[0.0, 0.0, 0.0], [5.0, 0.0, 1.0], [0.0, 5.0, 2.0]])
    X = np.repeat(points, 40, axis=0)
    y = np.repeat([0, 1, 2], 40)
    est = fit_quiet(cls(3, random_state=0, backend=backend), X)
    assert adjusted_rand_score(y, est.labels_) == 1.0
    assert np.all(np.isfinite(est.memberships_)) and np.all(np.isfinite(est.cluster_centers_))
    if cls is GustafsonKessel:  # zero covariances are replaced, determinants stay rho
        assert np.all(np.isfinite(est.norm_matrices_))
        np.testing.assert_allclose(np.linalg.det(est.norm_matrices_), 1.0, rtol=1e-8)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.filterwarnings(COINCIDENT)
def test_fewer_distinct_points_than_clusters(cls):
    """Two distinct points, three clusters: still finite memberships and centres."""
    X = np.repeat(np.array([[0.0, 0.0], [1.0, 1.0]]), 10, axis=0)
    est = fit_quiet(cls(3, random_state=0), X)
    assert np.all(np.isfinite(est.memberships_)) and np.all(np.isfinite(est.cluster_centers_))
    assert np.all(np.isfinite(est.transform(X)))


# ---------------------------------------------------------------------- Gustafson-Kessel
@pytest.mark.parametrize("rho", [None, [0.5, 2.0, 1.0]])
def test_gk_norm_determinants_equal_rho(rho):
    """det(A_i) = rho_i (1 by default)."""
    X, _ = parallel_elongated()
    est = GustafsonKessel(3, rho=rho, random_state=0).fit(X)
    expected = np.ones(3) if rho is None else np.asarray(rho)
    np.testing.assert_allclose(np.linalg.det(est.norm_matrices_), expected, rtol=1e-10)
    np.testing.assert_allclose(est.rho_, expected)
    W = est.whitening_matrices_
    np.testing.assert_allclose(W @ W.transpose(0, 2, 1), est.norm_matrices_, rtol=1e-10)


def test_gk_separates_parallel_elongated_clusters():
    """Axis ratio 20, spaced closer than their length: GK ARI >= 0.95, FCM near 0."""
    X, y = parallel_elongated()
    gk = GustafsonKessel(3, random_state=0).fit(X)
    fcm = Probabilistic(3, random_state=0).fit(X)
    assert adjusted_rand_score(y, gk.labels_) >= 0.95
    assert adjusted_rand_score(y, fcm.labels_) < 0.05


def test_gk_separates_crossing_elongated_clusters():
    """Crossing elongated clusters: GK clearly beats FCM."""
    X, y = crossing_elongated()
    gk = GustafsonKessel(2, random_state=0).fit(X)
    fcm = Probabilistic(2, random_state=0).fit(X)
    ari_gk = adjusted_rand_score(y, gk.labels_)
    ari_fcm = adjusted_rand_score(y, fcm.labels_)
    assert ari_gk >= 0.8
    assert ari_gk >= ari_fcm + 0.5


@pytest.mark.parametrize("noise", [0.0, 1e-9])
@pytest.mark.parametrize("gamma", [0.0, 0.1])
def test_gk_near_collinear_data_stays_finite(noise, gamma):
    """Data on (or within 1e-9 of) a line in 3-D: no NaN or inf, determinants stay rho."""
    rng = np.random.default_rng(3)
    t = np.concatenate([rng.normal(0, 1, 200), rng.normal(8, 1, 200)])
    X = np.outer(t, [1.0, 2.0, -1.0]) + noise * rng.normal(size=(400, 3))
    est = fit_quiet(GustafsonKessel(2, gamma=gamma, random_state=0), X)
    for arr in (est.memberships_, est.cluster_centers_, est.covariances_, est.norm_matrices_):
        assert np.all(np.isfinite(arr))
    assert np.all(np.isfinite(est.transform(X)))
    np.testing.assert_allclose(np.linalg.det(est.norm_matrices_), 1.0, rtol=1e-6)
    lam = np.linalg.eigvalsh(est.covariances_)
    # eigvalsh of the rebuilt matrix resolves the smallest eigenvalue to ~eps * 1e10
    assert np.all(lam[:, -1] / lam[:, 0] <= 1e10 * (1 + 1e-4))
    assert adjusted_rand_score(np.repeat([0, 1], 200), est.labels_) >= 0.95


def test_condition_covariances_follows_babuska():
    """Blending with gamma * scale * I, then capping the eigenvalue ratio at beta."""
    F = np.array([np.diag([4.0, 1e-20]), np.zeros((2, 2)), np.diag([2.0, 0.5])])
    rho = np.array([1.0, 2.0, 1.0])
    cond, A, W = condition_covariances(F, rho, scale=3.0, gamma=0.0, max_condition=100.0)
    np.testing.assert_allclose(cond[0], np.diag([4.0, 0.04]))  # capped at 4 / 100
    np.testing.assert_allclose(cond[1], 3.0 * np.eye(2))  # zero covariance -> scale * I
    np.testing.assert_allclose(cond[2], F[2])  # untouched
    np.testing.assert_allclose(np.linalg.det(A), rho)
    np.testing.assert_allclose(A[2], np.sqrt(np.linalg.det(F[2])) * np.linalg.inv(F[2]))
    np.testing.assert_allclose(W @ W.transpose(0, 2, 1), A, atol=1e-12)
    blended, *_ = condition_covariances(F[2:], rho[2:], scale=3.0, gamma=0.25, max_condition=1e10)
    np.testing.assert_allclose(blended[0], 0.75 * F[2] + 0.25 * 3.0 * np.eye(2))


def test_gk_gamma_makes_clusters_rounder():
    """gamma = 1 replaces every covariance by scale * I: GK reduces to scaled FCM."""
    X, _ = parallel_elongated()
    gk = GustafsonKessel(3, gamma=1.0, random_state=0).fit(X)
    fcm = Probabilistic(3, random_state=0).fit(X)
    scale = np.sqrt(np.linalg.det(data_covariance(X)))
    np.testing.assert_allclose(gk.covariances_, np.broadcast_to(scale * np.eye(2), (3, 2, 2)))
    np.testing.assert_allclose(gk.norm_matrices_, np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-12)
    assert adjusted_rand_score(fcm.labels_, gk.labels_) == pytest.approx(1.0)


# ---------------------------------------------------------------------- possibilistic
def test_possibilistic_keeps_distinct_centres(blobs):
    """On well-separated blobs PCM centres stay distinct (no collapse) and ARI >= 0.95."""
    X, y = blobs
    pcm = Possibilistic(4, random_state=0).fit(X)
    assert adjusted_rand_score(y, pcm.labels_) >= 0.95
    V = pcm.cluster_centers_
    sep = np.sqrt(((V[:, None] - V[None]) ** 2).sum(-1))[~np.eye(4, dtype=bool)]
    assert sep.min() > 8.0  # true centres are 10 apart
    assert np.all(pcm.memberships_.max(axis=1) > 0)


def test_possibilistic_eta_formula(blobs):
    """eta_i from the probabilistic stage: alpha-cut mean of d^2, or weighted (KK 1993, eq. 9)."""
    X, _ = blobs
    fcm = Probabilistic(4, random_state=0).fit(X)
    d2 = fcm.transform(X) ** 2
    U = fcm.memberships_
    pcm = Possibilistic(4, random_state=0, eta_scale=2.0).fit(X)
    cut = U > 0.7
    eta = 2.0 * np.array([d2[cut[:, i], i].mean() for i in range(4)])
    np.testing.assert_allclose(pcm.eta_, eta, rtol=1e-8)
    weighted = Possibilistic(4, random_state=0, alpha=None, eta_scale=2.0).fit(X)
    W = U**2
    np.testing.assert_allclose(weighted.eta_, 2.0 * (W * d2).sum(axis=0) / W.sum(axis=0))
    given = Possibilistic(4, random_state=0, eta=[1.0, 2.0, 3.0, 4.0]).fit(X)
    np.testing.assert_array_equal(given.eta_, [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("typicality", ["exponential", "power"])
def test_possibilistic_predict_proba_normalised_far_away(blobs, typicality):
    """Normalised typicalities sum to 1, also for samples far from every centre."""
    X, _ = blobs
    pcm = Possibilistic(4, typicality=typicality, random_state=0).fit(X)
    far = np.array([[1e6, 1e6], [-1e8, 3e7]])
    P = pcm.predict_proba(np.vstack([X[:5], far]))
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
    T = pcm.predict_membership(X[:5])
    np.testing.assert_allclose(P[:5], T / T.sum(axis=1, keepdims=True), rtol=1e-10)


# ---------------------------------------------------------------------- determinism
@pytest.mark.parametrize("cls", ESTIMATORS)
def test_same_random_state_same_result(blobs, cls):
    """Equal random_state gives identical results."""
    X, _ = blobs
    a = cls(4, random_state=7, n_init=3).fit(X)
    b = cls(4, random_state=7, n_init=3).fit(X)
    np.testing.assert_array_equal(a.cluster_centers_, b.cluster_centers_)
    np.testing.assert_array_equal(a.memberships_, b.memberships_)


class _RecordingProbabilistic(Probabilistic):
    """Probabilistic that records the initial centres of every start."""

    def _initial_centers(self, X, rng):
        centers = super()._initial_centers(X, rng)
        self.recorded_starts_.append(centers)
        return centers

    def fit(self, X, y=None):
        self.recorded_starts_ = []
        return super().fit(X, y)


@pytest.mark.parametrize("init", ["k-means++", "random"])
def test_n_init_starts_differ(blobs, init):
    """All starts come from one generator, so an integer seed gives different starts."""
    X, _ = blobs
    est = _RecordingProbabilistic(4, init=init, n_init=6, random_state=0).fit(X)
    starts = est.recorded_starts_
    assert len(starts) == 6
    for i in range(6):
        for j in range(i + 1, 6):
            assert not np.array_equal(starts[i], starts[j])


def test_best_start_is_kept():
    """The kept run has the lowest objective among the starts."""
    X, _ = parallel_elongated(k=4)
    objectives = [
        fit_quiet(GustafsonKessel(4, n_init=1, random_state=s), X).objective_ for s in range(4)
    ]
    best = fit_quiet(GustafsonKessel(4, n_init=8, random_state=0), X).objective_
    assert best <= min(objectives) * (1 + 1e-9) or best <= min(objectives) + 1e-9


# ---------------------------------------------------------------------- validation
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize(
    ("X", "params", "match"),
    [
        (np.array([[0.0, np.nan], [1.0, 1.0], [2.0, 2.0]]), {}, "NaN"),
        (np.array([[0.0, np.inf], [1.0, 1.0], [2.0, 2.0]]), {}, "infinity"),
        (np.arange(10.0), {}, "Expected 2D array"),
        (np.zeros((2, 3)), {"n_clusters": 3}, "n_samples=2 should be >= n_clusters=3"),
        (np.eye(5), {"m": 1.0}, "m must be a finite number > 1"),
        (np.eye(5), {"m": 0.5}, "m must be a finite number > 1"),
        (np.eye(5), {"n_clusters": 1}, "n_clusters must be an integer >= 2"),
        (np.eye(5), {"n_clusters": 2.5}, "n_clusters must be an integer >= 2"),
        (np.eye(5), {"max_iter": 0}, "max_iter"),
        (np.eye(5), {"tol": -1.0}, "tol"),
        (np.eye(5), {"n_init": 0}, "n_init"),
        (np.eye(5), {"init": "kmeans"}, "init must be"),
        (np.eye(5), {"init": np.zeros((2, 5))}, r"shape \(n_clusters, n_features\)"),
        (np.eye(5), {"backend": "cuda"}, "backend"),
        (np.eye(5), {"backend": "numba-parallel"}, "backend"),
        (np.eye(5), {"init_size": 1}, "init_size"),
        (np.eye(5), {"n_jobs": 0}, "n_jobs"),
    ],
)
def test_invalid_input_raises_clear_value_error(cls, X, params, match):
    """Invalid data or parameters raise ValueError saying what is wrong."""
    with pytest.raises(ValueError, match=match):
        cls(**params).fit(X)


@pytest.mark.parametrize(
    ("cls", "params", "match"),
    [
        (GustafsonKessel, {"rho": [1.0, -1.0, 1.0]}, "rho must be positive"),
        (GustafsonKessel, {"gamma": 1.5}, "gamma"),
        (GustafsonKessel, {"max_condition": 0.5}, "max_condition"),
        (Possibilistic, {"eta": 0.0}, "eta must be positive"),
        (Possibilistic, {"eta_scale": -1.0}, "eta_scale"),
        (Possibilistic, {"alpha": 1.0}, "alpha"),
        (Possibilistic, {"typicality": "gauss"}, "typicality"),
    ],
)
def test_invalid_algorithm_parameters(cls, params, match):
    """Algorithm-specific parameters are checked in fit."""
    with pytest.raises(ValueError, match=match):
        cls(**params).fit(np.eye(5))


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_convergence_warning_at_max_iter(blobs, cls):
    """Reaching max_iter without meeting tol warns."""
    X, _ = blobs
    with pytest.warns(ConvergenceWarning, match="max_iter=2"):
        est = cls(4, max_iter=2, tol=0.0, n_init=2, random_state=0).fit(X)
    assert est.n_iter_ == 2 and not est.converged_


# ---------------------------------------------------------------------- API and dtypes
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_prediction_api_is_consistent(blobs, cls, backend):
    """predict/predict_membership/transform/score agree with the fitted attributes."""
    X, _ = blobs
    est = cls(4, random_state=0, backend=backend).fit(X)
    np.testing.assert_array_equal(est.predict_membership(X), est.memberships_)
    np.testing.assert_array_equal(est.predict(X), est.labels_)
    assert est.labels_.dtype == np.intp
    assert est.transform(X).shape == (600, 4) and np.all(est.transform(X) >= 0)
    np.testing.assert_allclose(est.predict_proba(X).sum(axis=1), 1.0)
    assert est.score(X) == pytest.approx(-est.objective_, rel=1e-10)
    np.testing.assert_array_equal(est.fit_predict(X), est.labels_)
    assert est.n_features_in_ == 2


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_is_computed_in_float32(blobs, cls, backend):
    """float32 in, float32 out; results close to the float64 fit."""
    X, _ = blobs
    est32 = cls(4, random_state=0, backend=backend).fit(X.astype(np.float32))
    est64 = cls(4, random_state=0, backend=backend).fit(X)
    for name in ("cluster_centers_", "memberships_"):
        assert getattr(est32, name).dtype == np.float32
    for method in ("transform", "predict_membership", "predict_proba"):
        assert getattr(est32, method)(X.astype(np.float32)).dtype == np.float32
    # float32 rounding may pick another of the (equivalent) starts: match clusters first
    order = np.argmin(sq_distances(est64.cluster_centers_, est32.cluster_centers_), axis=1)
    assert sorted(order) == [0, 1, 2, 3]
    np.testing.assert_allclose(est32.cluster_centers_[order], est64.cluster_centers_, atol=1e-3)
    np.testing.assert_allclose(est32.memberships_[:, order], est64.memberships_, atol=1e-4)


@_NEEDS_NUMBA
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.filterwarnings(COINCIDENT)
def test_numba_and_numpy_backends_agree(cls):
    """Fused numba loop and vectorised NumPy give the same results (rounding only)."""
    # 36k samples: several numba blocks and two NumPy chunks
    X, _ = make_blobs(36_000, n_features=3, centers=3, cluster_std=2.0, random_state=2)
    # one start: with several, equivalent (permuted) solutions can tie to the last bit
    kw = {"n_clusters": 3, "random_state": 0, "n_init": 1, "tol": 1e-7, "max_iter": 1000}
    a = cls(backend="numpy", **kw).fit(X)
    b = cls(backend="numba", **kw).fit(X)
    np.testing.assert_allclose(a.cluster_centers_, b.cluster_centers_, rtol=1e-7, atol=1e-7)
    np.testing.assert_allclose(a.memberships_, b.memberships_, atol=1e-7)
    np.testing.assert_allclose(a.objective_, b.objective_, rtol=1e-9)


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.filterwarnings(COINCIDENT)
def test_properties_of_checks_that_force_one_cluster(cls):
    """What the n_clusters=1 sklearn checks test, with n_clusters=2 (see test_cmeans_sklearn)."""
    rng = np.random.RandomState(0)
    X = 3 * rng.uniform(size=(20, 3))
    est = cls(2, random_state=1)
    public_before = {k for k in vars(est) if not k.endswith("_") and not k.startswith("_")}
    est.fit(X)
    public_after = {k for k in vars(est) if not k.endswith("_") and not k.startswith("_")}
    assert public_after == public_before  # fit adds only trailing-underscore attributes
    for method in ("predict", "transform", "predict_proba", "predict_membership"):
        full = getattr(est, method)(X)
        one_by_one = np.concatenate([getattr(est, method)(x[None]) for x in X])
        np.testing.assert_allclose(full, one_by_one, atol=1e-12)
        with pytest.raises(ValueError, match="Reshape your data"):
            getattr(est, method)(X[0])
    with pytest.raises(ValueError, match="n_samples=1"):
        cls(2).fit(X[:1])
    one_feature = cls(2, random_state=0).fit(X[:, :1])
    assert one_feature.cluster_centers_.shape == (2, 1)


# ---------------------------------------------------------------------- memory, imports
@pytest.mark.parametrize("cls", [Probabilistic, GustafsonKessel])
def test_peak_memory_stays_below_three_membership_arrays(cls):
    """NumPy path at n = 200k, c = 4, d = 3: peak extra memory < 3 n c 8 B + fixed chunk."""
    rng = np.random.default_rng(0)
    n, c = 200_000, 4
    X = rng.normal(size=(n, 3)) + np.repeat(rng.normal(scale=6, size=(4, 3)), n // 4, axis=0)
    est = cls(c, n_init=2, max_iter=5, random_state=0, backend="numpy")
    tracemalloc.start()
    try:
        fit_quiet(est, X)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    fixed_chunk = 16 * 2**20
    assert peak < 3 * n * c * 8 + fixed_chunk


def test_subpackage_needs_no_hyperspy():
    """hyperspy_cmeans.cmeans imports and fits with hyperspy and exspy blocked."""
    code = (
        "import sys\n"
        "sys.modules['hyperspy'] = None\nsys.modules['exspy'] = None  # importing them fails\n"
        "import numpy as np\n"
        "from hyperspy_cmeans.cmeans import GustafsonKessel\n"
        "X = np.random.default_rng(0).normal(size=(50, 2))\n"
        "print(GustafsonKessel(2, n_init=1, random_state=0, backend='numpy').fit(X).n_iter_)\n"
        "assert not any(name.split('.')[0] in ('hyperspy', 'exspy') and sys.modules[name]\n"
        "               for name in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr


def test_possibilistic_warns_about_coincident_clusters(blobs):
    """A large eta pulls a small cluster onto its big neighbour: the fit says so."""
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(size=(500, 2)), rng.normal(size=(60, 2)) + [4.0, 0.0]])
    with pytest.warns(UserWarning, match=r"clusters \[\(0, 1\)\] converged onto the same"):
        Possibilistic(2, eta=50.0, random_state=0).fit(X)
    with warnings.catch_warnings():  # separated blobs: no warning
        warnings.simplefilter("error", UserWarning)
        Possibilistic(4, random_state=0).fit(blobs[0])
