"""Energy calibration of an EDS spectrum from its peaks, on plain arrays.

:func:`calibrate_spectrum` runs these steps, each a function of its own:

1. :func:`checked_spectrum` refuses negative (negated, difference) spectra;
   :func:`~hyperspy_cmeans._calibration.peaks.find_spectrum_peaks` finds the
   significant peaks at sub-channel positions.
2. :func:`find_solutions` searches the whole plausible (scale, offset) range
   from pairs of peaks and lines, scores the hypotheses by consensus and
   refines the best ones (:mod:`~hyperspy_cmeans._calibration.search`); with
   a rough calibration (``prior``, the current axis) it also searches near it,
   where a line list that cannot fix the scale (one element, one family)
   still fixes the offset.
3. :func:`choose_solution` takes the best-scoring solution, or, when the
   rough calibration agrees with a solution nearly as good as the best, that
   one (the axis is refined rather than replaced).
4. :func:`~hyperspy_cmeans._calibration.refit.final_fit` refits the matched
   peaks with their line templates and the straight line, rejecting lines
   that do not fit.
5. The quality gate (:mod:`~hyperspy_cmeans._calibration.gate`) accepts the
   result or raises :class:`EnergyCalibrationError` (a ValueError) that says
   why and what to change.
"""

from __future__ import annotations

import numpy as np

from hyperspy_cmeans._calibration.gate import MARGIN, MIN_LINES_SEARCH, evaluate_gate
from hyperspy_cmeans._calibration.peaks import find_spectrum_peaks
from hyperspy_cmeans._calibration.refit import final_fit
from hyperspy_cmeans._calibration.result import (
    EnergyCalibration,
    EnergyCalibrationError,
    LineMatch,
)
from hyperspy_cmeans._calibration.search import (
    PRIOR_OFFSET_WINDOW,
    LineArrays,
    agrees_with_prior,
    consensus_score,
    distinct,
    pair_hypotheses,
    prior_hypotheses,
    refine,
)

__all__ = [
    "DEFAULT_OFFSET_RANGE",
    "DEFAULT_SCALE_RANGE",
    "calibrate_spectrum",
    "check_parameters",
    "checked_spectrum",
    "choose_solution",
    "find_solutions",
]

#: Default range of the energy scale searched, eV per channel.
DEFAULT_SCALE_RANGE = (2.0, 40.0)
#: Default range of the energy of channel 0 searched, keV.
DEFAULT_OFFSET_RANGE = (-2.5, 0.5)
#: Spectra with more than this fraction of their absolute intensity below
#: zero are refused.
NEGATIVE_FRACTION = 0.25

_N_REFINED = 12
_N_REFINED_NEAR = 6


def checked_spectrum(spectrum):
    """The spectrum as a 1D float array, refused if it cannot be EDS counts.

    Parameters
    ----------
    spectrum : array_like
        The spectrum.

    Returns
    -------
    numpy.ndarray
        Its values, non-finite ones set to 0.

    Raises
    ------
    ValueError
        If it has fewer than 8 channels, no finite non-zero value, or is
        negative: a total at or below zero, or more than
        :data:`NEGATIVE_FRACTION` of its absolute intensity below zero (a
        negated or difference spectrum).
    """
    y = np.asarray(spectrum, dtype=float).ravel()
    if y.size < 8:
        raise ValueError(f"The spectrum has {y.size} channels; at least 8 are needed.")
    y = np.where(np.isfinite(y), y, 0.0)
    absolute = float(np.abs(y).sum())
    if absolute == 0:
        raise ValueError("The spectrum is empty (no finite non-zero value); cannot calibrate.")
    negative = float(-y[y < 0].sum())
    if y.sum() <= 0 or negative > NEGATIVE_FRACTION * absolute:
        raise ValueError(
            f"The spectrum is negative ({100 * negative / absolute:.0f} % of its intensity is "
            "below zero): EDS counts are never negative. Calibrate the raw counts, not a "
            "negated, background-subtracted or difference spectrum."
        )
    return y


def _check_range(value, default, name, positive=False):
    if value is None:
        value = default
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair of numbers (low, high).") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi) or (positive and lo <= 0):
        raise ValueError(f"{name} must satisfy {'0 < ' if positive else ''}low < high.")
    return lo, hi


