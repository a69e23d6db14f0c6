"""The cluster-number scan of ``estimate_number_of_fuzzy_clusters``."""

import logging
import warnings

import numpy as np

from hyperspy_cmeans import _checks
from hyperspy_cmeans import _clustering as clustering
from hyperspy_cmeans import _drawing as drawing
from hyperspy_cmeans import _learning_results as lrio
from hyperspy_cmeans import _sampling as sampling
from hyperspy_cmeans.results import ClusterNumberScan
from hyperspy_cmeans.signals import _adapters as adapters
from hyperspy_cmeans.signals import _regularisation as regularisation

_logger = logging.getLogger(__name__)


def _index_value(metric, index_function, features, fit, setup):
    """The validity index of one clustering."""
    u = fit.memberships
    if metric in ("partition_coefficient", "partition_entropy"):
        return index_function(u)
    if metric == "fuzzy_silhouette":
        return index_function(
            features, u, random_state=setup.random_state, sample_size=min(len(u), 4000)
        )
    # Compactness in the algorithm's own norm (GK distances), separation of the
    # centres in the Euclidean norm of the data space: on the synthetic 4-phase
    # maps this picks 4 with GK, whereas separation in the GK cluster norms
    # (norm_matrices=) picks 2.
    return index_function(features, u, fit.centroids, m=fit.m, distances=fit.distances)


def scan_cluster_numbers(signal, cluster_range, metric, setup, keep_memberships, show_progressbar):
    """Fit every number of clusters on one data space and score each with ``metric``.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map.
    cluster_range : iterable of int
        Numbers of clusters to try.
    metric : str
        A name of :data:`hyperspy_cmeans.cmeans.VALIDITY_INDICES`.
    setup : hyperspy_cmeans.signals._clustering.ClusteringSetup
        The clustering arguments.
    keep_memberships : bool
        Keep the membership maps of every run.
    show_progressbar : bool or None
        Progress bar for passes over lazy data.

    Returns
    -------
    ClusterNumberScan
        The scan, also stored so that ``plot_cluster_metric()`` shows it.
    """
    from hyperspy_cmeans.cmeans import VALIDITY_INDICES, best_n_clusters

    if metric not in VALIDITY_INDICES:
        raise ValueError(f"metric={metric!r} is not known; use one of {sorted(VALIDITY_INDICES)}.")
    numbers = _checks.check_cluster_range(cluster_range)
    nav_mask = setup.check(signal, numbers[-1])
    index_function, _ = VALIDITY_INDICES[metric]
    with adapters.progress(signal, show_progressbar):
        space = setup.features(signal, nav_mask)
    nav_mask = space.nav_mask
    _checks.check_n_clusters(numbers[-1], int((~nav_mask).sum()))
    features = space.clustered
    values, noise_splits = [], []
    kept = {} if keep_memberships else None
    nav_shape = signal.axes_manager.navigation_shape[::-1]
    fit_rows = _fit_rows(setup, len(features))
    for n in numbers:
        estimator, _ = setup.estimator(n, fresh=True)
        if fit_rows is None or not clustering.can_predict(estimator):
            fit = clustering.fit_clusters(estimator, features, n)
            value = float(_index_value(metric, index_function, features, fit, setup))
        else:  # fitted and scored on a sample, memberships of every pixel predicted
            fit = clustering.fit_clusters(estimator, features[fit_rows], n)
            value = float(_index_value(metric, index_function, features[fit_rows], fit, setup))
            fit.memberships, fit.distances = clustering.Predictor(estimator, fit)(features)
        values.append(value)
        guard = regularisation.noise_guard(signal, space.raw, fit.memberships, nav_mask)
        if guard.pairs:
            noise_splits.append(n)
        _logger.info("%d clusters: %s = %.5g (noise splits: %s)", n, metric, value, guard.pairs)
        if kept is not None:
            full = np.full((nav_mask.size, n), np.nan)
            full[~nav_mask] = fit.memberships
            kept[n] = full.T.reshape((n,) + nav_shape)
    estimate = _estimate(numbers, values, noise_splits, metric, best_n_clusters)
    lrio.write_cluster_metric(signal, numbers, values, metric, estimate)
    axes, _ = adapters.navigation_calibration(signal)
    extent = drawing.image_extent(axes) if axes else None
    return ClusterNumberScan(estimate, metric, numbers, values, kept, extent, noise_splits)


def _fit_rows(setup, n_pixels):
    """Rows (pixels) the candidate clusterings are fitted on: None for all of them.

    The scan's data space is always the exact one; ``subsample`` (``"auto"``:
    maps over 512 x 512 pixels, see
    :func:`hyperspy_cmeans._sampling.resolve_subsample`) sets how many pixels,
    drawn at random with ``random_state``, each number of clusters is fitted
    and scored on (estimators that cannot predict new pixels use all of them).
    """
    n_sample = sampling.resolve_subsample(setup.subsample, n_pixels)
    if n_sample is None:
        return None
    rng = np.random.default_rng(setup.random_state)
    return np.sort(rng.choice(n_pixels, n_sample, replace=False))


def _estimate(numbers, values, noise_splits, metric, best_n_clusters):
    """The best number by the index among those without a noise split.

    A number of clusters whose clustering splits a phase by noise alone (see
    the noise guard) is never the estimate; if every number does, the
    smallest is returned with a warning (the map does not support more).
    """
    allowed = {n: v for n, v in zip(numbers, values, strict=True) if n not in noise_splits}
    if not allowed:
        warnings.warn(
            f"every number of clusters tried ({numbers}) splits a phase by noise at this dose: "
            f"the estimate is the smallest, {numbers[0]}. The map may hold one phase only, or "
            "need a longer acquisition.",
            UserWarning,
            stacklevel=4,
        )
        return numbers[0]
    return best_n_clusters(allowed, metric)
