"""Straight-line fits of line energies against peak channels, with outlier rejection.

``energy = offset + scale * channel`` is fitted by weighted least squares.
Each point's variance is its statistical variance plus an extra scatter
``tau**2`` estimated from the residuals (the smallest giving a reduced
chi-square of at most 1), which covers the line-shape systematics of real
detectors (e.g. incomplete charge collection at low energy). With a known
scale only the offset is fitted. Lines that miss the line through the others
by more than the detector resolution allows are rejected one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "LineFitResult",
    "clip_lines",
    "prediction_error",
    "scale_is_constrained",
    "wls",
    "wls_scatter",
]

#: A calibration must give the energy of every candidate line recorded in the
#: spectrum to this fraction of the detector FWHM (one standard error).
PRECISION_FWHM = 0.1
#: Systematic line-position uncertainty (keV) assumed when judging that precision.
SYSTEMATIC_FLOOR = 0.002
#: A point missing the others' line by less than this fraction of the FWHM is
#: never rejected (usual line-shape shifts), by more than the cap always;
#: in between when it misses by more than ``threshold`` standard deviations.
STRONG_LIMITS = (0.10, 0.25)
#: The same for weak lines (Kb, L satellites), which must fit more closely.
WEAK_LIMITS = (0.05, 0.15)


@dataclass
class LineFitResult:
    """Outcome of :func:`clip_lines`.

    Attributes
    ----------
    offset, scale : float
        keV and keV per channel.
    cov : numpy.ndarray
        ``(2, 2)`` covariance of ``(offset, scale)`` (zero scale terms when the
        scale was not fitted).
    tau : float
        Extra scatter, keV.
    kept : list of int
        Indices of the points in the final fit.
    rejected : dict
        Index -> ``(miss, limit)`` in keV for each rejected point: how far
        it was from the line through the others, and the largest distance
        allowed.
    """

    offset: float
    scale: float
    cov: np.ndarray
    tau: float
    kept: list
    rejected: dict


def _wls_batch(x, y, var, mask, scale=None):
    """Weighted fits of ``y = a + b x`` on several subsets of the points at once.

    ``x``, ``y`` are ``(n,)``, ``var`` and ``mask`` (the points of each
    subset) ``(B, n)``. Returns ``a``, ``b`` ``(B,)``, the covariances
    ``(B, 2, 2)`` and the chi-squares ``(B,)``.
    """
    w = np.where(mask, 1.0 / var, 0.0)
    sw = w.sum(axis=1)
    cov = np.zeros((w.shape[0], 2, 2))
    if scale is not None:
        b = np.full(w.shape[0], float(scale))
        a = (w * (y - scale * x)).sum(axis=1) / sw
        cov[:, 0, 0] = 1.0 / sw
    else:
        sx, sy = (w * x).sum(axis=1), (w * y).sum(axis=1)
        sxx, sxy = (w * x * x).sum(axis=1), (w * x * y).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            det = sw * sxx - sx * sx
            b = (sw * sxy - sx * sy) / det
            a = (sy - b * sx) / sw
            cov[:, 0, 0], cov[:, 0, 1], cov[:, 1, 1] = sxx / det, -sx / det, sw / det
        cov[:, 1, 0] = cov[:, 0, 1]
    chi2 = (w * (y - a[:, None] - b[:, None] * x) ** 2).sum(axis=1)
    return a, b, cov, chi2


def _scatter_batch(x, y, sigma, mask, scale=None):
    """:func:`wls_scatter` on several subsets at once (bisection on tau)."""
    dof = mask.sum(axis=1) - (1 if scale is not None else 2)

    def chi2_red(tau):
        chi2 = _wls_batch(x, y, sigma**2 + tau[:, None] ** 2, mask, scale)[3]
        return chi2 / np.maximum(dof, 1)

    tau = np.zeros(mask.shape[0])
    red0 = chi2_red(tau)
    need = (dof > 0) & (red0 > 1.0)
    if need.any():
        lo = np.zeros_like(tau)
        # the reduced chi-square with tau alone is about rms^2 / tau^2: start
        # the bracket a little above, where it is below 1
        a, b, _, _ = _wls_batch(x, y, sigma**2 + np.zeros_like(tau)[:, None], mask, scale)
        r2 = np.where(mask, (y - a[:, None] - b[:, None] * x) ** 2, 0.0).sum(axis=1)
        hi = np.maximum(2.0 * np.sqrt(r2 / np.maximum(dof, 1)), 1e-6)
        while np.any(need & (chi2_red(hi) > 1.0)):
            hi = np.where(need & (chi2_red(hi) > 1.0), 2.0 * hi, hi)
        for _ in range(20):
            mid = 0.5 * (lo + hi)
            above = chi2_red(mid) > 1.0
            lo, hi = np.where(above, mid, lo), np.where(above, hi, mid)
        tau = np.where(need, hi, 0.0)
    a, b, cov, _ = _wls_batch(x, y, sigma**2 + tau[:, None] ** 2, mask, scale)
    return a, b, cov, tau


def wls(x, y, sigma, scale=None):
    """Weighted straight-line fit ``y = a + b x``.

    Parameters
    ----------
    x, y, sigma : numpy.ndarray
        Points and their standard deviations (in ``y``).
    scale : float, optional
        Known slope ``b``: only ``a`` is fitted.

    Returns
    -------
    tuple
        ``(a, b, cov, chi2)``, ``cov`` the covariance of ``(a, b)``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    var = np.asarray(sigma, dtype=float)[None, :] ** 2
    a, b, cov, chi2 = _wls_batch(x, y, var, np.ones_like(var, dtype=bool), scale)
    return float(a[0]), float(b[0]), cov[0], float(chi2[0])