def check_parameters(scale_range, offset_range, tolerance, min_significance):
    """Validate the search parameters of :func:`calibrate_spectrum`.

    Returns
    -------
    tuple
        ``(scale_range, offset_range)`` in keV per channel and keV.

    Raises
    ------
    ValueError
        For a range that is not a finite ``(low, high)`` pair with
        ``low < high`` (and a positive scale), a tolerance that is not a
        positive number of eV, or a ``min_significance`` that is not a finite
        number >= 0.
    """
    smin, smax = _check_range(scale_range, DEFAULT_SCALE_RANGE, "scale_range", positive=True)
    orange = _check_range(offset_range, DEFAULT_OFFSET_RANGE, "offset_range")
    if tolerance is not None and not (np.isfinite(tolerance) and tolerance > 0):
        raise ValueError(f"tolerance must be a positive number of eV, not {tolerance!r}.")
    try:
        significance = float(min_significance)
    except (TypeError, ValueError):
        significance = np.nan
    if not (np.isfinite(significance) and significance >= 0):
        raise ValueError(
            f"min_significance must be a finite number >= 0 (noise standard deviations), "
            f"not {min_significance!r}."
        )
    return (smin / 1000.0, smax / 1000.0), orange


def _usable_prior(prior, scale_range):
    """The rough calibration if it is a plausible one, else None."""
    if prior is None:
        return None
    s0, o0 = (float(v) for v in prior)
    if not (np.isfinite(s0) and np.isfinite(o0)):
        return None
    if not 0.5 * scale_range[0] <= s0 <= 2.0 * scale_range[1]:
        return None
    return s0, o0


def _refine_best(hyps, peaks, lines, n, ranges, k, prior_scale, origin):
    """Refine the ``k`` best distinct hypotheses."""
    if hyps.shape[0] == 0:
        return []
    scores = consensus_score(hyps, peaks, lines, n)
    out, tried = [], []
    for h in np.argsort(-scores, kind="stable"):
        if any(not distinct(hyps[h], hyps[t], n) for t in tried):
            continue
        tried.append(h)
        solution = refine(hyps[h], peaks, lines, n, *ranges, prior_scale=prior_scale)
        if solution is not None:
            solution.origin = origin
            out.append(solution)
        if len(tried) == k:
            break
    return out


def find_solutions(peaks, lines, n, scale_range, offset_range, prior=None):
    """Refined calibrations from the whole search range and near the prior.

    Parameters
    ----------
    peaks : PeakTable
        Peaks of the spectrum.
    lines : LineArrays
        Candidate lines.
    n : int
        Number of channels.
    scale_range, offset_range : tuple of float
        Search ranges, keV per channel and keV.
    prior : tuple of float, optional
        Rough ``(scale, offset)``.

    Returns
    -------
    list of Solution
        Distinct solutions, best score first.
    """
    hyps = pair_hypotheses(peaks, lines, scale_range, offset_range)
    found = _refine_best(
        hyps, peaks, lines, n, (scale_range, offset_range), _N_REFINED, None, "search"
    )
    if prior is not None:
        s0, o0 = prior
        ranges = (
            (min(scale_range[0], s0 * 0.9), max(scale_range[1], s0 * 1.1)),
            (
                min(offset_range[0], o0 - PRIOR_OFFSET_WINDOW),
                max(offset_range[1], o0 + PRIOR_OFFSET_WINDOW),
            ),
        )
        hyps = prior_hypotheses(peaks, lines, prior)
        found += _refine_best(hyps, peaks, lines, n, ranges, _N_REFINED_NEAR, s0, "axis")
    found.sort(key=lambda sol: -sol.score)
    unique = []
    for sol in found:
        if all(distinct((sol.scale, sol.offset), (u.scale, u.offset), n) for u in unique):
            unique.append(sol)
    return unique


