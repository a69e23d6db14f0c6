"""Fuzzy clustering of a spectrum image's data space, on plain arrays.

Builds the named c-means estimators, fits any estimator object to the
data-space features (:func:`fit_clusters`), validates what it returns and puts
the clusters in a stable order. The signal layer
(:mod:`hyperspy_cmeans.signals._clustering`) turns the result into
``learning_results``.
"""

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from hyperspy_cmeans import _phases as phases

ALGORITHM_ALIASES = {
    "probabilistic": "probabilistic",
    "fcm": "probabilistic",
    "fuzzy_cmeans": "probabilistic",
    "fuzzy_c_means": "probabilistic",
    "possibilistic": "possibilistic",
    "pcm": "possibilistic",
    "gustafson_kessel": "gustafson_kessel",
    "gustafson-kessel": "gustafson_kessel",
    "gk": "gustafson_kessel",
}


#: The canonical names of the c-means algorithms.
ALGORITHMS = ("gustafson_kessel", "possibilistic", "probabilistic")


def canonical_algorithm(algorithm):
    """The canonical name of a c-means algorithm given by name or alias.

    Parameters
    ----------
    algorithm : str
        ``"probabilistic"`` (aliases ``"fcm"``, ``"fuzzy_cmeans"``),
        ``"possibilistic"`` (``"pcm"``) or ``"gustafson_kessel"`` (``"gk"``).

    Returns
    -------
    str
        One of :data:`ALGORITHMS`.

    Raises
    ------
    ValueError
        For an unknown name.
    """
    name = ALGORITHM_ALIASES.get(str(algorithm).lower())
    if name is None:
        raise ValueError(
            f"algorithm={algorithm!r} is not known; use one of {ALGORITHMS} "
            f"(aliases: {sorted(ALGORITHM_ALIASES)}), or pass an estimator object with `fit` "
            "and `memberships_` or `predict_proba`."
        )
    return name


def make_estimator(algorithm, n_clusters, *, m, n_init, max_iter, tol, random_state, **kwargs):
    """Build one of this package's c-means estimators from its name.

    Parameters
    ----------
    algorithm : str
        A name or alias accepted by :func:`canonical_algorithm`.
    n_clusters : int
        Number of clusters.
    m, n_init, max_iter, tol, random_state
        Passed to the estimator.
    **kwargs
        Algorithm-specific parameters of the estimator.

    Returns
    -------
    tuple
        ``(estimator, canonical_name)``.
    """
    from hyperspy_cmeans import cmeans

    name = canonical_algorithm(algorithm)
    cls = {
        "probabilistic": cmeans.Probabilistic,
        "possibilistic": cmeans.Possibilistic,
        "gustafson_kessel": cmeans.GustafsonKessel,
    }[name]
    try:
        est = cls(
            n_clusters=n_clusters,
            m=m,
            n_init=n_init,
            max_iter=max_iter,
            tol=tol,
            random_state=random_state,
            **kwargs,
        )
    except TypeError as err:
        raise TypeError(f"{cls.__name__} does not accept these parameters: {err}") from None
    return est, name


def estimator_with_n_clusters(estimator, n_clusters):
    """An unfitted clone of a scikit-learn style estimator set to ``n_clusters``.

    Parameters
    ----------
    estimator : object
        An estimator with ``get_params``/``set_params`` and an
        ``n_clusters`` or ``n_components`` parameter.
    n_clusters : int
        The number of clusters to set.

    Returns
    -------
    object
        The clone.

    Raises
    ------
    ValueError
        If the estimator has no such parameter.
    """
    try:
        est = clone(estimator)
    except Exception:
        est = estimator
    params = est.get_params() if hasattr(est, "get_params") else {}
    key = next((k for k in ("n_clusters", "n_components") if k in params), None)
    if key is None:
        raise ValueError(
            f"{type(est).__name__} has no n_clusters/n_components parameter to scan over; "
            "use a named algorithm or a scikit-learn style estimator."
        )
    return est.set_params(**{key: n_clusters})


def estimator_n_clusters(estimator):
    """The number of clusters an estimator object is set up for, if it says."""
    if hasattr(estimator, "get_params"):
        params = estimator.get_params(deep=False)
        for key in ("n_clusters", "n_components"):
            if key in params and isinstance(params[key], (int, np.integer)):
                return int(params[key])
    for key in ("n_clusters", "n_components"):
        value = getattr(estimator, key, None)
        if isinstance(value, (int, np.integer)):
            return int(value)
    return None