def wls_scatter(x, y, sigma, scale=None):
    """Weighted line fit with an extra scatter estimated from the data.

    Each point's variance is ``sigma**2 + tau**2``, with ``tau`` the smallest
    value giving a reduced chi-square of at most 1 (0 when the points agree
    within their errors, or with no degree of freedom left). This weights by
    counting statistics when the line positions agree, and evenly when
    systematic deviations dominate.

    Parameters
    ----------
    x, y, sigma : numpy.ndarray
        Points and their standard deviations.
    scale : float, optional
        Known slope: only the offset is fitted.

    Returns
    -------
    tuple
        ``(offset, scale, cov, tau)``.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    sigma = np.asarray(sigma, dtype=float)[None, :]
    a, b, cov, tau = _scatter_batch(x, y, sigma, np.ones_like(sigma, dtype=bool), scale)
    return float(a[0]), float(b[0]), cov[0], float(tau[0])


def prediction_error(x, y, sigma, at, tau=0.0, scale=None):
    """Standard error (keV) of the energy a line fit gives at some channels.

    Parameters
    ----------
    x, y, sigma : numpy.ndarray
        Channels, energies (keV) and energy uncertainties (keV) of the fitted
        lines; each uncertainty is combined with ``tau`` (the extra scatter
        seen in the fit), and at least :data:`SYSTEMATIC_FLOOR`.
    at : array_like
        Channels where the error is wanted.
    tau : float, default 0.0
        Extra scatter, keV.
    scale : float, optional
        Known scale (only the offset is fitted).

    Returns
    -------
    numpy.ndarray
        The standard errors, keV.
    """
    cov = wls(x, y, np.hypot(sigma, max(tau, SYSTEMATIC_FLOOR)), scale)[2]
    at = np.asarray(at, dtype=float)
    return np.sqrt(np.maximum(cov[0, 0] + 2 * at * cov[0, 1] + at**2 * cov[1, 1], 0.0))


def scale_is_constrained(x, y, sigma, groups, at, limit):
    """Whether some lines can fix the scale, not only the offset.

    They can when there are at least three, from at least two elements or
    families (the lines of one family move together with the composition and
    detector), and the line fit gives the energy at every channel of ``at``
    (the candidate lines recorded in the spectrum) to within ``limit``, with
    their statistical errors plus :data:`SYSTEMATIC_FLOOR`.

    Parameters
    ----------
    x, y, sigma : numpy.ndarray
        Channels, energies (keV) and energy uncertainties (keV).
    groups : numpy.ndarray
        Element/family index of each line.
    at, limit : numpy.ndarray
        Channels to check and the largest standard error allowed there, keV.

    Returns
    -------
    bool
    """
    if x.size < 3 or np.unique(groups).size < 2 or np.ptp(x) <= 0:
        return False
    return bool(np.all(prediction_error(x, y, sigma, at) <= limit))


def _limits(fwhm, weak):
    low = np.where(weak, WEAK_LIMITS[0], STRONG_LIMITS[0]) * fwhm
    high = np.where(weak, WEAK_LIMITS[1], STRONG_LIMITS[1]) * fwhm
    return low, high


def clip_lines(x, y, sigma, fwhm, weak, free=True, scale=None, threshold=5.0):
    """Fit the line, rejecting the points that do not fit one at a time.

    At each round every point is predicted by the fit of the others; the
    point that misses most (relative to its limit) is rejected if it misses
    by more than its limit: ``threshold`` standard deviations (its own, the
    others' extra scatter and the prediction's), but at least the lower and
    at most the upper fraction of the detector FWHM at the line
    (:data:`STRONG_LIMITS`, :data:`WEAK_LIMITS` for weak lines). Rejection
    stops when two points (one with a fixed scale) are left.

    Parameters
    ----------
    x, y, sigma : numpy.ndarray
        Channels, energies (keV) and their uncertainties (keV).
    fwhm : numpy.ndarray
        Detector FWHM at each line, keV.
    weak : numpy.ndarray of bool
        Weak lines (Kb, L satellites).
    free : bool, default True
        Fit the scale; otherwise keep ``scale`` and fit the offset.
    scale : float, optional
        The scale kept when ``free`` is False.
    threshold : float, default 5.0
        Statistical rejection threshold, in standard deviations.

    Returns
    -------
    LineFitResult or None
        None if there are too few points (two, or one with a fixed scale).
    """
    known = None if free else scale
    minimum = 2 if free else 1
    x, y, sigma = (np.asarray(v, dtype=float) for v in (x, y, sigma))
    if x.size < minimum or (free and np.ptp(x) <= 0):
        return None
    low, high = _limits(np.asarray(fwhm, dtype=float), np.asarray(weak, dtype=bool))
    keep = np.ones(x.size, dtype=bool)
    rejected = {}
    while True:
        offset, slope, cov, tau = _scatter_batch(x, y, sigma[None, :], keep[None, :], known)
        if keep.sum() <= minimum:
            break
        idx = np.flatnonzero(keep)
        # each kept point predicted by the fit of the others
        others = np.repeat(keep[None, :], idx.size, axis=0)
        others[np.arange(idx.size), idx] = False
        o2, s2, c2, t2 = _scatter_batch(x, y, np.broadcast_to(sigma, others.shape), others, known)
        c = x[idx]
        pred_var = c2[:, 0, 0] + 2 * c * c2[:, 0, 1] + c**2 * c2[:, 1, 1]
        miss = np.abs(y[idx] - o2 - s2 * c)
        stat = threshold * np.sqrt(sigma[idx] ** 2 + t2**2 + pred_var)
        limit = np.minimum(np.maximum(stat, low[idx]), high[idx])
        ratio = miss / limit
        if free:  # the others must still span a range of channels
            spans = np.array([np.ptp(x[row]) for row in others])
            ratio = np.where(spans > 0, ratio, 0.0)
        ratio = np.nan_to_num(ratio, nan=0.0)
        worst = int(np.argmax(ratio))
        if ratio[worst] <= 1.0:
            break
        rejected[int(idx[worst])] = (float(miss[worst]), float(limit[worst]))
        keep[idx[worst]] = False
    return LineFitResult(
        float(offset[0]),
        float(slope[0]),
        cov[0],
        float(tau[0]),
        list(np.flatnonzero(keep)),
        rejected,
    )
