"""Signal-facing glue of the fuzzy clustering methods.

The methods of :class:`~hyperspy_cmeans.EDSSEMCmeansSpectrum` call these
functions; they turn a signal into arrays (unfolded data, masks, data-space
features), call the array modules (:mod:`hyperspy_cmeans._features`,
:mod:`hyperspy_cmeans._clustering`, :mod:`hyperspy_cmeans._phases`) and turn
results back into signals.
"""

import logging
import numbers
import warnings
from contextlib import nullcontext
from dataclasses import dataclass, field

import dask.array as da
import hyperspy.api as hs
import numpy as np
from hyperspy.defaults_parser import preferences

from hyperspy_cmeans import _clustering as clustering
from hyperspy_cmeans import _drawing as drawing
from hyperspy_cmeans import _learning_results as lrio
from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans._features import PREPROCESSING, pca_scores

_logger = logging.getLogger(__name__)

SOURCES = ("pca", "decomposition", "bss")


def progress(signal, show_progressbar=None):
    """A dask progress bar for the passes over a lazy signal's data.

    Shown when ``show_progressbar`` (default: HyperSpy's preference) is true
    and the signal is lazy; the passes over an in-memory map take seconds.
    """
    if show_progressbar is None:
        show_progressbar = preferences.General.show_progressbar
    if show_progressbar and signal._lazy:
        from dask.diagnostics import ProgressBar

        return ProgressBar()
    return nullcontext()


def spectra_array(signal):
    """The spectra with channels last: ``(n_pixels, n_channels)`` for NumPy data,
    the map itself ``(*navigation_shape, n_channels)`` for dask data (processed
    block by block, never reshaped across navigation chunks)."""
    am = signal.axes_manager
    if am.navigation_dimension == 0:
        raise ValueError("fuzzy clustering needs a map or line scan: this signal has no navigation axes.")
    data = signal.data
    sig_index = am.signal_axes[0].index_in_array
    if isinstance(data, da.Array):
        return data if sig_index == data.ndim - 1 else da.moveaxis(data, sig_index, -1)
    if sig_index != data.ndim - 1:
        data = np.moveaxis(data, sig_index, -1)
    return data.reshape(am.navigation_size, am.signal_size)


def pixel_spectra(X, indices):
    """Spectra of the pixels at flat ``indices`` from :func:`spectra_array` output."""
    if isinstance(X, da.Array):
        nav = np.unravel_index(np.asarray(indices), X.shape[:-1])
        return np.asarray(X.vindex[nav].compute(), dtype=float)
    return np.asarray(X[np.asarray(indices)], dtype=float)


def _as_mask(mask, shape_hyperspy, size, name):
    """Boolean flat mask (True = excluded) from None, an array or a signal."""
    if mask is None:
        return np.zeros(size, dtype=bool)
    if isinstance(mask, hs.signals.BaseSignal):
        mask = mask.data
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(f"{name} must be a boolean array or signal (True = excluded), got dtype {mask.dtype}.")
    if mask.size != size:
        raise ValueError(
            f"{name} has {mask.size} values but the signal has {size} "
            f"(shape {tuple(shape_hyperspy)[::-1]} in NumPy order)."
        )
    return mask.ravel()


def navigation_mask_of(signal, navigation_mask):
    """Flat boolean navigation mask, True for pixels to exclude."""
    am = signal.axes_manager
    return _as_mask(navigation_mask, am.navigation_shape, am.navigation_size, "navigation_mask")


def signal_mask_of(signal, signal_mask, size=None):
    """Flat boolean signal mask, True for channels to exclude."""
    am = signal.axes_manager
    return _as_mask(signal_mask, am.signal_shape, size or am.signal_size, "signal_mask")


def _check_finite(features, what):
    if not np.all(np.isfinite(features)):
        raise ValueError(f"The {what} contain NaN or inf values; exclude those pixels with `navigation_mask`.")