def describe_estimator(estimator, name=None):
    """A short, saveable string such as ``"gustafson_kessel(m=2.0)"``."""
    if name is None:
        name = type(estimator).__name__
    m = getattr(estimator, "m", None)
    return f"{name}(m={float(m)})" if m is not None else name


@dataclass
class ClusterFit:
    """Memberships and geometry of a fitted clustering, in stable order.

    All arrays cover the clustered (unmasked) pixels only.
    """

    memberships: np.ndarray  # (n, c)
    distances: np.ndarray  # (n, c)
    centroids: np.ndarray  # (c, F)
    order: np.ndarray  # permutation applied to the estimator's clusters
    m: float  # exponent of the membership weights of the weighted mean
    extra: dict = field(default_factory=dict)


def _memberships_of(estimator, features):
    """``(memberships, probabilistic)`` of a fitted estimator.

    ``probabilistic`` says whether the rows must sum to 1 (``predict_proba``
    and hard labels); ``memberships_`` may hold possibilistic typicalities.
    """
    if getattr(estimator, "memberships_", None) is not None:
        u = np.asarray(estimator.memberships_, dtype=float)
        if u.ndim == 2 and u.shape[0] != features.shape[0] and u.shape[1] == features.shape[0]:
            u = u.T  # some libraries store (c, n)
        return u, False
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(features), dtype=float), True
    labels = getattr(estimator, "labels_", None)
    if labels is not None:
        labels = np.asarray(labels)
        n_clusters = int(labels.max()) + 1
        return (labels[:, None] == np.arange(n_clusters)[None, :]).astype(float), True
    raise TypeError(
        f"{type(estimator).__name__} exposes neither `memberships_` after fit, nor "
        "`predict_proba`, nor `labels_`; it cannot be used by fuzzy_cluster."
    )


def check_memberships(u, n_samples, n_clusters, probabilistic, name):
    """Validate an estimator's memberships; pad missing (empty) clusters with zeros.

    Parameters
    ----------
    u : numpy.ndarray
        ``(n_samples, k)`` memberships returned by the estimator.
    n_samples : int
        Number of clustered samples.
    n_clusters : int
        Requested number of clusters.
    probabilistic : bool
        Whether each row must sum to 1.
    name : str
        Estimator name for the messages.

    Returns
    -------
    numpy.ndarray
        ``(n_samples, n_clusters)`` memberships.

    Raises
    ------
    ValueError
        If the shape is wrong, there are more clusters than requested, or
        the values are not finite, not in [0, 1], or (probabilistic) do not
        sum to 1.
    """
    if u.ndim != 2 or u.shape[0] != n_samples:
        raise ValueError(
            f"{name} returned memberships of shape {u.shape}; expected ({n_samples}, n_clusters)."
        )
    if u.shape[1] > n_clusters:
        raise ValueError(
            f"{name} found {u.shape[1]} clusters but n_clusters={n_clusters}; "
            "set the same number of clusters on the estimator and in fuzzy_cluster."
        )
    if not np.all(np.isfinite(u)):
        raise ValueError(f"{name} returned NaN or infinite memberships; nothing was stored.")
    tol = 1e-6
    if u.min() < -tol or u.max() > 1 + tol:
        raise ValueError(
            f"{name} returned memberships outside [0, 1] (from {u.min():.3g} to {u.max():.3g}); "
            "nothing was stored."
        )
    if probabilistic and not np.allclose(u.sum(axis=1), 1.0, atol=1e-4):
        raise ValueError(
            f"{name} returned probabilistic memberships whose rows do not sum to 1; "
            "nothing was stored."
        )
    u = np.clip(u, 0.0, 1.0)
    if u.shape[1] < n_clusters:
        u = np.hstack([u, np.zeros((n_samples, n_clusters - u.shape[1]))])
    return u


def _centroids_of(estimator, features, u, m):
    """Data-space centres: the estimator's own, else the ``u**m``-weighted means."""
    for attr in ("cluster_centers_", "means_"):
        value = getattr(estimator, attr, None)
        if value is not None and np.shape(value) == (u.shape[1], features.shape[1]):
            return np.asarray(value, dtype=float)
    weights = u**m
    wsum = weights.sum(0)
    return (weights.T @ features) / np.where(wsum > 0, wsum, 1.0)[:, None]


