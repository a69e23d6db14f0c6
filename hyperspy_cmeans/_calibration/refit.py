"""Final fit of a calibration: peak positions from line templates, then the line.

Each peak matched to a candidate is refitted with the shape of all the
candidate's unresolved lines (and of its overlapping neighbours) at the
current calibration, which removes the bias of a single Gaussian on a blend;
the straight line is then refitted through those positions, rejecting the
lines that do not fit (:func:`~hyperspy_cmeans._calibration.linefit.clip_lines`),
a few times.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperspy_cmeans._calibration.linefit import clip_lines, scale_is_constrained
from hyperspy_cmeans._calibration.peaks import estimate_noise_gain, fit_line_template
from hyperspy_cmeans._calibration.search import ENERGY_FLOOR, checked_lines, match_pairs

__all__ = ["FinalFit", "final_fit"]


@dataclass
class FinalFit:
    """Outcome of :func:`final_fit`.

    Attributes
    ----------
    scale, offset : float
        keV per channel and keV.
    cov : numpy.ndarray
        Covariance of ``(offset, scale)``.
    tau : float
        Extra scatter of the fitted lines, keV.
    free_scale : bool
        Whether the scale was fitted.
    channel, channel_std, sigma : dict
        Candidate index -> fitted peak channel, its standard error (channels)
        and the energy uncertainty used in the fit (keV), for every matched
        candidate.
    peak_of : dict
        Candidate index -> index of its peak in the peak table.
    fitted : list of int
        Candidates used in the fit.
    rejected : dict
        Candidate index -> ``(miss, limit)`` in keV, for the candidates
        rejected because they miss the line through the others.
    """

    scale: float
    offset: float
    cov: np.ndarray
    tau: float
    free_scale: bool
    channel: dict
    channel_std: dict
    sigma: dict
    peak_of: dict
    fitted: list
    rejected: dict


def final_fit(y, solution, peaks, lines, n, prior_scale=None, n_iter=2):
    """Refit the matched peaks with their line templates, then the straight line.

    Parameters
    ----------
    y : numpy.ndarray
        The spectrum.
    solution : Solution
        The refined calibration to start from.
    peaks : PeakTable
        Peaks of the spectrum.
    lines : LineArrays
        Candidate lines.
    n : int
        Number of channels.
    prior_scale : float, optional
        Scale kept when the matched lines cannot fix it (see
        :func:`~hyperspy_cmeans._calibration.linefit.scale_is_constrained`);
        without it the scale is always fitted.
    n_iter : int, default 2
        Rounds of matching, template fitting and line fitting.

    Returns
    -------
    FinalFit
        The calibration; its ``fitted`` list is empty if no line could be
        fitted.
    """
    gain = estimate_noise_gain(y)
    scale, offset = solution.scale, solution.offset
    cov, tau, free, fitted, rejected = np.zeros((2, 2)), 0.0, solution.free_scale, [], {}
    chan, chan_std, sigma, peak_of = {}, {}, {}, {}
    for _ in range(n_iter):
        pairs = match_pairs(scale, offset, peaks, lines, n)
        chan, chan_std, sigma, peak_of = _positions(y, scale, offset, pairs, peaks, lines, gain)
        keys = [j for _, j in pairs if not lines.unfit[j]]
        if not keys:
            fitted, rejected = [], {}
            break
        x = np.array([chan[j] for j in keys])
        e, s = lines.energy[keys], np.array([sigma[j] for j in keys])
        groups = lines.group[keys]
        at, limit, _ = checked_lines(scale, offset, lines, n)
        free = prior_scale is None or scale_is_constrained(x, e, s, groups, at, limit)
        fit = clip_lines(
            x, e, s, lines.fwhm[keys], ~lines.strong[keys], free, None if free else prior_scale
        )
        if free and prior_scale is not None and fit is not None:
            kept = np.array(fit.kept)
            if not scale_is_constrained(x[kept], e[kept], s[kept], groups[kept], at, limit):
                # the lines left after rejection cannot fix the scale: keep the axis scale
                free = False
                fit = clip_lines(x, e, s, lines.fwhm[keys], ~lines.strong[keys], False, prior_scale)
        if fit is None:
            fitted, rejected = [], {}
            break
        scale, offset, cov, tau = fit.scale, fit.offset, fit.cov, fit.tau
        fitted = [keys[k] for k in fit.kept]
        rejected = {keys[k]: v for k, v in fit.rejected.items()}
    return FinalFit(scale, offset, cov, tau, free, chan, chan_std, sigma, peak_of, fitted, rejected)


def _positions(y, scale, offset, pairs, peaks, lines, gain):
    """Template-fitted channel, its error and energy uncertainty of each matched line."""
    chan, chan_std, sigma, peak_of = {}, {}, {}, {}
    for i, j in pairs:
        peak_of[j] = i
        fitted = template_position(y, scale, offset, j, lines, gain)
        if fitted is None:  # fall back to the single-peak fit
            chan[j], chan_std[j], sys_err = (
                peaks.position[i],
                peaks.position_std[i],
                lines.spread[j],
            )
        else:
            (chan[j], chan_std[j]), sys_err = fitted, 0.0
        sigma[j] = float(np.sqrt((scale * chan_std[j]) ** 2 + sys_err**2 + ENERGY_FLOOR**2))
    return chan, chan_std, sigma, peak_of


def template_position(y, scale, offset, j, lines, gain):
    """Channel of candidate ``j``'s energy from a template fit, or None.

    Parameters
    ----------
    y : numpy.ndarray
        The spectrum.
    scale, offset : float
        Current calibration.
    j : int
        Candidate index.
    lines : LineArrays
        Candidate lines (their ``model`` holds every line, weak ones too).
    gain : float
        Noise variance-to-mean ratio of ``y``.

    Returns
    -------
    tuple of float or None
        ``(channel, channel_std)``, or None if the fit failed.
    """
    cand = lines.candidates[j]

    def components(c):
        groups = np.asarray(c.member_groups)
        pos = (np.asarray(c.member_energies) - offset) / scale
        wts = np.asarray(c.member_weights)
        sig = np.asarray(c.member_fwhm) / 2.3548 / scale
        return [(pos[groups == g], wts[groups == g], sig[groups == g]) for g in np.unique(groups)]

    comps = components(cand)
    pos, sig = comps[0][0], comps[0][2]
    half = max(3.0 * sig.max(), 3.0)
    lo = int(np.floor(pos.min() - half))
    hi = int(np.ceil(pos.max() + half)) + 1
    # overlapping neighbours: each line with its own amplitude, since their
    # relative intensities are the least certain part of the model
    for other in lines.model:
        if other is cand:
            continue
        for opos, _, osig in components(other):
            for p, s in zip(opos, osig, strict=True):
                if p + 3.0 * s > lo and p - 3.0 * s < hi:
                    comps.append((np.array([p]), np.array([1.0]), np.array([s])))
    out = fit_line_template(y, lo, hi, comps, noise_gain=gain, max_shift=lines.tol[j] / scale)
    if out is None:
        return None
    shift, shift_std = out
    return (cand.energy - offset) / scale + shift, shift_std