def data_space(signal, source, n_components, preprocessing, nav_mask, signal_mask):
    """Features of the unmasked pixels and a plain-typed description of them.

    Returns
    -------
    features : numpy.ndarray
        ``(n_used_pixels, n_features)``.
    info : dict
        Saveable description (source, preprocessing, n_components,
        explained_variance_ratio, components ...).
    """
    keep = ~nav_mask
    if isinstance(source, str):
        if source not in SOURCES:
            raise ValueError(
                f"source={source!r} is not supported; use one of {SOURCES} or a HyperSpy "
                "signal (or list of signals) with one value per pixel of this map."
            )
        if source == "pca":
            X = spectra_array(signal)
            sig_mask = signal_mask_of(signal, signal_mask)
            if sig_mask.all():
                raise ValueError("signal_mask excludes every channel; keep at least n_components channels.")
            if isinstance(X, da.Array):
                if sig_mask.any():
                    X = X[..., np.flatnonzero(~sig_mask)]
                nav_keep = keep.reshape(signal.axes_manager.navigation_shape[::-1])
                space = pca_scores(X, n_components, preprocessing, keep=nav_keep)
            elif keep.all() and not sig_mask.any():
                space = pca_scores(X, n_components, preprocessing)  # no copy of the map
            else:
                space = pca_scores(X[keep][:, ~sig_mask], n_components, preprocessing)
            info = {
                "source": "pca",
                "preprocessing": preprocessing,
                "n_components": int(n_components),
                "explained_variance_ratio": space.explained_variance_ratio,
                "components": space.components,
                "mean": space.mean,
                "scale": space.scale,
                "signal_mask": sig_mask if sig_mask.any() else None,
            }
            return space.scores, info
        loadings = lrio.read_decomposition_scores(signal, source, n_components)
        features = np.asarray(loadings)[keep]
        _check_finite(features, f"{source} loadings")
        return features, {"source": source, "preprocessing": None, "n_components": features.shape[1]}
    return _features_from_signal(signal, source, n_components, preprocessing, keep, signal_mask)


def _features_from_signal(signal, source, n_components, preprocessing, keep, signal_mask):
    am = signal.axes_manager
    n = am.navigation_size
    if isinstance(source, (list, tuple)) and all(isinstance(s, hs.signals.BaseSignal) for s in source):
        # e.g. the element maps of get_lines_intensity(): one feature per map
        columns = []
        for s in source:
            if np.asarray(s.data).size != n:
                raise ValueError(
                    f"source map {s.metadata.General.title!r} has shape {s.data.shape}; every map "
                    f"needs one value per pixel ({am.navigation_shape[::-1]} in NumPy order)."
                )
            columns.append(np.asarray(s.data, dtype=float).reshape(n))
        F = np.stack(columns, axis=1)
        title = "maps:" + ",".join(str(s.metadata.General.title) for s in source)
    elif isinstance(source, hs.signals.BaseSignal):
        if source.axes_manager.navigation_shape != am.navigation_shape:
            raise ValueError(
                f"source signal has navigation shape {source.axes_manager.navigation_shape}; "
                f"it must equal this signal's {am.navigation_shape}."
            )
        F = np.asarray(source.data, dtype=float).reshape(n, max(source.axes_manager.signal_size, 1))
        title = "signal:" + str(source.metadata.General.title)
    else:
        raise TypeError(
            f"source must be one of {SOURCES}, a HyperSpy signal or a list of signals, "
            f"got {type(source).__name__}."
        )
    sig_mask = signal_mask_of(signal, signal_mask, size=F.shape[1]) if signal_mask is not None else None
    if sig_mask is not None:
        F = F[:, ~sig_mask]
    F = F[keep]
    _check_finite(F, "source values")
    info = {"source": title, "preprocessing": preprocessing, "n_components": None}
    if n_components is None:
        if preprocessing is not None:
            if preprocessing not in PREPROCESSING:
                raise ValueError(f"preprocessing={preprocessing!r}; use one of {PREPROCESSING} or None.")
            F = F - F.mean(0)
            if preprocessing == "standard":
                sd = F.std(0)
                F = F / np.where(sd > 0, sd, 1.0)
        return F, info
    space = pca_scores(F, n_components, preprocessing or "center")
    info.update(
        n_components=int(n_components),
        explained_variance_ratio=space.explained_variance_ratio,
        components=space.components,
    )
    return space.scores, info