def choose_solution(solutions, prior, n, lines):
    """Pick the calibration to fit, and its rival.

    Only viable solutions compete: those with at least
    :data:`~hyperspy_cmeans._calibration.gate.MIN_LINES_SEARCH` fitted lines,
    and those the rough calibration agrees with (see
    :func:`~hyperspy_cmeans._calibration.search.agrees_with_prior`). The
    best-scoring one wins (``"search"``), unless the rough calibration agrees
    with one that scores within :data:`MARGIN` of it: then that one is
    refined (``"refine"``, or ``"offset"`` when its scale was kept).

    Returns
    -------
    tuple
        ``(chosen, rival, mode, axis_decided)``: the rival is the best viable
        solution distinct from the chosen one (or None), ``axis_decided``
        whether the rough calibration broke a near-tie.

    Raises
    ------
    ValueError
        If there is no solution.
    """
    if not solutions:
        raise ValueError(
            "Fewer than two lines matched: no consistent set of at least two resolved lines "
            "was found. Check the elements (all those present), scale_range and offset_range."
        )
    agreeing = [prior is not None and agrees_with_prior(s, prior, lines) for s in solutions]
    viable = [
        s
        for s, ok in zip(solutions, agreeing, strict=True)
        if ok or len(s.pairs) >= MIN_LINES_SEARCH
    ]
    # nothing viable: the best one goes on, to be refused by the gate with its reasons
    best = viable[0] if viable else solutions[0]
    chosen, mode = best, "search"
    near = [
        s
        for s, ok in zip(solutions, agreeing, strict=True)
        if ok and s.score >= best.score - MARGIN
    ]
    if near:
        chosen = near[0]
        mode = "refine" if chosen.free_scale else "offset"
    point = (chosen.scale, chosen.offset)
    rival = next((s for s in viable if distinct((s.scale, s.offset), point, n)), None)
    decided = mode != "search" and rival is not None and rival.score > chosen.score - MARGIN
    return chosen, rival, mode, decided


def _line_matches(fit, lines):
    """The LineMatch list of a final fit, sorted by energy."""
    out = []
    for j in sorted(fit.channel, key=lambda j: lines.energy[j]):
        residual = (lines.energy[j] - (fit.offset + fit.scale * fit.channel[j])) * 1000.0
        note, reason = "", ""
        if j not in fit.fitted:
            if lines.excluded[j]:
                note, reason = "excluded", "excluded"
            elif lines.ambiguous[j]:
                note = "overlap"
                reason = "overlaps " + ", ".join(lines.candidates[j].overlaps)
            elif j in fit.rejected:
                miss, limit = fit.rejected[j]
                note = "outlier"
                reason = (
                    f"outlier: misses the line through the others by {miss * 1000:.1f} eV, "
                    f"limit {limit * 1000:.1f} eV = {limit / lines.fwhm[j]:.2f} FWHM"
                )
            else:
                note, reason = "outlier", "outlier: not fitted"
        out.append(
            LineMatch(
                line=lines.names[j],
                energy=float(lines.energy[j]),
                channel=float(fit.channel[j]),
                channel_std=float(fit.channel_std[j]),
                residual=float(residual),
                fitted=j in fit.fitted,
                note=note,
                peak_index=int(fit.peak_of[j]),
                reason=reason,
            )
        )
    return out


def _refusal(gate):
    """The message of a calibration refused by the gate."""
    hints = []
    text = " ".join(gate.reasons)
    if "line(s)" in text or "fix the energy" in text or "no line" in text:
        hints.append(
            "give all the elements present (coatings and contaminants too; put in exclude "
            "those that should not be fitted) or explicit lines spread over the spectrum"
        )
    if "residuals" in text:
        hints.append(
            "check the elements: a peak of an element not listed (e.g. a carbon coating) may "
            "be taken for a listed line; add that element or exclude the line"
        )
    if "significan" in text or "moved away" in text:
        hints.append("give more elements, with strong lines, or a larger map")
    if "ambiguous" in text:
        hints.append(
            "give more elements, check scale_range/offset_range (the right calibration may lie "
            "outside them), or first set a rough calibration (scale and offset in keV) on the "
            "axis"
        )
    if not hints:
        hints.append("give all the elements present, or a rough calibration on the axis")
    return (
        "Energy calibration refused (nothing was changed): "
        + "; ".join(gate.reasons)
        + ". To fix: "
        + "; or ".join(hints)
        + "."
    )


