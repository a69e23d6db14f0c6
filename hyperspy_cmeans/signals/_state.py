"""Cluster results that follow the signal's axes, or go, but are never served stale.

``fuzzy_cluster`` records the axes it clustered (:func:`axes_fingerprint`).
An in-place ``crop`` (``crop_signal`` included) of a clustered signal makes
the results follow the new axes (:func:`follow_crop`): a navigation crop keeps
the memberships of the remaining pixels and recomputes the cluster spectra
from the cropped data; a signal crop cuts the cluster spectra to the kept
channels (exact: sums over channels are per channel). Any other change of the
axes under the results (a transpose, data replaced with another shape)
drops them with a warning that says to re-run (:func:`current_results`);
a new calibration of the axes (units, offsets, scales) keeps them, as pixels
and channels still correspond.
HyperSpy itself drops ``learning_results`` in ``inav``, ``isig`` and
``rebin``.
"""

import warnings

import numpy as np

from hyperspy_cmeans import _learning_results as lrio
from hyperspy_cmeans import _phases as phases

#: Fields over the navigation pixels: ``(c, N)`` rows, or ``(N, F)`` for the scores.
_PIXEL_ROWS = ("cluster_membership", "cluster_labels", "cluster_distances")
#: Fields over the channels: ``(c, S)``.
_CHANNEL_ROWS = ("cluster_sum_signals", "cluster_centroid_signals", "cluster_centers")


#: Attribute of a lazy signal holding its last computed result field: ``{name: array}``.
_COMPUTED = "_cmeans_computed_results"
#: How many computed fields are kept (memberships and scores of the current result).
_COMPUTED_KEPT = 2


def in_memory(signal, value):
    """A stored result field as a NumPy array, computed once per lazy result.

    The memberships, distances and scores of a lazy signal's clustering are
    dask arrays computed from the in-memory scores (not from the map); every
    phase map, phase spectrum or export needs them in memory. They are
    computed on the first call and kept with the signal, keyed by the dask
    array's name, which changes with the results: a new clustering, a crop or
    a dropped result never gets a stale array.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The clustered signal.
    value : numpy.ndarray or dask.array.Array
        A field of ``learning_results`` (or a transpose of one).

    Returns
    -------
    numpy.ndarray
    """
    name = getattr(value, "name", None)
    if not isinstance(name, str) or not hasattr(value, "compute"):
        return np.asarray(value)
    cache = signal.__dict__.setdefault(_COMPUTED, {})
    if name not in cache:
        while len(cache) >= _COMPUTED_KEPT:  # the oldest belong to earlier results
            cache.pop(next(iter(cache)))
        cache[name] = np.asarray(value.compute())
    return cache[name]


def axes_fingerprint(signal):
    """The axes a result belongs to: ``[(size, offset, scale), ...]`` in axes-manager order.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The signal.

    Returns
    -------
    list of list of float
        One ``[size, offset, scale]`` per axis, navigation axes first.
    """
    return [
        [int(ax.size), float(ax.offset), float(ax.scale)]
        for ax in (*signal.axes_manager.navigation_axes, *signal.axes_manager.signal_axes)
    ]


def _same_sizes(recorded, current):
    """Whether two fingerprints have the same axis sizes (calibrations may differ)."""
    if recorded is None or len(recorded) != len(current):
        return False
    return all(int(r[0]) == int(c[0]) for r, c in zip(recorded, current, strict=True))


def drop_cluster_results(signal, reason):
    """Remove the fuzzy cluster results of ``signal`` with a warning.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The signal.
    reason : str
        Why they no longer match the signal (in the warning).
    """
    lrio.write_cluster_results(signal, {})
    warnings.warn(
        f"The fuzzy cluster results were dropped: {reason}. Run fuzzy_cluster() again "
        "on this signal.",
        UserWarning,
        stacklevel=4,
    )


