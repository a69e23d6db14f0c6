"""``fuzzy_cluster`` learned from a sample of the pixels, then one pass over the map.

The data space, the strength of the spatial regularisation, the clustering
and the noise guard are learned from tiles spread over the map
(:mod:`hyperspy_cmeans._sampling`); a single pass over every pixel then
projects it, predicts its memberships and accumulates the phase sums
(:mod:`hyperspy_cmeans._single_pass`). On a lazy map the memberships,
distances, labels and scores stored in ``learning_results`` are dask arrays
(float32) computed from the in-memory scores when asked for.
"""

import warnings

import numpy as np

from hyperspy_cmeans import _clustering as clustering
from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans import _sampling as sampling
from hyperspy_cmeans import _single_pass as single
from hyperspy_cmeans import _spatial
from hyperspy_cmeans._features import as_blocks, coarsen_navigation_chunks
from hyperspy_cmeans.signals import _adapters as adapters
from hyperspy_cmeans.signals import _regularisation as regularisation
from hyperspy_cmeans.signals._clustering import run_params

#: Smallest block of the single pass (smaller chunks of a lazy map are merged).
PASS_MIN_BLOCK_PIXELS = 4096


def _plan(setup, signal, sample):
    """The regularisation plan from the sample's scores (None when off)."""
    if setup.spatial is None:
        return None
    _, spacing = regularisation._grid(signal)
    noise = sample.noise_covariance
    return _spatial.plan_regularisation(sample.mosaic, ~sample.valid, noise, setup.spatial, spacing)


