"""The clustering run of ``fuzzy_cluster``: validate, build the data space, fit, store.

:class:`ClusteringSetup` holds the arguments shared by ``fuzzy_cluster`` and
the cluster-number scan and validates each of them once; :func:`data_space`
turns the signal into data-space features; :func:`run_fuzzy_cluster` fits and
writes every ``learning_results`` field at once, so a failure leaves the
signal as it was.
"""

import dataclasses
import warnings
from dataclasses import dataclass, field

import hyperspy.api as hs
import numpy as np

from hyperspy_cmeans import _checks
from hyperspy_cmeans import _clustering as clustering
from hyperspy_cmeans import _learning_results as lrio
from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans import _sampling as sampling
from hyperspy_cmeans._features import PREPROCESSING, pca_scores
from hyperspy_cmeans.signals import _adapters as adapters
from hyperspy_cmeans.signals import _regularisation as regularisation
from hyperspy_cmeans.signals import _state as state

#: Names of the data-space sources computed from a signal's own results.
SOURCES = ("pca", "decomposition", "bss")


@dataclass(frozen=True, kw_only=True)
class ClusteringSetup:
    """The arguments shared by ``fuzzy_cluster`` and the cluster-number scan.

    Attributes mirror the parameters of
    :meth:`~hyperspy_cmeans.EDSSEMCmeansSpectrum.fuzzy_cluster` (whose
    signature holds the defaults); ``estimator_kwargs`` are the extra keyword
    arguments of a named algorithm.
    """

    algorithm: object
    m: float
    source: object
    n_components: object
    preprocessing: object
    navigation_mask: object
    signal_mask: object
    n_init: int
    max_iter: int
    tol: float
    random_state: object
    spatial: object
    subsample: object = "auto"
    estimator_kwargs: dict = field(default_factory=dict)

    @classmethod
    def from_arguments(cls, arguments):
        """Build a setup from a signal method's ``locals()``.

        Parameters
        ----------
        arguments : dict
            The method's parameters by name; ``kwargs`` holds the extra
            estimator parameters.

        Returns
        -------
        ClusteringSetup
            The setup (not yet validated: see :meth:`check`).
        """
        names = [
            f.name
            for f in dataclasses.fields(cls)
            if f.name not in ("estimator_kwargs", "subsample")
        ]
        values = {name: arguments[name] for name in names}
        values["subsample"] = arguments.get("subsample", "auto")
        # a generator is turned into the integer seed the run uses and records
        values["random_state"] = _checks.random_seed(values["random_state"])
        values["spatial"] = regularisation.check_spatial(values["spatial"])
        return cls(**values, estimator_kwargs=dict(arguments.get("kwargs") or {}))

    def check(self, signal, n_clusters):
        """Validate every argument once; return the flat navigation mask.

        Parameters
        ----------
        signal : EDSSEMCmeansSpectrum
            The map to cluster.
        n_clusters : int
            The (largest) number of clusters to fit.

        Returns
        -------
        numpy.ndarray
            ``(n_pixels,)`` bool, True for excluded pixels.

        Raises
        ------
        ValueError, TypeError
            For the first invalid argument, with what to give instead.
        """
        adapters.check_has_navigation(signal)
        _checks.check_n_clusters(n_clusters)
        if isinstance(self.algorithm, str):
            _checks.check_fuzzifier(self.m)
            clustering.canonical_algorithm(self.algorithm)
        elif not hasattr(self.algorithm, "fit"):
            raise ValueError(
                f"algorithm must be one of {clustering.ALGORITHMS} or an estimator object "
                f"with `fit`, got {self.algorithm!r}."
            )
        elif self.estimator_kwargs:
            raise TypeError(
                f"extra keyword arguments {sorted(self.estimator_kwargs)} only apply to "
                "named algorithms."
            )
        self._check_source()
        sampling.resolve_subsample(self.subsample, 2**62)  # refuses a bad value now
        nav_mask = adapters.navigation_mask_of(signal, self.navigation_mask)
        _checks.check_n_clusters(n_clusters, int((~nav_mask).sum()))
        return nav_mask

    def _check_source(self):
        source = self.source
        if isinstance(source, str):
            if source not in SOURCES:
                raise ValueError(
                    f"source={source!r} is not supported; use one of {SOURCES} or a HyperSpy "
                    "signal (or list of signals) with one value per pixel of this map."
                )
            if source == "pca":
                _checks.check_n_components(self.n_components)
                _checks.check_preprocessing(self.preprocessing, PREPROCESSING)
            else:
                _checks.check_n_components(self.n_components, allow_none=True)
            return
        is_list = isinstance(source, (list, tuple)) and all(
            isinstance(s, hs.signals.BaseSignal) for s in source
        )
        if not (is_list and source) and not isinstance(source, hs.signals.BaseSignal):
            raise TypeError(
                f"source must be one of {SOURCES}, a HyperSpy signal or a list of signals, "
                f"got {type(source).__name__}."
            )
        _checks.check_n_components(self.n_components, allow_none=True)
        if self.preprocessing is not None:
            _checks.check_preprocessing(self.preprocessing, PREPROCESSING)

    def sample_size(self, estimator, n_pixels):
        """Pixels to learn the model from, or None for the exact fit on every pixel.

        Parameters
        ----------
        estimator : object
            The estimator to fit (it must predict memberships of new pixels).
        n_pixels : int
            Unmasked pixels of the map.

        Returns
        -------
        int or None
            See :func:`hyperspy_cmeans._sampling.resolve_subsample`; None also
            for data spaces other than ``source="pca"`` and for estimators
            without ``predict_membership``/``predict_proba`` under ``"auto"``.

        Raises
        ------
        ValueError
            For a bad ``subsample``, or a sample asked for where it cannot be used.
        """
        n = sampling.resolve_subsample(self.subsample, n_pixels)
        if n is None:
            return None
        usable = isinstance(self.source, str) and self.source == "pca"
        usable = usable and clustering.can_predict(estimator)
        if usable:
            return n
        if isinstance(self.subsample, str):  # "auto": the exact fit then
            return None
        raise ValueError(
            f"subsample={self.subsample!r} needs source='pca' and an estimator that predicts "
            "memberships of new pixels (predict_membership or predict_proba); use "
            "subsample=None for the exact fit."
        )

    def estimator(self, n_clusters, fresh=False):
        """``(estimator, name)`` for ``n_clusters``; ``name`` is None for objects.

        Parameters
        ----------
        n_clusters : int
            Number of clusters.
        fresh : bool
            For an estimator object: fit an unfitted clone with its number of
            clusters set (the scan), instead of the object itself.

        Returns
        -------
        tuple
            ``(estimator, canonical algorithm name or None)``.
        """
        if isinstance(self.algorithm, str):
            return clustering.make_estimator(
                self.algorithm,
                n_clusters,
                m=self.m,
                n_init=self.n_init,
                max_iter=self.max_iter,
                tol=self.tol,
                random_state=self.random_state,
                **self.estimator_kwargs,
            )
        if fresh:
            return clustering.estimator_with_n_clusters(self.algorithm, n_clusters), None
        declared = clustering.estimator_n_clusters(self.algorithm)
        if declared is not None and declared != n_clusters:
            raise ValueError(
                f"the estimator is set up for {declared} clusters but n_clusters={n_clusters}."
            )
        return self.algorithm, None

    def features(self, signal, nav_mask):
        """Data-space features of the unmasked pixels, regularised as asked.

        Parameters
        ----------
        signal : EDSSEMCmeansSpectrum
            The map.
        nav_mask : numpy.ndarray
            Flat navigation mask from :meth:`check`.

        Returns
        -------
        DataSpaceFeatures
            See :func:`data_space`; ``clustered`` holds what is clustered.
        """
        space = data_space(signal, self, nav_mask)
        space.clustered, space.info["spatial"] = regularisation.regularise(
            signal, self.spatial, space.raw, space.nav_mask, space.noise
        )
        return space


