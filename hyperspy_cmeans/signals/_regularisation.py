"""Spatial regularisation and the noise guard of a clustering, on a signal's grid.

The array work is in :mod:`hyperspy_cmeans._spatial`; this module places the
data-space features of the unmasked pixels on the map's navigation grid, with
the pixel spacing of its axes (serial sections and anisotropic pixels
included), and turns what comes back into the plain-typed records that
``learning_results`` keeps.
"""

import numbers

import numpy as np

from hyperspy_cmeans import _spatial


def check_spatial(spatial):
    """``"auto"``, an off switch (None, 0, False) or a positive bandwidth in pixels.

    Parameters
    ----------
    spatial : str, float or None
        The ``spatial`` argument of ``fuzzy_cluster``.

    Returns
    -------
    str or float or None
        ``"auto"``, a positive float, or None (off).

    Raises
    ------
    ValueError
        For anything else.
    """
    if (
        spatial is None
        or spatial is False
        or (isinstance(spatial, numbers.Real) and not isinstance(spatial, bool) and spatial == 0)
    ):
        return None
    if isinstance(spatial, str) and spatial == "auto":
        return "auto"
    if isinstance(spatial, numbers.Real) and not isinstance(spatial, bool):
        if np.isfinite(spatial) and spatial > 0:
            return float(spatial)
    raise ValueError(
        f"spatial={spatial!r}: use 'auto' (the strength follows the noise), a bandwidth in "
        "pixels (> 0), or 0/None to switch the spatial regularisation off."
    )


def _grid(signal):
    """Navigation shape and pixel spacing in NumPy order."""
    axes = signal.axes_manager.navigation_axes[::-1]
    shape = tuple(ax.size for ax in axes)
    spacing = [abs(float(ax.scale)) or 1.0 for ax in axes]
    return shape, spacing


def regularise(signal, spatial, features, nav_mask, noise=None):
    """The features to cluster: the data space smoothed where the noise allows.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map (its navigation grid and pixel spacing).
    spatial : str, float or None
        From :func:`check_spatial`.
    features : numpy.ndarray
        ``(n_used_pixels, n_features)`` raw data-space features.
    nav_mask : numpy.ndarray
        Flat navigation mask (True = excluded): masked pixels are nobody's
        neighbours.
    noise : numpy.ndarray, optional
        Noise covariance of one pixel's features (count-weighted data
        spaces); estimated from neighbouring pixels when None.

    Returns
    -------
    tuple
        ``(features, info)``: the features to cluster and a plain-typed record
        of what was done (``method`` "none" when off or not needed).
    """
    if spatial is None:
        return features, {"method": "none", "strength": None}
    shape, spacing = _grid(signal)
    clustered, info = _spatial.regularise_features(
        features, shape, nav_mask, noise=noise, strength=spatial, spacing=spacing
    )
    return clustered, _plain(info)


def _plain(info):
    """A record of plain types (lists instead of arrays), saveable in .hspy."""
    out = {}
    for key, value in info.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        elif isinstance(value, tuple):
            value = list(value)
        out[key] = value
    return out


def noise_guard(signal, features, memberships, nav_mask):
    """Which pairs of clusters noise alone could have split (see ``_spatial``).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map.
    features : numpy.ndarray
        ``(n_used_pixels, n_features)`` raw (not regularised) features.
    memberships : numpy.ndarray
        ``(n_used_pixels, n_clusters)`` memberships in stable order.
    nav_mask : numpy.ndarray
        Flat navigation mask.

    Returns
    -------
    hyperspy_cmeans._spatial.Distinguishability
        The ratio matrix and the pairs that are not distinguishable.
    """
    shape, _ = _grid(signal)
    keep = ~nav_mask

    def on_grid(values):
        grid = np.full((nav_mask.size, values.shape[1]), np.nan)
        grid[keep] = values
        return grid.reshape(shape + (values.shape[1],))

    return _spatial.cluster_distinguishability(
        on_grid(features), on_grid(memberships), nav_mask.reshape(shape)
    )


def warn_indistinguishable(result, stacklevel=4):
    """Warn about clusters that noise alone could have split.

    Parameters
    ----------
    result : hyperspy_cmeans._spatial.Distinguishability
        From :func:`noise_guard`.
    stacklevel : int
        Frames above this function's caller that the warning points at.
    """
    _spatial.warn_indistinguishable(result, stacklevel=stacklevel)


def guard_record(result):
    """Plain-typed record of a noise-guard result for ``learning_results``.

    Parameters
    ----------
    result : hyperspy_cmeans._spatial.Distinguishability
        From :func:`noise_guard`.

    Returns
    -------
    dict
        ``indistinguishable_pairs`` (list of [k, l]) and
        ``distinguishability_ratio`` (c x c, NaN where untested).
    """
    return {
        "indistinguishable_pairs": [[int(k), int(j)] for k, j in result.pairs],
        "distinguishability_ratio": np.asarray(result.ratio).tolist(),
    }