def _sample_fit(signal, setup, n_clusters, estimator, sample, plan):
    """Fit the estimator on the sample; the noise guard on the sample's tiles."""
    clustered = sample.mosaic
    fit_pixels = sample.valid
    if plan is not None and plan.active:
        clustered = _spatial.apply_plan(sample.mosaic, sample.valid, plan)
        shape, _ = regularisation._grid(signal)
        fit_pixels = sample.interior(plan.depth, shape)
        if fit_pixels.sum() < max(n_clusters, sample.valid.sum() // 4):
            fit_pixels = sample.valid
    fit = clustering.fit_clusters(estimator, clustered[fit_pixels], n_clusters)
    predictor = clustering.Predictor(estimator, fit)
    u = np.full(sample.valid.shape + (n_clusters,), np.nan)
    u[sample.valid], _ = predictor(clustered[sample.valid])
    guard = _spatial.cluster_distinguishability(sample.mosaic, u, ~sample.valid)
    return fit, predictor, guard


def _sample_info(setup, sample, sig_mask, n_sample, plan):
    info = {
        "source": "pca",
        "preprocessing": setup.preprocessing,
        "n_components": int(setup.n_components),
        "explained_variance_ratio": sample.explained_variance_ratio,
        "components": sample.components,
        "mean": sample.mean,
        "scale": sample.scale,
        "signal_mask": sig_mask if sig_mask.any() else None,
        "axes_bin_side": int(sample.axes_bin_side),
        "fit": "sample",
        "subsample": setup.subsample,
        "sample_pixels": int(sample.n_pixels),
        "sample_tiles": len(sample.tiles),
        "spatial": {"method": "none", "strength": None}
        if plan is None
        else regularisation._plain(plan.info),
    }
    if isinstance(info["subsample"], (np.integer, np.floating)):
        info["subsample"] = info["subsample"].item()
    return info


def run_sampled(signal, n_clusters, setup, nav_mask, estimator, threshold, n_sample):
    """Cluster ``signal`` from a sample of ``n_sample`` pixels; nothing is stored here.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map (eager or lazy).
    n_clusters : int
        Number of clusters.
    setup : hyperspy_cmeans.signals._clustering.ClusteringSetup
        The validated arguments.
    nav_mask : numpy.ndarray
        Flat navigation mask (True = excluded).
    estimator : object
        The estimator to fit.
    threshold : float
        Assignment threshold of the hard labels.
    n_sample : int
        Pixels to learn from (see :func:`hyperspy_cmeans._sampling.resolve_subsample`).

    Returns
    -------
    tuple or None
        ``(fields, params, guard, estimator)``: the ``learning_results``
        fields, the parameters to record, the noise guard, and the fitted
        estimator (the full fit when the sample's model was outside the
        tolerances of :func:`hyperspy_cmeans._clustering.check_against_full_fit`).
        None when ``subsample="auto"`` finds too few counts per pixel for a
        sample (see :func:`hyperspy_cmeans._sampling.count_aware_sample_size`):
        the caller fits the map exactly.
    """
    spectra = adapters.spectra_array(signal)
    nav_shape = spectra.shape[:-1]
    keep = ~nav_mask.reshape(nav_shape)
    sig_mask = adapters.signal_mask_of(setup.signal_mask, spectra.shape[-1])
    if sig_mask.all():
        raise ValueError("signal_mask excludes every channel; keep at least n_components channels.")
    channels = np.flatnonzero(~sig_mask) if sig_mask.any() else None
    X, scheduler = as_blocks(spectra)
    lazy = scheduler is None
    bounds = sampling.tile_bounds(nav_shape, X.chunks[:-1] if lazy else None)
    if isinstance(setup.subsample, str):  # "auto": enough counts, or the exact fit
        probe = sampling.probe_counts_per_pixel(
            spectra, keep, bounds, setup.random_state, scheduler
        )
        n_sample = sampling.count_aware_sample_size(n_sample, probe, int(keep.sum()))
        if n_sample is None:
            return None
    tiles = sampling.choose_tiles(
        bounds, n_sample, setup.random_state, sampling.fewest_tiles(bounds, chunked=lazy)
    )
    auto = isinstance(setup.subsample, str)
    sample = sampling.sample_data_space(
        spectra, keep, tiles, setup.n_components, setup.preprocessing, channels, scheduler,
        moment_counts=sampling.AUTO_SAMPLE_COUNTS if auto else None,
    )  # fmt: skip
    if not np.all(np.isfinite(sample.explained_variance_ratio)):
        raise ValueError(
            "The map has no variation to cluster: every sampled pixel has the same spectrum "
            "(an all-zero or constant map?). Check the data, or mask the empty region with "
            "navigation_mask."
        )
    plan = _plan(setup, signal, sample)
    fit, predictor, guard = _sample_fit(signal, setup, n_clusters, estimator, sample, plan)
    # the pass returns small sums per block: chunks of 4096 pixels need no merging (a copy)
    blocks = coarsen_navigation_chunks(X, min_pixels=PASS_MIN_BLOCK_PIXELS)

    def one_pass(predictor, m):
        return single.single_pass(
            blocks, keep, sample.projection, predictor, plan=plan, n_clusters=n_clusters,
            m=m, threshold=threshold, keep_predictions=not lazy, scheduler=scheduler,
        )  # fmt: skip

    result = one_pass(predictor, fit.m)
    check = None
    if clustering.can_warm_start(estimator):
        # the sample's model against the fit on every pixel of the same data space
        check = clustering.check_against_full_fit(
            estimator, predictor, result.scores, n_clusters, threshold, setup.random_state
        )
        if not check.within_tolerance:  # a second read, with the full fit
            estimator, fit = check.estimator, check.fit
            predictor = clustering.Predictor(estimator, fit)
            result = one_pass(predictor, fit.m)
    # the stable order of the whole map (total memberships), as the exact fit gives it
    order = phases.stable_cluster_order(result.membership_sums[None, :], fit.centroids)
    single.reorder(result, order)
    fit.centroids, fit.order, fit.memberships = fit.centroids[order], fit.order[order], None
    predictor.order = fit.order
    nav_mask = _mask_empty(nav_mask, result.empty)
    fields = _fields(signal, spectra, result, fit, predictor, plan, nav_shape, threshold, lazy)
    params = _sample_info(setup, sample, sig_mask, n_sample, plan)
    if check is not None:
        params["full_fit_check"] = check.record()
        params["fit"] = "sample" if check.within_tolerance else "sample, then all pixels"
    if result.empty.any():
        params["empty_pixels"] = int(result.empty.sum())
    name = (
        clustering.canonical_algorithm(setup.algorithm)
        if isinstance(setup.algorithm, str)
        else None
    )
    params.update(run_params(signal, setup, estimator, name, fit.m, n_clusters, threshold))
    params["navigation_mask"] = nav_mask if nav_mask.any() else None
    return fields, params, guard, estimator


def _mask_empty(nav_mask, empty):
    if not empty.any():
        return nav_mask
    warnings.warn(
        f"{int(empty.sum())} pixel(s) recorded no counts: they are masked (NaN membership, no "
        "label) instead of being given to a phase.",
        UserWarning,
        stacklevel=6,
    )
    return nav_mask | empty


def _fields(signal, spectra, result, fit, predictor, plan, nav_shape, threshold, lazy):
    """``learning_results`` fields of the pass: NumPy for an in-memory map, dask for a lazy one."""
    c = len(fit.order)
    wsum = result.weight_sums
    fields = {
        "cluster_sum_signals": result.hard_sums,
        "cluster_centers": result.weighted_sums / np.where(wsum > 0, wsum, np.nan)[:, None],
        "cluster_centroid_signals": adapters.pixel_spectra(spectra, result.nearest),
        "cluster_centroids": fit.centroids,
        "number_of_clusters": int(c),
    }
    if lazy:
        scores, u, d = single.lazy_predictions(result.raw_scores, nav_shape, predictor, c, plan)
        labels = single.lazy_labels(u, threshold)
        u, d = u.T, d.T
    else:
        scores, u, d = result.scores, result.memberships, result.distances
        labels = phases.one_hot(phases.hard_labels(u, threshold), c)
        u, d = u.T.copy(), d.T.copy()
    fields.update(
        cluster_membership=u,
        cluster_labels=labels,
        cluster_distances=d,
        fuzzy_cluster_scores=scores,
    )
    return fields