def check_common_arguments(signal, n_clusters, m, assignment_threshold, algorithm):
    """Validate the arguments shared by fuzzy_cluster and the cluster-number scan."""
    if isinstance(n_clusters, bool) or not isinstance(n_clusters, numbers.Integral) or n_clusters < 2:
        raise ValueError(f"n_clusters must be an integer >= 2, got {n_clusters!r}.")
    if isinstance(algorithm, str):
        if not isinstance(m, numbers.Real) or not m > 1:
            raise ValueError(f"m (the fuzzifier) must be a number > 1, got {m!r}.")
    elif not hasattr(algorithm, "fit"):
        raise ValueError(
            f"algorithm must be one of {sorted(set(clustering.ALGORITHM_ALIASES.values()))} "
            f"or an estimator object with `fit`, got {algorithm!r}."
        )
    if not isinstance(assignment_threshold, numbers.Real) or not 0 <= assignment_threshold < 1:
        raise ValueError(f"assignment_threshold must be in [0, 1), got {assignment_threshold!r}.")


@dataclass
class ClusteringSetup:
    """The arguments shared by ``fuzzy_cluster`` and the cluster-number scan.

    Attributes mirror the parameters of
    :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.fuzzy_cluster`;
    ``estimator_kwargs`` are the extra keyword arguments of a named algorithm.
    """

    algorithm: object = "gustafson_kessel"
    m: float = 2.0
    source: object = "pca"
    n_components: object = 3
    preprocessing: object = "standard"
    navigation_mask: object = None
    signal_mask: object = None
    n_init: int = 10
    max_iter: int = 300
    tol: float = 1e-4
    random_state: object = None
    estimator_kwargs: dict = field(default_factory=dict)

    def check(self, signal, n_clusters, assignment_threshold=0.5):
        """Validate the arguments; return the flat navigation mask (True = excluded)."""
        check_common_arguments(signal, n_clusters, self.m, assignment_threshold, self.algorithm)
        if isinstance(self.source, str) and self.source == "pca" and self.preprocessing not in PREPROCESSING:
            raise ValueError(
                f"preprocessing={self.preprocessing!r} is not supported; use one of {PREPROCESSING}."
            )
        if not isinstance(self.algorithm, str) and self.estimator_kwargs:
            raise TypeError(
                f"extra keyword arguments {sorted(self.estimator_kwargs)} only apply to named algorithms."
            )
        nav_mask = navigation_mask_of(signal, self.navigation_mask)
        n_used = int((~nav_mask).sum())
        if n_clusters > n_used:
            raise ValueError(
                f"n_clusters={n_clusters} is larger than the number of unmasked pixels ({n_used})."
            )
        return nav_mask

    def estimator(self, n_clusters, fresh=False):
        """``(estimator, name)`` for ``n_clusters``; ``name`` is None for objects.

        An estimator object is used as given (and must be set up for
        ``n_clusters``), or with ``fresh=True`` cloned with its number of
        clusters set.
        """
        if isinstance(self.algorithm, str):
            return clustering.make_estimator(
                self.algorithm,
                n_clusters,
                self.m,
                self.n_init,
                self.max_iter,
                self.tol,
                self.random_state,
                **self.estimator_kwargs,
            )
        if fresh:
            est = clustering.fresh_estimator(self.algorithm)
            params = est.get_params() if hasattr(est, "get_params") else {}
            key = next((k for k in ("n_clusters", "n_components") if k in params), None)
            if key is None:
                raise ValueError(
                    f"{type(est).__name__} has no n_clusters/n_components parameter to scan over; "
                    "use a named algorithm or a scikit-learn style estimator."
                )
            est.set_params(**{key: n_clusters})
            return est, None
        declared = clustering.estimator_n_clusters(self.algorithm)
        if declared is not None and declared != n_clusters:
            raise ValueError(f"the estimator is set up for {declared} clusters but n_clusters={n_clusters}.")
        return self.algorithm, None

    def features(self, signal, nav_mask):
        """Data-space features of the unmasked pixels and their description."""
        return data_space(
            signal, self.source, self.n_components, self.preprocessing, nav_mask, self.signal_mask
        )