def current_results(signal):
    """The stored results if they still match the signal's axes.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered signal.

    Returns
    -------
    dict
        As :func:`hyperspy_cmeans._learning_results.read_cluster_results`.

    Raises
    ------
    RuntimeError
        If there are no results, or they no longer matched the axes (they
        are then dropped with a warning).
    """
    res = lrio.read_cluster_results(signal)
    recorded = res["parameters"].get("axes")
    n_pixels = signal.axes_manager.navigation_size
    stale = recorded is not None and not _same_sizes(recorded, axes_fingerprint(signal))
    if stale or res["memberships"].shape[1] != n_pixels:
        drop_cluster_results(
            signal,
            "the signal's axes changed since it was clustered "
            f"(recorded {recorded}, now {axes_fingerprint(signal)})",
        )
        return lrio.read_cluster_results(signal)  # raises: nothing stored
    return res


def _index_range(before, after):
    """``(start, stop)`` channel/pixel indices of ``after`` inside ``before``."""
    size, offset, scale = before
    start = int(round((after[1] - offset) / scale))
    return start, start + int(after[0])


def follow_crop(signal, axis_index, before):
    """Make the results of ``signal`` follow an in-place crop of one axis.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The signal, already cropped.
    axis_index : int
        Index of the cropped axis in ``axes_fingerprint`` order (navigation
        axes first, then the signal axis).
    before : list of list
        :func:`axes_fingerprint` before the crop.
    """
    lr = signal.learning_results
    params = dict(lr.fuzzy_cluster_parameters)
    if not _same_sizes(params.get("axes"), before):
        return  # results of other axes: current_results() deals with them
    after = axes_fingerprint(signal)
    start, stop = _index_range(before[axis_index], after[axis_index])
    n_nav = signal.axes_manager.navigation_dimension
    if axis_index >= n_nav:  # the signal axis: the per-channel rows are cut
        for name in _CHANNEL_ROWS:
            value = getattr(lr, name, None)
            if value is not None:
                setattr(lr, name, np.asarray(value)[:, start:stop])
        params["signal_mask"] = _cut(params.get("signal_mask"), start, stop)
    else:
        _crop_pixels(signal, axis_index, start, stop, before, params)
    params["axes"] = after
    lr.fuzzy_cluster_parameters = params


def _cut(value, start, stop):
    return None if value is None else np.asarray(value)[start:stop]


def _crop_pixels(signal, axis_index, start, stop, before, params):
    """Keep the pixels inside the crop, then recompute the cluster spectra from the data."""
    lr = signal.learning_results
    nav_shape = tuple(int(b[0]) for b in before[: signal.axes_manager.navigation_dimension])
    numpy_shape = nav_shape[::-1]
    numpy_axis = len(nav_shape) - 1 - axis_index
    index = [slice(None)] * len(numpy_shape)
    index[numpy_axis] = slice(start, stop)
    index = tuple(index)

    def rows(value):  # (c, N) -> cropped (c, N')
        value = np.asarray(value)
        return value.reshape((value.shape[0],) + numpy_shape)[(slice(None), *index)].reshape(
            value.shape[0], -1
        )

    for name in _PIXEL_ROWS:
        setattr(lr, name, rows(getattr(lr, name)))
    scores = np.asarray(lr.fuzzy_cluster_scores)
    lr.fuzzy_cluster_scores = rows(scores.T).T
    if params.get("navigation_mask") is not None:
        params["navigation_mask"] = rows(np.asarray(params["navigation_mask"])[None])[0]
    from hyperspy_cmeans.signals._clustering import cluster_spectra_fields

    memberships = np.asarray(lr.cluster_membership).T
    labels = phases.hard_labels(memberships, params.get("assignment_threshold", 0.5))
    distances = np.asarray(lr.cluster_distances).T
    fields = cluster_spectra_fields(signal, memberships, distances, labels, params.get("m", 1.0))
    for name, value in fields.items():
        setattr(lr, name, value)
