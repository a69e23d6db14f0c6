r"""Validity indices of fuzzy partitions, for choosing the number of clusters.

All functions take memberships shaped ``(n_samples, n_clusters)``. Those that need
distances compute Euclidean ones unless ``distances`` (non-squared, shape
``(n_samples, n_clusters)``, e.g. ``GustafsonKessel.transform(X)``) is given; Xie–Beni and Fukuyama–Sugeno also take
``norm_matrices`` (``GustafsonKessel.norm_matrices_``) for their separation terms, so a
Gustafson–Kessel partition is scored entirely in its own norms.

:data:`VALIDITY_INDICES` maps each index name to ``(function, direction)`` with direction
``"max"`` (higher is better) or ``"min"`` (lower is better); :func:`best_n_clusters`
uses it to pick the number of clusters from a set of scores.
"""

import numpy as np
from sklearn.metrics import silhouette_samples
from sklearn.utils import check_random_state

from hyperspy_cmeans.cmeans._kernels import NUMPY_CHUNK, sq_distances


def _check_memberships(memberships):
    U = np.asarray(memberships, dtype=np.float64)
    if U.ndim != 2 or U.shape[1] < 2:
        raise ValueError(
            f"memberships must have shape (n_samples, n_clusters >= 2), got {U.shape}."
        )
    if not np.all(np.isfinite(U)):
        raise ValueError("memberships contain NaN or infinity.")
    return U


def _weighted_sq_distance_sum(X, U, centers, m, distances):
    """``sum_i sum_k u_ik^m d_ik^2`` in chunks (float64)."""
    total = 0.0
    for start in range(0, U.shape[0], NUMPY_CHUNK):
        stop = start + NUMPY_CHUNK
        if distances is None:
            d2 = sq_distances(np.asarray(X[start:stop], dtype=np.float64), centers)
        else:
            d2 = np.asarray(distances[start:stop], dtype=np.float64) ** 2
        total += float((U[start:stop] ** m * d2).sum())
    return total


def _check_inputs(X, memberships, centers, distances):
    U = _check_memberships(memberships)
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[0] != U.shape[1]:
        raise ValueError(
            f"centers must have shape (n_clusters={U.shape[1]}, n_features), got {centers.shape}."
        )
    if X is not None:
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] != U.shape[0] or X.shape[1] != centers.shape[1]:
            raise ValueError(
                f"X must have shape (n_samples={U.shape[0]}, n_features={centers.shape[1]}), "
                f"got {X.shape}."
            )
    if distances is not None:
        distances = np.asarray(distances)
        if distances.shape != U.shape:
            raise ValueError(
                f"distances must have the shape of memberships {U.shape}, got {distances.shape}."
            )
    return X, U, centers, distances


def _check_norms(norm_matrices, centers):
    if norm_matrices is None:
        return None
    norms = np.asarray(norm_matrices, dtype=np.float64)
    c, d = centers.shape
    if norms.shape != (c, d, d):
        raise ValueError(
            f"norm_matrices must have shape (n_clusters, n_features, n_features) = "
            f"({c}, {d}, {d}), got {norms.shape}."
        )
    return norms


def _center_separations(centers, norms):
    """``sep[i, j] = (v_j - v_i)^T A_i (v_j - v_i)`` (Euclidean when ``norms`` is None)."""
    diff = centers[None, :, :] - centers[:, None, :]
    if norms is None:
        return (diff**2).sum(axis=2)
    return np.einsum("ijk,ikl,ijl->ij", diff, norms, diff)


def partition_coefficient(memberships):
    r"""Bezdek's partition coefficient; higher is better.

    .. math:: PC = \frac{1}{n} \sum_{k=1}^{n} \sum_{i=1}^{c} u_{ik}^2,

    between :math:`1/c` (all memberships equal) and 1 (crisp partition). It tends to
    decrease with ``c``, so compare it with care across numbers of clusters.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Probabilistic memberships.

    Returns
    -------
    float
        The partition coefficient.
    """
    U = _check_memberships(memberships)
    return float((U**2).sum() / U.shape[0])


def partition_entropy(memberships):
    r"""Bezdek's partition entropy; lower is better.

    .. math:: PE = -\frac{1}{n} \sum_{k=1}^{n} \sum_{i=1}^{c} u_{ik} \ln u_{ik},

    with :math:`0 \ln 0 = 0`; between 0 (crisp) and :math:`\ln c`. It tends to increase
    with ``c``.

    Parameters
    ----------
    memberships : array-like of shape (n_samples, n_clusters)
        Probabilistic memberships.

    Returns
    -------
    float
        The partition entropy (natural logarithm).
    """
    U = _check_memberships(memberships)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(U > 0, U * np.log(U), 0.0)
    return float(-terms.sum() / U.shape[0])