def calibrate_spectrum(
    spectrum,
    candidates,
    scale_range=None,
    offset_range=None,
    tolerance=None,
    min_significance=6.0,
    prior=None,
    check_lines=None,
):
    """Calibrate the energy axis of a 1D spectrum from its peaks.

    Parameters
    ----------
    spectrum : array_like
        1D spectrum (e.g. the sum of a map over its navigation axes).
    candidates : list of CandidateLine
        Candidate lines, from
        :func:`~hyperspy_cmeans._calibration.lines.build_line_table`.
    scale_range : tuple of float, optional
        Plausible energy scale, eV per channel; default
        :data:`DEFAULT_SCALE_RANGE` (2 to 40).
    offset_range : tuple of float, optional
        Plausible energy of channel 0, keV; default
        :data:`DEFAULT_OFFSET_RANGE` (-2.5 to 0.5).
    tolerance : float, optional
        Largest distance between a peak and a line it is matched to, eV.
        Default: 0.4 times the detector FWHM at the line, plus the spread of
        unresolved lines merged into the candidate.
    min_significance : float, default 6.0
        Peaks less significant than this (net counts over noise) are ignored.
    prior : tuple of float, optional
        A rough calibration ``(scale, offset)`` in keV per channel and keV
        (e.g. the current axis). When it places the lines nearly as well as
        the best solution of the search, it is refined instead (only its
        offset when the lines cannot fix the scale).
    check_lines : dict, optional
        Name -> energy (keV) of lines where the calibration will be used
        (e.g. those of the sample): like the candidate lines recorded in the
        spectrum, they must get their energy to a tenth of the detector FWHM
        for the scale to be fitted (see
        :mod:`~hyperspy_cmeans._calibration.gate`).

    Returns
    -------
    EnergyCalibration
        The calibration, the matches and the quality gate's numbers.

    Raises
    ------
    EnergyCalibrationError
        (a ValueError) If the result fails the quality gate; the message
        says why and what to change, ``error.calibration`` holds the result.
    ValueError
        If a parameter is invalid, the spectrum is negative, or too few
        peaks or lines can be matched.
    """
    y = checked_spectrum(spectrum)
    n = y.size
    ranges = check_parameters(scale_range, offset_range, tolerance, min_significance)
    lines = LineArrays(candidates, tolerance, check_lines)
    prior = _usable_prior(prior, ranges[0])
    if len(lines) < (1 if prior is not None else 2):
        raise ValueError(
            "At least two candidate lines are needed to calibrate (one suffices to refine the "
            "offset of an axis already calibrated in energy units)."
        )
    peaks = find_spectrum_peaks(y, min_significance=min_significance)
    if len(peaks) < (1 if prior is not None else 2):
        raise ValueError(
            f"Too few significant peaks found ({len(peaks)} above {min_significance:g} noise "
            "standard deviations); cannot calibrate."
        )
    solutions = find_solutions(peaks, lines, n, *ranges, prior=prior)
    chosen, rival, mode, decided = choose_solution(solutions, prior, n, lines)
    keep_scale = prior[0] if mode != "search" else None
    fit = final_fit(y, chosen, peaks, lines, n, prior_scale=keep_scale)
    if mode != "search":
        mode = "refine" if fit.free_scale else "offset"
    residuals = np.array(
        [lines.energy[j] - fit.offset - fit.scale * fit.channel[j] for j in fit.fitted]
    )
    gate = evaluate_gate(
        fit,
        residuals,
        peaks.significance[[fit.peak_of[j] for j in fit.fitted]],
        mode,
        lines,
        n,
        mode == "search" or agrees_with_prior(fit, prior, lines),
        chosen.score,
        None if rival is None else (rival.scale, rival.offset),
        -np.inf if rival is None else rival.score,
        decided,
    )
    scale_std = float(np.sqrt(fit.cov[1, 1])) if fit.free_scale else 0.0
    result = EnergyCalibration(
        fit.scale,
        fit.offset,
        scale_std,
        float(np.sqrt(fit.cov[0, 0])),
        _line_matches(fit, lines),
        y,
        peaks,
        gate,
        prior,
    )
    if not gate.passed:
        raise EnergyCalibrationError(_refusal(gate), result)
    return result