def _distances_of(estimator, features, centroids, shape):
    """Distances in the estimator's norm (its ``transform``), else Euclidean."""
    if hasattr(estimator, "transform"):
        try:
            d = np.asarray(estimator.transform(features), dtype=float)
        except Exception:  # an unrelated transform (e.g. a projection)
            d = None
        if d is not None and d.shape == shape:
            return d
    d2 = (features**2).sum(1)[:, None] - 2 * features @ centroids.T + (centroids**2).sum(1)[None, :]
    return np.sqrt(np.maximum(d2, 0.0))


def fit_clusters(estimator, features, n_clusters):
    """Fit ``estimator`` on ``features`` and return stably ordered results.

    Parameters
    ----------
    estimator : object
        Anything with ``fit(X)`` that afterwards exposes ``memberships_``
        (this package's estimators, scikit-cmeans), or ``predict_proba``
        (e.g. :class:`sklearn.mixture.GaussianMixture`), or only ``labels_``
        (hard clusterers such as KMeans, taken as 0/1 memberships).
    features : numpy.ndarray
        ``(n_samples, n_features)`` data-space coordinates.
    n_clusters : int
        The requested number of clusters; memberships are padded with zero
        columns if the estimator returned fewer (an empty cluster stays).

    Returns
    -------
    ClusterFit
        Memberships, distances in the estimator's norm (Euclidean where it
        has none), data-space centroids and the ordering permutation.

    Raises
    ------
    TypeError
        If the estimator has no ``fit`` or exposes no memberships.
    ValueError
        If its memberships are malformed (see :func:`check_memberships`).
    """
    name = type(estimator).__name__
    if not hasattr(estimator, "fit"):
        raise TypeError(f"algorithm object {name} has no `fit` method.")
    estimator.fit(features)
    u, probabilistic = _memberships_of(estimator, features)
    u = check_memberships(u, features.shape[0], n_clusters, probabilistic, name)
    m = float(getattr(estimator, "m", 1.0) or 1.0)
    centroids = _centroids_of(estimator, features, u, m)
    distances = _distances_of(estimator, features, centroids, u.shape)
    order = phases.stable_cluster_order(u, centroids)
    return ClusterFit(
        memberships=u[:, order],
        distances=distances[:, order],
        centroids=centroids[order],
        order=order,
        m=m,
    )


def can_predict(estimator):
    """Whether a fitted estimator gives memberships of new samples (closed form)."""
    return hasattr(estimator, "predict_membership") or hasattr(estimator, "predict_proba")


class Predictor:
    """Memberships and distances of new samples from a fitted clustering, in its stable order.

    This package's estimators give the memberships (typicalities for
    possibilistic c-means) of new samples in closed form
    (``predict_membership``) and their distances in the algorithm's norm
    (``transform``); other estimators need ``predict_proba``. The copy held
    here runs single-threaded: it is called inside tasks that already run one
    per core.

    Parameters
    ----------
    estimator : object
        The fitted estimator.
    fit : ClusterFit
        Its fit (for the stable order and the centres).
    """

    def __init__(self, estimator, fit):
        import copy

        self.estimator = copy.copy(estimator)
        if "n_jobs" in getattr(self.estimator, "__dict__", {}):
            self.estimator.n_jobs = 1
        self.order = np.asarray(fit.order)
        self.centroids = np.asarray(fit.centroids)[np.argsort(self.order)]
        self.n_clusters = len(self.order)
        self.name = type(estimator).__name__

    def __call__(self, features):
        """``(memberships, distances)``, ``(n, c)`` float64 each, of ``features``."""
        est = self.estimator
        features = np.ascontiguousarray(features, dtype=np.float64)
        if hasattr(est, "predict_membership"):
            u, probabilistic = np.asarray(est.predict_membership(features), float), False
        else:
            u, probabilistic = np.asarray(est.predict_proba(features), float), True
        u = check_memberships(u, len(features), self.n_clusters, probabilistic, self.name)
        d = _distances_of(est, features, self.centroids, u.shape)
        return u[:, self.order], d[:, self.order]


#: The sample's model is kept when the pixels' memberships differ from the full fit's by at
#: most this on average (the largest change of each pixel; half the 0.01 the issue asks) ...
FULL_FIT_TOLERANCE = 0.005
#: ... and at most this share of the pixels changes its hard label (an ARI of about 0.99).
FULL_FIT_LABEL_TOLERANCE = 0.005
#: Largest number of pixels the full fit of the check is run on (drawn at random beyond).
FULL_FIT_MAX_SAMPLES = 2**21


