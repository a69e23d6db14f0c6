"""Counting statistics of a spectrum image for the count-weighted data spaces.

The ``"poisson"`` and ``"composition"`` preprocessings weight pixels and
channels by their counts (Keenan & Kotula 2004). This module holds what that
needs besides the PCA itself: the weights, the refusal of data that are not
counts, the binning of low-dose maps for the principal axes, and the noise
covariance of the resulting scores (which the spatial regularisation uses).

Low doses. With a few counts per pixel the principal axes of single pixels
follow single counts in rare channels (a count in a channel whose mean is
1e-4 gets a weight of about 100): two of three components end up as noise
directions. The axes are then taken from the spectra of ``k x k`` squares of
neighbouring pixels summed together (:func:`count_aware_bin_side`), which
carry about as many counts as a pixel of :data:`AXES_MIN_COUNTS`; every
single pixel is still projected on those axes, so the data space keeps the
map's resolution.
"""

import numpy as np

#: Largest share of negative signal that count weighting accepts (denoised maps
#: have a little: the study's 15-component reconstruction has 0.1 %).
MAX_NEGATIVE_SHARE = 0.02
#: Counts per spectrum from which the principal axes are taken without binning.
AXES_MIN_COUNTS = 80.0


def check_counts(preprocessing, negative, positive):
    """Refuse count weighting of data that are not counts (negated, signed, empty).

    Parameters
    ----------
    preprocessing : str
        The preprocessing asked for (in the message).
    negative : float
        Sum of the absolute values of the negative data values.
    positive : float
        Sum of the positive data values.

    Raises
    ------
    ValueError
        If the map holds no counts, or more than :data:`MAX_NEGATIVE_SHARE`
        of its signal is negative.
    """
    if positive <= 0 and negative <= 0:
        raise ValueError(
            "The map has no variation to cluster: it holds no counts (every value is 0). "
            "Check the data, or mask the empty region with navigation_mask."
        )
    if positive <= 0 or negative > MAX_NEGATIVE_SHARE * positive:
        share = 1.0 if positive <= 0 else negative / (negative + positive)
        raise ValueError(
            f"preprocessing={preprocessing!r} weights pixels and channels by their counts, "
            f"but {100 * share:.3g} % of the signal is negative: these are not counts (a "
            "negated map, or signed values such as loadings). Use preprocessing='center' or "
            "'standard' for signed data."
        )


def poisson_weights(row_totals, column_sums, n_pixels):
    """Row and column weights of the Keenan–Kotula normalisation.

    Parameters
    ----------
    row_totals : numpy.ndarray
        Total counts of each pixel, ``a``.
    column_sums : numpy.ndarray
        Counts of each channel summed over the ``n_pixels`` pixels.
    n_pixels : int
        Number of pixels summed.

    Returns
    -------
    tuple of numpy.ndarray
        ``1 / sqrt(a)`` and ``1 / sqrt(b)`` with ``b`` the mean spectrum; 0
        where the total or the mean is not positive (empty pixels, empty
        channels, negative residuals of a denoised map).
    """
    a = np.asarray(row_totals, dtype=float)
    b = np.asarray(column_sums, dtype=float) / max(n_pixels, 1)
    row_w = np.zeros_like(a)
    row_w[a > 0] = 1.0 / np.sqrt(a[a > 0])
    col_w = np.zeros_like(b)
    col_w[b > 0] = 1.0 / np.sqrt(b[b > 0])
    return row_w, col_w


def expected_totals(totals, mean=None, variance=None):
    """Each pixel's expected total count: its own, shrunk towards the mean by its Poisson noise.

    The ``"composition"`` data space divides a pixel's spectrum by its
    brightness. Its own total is a noisy estimate of it at low dose (2 or 8
    counts where 5 are expected), which would multiply the counting noise.
    With ``a`` the totals, ``m`` their mean and ``v`` their variance over the
    map, of which ``m`` is Poisson noise (the variance of a Poisson count is
    its mean), the empirical-Bayes (James–Stein) estimate is
    ``m + w (a - m)`` with ``w = max(v - m, 0) / v``: the pixel's own total
    where brightness varies far more than the counts (``w`` is 0.97 on the
    study's map at 336 counts per pixel), the mean where the counts are all
    noise. A pixel whose total lies far outside its Poisson noise (a bright
    grain, a shadowed corner) keeps its own total: its weight is at least the
    positive-part James–Stein factor of its own deviation,
    ``1 - m / (a - m)**2``.

    Parameters
    ----------
    totals : numpy.ndarray
        Total counts of the pixels that have counts (all positive).
    mean, variance : float, optional
        ``m`` and ``v`` over the whole map, when ``totals`` are only a part of
        it (a block of a single pass); default: those of ``totals``.

    Returns
    -------
    numpy.ndarray
        The expected totals, positive.
    """
    totals = np.asarray(totals, dtype=float)
    mean = float(totals.mean()) if mean is None else float(mean)
    variance = float(totals.var()) if variance is None else float(variance)
    weight = max(variance - mean, 0.0) / variance if variance > 0 else 0.0
    deviation = totals - mean
    with np.errstate(divide="ignore"):
        own = np.clip(1.0 - mean / deviation**2, 0.0, 1.0)
    return mean + np.maximum(weight, own) * deviation