@dataclass
class DataSpaceFeatures:
    """The data space of the unmasked pixels of a map.

    Attributes
    ----------
    raw : numpy.ndarray
        ``(n_used_pixels, n_features)`` features as computed.
    info : dict
        Saveable description (source, preprocessing, components ...).
    nav_mask : numpy.ndarray
        Flat navigation mask: the one given, plus pixels without counts.
    noise : numpy.ndarray or None
        Noise covariance of one pixel's features, where the counts give it.
    clustered : numpy.ndarray or None
        The features that are clustered (``raw`` after the spatial
        regularisation), set by :meth:`ClusteringSetup.features`.
    """

    raw: np.ndarray
    info: dict
    nav_mask: np.ndarray
    noise: np.ndarray | None = None
    clustered: np.ndarray | None = None


def _check_finite(features, what):
    if not np.all(np.isfinite(features)):
        raise ValueError(
            f"The {what} contain NaN or inf values; exclude those pixels with `navigation_mask`."
        )


def data_space(signal, setup, nav_mask):
    """Features of the unmasked pixels and a plain-typed description of them.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map.
    setup : ClusteringSetup
        Validated arguments (``source``, ``n_components``, ``preprocessing``,
        ``signal_mask``).
    nav_mask : numpy.ndarray
        ``(n_pixels,)`` bool, True for excluded pixels.

    Returns
    -------
    DataSpaceFeatures
        The features, their description, the navigation mask (pixels that
        recorded no counts are added to it, with a warning) and the noise
        covariance where the counts give it.
    """
    keep = ~nav_mask
    source = setup.source
    if isinstance(source, str) and source == "pca":
        return _pca_space(signal, setup, nav_mask)
    if isinstance(source, str):  # "decomposition" / "bss"
        loadings = lrio.read_decomposition_scores(signal, source, setup.n_components)
        features = np.asarray(loadings)[keep]
        _check_finite(features, f"{source} loadings")
        info = {"source": source, "preprocessing": None, "n_components": features.shape[1]}
        return DataSpaceFeatures(features, info, nav_mask)
    return DataSpaceFeatures(*_signal_source_space(signal, setup, keep), nav_mask)