def xie_beni(X, memberships, centers, m=2.0, distances=None, norm_matrices=None):
    r"""Xie–Beni index (compactness over separation); lower is better.

    .. math::

        XB = \frac{\sum_{i=1}^{c}\sum_{k=1}^{n} u_{ik}^m d_{ik}^2}
                  {n \, \min_{i \ne j} \|v_j - v_i\|_{A_i}^2},

    with :math:`d_{ik}` the distance of sample ``k`` to centre ``i`` (Euclidean, or the
    given ``distances``) and :math:`\|v_j - v_i\|_{A_i}^2 = (v_j - v_i)^T A_i (v_j - v_i)`
    the separation of centre ``j`` from centre ``i`` in cluster ``i``'s norm (Euclidean,
    :math:`A_i = I`, unless ``norm_matrices`` is given). Xie & Beni (1991) wrote it with
    :math:`m = 2` and Euclidean norms; the fuzzifier weight is the usual generalisation,
    and measuring the separation in the cluster norms is what makes it work for
    Gustafson–Kessel partitions (with Euclidean separation, splitting an elongated
    cluster along its length costs nothing and the index favours too many clusters).
    Returns ``inf`` when two centres coincide.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or None
        Samples (may be None when ``distances`` is given).
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships.
    centers : array-like of shape (n_clusters, n_features)
        Centres.
    m : float, default=2.0
        Fuzzifier used for the weights :math:`u^m`.
    distances : array-like of shape (n_samples, n_clusters) or None, default=None
        Non-squared distances in the algorithm's norm; Euclidean from ``X`` when None.
    norm_matrices : array-like of shape (n_clusters, n_features, n_features) or None, default=None
        Norm matrices :math:`A_i` for the separation (e.g.
        ``GustafsonKessel.norm_matrices_``, together with
        ``distances=GustafsonKessel.transform(X)``); Euclidean when None.

    Returns
    -------
    float
        The Xie–Beni index.
    """
    if X is None and distances is None:
        raise ValueError("xie_beni needs X or distances.")
    X, U, centers, distances = _check_inputs(X, memberships, centers, distances)
    compactness = _weighted_sq_distance_sum(X, U, centers, m, distances)
    sep = _center_separations(centers, _check_norms(norm_matrices, centers))
    np.fill_diagonal(sep, np.inf)
    min_sep = float(sep.min())
    if min_sep <= 0:
        return float("inf")
    return compactness / (U.shape[0] * min_sep)


def fukuyama_sugeno(X, memberships, centers, m=2.0, distances=None, norm_matrices=None):
    r"""Fukuyama–Sugeno index (compactness minus separation); lower is better.

    .. math::

        FS = \sum_{i=1}^{c}\sum_{k=1}^{n} u_{ik}^m
             \left(d_{ik}^2 - \|v_i - \bar{v}\|_{A_i}^2\right),

    with :math:`\bar{v}` the mean of the samples, :math:`d_{ik}` the distance of sample
    ``k`` to centre ``i`` (Euclidean, or the given ``distances``) and the separation term
    in cluster ``i``'s norm (Euclidean unless ``norm_matrices`` is given).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples (needed for :math:`\bar{v}`).
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships.
    centers : array-like of shape (n_clusters, n_features)
        Centres.
    m : float, default=2.0
        Fuzzifier used for the weights :math:`u^m`.
    distances : array-like of shape (n_samples, n_clusters) or None, default=None
        Non-squared distances in the algorithm's norm; Euclidean from ``X`` when None.
    norm_matrices : array-like of shape (n_clusters, n_features, n_features) or None, default=None
        Norm matrices :math:`A_i` for the separation term; Euclidean when None.

    Returns
    -------
    float
        The Fukuyama–Sugeno index.
    """
    X, U, centers, distances = _check_inputs(X, memberships, centers, distances)
    if X is None:
        raise ValueError("fukuyama_sugeno needs X for the mean of the samples.")
    compactness = _weighted_sq_distance_sum(X, U, centers, m, distances)
    grand_mean = X.mean(axis=0, dtype=np.float64)
    offsets = centers - grand_mean
    norms = _check_norms(norm_matrices, centers)
    if norms is None:
        spread = (offsets**2).sum(axis=1)
    else:
        spread = np.einsum("ij,ijk,ik->i", offsets, norms, offsets)
    weights = np.zeros(U.shape[1])
    for start in range(0, U.shape[0], NUMPY_CHUNK):
        weights += (U[start : start + NUMPY_CHUNK] ** m).sum(axis=0)
    return compactness - float(weights @ spread)


