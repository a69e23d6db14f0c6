"""Array-level clustering (hyperspy_cmeans._clustering) and the signal-level run
(hyperspy_cmeans.signals._clustering): estimators by name, any estimator object,
validation of what it returns, stable order, and the setup of a run."""

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from hyperspy_cmeans import _clustering as clustering
from hyperspy_cmeans.cmeans import GustafsonKessel, Possibilistic, Probabilistic
from hyperspy_cmeans.data import synthetic_eds_map


@pytest.fixture(scope="module")
def blobs():
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [6.0, 0.0], [0.0, 6.0]])
    sizes = (300, 200, 100)
    X = np.vstack([rng.normal(c, 0.5, size=(n, 2)) for c, n in zip(centres, sizes, strict=True)])
    truth = np.repeat(np.arange(3), sizes)
    return X, truth


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("gk", GustafsonKessel),
        ("Gustafson-Kessel", GustafsonKessel),
        ("fcm", Probabilistic),
        ("pcm", Possibilistic),
        ("probabilistic", Probabilistic),
    ],
)
def test_estimators_by_name(name, cls):
    est, canonical = clustering.make_estimator(
        name, 3, m=1.7, n_init=2, max_iter=50, tol=1e-3, random_state=1
    )
    assert isinstance(est, cls) and canonical in clustering.ALGORITHMS
    assert (est.n_clusters, est.m, est.n_init, est.random_state) == (3, 1.7, 2, 1)


def test_unknown_algorithm_and_parameters():
    with pytest.raises(ValueError, match="algorithm='kmeans' is not known"):
        clustering.canonical_algorithm("kmeans")
    with pytest.raises(TypeError, match="does not accept"):
        clustering.make_estimator(
            "fcm", 3, m=2.0, n_init=1, max_iter=10, tol=1e-3, random_state=0, rho=2
        )


@pytest.mark.parametrize(
    "estimator",
    [
        Probabilistic(3, random_state=0, n_init=2),
        GaussianMixture(3, random_state=0),
        KMeans(3, n_init=2, random_state=0),
    ],
)
def test_fit_clusters_orders_by_total_membership(blobs, estimator):
    X, truth = blobs
    fit = clustering.fit_clusters(estimator, X, 3)
    totals = fit.memberships.sum(0)
    assert np.all(np.diff(totals) <= 1e-9)  # largest first
    # the biggest blob (300 samples) is cluster 0, the smallest is cluster 2
    labels = fit.memberships.argmax(1)
    assert np.bincount(labels[truth == 0]).argmax() == 0
    assert np.bincount(labels[truth == 2]).argmax() == 2
    np.testing.assert_allclose(fit.memberships.sum(1), 1.0, atol=1e-6)
    # centroids follow the same permutation as the memberships
    for k in range(3):
        np.testing.assert_allclose(fit.centroids[k], X[labels == k].mean(0), atol=0.3)
    assert fit.distances.shape == fit.memberships.shape


class _Broken:
    """A third-party estimator returning malformed memberships."""

    def __init__(self, memberships):
        self._u = memberships

    def fit(self, X):
        self.memberships_ = self._u
        return self


class _BrokenProba(_Broken):
    def fit(self, X):
        return self

    def predict_proba(self, X):
        return self._u


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (_Broken(np.full((600, 3), np.nan)), "NaN or infinite"),
        (_Broken(np.full((600, 3), 1.5)), r"outside \[0, 1\]"),
        (_Broken(np.ones((10, 3)) / 3), "shape"),
        (_Broken(np.ones((600, 4)) / 4), "found 4 clusters but n_clusters=3"),
        (_BrokenProba(np.full((600, 3), 0.2)), "do not sum to 1"),
    ],
)
def test_malformed_memberships_are_refused(blobs, estimator, match):
    X, _ = blobs
    with pytest.raises(ValueError, match=match):
        clustering.fit_clusters(estimator, X, 3)