def run_fuzzy_cluster(signal, n_clusters, setup, assignment_threshold, show_progressbar):
    """Cluster ``signal`` and store the results; returns the fitted estimator.

    Nothing on ``signal`` changes unless every step succeeds.
    """
    nav_mask = setup.check(signal, n_clusters, assignment_threshold)
    estimator, name = setup.estimator(n_clusters)
    with progress(signal, show_progressbar):
        features, info = setup.features(signal, nav_mask)
        fit = clustering.fit_clusters(estimator, features, n_clusters)
        fields = _result_fields(signal, fit, features, nav_mask, assignment_threshold)
    random_state = setup.random_state
    params = {
        "algorithm": name or type(estimator).__name__,
        "n_clusters": int(n_clusters),
        "m": float(fit.m),
        "assignment_threshold": float(assignment_threshold),
        "random_state": random_state if isinstance(random_state, (int, type(None))) else repr(random_state),
        "n_init": setup.n_init,
        "max_iter": setup.max_iter,
        "tol": setup.tol,
        "n_iter": int(np.max(getattr(estimator, "n_iter_", -1))),
        "objective": float(getattr(estimator, "objective_", np.nan)),
        "navigation_mask": nav_mask if nav_mask.any() else None,
        **info,
    }
    fields["cluster_algorithm"] = clustering.describe_estimator(estimator, name)
    fields["fuzzy_cluster_parameters"] = {k: v for k, v in params.items() if v is not None}
    lrio.write_cluster_results(signal, fields)
    return estimator


def _result_fields(signal, fit, features, nav_mask, threshold):
    """All learning_results fields of one clustering (arrays over every pixel)."""
    n_pixels = nav_mask.size
    c = fit.memberships.shape[1]
    keep = ~nav_mask
    memberships = np.full((n_pixels, c), np.nan)
    memberships[keep] = fit.memberships
    distances = np.full((n_pixels, c), np.nan)
    distances[keep] = fit.distances
    scores = np.full((n_pixels, features.shape[1]), np.nan)
    scores[keep] = features
    labels = phases.hard_labels(memberships, threshold)
    X = spectra_array(signal)
    weights = memberships**fit.m
    hard_sums, weighted_sums = phases.cluster_sums(X, labels, weights)
    wsum = np.nansum(weights, axis=0)
    centers = weighted_sums / np.where(wsum > 0, wsum, np.nan)[:, None]
    centroid_signals = pixel_spectra(X, phases.nearest_pixel_per_cluster(distances))
    return {
        "cluster_membership": memberships.T.copy(),
        "cluster_labels": phases.one_hot(labels, c),
        "cluster_sum_signals": hard_sums,
        "cluster_centroid_signals": centroid_signals,
        "cluster_centers": centers,
        "cluster_distances": distances.T.copy(),
        "cluster_centroids": fit.centroids,
        "number_of_clusters": int(c),
        "fuzzy_cluster_scores": scores,
    }


# ----------------------------------------------------------------------------
# Results as signals
# ----------------------------------------------------------------------------


def navigation_stack(signal, rows, title, index_name="Cluster index"):
    """A ``(k | navigation shape)`` image stack from ``(k, n_pixels)`` rows."""
    am = signal.axes_manager
    data = np.asarray(rows).reshape((-1,) + am.navigation_shape[::-1])
    nav_axes = am._get_navigation_axes_dicts()
    for ax in nav_axes:
        ax["navigate"] = False
    cls = hs.signals.Signal2D if len(nav_axes) == 2 else hs.signals.Signal1D if len(nav_axes) == 1 else hs.signals.BaseSignal
    out = cls(data, axes=[{"size": data.shape[0], "navigate": True, "name": index_name}] + nav_axes)
    out.metadata.General.title = title
    return out


def navigation_image(signal, values, title):
    """An image (or line) over the navigation axes of ``signal``."""
    out = signal._get_navigation_signal(np.asarray(values).reshape(signal.axes_manager.navigation_shape[::-1]))
    out.metadata.General.title = title
    return out


def phase_labels(signal, threshold):
    """``(n_pixels,)`` hard labels at ``threshold`` from the stored memberships."""
    res = lrio.read_cluster_results(signal)
    if not isinstance(threshold, numbers.Real) or not 0 <= threshold < 1:
        raise ValueError(f"threshold must be in [0, 1), got {threshold!r}.")
    return phases.hard_labels(res["memberships"].T, threshold), res