def _pca_space(signal, setup, nav_mask):
    keep = ~nav_mask
    spectra = adapters.spectra_array(signal)  # the map itself, never copied whole
    sig_mask = adapters.signal_mask_of(setup.signal_mask, spectra.shape[-1])
    if sig_mask.all():
        raise ValueError("signal_mask excludes every channel; keep at least n_components channels.")
    space = pca_scores(
        spectra,
        setup.n_components,
        setup.preprocessing,
        keep=keep.reshape(spectra.shape[:-1]),
        channels=np.flatnonzero(~sig_mask) if sig_mask.any() else None,
    )
    if not np.all(np.isfinite(space.explained_variance_ratio)):
        raise ValueError(
            "The map has no variation to cluster: every pixel has the same spectrum (an "
            "all-zero or constant map?). Check the data, or mask the empty region with "
            "navigation_mask."
        )
    info = {
        "source": "pca",
        "preprocessing": setup.preprocessing,
        "n_components": int(setup.n_components),
        "explained_variance_ratio": space.explained_variance_ratio,
        "components": space.components,
        "mean": space.mean,
        "scale": space.scale,
        "signal_mask": sig_mask if sig_mask.any() else None,
        "axes_bin_side": int(space.axes_bin_side),
    }
    scores = space.scores
    if space.empty is not None and space.empty.any():
        n_empty = int(space.empty.sum())
        warnings.warn(
            f"{n_empty} pixel(s) recorded no counts: they are masked (NaN membership, no "
            "label) instead of being given to a phase.",
            UserWarning,
            stacklevel=5,
        )
        nav_mask = nav_mask.copy()
        nav_mask[np.flatnonzero(keep)[space.empty]] = True
        scores = scores[~space.empty]
        info["empty_pixels"] = n_empty
    return DataSpaceFeatures(scores, info, nav_mask, space.noise_covariance)