def count_aware_bin_side(counts_per_pixel):
    """Side of the square of neighbouring pixels whose summed spectra give the principal axes.

    Parameters
    ----------
    counts_per_pixel : float
        Mean total counts of the pixels that have counts.

    Returns
    -------
    int
        1 from :data:`AXES_MIN_COUNTS` counts per pixel on; below,
        ``k = ceil(sqrt(AXES_MIN_COUNTS / counts_per_pixel))`` (4 at 5 counts
        per pixel, 2 at 20 to 79), so that a ``k x k`` bin (``k**2`` pixels
        along a line scan) has at least about :data:`AXES_MIN_COUNTS` counts.
    """
    if not counts_per_pixel > 0 or counts_per_pixel >= AXES_MIN_COUNTS:
        return 1
    return int(np.ceil(np.sqrt(AXES_MIN_COUNTS / counts_per_pixel)))


def _bin_last_axes(values, side, n_axes):
    """Sum ``side``-wide bins over the last ``n_axes`` navigation axes (zero-padded)."""
    nav_ndim = values.ndim - 1
    pad = [(0, 0)] * values.ndim
    for axis in range(nav_ndim - n_axes, nav_ndim):
        pad[axis] = (0, (-values.shape[axis]) % side)
    values = np.pad(values, pad)
    shape = list(values.shape[: nav_ndim - n_axes])
    for axis in range(nav_ndim - n_axes, nav_ndim):
        shape += [values.shape[axis] // side, side]
    binned = values.reshape(shape + [values.shape[-1]])
    first = nav_ndim - n_axes
    return binned.sum(axis=tuple(first + 2 * i + 1 for i in range(n_axes)))


def binned_weighted_rows(raw, keep, col_w, side):
    """Sum neighbouring pixels, then apply the Keenan–Kotula weights of the sums.

    Parameters
    ----------
    raw : numpy.ndarray
        ``(*navigation_shape, n_channels)`` counts of a block (float32), masked
        pixels zeroed.
    keep : numpy.ndarray of bool
        ``navigation_shape`` pixels in use.
    col_w : numpy.ndarray
        Column weights (``1 / sqrt`` of the mean spectrum).
    side : int
        Bins are ``side x side`` pixels over the last two navigation axes
        (``side**2`` pixels along a line scan); partial bins at the block's
        edges sum fewer.

    Returns
    -------
    rows : numpy.ndarray
        ``(n_bins, n_channels)`` weighted sums, zero for bins without counts.
    used : numpy.ndarray of bool
        ``(n_bins,)`` bins with kept pixels and counts.
    """
    n_axes = min(raw.ndim - 1, 2)
    width = side if n_axes == 2 else side * side
    rows = _bin_last_axes(raw, width, n_axes)
    kept = _bin_last_axes(keep[..., None].astype(np.int32), width, n_axes)[..., 0] > 0
    rows = rows.reshape(-1, raw.shape[-1])
    kept = kept.reshape(-1)
    totals = rows.sum(1, dtype=np.float64)
    used = kept & (totals > 0)
    row_w = np.zeros(len(rows))
    row_w[used] = 1.0 / np.sqrt(totals[used])
    rows *= (row_w[:, None] * col_w[None, :]).astype(rows.dtype, copy=False)
    return rows, used


def score_noise_covariance(weights, mean_weighted_counts):
    """Covariance of the Poisson noise of one pixel's count-weighted scores.

    A pixel's scores are ``f_i * x_i @ W`` (``W`` the channel weights of the
    projection, ``f_i`` its row factor); with Poisson counts
    ``var(x_ij) = E x_ij``, their noise covariance averaged over the pixels is
    ``W^T diag(m) W`` with ``m_j = mean_i f_i**2 x_ij``.

    Parameters
    ----------
    weights : numpy.ndarray
        ``(n_channels, n_components)`` projection ``W``.
    mean_weighted_counts : numpy.ndarray
        ``(n_channels,)`` ``m``.

    Returns
    -------
    numpy.ndarray
        ``(n_components, n_components)`` symmetric covariance.
    """
    m = np.clip(np.asarray(mean_weighted_counts, dtype=float), 0.0, None)
    cov = weights.T @ (m[:, None] * weights)
    return 0.5 * (cov + cov.T)
