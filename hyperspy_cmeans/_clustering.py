"""Fuzzy clustering of a spectrum image's data space, on plain arrays.

The signal method :meth:`EDSSEMCmeansSpectrum.fuzzy_cluster` validates its
input and calls :func:`cluster_data_space`, which fits an estimator to the
data-space features, puts the clusters in a stable order and computes
everything HyperSpy's cluster tools need, in one pass over the spectra.
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


def make_estimator(algorithm, n_clusters, m, n_init, max_iter, tol, random_state, **kwargs):
    """Build one of this package's c-means estimators from its name.

    Parameters
    ----------
    algorithm : str
        ``"probabilistic"`` (aliases ``"fcm"``, ``"fuzzy_cmeans"``),
        ``"possibilistic"`` (``"pcm"``) or ``"gustafson_kessel"`` (``"gk"``).
    n_clusters, m, n_init, max_iter, tol, random_state
        Passed to the estimator.
    **kwargs
        Algorithm-specific parameters of the estimator.

    Returns
    -------
    tuple
        ``(estimator, canonical_name)``.
    """
    from hyperspy_cmeans import cmeans

    name = ALGORITHM_ALIASES.get(str(algorithm).lower())
    if name is None:
        raise ValueError(
            f"algorithm={algorithm!r} is not known; use one of "
            f"{sorted(set(ALGORITHM_ALIASES.values()))} (aliases: {sorted(ALGORITHM_ALIASES)}), "
            "or pass a fitted-estimator object with `fit` and `memberships_` or `predict_proba`."
        )
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
    if getattr(estimator, "memberships_", None) is not None:
        u = np.asarray(estimator.memberships_, dtype=float)
        if u.shape[0] != features.shape[0] and u.shape[1] == features.shape[0]:
            u = u.T  # some libraries store (c, n)
        return u
    if hasattr(estimator, "predict_proba"):
        return np.asarray(estimator.predict_proba(features), dtype=float)
    labels = getattr(estimator, "labels_", None)
    if labels is not None:
        labels = np.asarray(labels)
        n_clusters = int(labels.max()) + 1
        return (labels[:, None] == np.arange(n_clusters)[None, :]).astype(float)
    raise TypeError(
        f"{type(estimator).__name__} exposes neither `memberships_` after fit, nor "
        "`predict_proba`, nor `labels_`; it cannot be used by fuzzy_cluster."
    )


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
    """
    if not hasattr(estimator, "fit"):
        raise TypeError(f"algorithm object {type(estimator).__name__} has no `fit` method.")
    estimator.fit(features)
    u = _memberships_of(estimator, features)
    if u.ndim != 2 or u.shape[0] != features.shape[0]:
        raise ValueError(
            f"{type(estimator).__name__} returned memberships of shape {u.shape}; "
            f"expected ({features.shape[0]}, n_clusters)."
        )
    if u.shape[1] > n_clusters:
        raise ValueError(
            f"{type(estimator).__name__} found {u.shape[1]} clusters but n_clusters={n_clusters}; "
            "set the same number of clusters on the estimator and in fuzzy_cluster."
        )
    if u.shape[1] < n_clusters:
        u = np.hstack([u, np.zeros((u.shape[0], n_clusters - u.shape[1]))])
    m = float(getattr(estimator, "m", 1.0) or 1.0)
    weights = u**m
    wsum = weights.sum(0)
    safe = np.where(wsum > 0, wsum, 1.0)
    centroids = None
    for attr in ("cluster_centers_", "means_"):
        value = getattr(estimator, attr, None)
        if value is not None and np.shape(value) == (u.shape[1], features.shape[1]):
            centroids = np.asarray(value, dtype=float)
            break
    if centroids is None:
        centroids = (weights.T @ features) / safe[:, None]
    distances = None
    if hasattr(estimator, "transform"):
        try:
            d = np.asarray(estimator.transform(features), dtype=float)
        except Exception:  # an unrelated transform (e.g. a projection)
            d = None
        if d is not None and d.shape == u.shape:
            distances = d
    if distances is None:
        distances = np.sqrt(
            np.maximum(
                (features**2).sum(1)[:, None]
                - 2 * features @ centroids.T
                + (centroids**2).sum(1)[None, :],
                0.0,
            )
        )
    order = phases.stable_cluster_order(u, centroids)
    return ClusterFit(
        memberships=u[:, order],
        distances=distances[:, order],
        centroids=centroids[order],
        order=order,
        m=m,
    )


def fresh_estimator(estimator):
    """An unfitted copy of a scikit-learn style estimator (the object itself otherwise)."""
    try:
        return clone(estimator)
    except Exception:
        return estimator