@dataclass
class FullFitCheck:
    """How a model fitted on a sample compares with the fit on every pixel.

    Attributes
    ----------
    mean_membership_change : float
        Mean over the pixels of the largest change of one of their memberships.
    p999_membership_change : float
        Its 99.9th percentile.
    label_change : float
        Share of the pixels whose hard label differs.
    n_samples : int
        Pixels the full fit ran on.
    n_iter : int
        Its iterations (warm-started from the sample's centres).
    within_tolerance : bool
        ``mean_membership_change <= FULL_FIT_TOLERANCE`` and
        ``label_change <= FULL_FIT_LABEL_TOLERANCE``: the sample's model is kept.
    estimator, fit : object, ClusterFit or None
        The full fit, when it replaces the sample's model.
    """

    mean_membership_change: float
    p999_membership_change: float
    label_change: float
    n_samples: int
    n_iter: int
    within_tolerance: bool
    estimator: object = None
    fit: object = None

    def record(self):
        """The numbers, for ``fuzzy_cluster_parameters``."""
        return {
            "mean_membership_change": self.mean_membership_change,
            "p999_membership_change": self.p999_membership_change,
            "label_change": self.label_change,
            "full_fit_pixels": self.n_samples,
            "full_fit_iterations": self.n_iter,
            "sample_model_kept": self.within_tolerance,
        }


def can_warm_start(estimator):
    """Whether ``estimator`` is one of this package's c-means (it accepts centres as ``init``)."""
    return type(estimator).__module__.startswith("hyperspy_cmeans.cmeans") and hasattr(
        estimator, "cluster_centers_"
    )


def check_against_full_fit(
    estimator, predictor, features, n_clusters, threshold=0.5, random_state=None
):
    """Refit on (up to :data:`FULL_FIT_MAX_SAMPLES` of) all pixels from the sample's centres.

    A model learned from a sample of the pixels is checked against the fit
    on every pixel of the same data space: the estimator is refitted with one
    start at the sample's centres (a few iterations), and both models'
    memberships are compared on every pixel.

    Parameters
    ----------
    estimator : object
        The fitted c-means estimator (see :func:`can_warm_start`).
    predictor : Predictor
        Its predictor (stable order).
    features : numpy.ndarray
        ``(n_pixels, F)`` features of every pixel, NaN rows for invalid ones.
    n_clusters : int
        Number of clusters.
    threshold : float
        Assignment threshold of the hard labels.
    random_state : int, optional
        Seed of the draw when there are more than :data:`FULL_FIT_MAX_SAMPLES` pixels.

    Returns
    -------
    FullFitCheck
        With the full fit's estimator and :class:`ClusterFit` when the
        sample's model is outside the tolerances.
    """
    valid = np.flatnonzero(np.all(np.isfinite(features), axis=1))
    if len(valid) > FULL_FIT_MAX_SAMPLES:
        rng = np.random.default_rng(random_state)
        valid = np.sort(rng.choice(valid, FULL_FIT_MAX_SAMPLES, replace=False))
    z = np.ascontiguousarray(features[valid], dtype=np.float64)
    u_sample, _ = predictor(z)
    full = clone(estimator).set_params(init=np.asarray(estimator.cluster_centers_), n_init=1)
    full_fit = fit_clusters(full, z, n_clusters)
    full.set_params(init=estimator.init, n_init=estimator.n_init)  # as the user set them
    # one start from the sample's centres keeps their (internal) order: compare in it
    u_full = full_fit.memberships[:, np.argsort(full_fit.order)][:, predictor.order]
    largest = np.abs(u_full - u_sample).max(axis=1)
    relabelled = phases.hard_labels(u_full, threshold) != phases.hard_labels(u_sample, threshold)
    check = FullFitCheck(
        mean_membership_change=float(largest.mean()),
        p999_membership_change=float(np.quantile(largest, 0.999)),
        label_change=float(relabelled.mean()),
        n_samples=len(valid),
        n_iter=int(np.max(getattr(full, "n_iter_", -1))),
        within_tolerance=False,
    )
    check.within_tolerance = (
        check.mean_membership_change <= FULL_FIT_TOLERANCE
        and check.label_change <= FULL_FIT_LABEL_TOLERANCE
    )
    if not check.within_tolerance:
        check.estimator, check.fit = full, full_fit
    return check