def _signal_source_columns(signal, source):
    """``(n_pixels, n_features)`` values of a signal source, and its description."""
    am = signal.axes_manager
    n = am.navigation_size
    if isinstance(source, hs.signals.BaseSignal):
        if source.axes_manager.navigation_shape != am.navigation_shape:
            raise ValueError(
                f"source signal has navigation shape {source.axes_manager.navigation_shape}; "
                f"it must equal this signal's {am.navigation_shape}."
            )
        values = np.asarray(source.data, dtype=float)
        return values.reshape(n, max(source.axes_manager.signal_size, 1)), (
            "signal:" + str(source.metadata.General.title)
        )
    columns = []  # e.g. the element maps of get_lines_intensity(): one feature per map
    for s in source:
        if np.asarray(s.data).size != n:
            raise ValueError(
                f"source map {s.metadata.General.title!r} has shape {s.data.shape}; every map "
                f"needs one value per pixel ({am.navigation_shape[::-1]} in NumPy order)."
            )
        columns.append(np.asarray(s.data, dtype=float).reshape(n))
    title = "maps:" + ",".join(str(s.metadata.General.title) for s in source)
    return np.stack(columns, axis=1), title


def _signal_source_space(signal, setup, keep):
    """Features from a signal or maps: preprocessed, and projected if asked.

    With ``n_components=None`` every preprocessed variable is kept (all
    principal components: a rotation, which leaves Euclidean and
    Gustafson–Kessel distances unchanged); ``preprocessing=None`` keeps the
    raw values.
    """
    values, title = _signal_source_columns(signal, setup.source)
    if setup.signal_mask is not None:
        values = values[:, ~adapters.signal_mask_of(setup.signal_mask, values.shape[1])]
    values = values[keep]
    _check_finite(values, "source values")
    info = {"source": title, "preprocessing": setup.preprocessing, "n_components": None}
    if setup.preprocessing is None and setup.n_components is None:
        return values, info
    n_components = setup.n_components or values.shape[1]
    space = pca_scores(values, n_components, setup.preprocessing or "center")
    info.update(
        preprocessing=setup.preprocessing or "center",
        n_components=int(n_components),
        explained_variance_ratio=space.explained_variance_ratio,
        components=space.components,
    )
    return space.scores, info


def run_fuzzy_cluster(signal, n_clusters, setup, assignment_threshold, show_progressbar):
    """Cluster ``signal`` and store the results; returns the fitted estimator.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map.
    n_clusters : int
        Number of clusters.
    setup : ClusteringSetup
        The other arguments.
    assignment_threshold : float
        Membership threshold of the hard labels.
    show_progressbar : bool or None
        Progress bar for passes over lazy data.

    Returns
    -------
    object
        The fitted estimator. Nothing on ``signal`` changes unless every
        step succeeds.
    """
    nav_mask = setup.check(signal, n_clusters)
    assignment_threshold = _checks.check_threshold(assignment_threshold, "assignment_threshold")
    estimator, name = setup.estimator(n_clusters)
    n_sample = setup.sample_size(estimator, int((~nav_mask).sum()))
    if n_sample is not None:
        from hyperspy_cmeans.signals._sampled import run_sampled

        with adapters.progress(signal, show_progressbar):
            sampled = run_sampled(
                signal, n_clusters, setup, nav_mask, estimator, assignment_threshold, n_sample
            )
        if sampled is not None:
            fields, params, guard, estimator = sampled
            return _store(signal, setup, estimator, name, fields, params, guard)
    with adapters.progress(signal, show_progressbar):
        space = setup.features(signal, nav_mask)
        nav_mask = space.nav_mask
        _checks.check_n_clusters(n_clusters, int((~nav_mask).sum()))
        fit = clustering.fit_clusters(estimator, space.clustered, n_clusters)
        guard = regularisation.noise_guard(signal, space.raw, fit.memberships, nav_mask)
        fields = result_fields(signal, fit, space.clustered, nav_mask, assignment_threshold)
    params = {
        **run_params(signal, setup, estimator, name, fit.m, n_clusters, assignment_threshold),
        "navigation_mask": nav_mask if nav_mask.any() else None,
        **space.info,
    }
    return _store(signal, setup, estimator, name, fields, params, guard)