def fuzzy_silhouette(
    X, memberships, alpha=1.0, metric="euclidean", random_state=None, sample_size=None
):
    r"""Fuzzy silhouette of Campello & Hruschka (2006); higher is better.

    .. math::

        FSil = \frac{\sum_k (u_{pk} - u_{qk})^\alpha \, s_k}{\sum_k (u_{pk} - u_{qk})^\alpha},

    with :math:`u_{pk}, u_{qk}` the largest and second-largest memberships of sample ``k``
    and :math:`s_k` its crisp silhouette (Rousseeuw 1987) for the labels
    :math:`\arg\max_i u_{ik}`. Between -1 and 1. The silhouette costs
    :math:`O(n^2)` distances, so pass ``sample_size`` for large data.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Samples.
    memberships : array-like of shape (n_samples, n_clusters)
        Memberships.
    alpha : float, default=1.0
        Weighting exponent (>= 0); 0 gives the crisp mean silhouette.
    metric : str or callable, default="euclidean"
        Metric passed to :func:`sklearn.metrics.silhouette_samples`.
    random_state : int, RandomState instance or None, default=None
        Generator for the subsample.
    sample_size : int or None, default=None
        Number of samples drawn without replacement to compute the index on; all when None.

    Returns
    -------
    float
        The fuzzy silhouette.

    Raises
    ------
    ValueError
        When the labels of the (sub)sample contain fewer than 2 or more than
        ``n - 1`` distinct clusters (the silhouette is then undefined).
    """
    U = _check_memberships(memberships)
    X = np.asarray(X)
    if X.ndim != 2 or X.shape[0] != U.shape[0]:
        raise ValueError(f"X must have shape (n_samples={U.shape[0]}, n_features), got {X.shape}.")
    if alpha < 0:
        raise ValueError(f"alpha must be >= 0, got {alpha!r}.")
    if sample_size is not None and sample_size < U.shape[0]:
        idx = check_random_state(random_state).choice(U.shape[0], sample_size, replace=False)
        X, U = X[idx], U[idx]
    labels = np.argmax(U, axis=1)
    n_labels = np.unique(labels).size
    if not 2 <= n_labels <= U.shape[0] - 1:
        raise ValueError(
            f"The fuzzy silhouette needs 2 <= number of labels <= n_samples - 1, got "
            f"{n_labels} label(s) for {U.shape[0]} samples."
        )
    s = silhouette_samples(X, labels, metric=metric)
    top2 = np.sort(U, axis=1)[:, -2:]
    weights = (top2[:, 1] - top2[:, 0]) ** alpha
    total = weights.sum()
    if not total > 0:  # every sample equally shared between its two best clusters
        return float(s.mean())
    return float(weights @ s / total)


#: Index name -> (function, "max" if higher is better else "min").
VALIDITY_INDICES = {
    "partition_coefficient": (partition_coefficient, "max"),
    "partition_entropy": (partition_entropy, "min"),
    "xie_beni": (xie_beni, "min"),
    "fukuyama_sugeno": (fukuyama_sugeno, "min"),
    "fuzzy_silhouette": (fuzzy_silhouette, "max"),
}


def best_n_clusters(scores, index):
    """Number of clusters whose score is best for a validity index.

    Parameters
    ----------
    scores : dict
        Maps a number of clusters to the value of the index for it.
    index : str
        Name of the index, a key of :data:`VALIDITY_INDICES`, which tells whether higher
        or lower is better.

    Returns
    -------
    int
        The number of clusters with the best score (the smallest one on ties).
    """
    if index not in VALIDITY_INDICES:
        raise ValueError(f"Unknown validity index {index!r}; known: {sorted(VALIDITY_INDICES)}.")
    if not scores:
        raise ValueError("scores is empty.")
    direction = VALIDITY_INDICES[index][1]
    sign = -1.0 if direction == "max" else 1.0
    return min(sorted(scores), key=lambda n: sign * scores[n])