def phase_spectra(signal, threshold, weighting, show_progressbar=None):
    """Mean spectra per phase as a plain ``EDS_SEM`` signal (n_clusters | channels)."""
    from exspy.signals import EDSSEMSpectrum

    if weighting not in ("threshold", "membership"):
        raise ValueError(f"weighting={weighting!r}; use 'threshold' or 'membership'.")
    labels, res = phase_labels(signal, threshold)
    c = res["n_clusters"]
    if weighting == "membership":
        spectra = res["centers"]
        counts = np.nansum(res["memberships"] ** res["parameters"].get("m", 1.0), axis=1)
    else:
        stored = np.isclose(threshold, res["parameters"].get("assignment_threshold", np.nan))
        if stored and res["sum_signals"] is not None:
            sums = res["sum_signals"]
        else:
            with progress(signal, show_progressbar):
                sums, _ = phases.cluster_sums(spectra_array(signal), labels, np.zeros((labels.size, c)))
        counts = phases.one_hot(labels, c).sum(1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            spectra = sums / counts[:, None]
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        warnings.warn(
            f"cluster(s) {empty.tolist()} have no pixel with membership above {threshold}: "
            "their phase spectrum is NaN. Lower the threshold or use weighting='membership'.",
            UserWarning,
            stacklevel=3,
        )
        spectra = spectra.copy()
        spectra[empty] = np.nan
    out = EDSSEMSpectrum(
        np.asarray(spectra, dtype=float),
        axes=[{"size": c, "navigate": True, "name": "Cluster index"}]
        + signal.axes_manager._get_signal_axes_dicts(),
    )
    md = signal.metadata
    for node in ("Sample", "Acquisition_instrument"):
        if node in md:
            out.metadata.set_item(node, md.get_item(node).deepcopy())
    out.metadata.General.title = f"Phase spectra of {md.General.title}".strip()
    out.metadata.set_item("Phase_spectra.weighting", weighting)
    out.metadata.set_item("Phase_spectra.threshold", float(threshold))
    out.metadata.set_item("Phase_spectra.number_of_pixels", counts.tolist())
    return out


def navigation_calibration(signal):
    """``([(x offset, scale, size), (y offset, scale, size)], units)`` for 2-D maps, else ``(None, "")``."""
    nav = signal.axes_manager.navigation_axes
    if len(nav) != 2:
        return None, ""
    units = nav[0].units
    return [(ax.offset, ax.scale, ax.size) for ax in nav], units if isinstance(units, str) else ""


def line_energies(signal):
    """Energies (keV) of the X-ray lines in ``metadata.Sample`` (lines, or the elements' main lines)."""
    from exspy.material import elements as database

    lines = list(signal.metadata.get_item("Sample.xray_lines", []) or [])
    if not lines and signal.metadata.get_item("Sample.elements"):
        lines = signal._get_lines_from_elements(
            signal.metadata.Sample.elements, only_one=True, only_lines=("a",)
        )
    energies = {}
    for line in lines:
        element, name = line.split("_")
        energies[line] = float(database[element].Atomic_properties.Xray_lines[name]["energy (keV)"])
    return energies


def export_data_space(signal, path):
    """Write scores, memberships and labels as CSV (one row per unmasked pixel)."""
    from pathlib import Path

    res = lrio.read_cluster_results(signal)
    scores = res["scores"]
    u = res["memberships"].T
    labels = phases.hard_labels(u, res["parameters"].get("assignment_threshold", 0.5))
    am = signal.axes_manager
    idx = np.unravel_index(np.arange(am.navigation_size), am.navigation_shape[::-1])
    coords = [ax.offset + ax.scale * i for ax, i in zip(am.navigation_axes[::-1], idx, strict=True)]
    ok = np.all(np.isfinite(u), axis=1)
    names = [ax.name if isinstance(ax.name, str) and ax.name else f"nav{k}" for k, ax in enumerate(am.navigation_axes[::-1])]
    header = (
        names
        + [f"score_{k}" for k in range(scores.shape[1])]
        + [f"membership_{k}" for k in range(u.shape[1])]
        + ["label"]
    )
    table = np.column_stack([*coords, scores, u, labels])[ok]
    path = Path(path)
    fmt = ["%.6g"] * (table.shape[1] - 1) + ["%d"]
    np.savetxt(path, table, delimiter=",", header=",".join(header), comments="", fmt=fmt)
    return path


class ClusterNumberScan:
    """Result of :meth:`EDSSEMCmeansSpectrum.estimate_number_of_fuzzy_clusters`.

    Attributes
    ----------
    estimate : int
        The number of clusters with the best index value.
    metric : str
        The validity index used.
    n_clusters : list of int
        The numbers of clusters tried.
    values : list of float
        The index for each number of clusters.
    memberships : dict or None
        ``{n: (n, ny, nx) memberships}`` of every run, in stable cluster
        order, if ``keep_memberships=True``.
    """

    def __init__(self, estimate, metric, n_clusters, values, memberships, extent=None):
        self._extent = extent  # imshow extent of the map, so pixels keep their aspect
        self.estimate = estimate
        self.metric = metric
        self.n_clusters = n_clusters
        self.values = values
        self.memberships = memberships

    def __repr__(self):
        pairs = ", ".join(f"{n}: {v:.4g}" for n, v in zip(self.n_clusters, self.values, strict=True))
        return f"<ClusterNumberScan {self.metric} {{{pairs}}} -> {self.estimate}>"

    def plot_memberships(self):
        """Membership maps of every run, one row per number of clusters.

        Returns
        -------
        matplotlib.figure.Figure
            Rows of membership maps, cluster colours as in every other plot.
        """
        import matplotlib.pyplot as plt

        from hyperspy_cmeans._drawing import cluster_colors

        if not self.memberships:
            raise ValueError("run the scan with keep_memberships=True to plot its memberships.")
        rows = len(self.memberships)
        cols = max(self.memberships)
        fig, axs = plt.subplots(rows, cols, figsize=(2.2 * cols, 2.2 * rows), squeeze=False, layout="constrained")
        for r, (n, maps) in enumerate(sorted(self.memberships.items())):
            colors = cluster_colors(n)
            for k in range(cols):
                ax = axs[r, k]
                ax.set_xticks([])
                ax.set_yticks([])
                if k >= n:
                    ax.axis("off")
                    continue
                ax.imshow(maps[k], vmin=0, vmax=1, cmap="viridis", interpolation="nearest", extent=self._extent)
                for spine in ax.spines.values():
                    spine.set_edgecolor(colors[k])
                    spine.set_linewidth(2.5)
            value = self.values[self.n_clusters.index(n)]
            mark = " *" if n == self.estimate else ""
            axs[r, 0].set_ylabel(f"n = {n}{mark}\n{value:.3g}")
        fig.suptitle(f"Memberships for each number of clusters ({self.metric}; * = estimate)")
        return fig


def scan_cluster_numbers(signal, cluster_range, metric, setup, keep_memberships, show_progressbar):
    """Fit every number of clusters on one data space and score each with ``metric``."""
    from hyperspy_cmeans.cmeans import VALIDITY_INDICES, best_n_clusters

    if metric not in VALIDITY_INDICES:
        raise ValueError(f"metric={metric!r} is not known; use one of {sorted(VALIDITY_INDICES)}.")
    try:
        numbers_ = sorted({int(n) for n in cluster_range})
    except (TypeError, ValueError):
        raise ValueError(f"cluster_range must be integers >= 2, got {cluster_range!r}.") from None
    if not numbers_ or numbers_[0] < 2:
        raise ValueError(f"cluster_range must hold integers >= 2, got {list(cluster_range)!r}.")
    nav_mask = setup.check(signal, numbers_[-1])
    index_function, _ = VALIDITY_INDICES[metric]
    scores = {}
    kept = {} if keep_memberships else None
    with progress(signal, show_progressbar):
        features, _ = setup.features(signal, nav_mask)
    for n in numbers_:
        est, _ = setup.estimator(n, fresh=True)
        fit = clustering.fit_clusters(est, features, n)
        u = fit.memberships
        if metric in ("partition_coefficient", "partition_entropy"):
            value = index_function(u)
        elif metric == "fuzzy_silhouette":
            value = index_function(features, u, random_state=setup.random_state, sample_size=min(len(u), 4000))
        else:
            # Compactness in the algorithm's own norm (GK distances), separation of the
            # centres in the Euclidean norm of the data space: on the synthetic 4-phase
            # maps this picks 4 with GK, whereas separation in the GK cluster norms
            # (norm_matrices=) picks 2.
            value = index_function(features, u, fit.centroids, m=fit.m, distances=fit.distances)
        scores[n] = float(value)
        _logger.info("%d clusters: %s = %.5g", n, metric, value)
        if kept is not None:
            full = np.full((nav_mask.size, n), np.nan)
            full[~nav_mask] = u
            kept[n] = full.T.reshape((n,) + signal.axes_manager.navigation_shape[::-1])
    estimate = best_n_clusters(scores, metric)
    lrio.write_cluster_metric(signal, numbers_, [scores[n] for n in numbers_], metric, estimate)
    axes, _ = navigation_calibration(signal)
    extent = drawing.image_extent(axes) if axes else None
    return ClusterNumberScan(estimate, metric, numbers_, [scores[n] for n in numbers_], kept, extent)