def test_possibilistic_memberships_need_not_sum_to_one(blobs):
    X, _ = blobs
    u = np.full((len(X), 3), 0.2)
    fit = clustering.fit_clusters(_Broken(u), X, 3)
    np.testing.assert_allclose(fit.memberships, 0.2)


def test_fewer_clusters_are_padded_with_empty_ones(blobs):
    X, _ = blobs
    u = np.zeros((len(X), 2))
    u[:300, 0] = 1
    u[300:, 1] = 1
    fit = clustering.fit_clusters(_Broken(u), X, 3)
    assert fit.memberships.shape == (len(X), 3)
    np.testing.assert_array_equal(fit.memberships[:, 2], 0.0)


def test_estimator_with_n_clusters_clones():
    gm = GaussianMixture(2, random_state=0)
    clone = clustering.estimator_with_n_clusters(gm, 5)
    assert clone is not gm and clone.n_components == 5 and gm.n_components == 2
    with pytest.raises(ValueError, match="no n_clusters/n_components parameter"):
        clustering.estimator_with_n_clusters(_Broken(None), 3)


def test_describe_estimator():
    est = GustafsonKessel(3, m=1.5)
    assert clustering.describe_estimator(est, "gustafson_kessel") == "gustafson_kessel(m=1.5)"
    assert clustering.describe_estimator(KMeans(3)) == "KMeans"


# ---------------------------------------------------------------------------
# the run's setup (signal level)
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_map():
    return synthetic_eds_map(shape=(24, 20), n_channels=256, scale=0.04, random_state=2)


def test_setup_from_arguments_takes_the_method_parameters():
    from hyperspy_cmeans.signals._clustering import ClusteringSetup

    args = dict(
        algorithm="gk",
        m=2.0,
        source="pca",
        n_components=3,
        preprocessing="poisson",
        navigation_mask=None,
        signal_mask=None,
        n_init=3,
        max_iter=100,
        tol=1e-4,
        random_state=0,
        spatial=0,
        kwargs={"rho": None},
        self=object(),
        n_clusters=4,
    )
    setup = ClusteringSetup.from_arguments(args)
    assert setup.preprocessing == "poisson" and setup.n_init == 3
    assert setup.estimator_kwargs == {"rho": None}
    assert setup.spatial is None  # 0 switches the regularisation off


def test_signal_source_preprocessing_is_applied_as_recorded(small_map):
    """A signal source with n_components=None is Poisson-weighted when asked (not only centred)."""
    import hyperspy.api as hs

    s = small_map.deepcopy()
    maps = s.get_lines_intensity(["Ti_Ka", "Ca_Ka", "Si_Ka"])
    s.fuzzy_cluster(
        3,
        "fcm",
        source=maps,
        n_components=None,
        preprocessing="poisson",
        random_state=0,
        n_init=2,
        spatial=None,  # the stored scores are then the preprocessed maps themselves
    )
    params = s.learning_results.fuzzy_cluster_parameters
    assert params["preprocessing"] == "poisson"
    stacked = np.stack([np.asarray(m.data, float).ravel() for m in maps], axis=1)
    # Keenan–Kotula weighting: divide by sqrt(pixel total * channel mean), then centre
    a = stacked.sum(1, keepdims=True)
    b = stacked.mean(0, keepdims=True)
    weighted = stacked / np.sqrt(a * b)
    weighted -= weighted.mean(0)
    scores = s.learning_results.fuzzy_cluster_scores
    # all components kept: a rotation of the weighted data (same pairwise distances)
    d_scores = np.linalg.norm(scores[:50, None] - scores[None, :50], axis=-1)
    d_weighted = np.linalg.norm(weighted[:50, None] - weighted[None, :50], axis=-1)
    np.testing.assert_allclose(d_scores, d_weighted, rtol=1e-6, atol=1e-9)
    assert isinstance(maps[0], hs.signals.BaseSignal)