def run_params(signal, setup, estimator, name, m, n_clusters, threshold):
    """What every run records in ``fuzzy_cluster_parameters`` (exact or sampled).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map (for its axes' fingerprint).
    setup : ClusteringSetup
        The arguments.
    estimator : object
        The fitted estimator.
    name : str or None
        Canonical algorithm name (None for an estimator object).
    m : float
        The fuzzifier of the fit.
    n_clusters : int
        Number of clusters.
    threshold : float
        Assignment threshold.

    Returns
    -------
    dict
    """
    return {
        "algorithm": name or type(estimator).__name__,
        "n_clusters": int(n_clusters),
        "m": float(m),
        "assignment_threshold": threshold,
        "random_state": setup.random_state,
        "n_init": setup.n_init,
        "max_iter": setup.max_iter,
        "tol": setup.tol,
        "n_iter": int(np.max(getattr(estimator, "n_iter_", -1))),
        "objective": float(getattr(estimator, "objective_", np.nan)),
        "axes": state.axes_fingerprint(signal),
    }


def _store(signal, setup, estimator, name, fields, params, guard):
    """Warn about noise splits, then write every field at once; returns the estimator."""
    regularisation.warn_indistinguishable(guard, stacklevel=5)
    params.update(regularisation.guard_record(guard))
    params.setdefault("fit", "exact")
    fields["cluster_algorithm"] = clustering.describe_estimator(estimator, name)
    fields["fuzzy_cluster_parameters"] = {k: v for k, v in params.items() if v is not None}
    lrio.write_cluster_results(signal, fields)
    return estimator


def result_fields(signal, fit, features, nav_mask, threshold):
    """All ``learning_results`` fields of one clustering (arrays over every pixel).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map (its spectra give the cluster spectra).
    fit : hyperspy_cmeans._clustering.ClusterFit
        The ordered clustering of the unmasked pixels.
    features : numpy.ndarray
        Data-space features of the unmasked pixels.
    nav_mask : numpy.ndarray
        Flat navigation mask (True = excluded).
    threshold : float
        Assignment threshold of the hard labels.

    Returns
    -------
    dict
        Fields keyed as in :data:`hyperspy_cmeans._learning_results.CLUSTER_FIELDS`.
    """
    keep = ~nav_mask

    def full(values):
        out = np.full((nav_mask.size, values.shape[1]), np.nan)
        out[keep] = values
        return out

    memberships = full(fit.memberships)
    distances = full(fit.distances)
    c = memberships.shape[1]
    labels = phases.hard_labels(memberships, threshold)
    return {
        "cluster_membership": memberships.T.copy(),
        "cluster_labels": phases.one_hot(labels, c),
        **cluster_spectra_fields(signal, memberships, distances, labels, fit.m),
        "cluster_distances": distances.T.copy(),
        "cluster_centroids": fit.centroids,
        "number_of_clusters": int(c),
        "fuzzy_cluster_scores": full(features),
    }


def cluster_spectra_fields(signal, memberships, distances, labels, m):
    """The per-cluster spectra of a clustering, in one pass over the map.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map.
    memberships, distances : numpy.ndarray
        ``(n_pixels, c)``, NaN for masked pixels.
    labels : numpy.ndarray
        ``(n_pixels,)`` hard labels (-1 for none).
    m : float
        Exponent of the membership weights of the weighted mean.

    Returns
    -------
    dict
        ``cluster_sum_signals`` (sum over the hard members),
        ``cluster_centers`` (``u**m``-weighted mean) and
        ``cluster_centroid_signals`` (the pixel nearest each centre).
    """
    spectra = adapters.spectra_array(signal)
    weights = memberships**m
    hard_sums, weighted_sums = phases.cluster_sums(spectra, labels, weights)
    wsum = np.nansum(weights, axis=0)
    nearest = phases.nearest_pixel_per_cluster(distances)
    return {
        "cluster_sum_signals": hard_sums,
        "cluster_centers": weighted_sums / np.where(wsum > 0, wsum, np.nan)[:, None],
        "cluster_centroid_signals": adapters.pixel_spectra(spectra, nearest),
    }
