"""Peak finding in a summed EDS spectrum, with a noise-based significance.

Peaks are found with :func:`scipy.signal.find_peaks`; each gets a significance
(net peak counts over the noise of the counts under it, the noise variance
being estimated from the data so that scaled or summed counts work too) and a
sub-channel position from a least-squares Gaussian-plus-linear fit.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import special
from scipy.ndimage import gaussian_filter1d
from scipy.optimize import OptimizeWarning, curve_fit
from scipy.signal import find_peaks

__all__ = ["PeakTable", "estimate_noise_gain", "find_spectrum_peaks", "fit_line_template"]

_FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
# median of a chi-square variable with one degree of freedom
_CHI2_1_MEDIAN = 0.454936


@dataclass(frozen=True)
class PeakTable:
    """Peaks found in a spectrum, sorted by position.

    Attributes
    ----------
    position : numpy.ndarray
        Peak centre in (fractional) channels.
    position_std : numpy.ndarray
        Standard error of ``position``, channels.
    width : numpy.ndarray
        FWHM in channels.
    height : numpy.ndarray
        Peak height above the local background, in data units.
    significance : numpy.ndarray
        Net peak counts divided by their noise (a z-score).
    """

    position: np.ndarray
    position_std: np.ndarray
    width: np.ndarray
    height: np.ndarray
    significance: np.ndarray

    def __len__(self):
        return len(self.position)


def estimate_noise_gain(spectrum):
    """Estimate the variance-to-mean ratio of the noise in a spectrum.

    For raw counts (Poisson noise) the ratio is 1; it differs for scaled,
    normalised or smoothed data. It is estimated robustly from the second
    differences, which remove the smooth background and most of the peaks.

    Parameters
    ----------
    spectrum : array_like
        1D spectrum.

    Returns
    -------
    float
        ``variance / mean`` of the noise (0 for noise-free data).
    """
    y = np.asarray(spectrum, dtype=float)
    if y.size < 3:
        return 0.0
    d2 = y[:-2] - 2.0 * y[1:-1] + y[2:]
    mean = (y[:-2] + 4.0 * y[1:-1] + y[2:]) / 6.0
    ok = mean > 0
    if not ok.any():
        return 0.0
    # var(d2) = 6 * gain * mean for independent noise of variance gain * mean
    return float(np.median(d2[ok] ** 2 / (6.0 * mean[ok])) / _CHI2_1_MEDIAN)


def find_spectrum_peaks(spectrum, min_significance=6.0, smoothing=1.0, max_peaks=40):
    """Find the significant peaks of a spectrum and their sub-channel positions.

    Parameters
    ----------
    spectrum : array_like
        1D spectrum (counts, or counts times a constant).
    min_significance : float, default 6.0
        Peaks whose net counts are less than this many standard deviations of
        the noise under them are dropped (noise bumps, weak lines).
    smoothing : float, default 1.0
        Standard deviation, in channels, of the Gaussian smoothing applied
        before :func:`scipy.signal.find_peaks` (the positions are fitted on
        the raw data).
    max_peaks : int, default 40
        Keep at most this many peaks, the most significant.

    Returns
    -------
    PeakTable
        The peaks, sorted by position.
    """
    y = np.nan_to_num(np.asarray(spectrum, dtype=float).ravel())
    n = y.size
    gain = estimate_noise_gain(y)
    # noise floor for noise-free or nearly noise-free data
    floor = (1e-4 * max(np.abs(y).max(), 1e-300)) ** 2
    ys = gaussian_filter1d(y, smoothing) if smoothing else y
    idx, props = find_peaks(ys, prominence=0.0, width=0.0, rel_height=0.5)
    if idx.size == 0:
        return _empty()
    prom = props["prominences"]
    width = np.maximum(props["widths"], 1.0)
    base = np.maximum(ys[idx] - prom, 0.0)
    z = np.array([_significance(y, i, w, gain, floor) for i, w in zip(idx, width, strict=True)])
    keep = z >= min_significance
    idx, prom, width, base, z = idx[keep], prom[keep], width[keep], base[keep], z[keep]
    if max_peaks is not None and idx.size > max_peaks:
        top = np.sort(np.argsort(-z)[:max_peaks])
        idx, prom, width, base, z = idx[top], prom[top], width[top], base[top], z[top]
    pos, pos_std, fwhm, height = [], [], [], []
    for k, i in enumerate(idx):
        # window: 1.5 FWHM each side, but not past the neighbouring peaks
        lo = max(0, int(np.floor(i - 1.5 * width[k])))
        hi = min(n, int(np.ceil(i + 1.5 * width[k])) + 1)
        if k > 0:
            lo = max(lo, (idx[k - 1] + i) // 2 + 1)
        if k + 1 < len(idx):
            hi = min(hi, (idx[k + 1] + i + 1) // 2)
        p, s, w, h = _refine(y, lo, hi, i, prom[k], width[k], base[k], gain, floor)
        pos.append(p)
        pos_std.append(s)
        fwhm.append(w)
        height.append(h)
    return PeakTable(
        position=np.array(pos),
        position_std=np.array(pos_std),
        width=np.array(fwhm),
        height=np.array(height),
        significance=z.astype(float),
    )


def _significance(y, i, width, gain, floor):
    """Net counts within one FWHM of channel i over their noise (a z-score).

    The background is the lower of the mean counts just left and just right
    of the window (robust to a neighbouring peak on one side).
    """
    n = y.size
    h = max(int(np.ceil(width)), 2)
    lo, hi = max(i - h, 0), min(i + h + 1, n)
    left, right = y[max(lo - 3, 0) : lo], y[hi : min(hi + 3, n)]
    sides = [s.mean() for s in (left, right) if s.size]
    if not sides:
        return 0.0
    base = min(sides)
    window = y[lo:hi]
    net = float(np.sum(window - base))
    var = gain * (float(np.sum(np.abs(window))) + window.size**2 * abs(base) / 3.0)
    var += floor * window.size
    return net / np.sqrt(max(var, 1e-300))


def _empty():
    e = np.zeros(0)
    return PeakTable(e, e, e, e, e)


def _gauss_lin(x, a, mu, sigma, b0, b1):
    return a * np.exp(-0.5 * ((x - mu) / sigma) ** 2) + b0 + b1 * (x - mu)


def _refine(y, lo, hi, i, prom, width, base, gain, floor):
    """Gaussian + linear fit of one peak; centroid if the fit is not usable."""
    x = np.arange(lo, hi, dtype=float)
    yy = y[lo:hi]
    sigma0 = width / _FWHM_PER_SIGMA
    err = np.sqrt(np.maximum(gain * np.abs(yy), 0.0) + floor)
    err = np.where(err > 0, err, 1.0)
    if x.size >= 6:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", OptimizeWarning)
                popt, pcov = curve_fit(
                    _gauss_lin,
                    x,
                    yy,
                    p0=(prom, float(i), sigma0, base, 0.0),
                    sigma=err,
                    absolute_sigma=gain > 0,
                    maxfev=2000,
                )
            a, mu, sigma = popt[0], popt[1], abs(popt[2])
            mu_std = float(np.sqrt(pcov[1, 1])) if np.isfinite(pcov[1, 1]) else np.inf
            if (
                a > 0
                and abs(mu - i) < max(width, 1.0)
                and 0.25 * sigma0 < sigma < 3.0 * sigma0
                and np.isfinite(mu_std)
            ):
                return float(mu), max(mu_std, 1e-3), _FWHM_PER_SIGMA * sigma, float(a)
        except (RuntimeError, ValueError):
            pass
    # centroid of the counts above the background, within half a FWHM
    half = max(int(np.ceil(0.5 * width)), 1)
    c_lo, c_hi = max(0, i - half), min(y.size, i + half + 1)
    xc = np.arange(c_lo, c_hi, dtype=float)
    wc = np.maximum(y[c_lo:c_hi] - base, 0.0)
    mu = float(np.average(xc, weights=wc)) if wc.sum() > 0 else float(i)
    return mu, max(0.5 * sigma0, 0.3), float(width), float(prom)


def fit_line_template(spectrum, lo, hi, components, noise_gain=None, max_shift=None):
    """Fit the position of a group of lines of known shape in a spectrum window.

    Each component is a sum of channel-integrated Gaussians with fixed
    relative positions, weights and widths (the lines of an element and
    family); its amplitude is free. The first component also gets a free
    shift, common to all its lines; the others (overlapping neighbours) stay
    where they are. A common width factor and a linear background are fitted
    too.

    Parameters
    ----------
    spectrum : array_like
        1D spectrum.
    lo, hi : int
        Channel window ``[lo, hi)`` to fit.
    components : list of tuple
        ``(positions, weights, sigmas)`` arrays, in channels, for each
        component; the first one is the group whose position is wanted.
    noise_gain : float, optional
        Noise variance-to-mean ratio (see :func:`estimate_noise_gain`);
        estimated from the spectrum by default.
    max_shift : float, optional
        Largest shift allowed, channels; a fit beyond it is rejected (as is
        one whose width factor leaves 0.5 to 2 or whose first amplitude is
        not positive).
        Default: twice the largest Gaussian sigma of the first component, plus
        one channel.

    Returns
    -------
    tuple of float or None
        ``(shift, shift_std)`` of the first component in channels, or None if
        the fit failed or is implausible. The standard error is scaled up by
        the square root of the reduced chi-square when that exceeds 1.
    """
    y = np.nan_to_num(np.asarray(spectrum, dtype=float).ravel())
    gain = estimate_noise_gain(y) if noise_gain is None else noise_gain
    lo, hi = max(int(lo), 0), min(int(hi), y.size)
    if hi - lo < 6:
        return None
    x = np.arange(lo, hi, dtype=float)
    yy = y[lo:hi]
    floor = (1e-4 * max(np.abs(y).max(), 1e-300)) ** 2
    err = np.sqrt(gain * np.abs(yy) + floor)
    comps = [tuple(np.asarray(a, dtype=float) for a in c) for c in components]
    nc = len(comps)
    if x.size < nc + 4 + 3:  # too few channels for the parameters
        return None
    edges_lo, edges_hi = x - 0.5, x + 0.5

    def shape(k, shift, width):
        pos, w, sig = comps[k]
        sig = sig[:, None] * width
        cdf_hi = special.ndtr((edges_hi[None, :] - pos[:, None] - shift) / sig)
        cdf_lo = special.ndtr((edges_lo[None, :] - pos[:, None] - shift) / sig)
        return (w[:, None] * (cdf_hi - cdf_lo)).sum(axis=0)

    def model(_, shift, width, b0, b1, *amps):
        out = b0 + b1 * (x - x.mean())
        for k in range(nc):
            out = out + amps[k] * shape(k, shift if k == 0 else 0.0, width)
        return out

    base = float(np.percentile(yy, 10))
    amp0 = []
    for k in range(nc):
        s1 = shape(k, 0.0, 1.0)
        amp0.append(max(float(np.max(yy - base)) / max(float(s1.max()), 1e-12), 0.0))
    p0 = [0.0, 1.0, base, 0.0, *amp0]
    if max_shift is None:
        max_shift = 2.0 * float(comps[0][2].max()) + 1.0
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            popt, pcov = curve_fit(
                model, x, yy, p0=p0, sigma=err, absolute_sigma=gain > 0,
                maxfev=600,
            )  # fmt: skip
    except (RuntimeError, ValueError):
        return None
    shift, shift_var = float(popt[0]), float(pcov[0, 0])
    if not np.isfinite(shift_var) or popt[4] <= 0 or not 0.5 < popt[1] < 2.0:
        return None
    if abs(shift) >= max_shift:
        return None
    # a poor local fit (reduced chi-square > 1: a line shape or background the
    # model does not describe) makes the position less certain
    dof = max(x.size - len(popt), 1)
    chi2_red = float(np.sum(((yy - model(x, *popt)) / err) ** 2)) / dof
    return shift, max(float(np.sqrt(shift_var * max(chi2_red, 1.0))), 1e-4)
