"""Every read and write of HyperSpy's ``learning_results`` lives here.

HyperSpy's cluster tools (``get_cluster_labels``, ``get_cluster_signals``,
``get_cluster_distances``, ``plot_cluster_*``, ``export_cluster_results``,
``plot_cluster_metric``) read fixed fields of ``signal.learning_results``.
HyperSpy plans to move clustering out of its core (hyperspy-ml) and to rename
decomposition fields; keeping the adapter in this one module keeps such a
change local.

Field layout written by :func:`write_cluster_results` (``c`` clusters, ``N``
navigation pixels, ``S`` signal channels, ``F`` data-space features):

=============================  ==============  ===============================================
field                          shape, dtype     meaning
=============================  ==============  ===============================================
``cluster_membership``         (c, N) float     fuzzy memberships (typicalities for PCM), NaN masked
``cluster_labels``             (c, N) bool      hard assignment, all-False = unassigned or masked
``cluster_sum_signals``        (c, S) float     sum of the raw spectra of the hard members
``cluster_centroid_signals``   (c, S) float     raw spectrum of the pixel nearest each centre
``cluster_centers``            (c, S) float     ``u**m``-weighted mean spectrum of each cluster
``cluster_distances``          (c, N) float     distance to each centre in the algorithm's norm
``cluster_centroids``          (c, F) float     centres in the data space
``number_of_clusters``         int              the requested number of clusters
``cluster_algorithm``          str              e.g. ``"gustafson_kessel(m=2.0)"``
``fuzzy_cluster_scores``       (N, F) float     data-space coordinates, NaN for masked pixels
``fuzzy_cluster_parameters``   dict             plain-typed parameters that reproduce the run
=============================  ==============  ===============================================
"""

import numpy as np

CLUSTER_FIELDS = (
    "cluster_membership",
    "cluster_labels",
    "cluster_sum_signals",
    "cluster_centroid_signals",
    "cluster_centers",
    "cluster_centers_estimated",
    "cluster_distances",
    "cluster_centroids",
    "number_of_clusters",
    "cluster_algorithm",
    "fuzzy_cluster_scores",
    "fuzzy_cluster_parameters",
)

METRIC_FIELDS = (
    "cluster_metric_index",
    "cluster_metric_data",
    "cluster_metric",
    "estimated_number_of_clusters",
)


def _results(signal):
    return signal.learning_results


def read_decomposition_scores(signal, source, n_components=None):
    """Loadings of an earlier HyperSpy decomposition or BSS, one row per pixel.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The signal whose ``learning_results`` hold the decomposition.
    source : {"decomposition", "bss"}
        Which results to read.
    n_components : int or None
        Number of components; ``None`` uses HyperSpy's
        ``number_significant_components`` or all available ones.

    Returns
    -------
    numpy.ndarray
        ``(n_pixels, n_components)`` loadings.
    """
    lr = _results(signal)
    loadings = lr.loadings if source == "decomposition" else lr.bss_loadings
    if loadings is None:
        method = "decomposition()" if source == "decomposition" else "blind_source_separation()"
        raise ValueError(
            f"source={source!r} needs {source} results: run `s.{method}` first, "
            "or use source='pca'."
        )
    loadings = np.asarray(loadings)
    if n_components is None:
        n_components = lr.number_significant_components or loadings.shape[1]
    if not 1 <= n_components <= loadings.shape[1]:
        raise ValueError(
            f"n_components={n_components} but the {source} results have "
            f"{loadings.shape[1]} components; choose 1 to {loadings.shape[1]}."
        )
    return loadings[:, :n_components]


def write_cluster_results(signal, fields):
    """Replace all cluster results of ``signal`` at once.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The clustered signal.
    fields : dict
        New values keyed by the names in :data:`CLUSTER_FIELDS`; fields not
        given are reset to ``None`` so no stale result of an earlier run
        survives.
    """
    unknown = set(fields) - set(CLUSTER_FIELDS)
    if unknown:
        raise KeyError(f"not cluster fields: {sorted(unknown)}")
    new = dict.fromkeys(CLUSTER_FIELDS)
    new.update(fields)
    _results(signal).__dict__.update(new)


def write_cluster_metric(signal, index, values, metric, estimate):
    """Store a validity-index scan so that ``plot_cluster_metric()`` works.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The clustered signal.
    index : list of int
        The numbers of clusters tried.
    values : list of float
        The metric for each number of clusters.
    metric : str
        The metric's name (HyperSpy labels the axis ``"<metric>_metric"``).
    estimate : int
        The estimated number of clusters.
    """
    _results(signal).__dict__.update(
        {
            "cluster_metric_index": [int(i) for i in index],
            "cluster_metric_data": [float(v) for v in values],
            "cluster_metric": str(metric),
            "estimated_number_of_clusters": int(estimate),
        }
    )


def has_cluster_results(signal):
    """Whether ``signal`` holds fuzzy cluster results written by this package."""
    lr = _results(signal)
    return getattr(lr, "cluster_membership", None) is not None and isinstance(
        getattr(lr, "fuzzy_cluster_parameters", None), dict
    )


def read_cluster_results(signal):
    """The fuzzy cluster results of ``signal`` as a dict of arrays.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        A signal on which ``fuzzy_cluster`` has run.

    Returns
    -------
    dict
        Keys ``memberships`` (c, N), ``labels`` (c, N) bool, ``sum_signals``,
        ``centers`` (c, S), ``distances`` (c, N), ``centroids`` (c, F),
        ``scores`` (N, F), ``n_clusters`` and ``parameters`` (dict); the
        arrays of a lazy map clustered from a sample are dask arrays.

    Raises
    ------
    RuntimeError
        If no fuzzy cluster results are stored.
    """
    if not has_cluster_results(signal):
        raise RuntimeError("No fuzzy cluster results: run `s.fuzzy_cluster(n_clusters)` first.")
    lr = _results(signal)

    def arr(x):  # dask arrays (a lazy map's memberships) stay lazy until a caller needs them
        if x is None or hasattr(x, "dask"):
            return x
        return np.asarray(x)

    return {
        "memberships": arr(lr.cluster_membership),
        "labels": arr(lr.cluster_labels).astype(bool),
        "sum_signals": arr(lr.cluster_sum_signals),
        "centers": arr(lr.cluster_centers),
        "distances": arr(lr.cluster_distances),
        "centroids": arr(lr.cluster_centroids),
        "scores": arr(getattr(lr, "fuzzy_cluster_scores", None)),
        "n_clusters": int(lr.number_of_clusters),
        "parameters": dict(lr.fuzzy_cluster_parameters),
    }
