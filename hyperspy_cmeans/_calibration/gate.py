"""The quality gate an energy calibration must pass before it is written.

A calibration is accepted only if

* enough independent lines are fitted: with a fitted scale at least
  :data:`MIN_LINES_SEARCH` well-measured lines (position known to
  :data:`PRECISE_FWHM` of the FWHM; :data:`MIN_LINES` when refining the axis)
  of at least :data:`MIN_GROUPS` elements or line families, which give the
  energy of every candidate line recorded in the spectrum to
  :data:`~hyperspy_cmeans._calibration.linefit.PRECISION_FWHM` of the
  detector FWHM (with their errors and extra scatter, and at least
  :data:`~hyperspy_cmeans._calibration.linefit.SYSTEMATIC_FLOOR` each);
  with the scale kept from the axis, at least one line, which the axis
  already placed within the matching tolerance, the strongest of them at
  least :data:`MIN_OFFSET_SIGNIFICANCE` noise standard deviations strong;
* the residuals are consistent with the detector resolution: their rms
  (weighted by the inverse variance of each line position plus a systematic
  :data:`~hyperspy_cmeans._calibration.search.SYSTEMATIC_FWHM` of the FWHM,
  so that uncertain blends count less) is at most :data:`RMS_FRACTION` of
  the FWHM at Mn Ka (or three times the median statistical error, for weak
  peaks), and none exceeds a quarter of the FWHM at its line (lines that
  miss by more were already rejected);
* it is clearly better than the next-best distinct calibration: its score
  (log-significance of the matched peaks minus the residual and missing-line
  charges, see :func:`~hyperspy_cmeans._calibration.search.fit_score`) beats
  the rival's by :data:`MARGIN`, unless the current axis already agreed with
  it (then the axis breaks the tie).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperspy_cmeans._calibration.linefit import STRONG_LIMITS, prediction_error
from hyperspy_cmeans._calibration.search import SYSTEMATIC_FWHM, checked_lines

__all__ = [
    "MARGIN",
    "MIN_GROUPS",
    "MIN_LINES",
    "MIN_LINES_SEARCH",
    "MIN_OFFSET_SIGNIFICANCE",
    "PRECISE_FWHM",
    "RMS_FRACTION",
    "QualityGate",
    "evaluate_gate",
]

MIN_LINES = 3
#: Without a rough calibration two of the lines fix the hypothesis, so two
#: more are needed to test it.
MIN_LINES_SEARCH = 4
MIN_GROUPS = 2
#: A line counts towards those numbers when its peak position is known to
#: this fraction of the detector FWHM (one standard error).
PRECISE_FWHM = 0.05
#: Peaks that alone fix the offset (scale kept) must be at least this significant.
MIN_OFFSET_SIGNIFICANCE = 10.0
RMS_FRACTION = 0.06
#: Score difference (log-significance units) between two solutions that are
#: nearly equally good.
MARGIN = 3.0


@dataclass(frozen=True)
class QualityGate:
    """The numbers of the quality gate of an energy calibration.

    Attributes
    ----------
    passed : bool
        Whether the calibration may be written.
    reasons : tuple of str
        Why not (empty if passed).
    mode : str
        ``"search"`` (found from the peaks alone), ``"refine"`` (the axis
        already placed the lines; scale and offset refined) or ``"offset"``
        (the lines cannot fix the scale: the axis scale is kept and the
        offset refined).
    n_lines : int
        Number of fitted lines.
    n_precise : int
        Number of them whose position is known to :data:`PRECISE_FWHM` of
        the detector FWHM.
    n_groups : int
        Number of distinct elements/line families among them.
    energy_range : tuple of float
        Lowest and highest fitted line energy, keV: the range the
        calibration is constrained in.
    scale_precision : float
        Relative standard error of the scale (0 when it was kept).
    line_error : float
        Largest standard error of the calibrated energy of a candidate line
        recorded in the spectrum, eV (with each fitted line's uncertainty at
        least the systematic floor).
    line_error_limit : float
        What was allowed there, eV.
    rms : float
        Weighted rms residual of the fitted lines, eV.
    rms_limit : float
        Largest rms accepted, eV.
    max_residual : float
        Largest residual as a fraction of the detector FWHM at its line.
    scatter : float
        Extra scatter of the line positions fitted beyond their statistical
        errors, eV.
    score : float
        Score of the calibration.
    rival : tuple of float or None
        ``(scale, offset)`` (keV per channel, keV) of the next-best distinct
        calibration, if any.
    rival_score : float
        Its score (-inf if none).
    margin : float
        ``score - rival_score``.
    margin_required : float
        The margin needed: :data:`MARGIN` in a search, ``-MARGIN`` when the
        axis agrees with the solution (a rival may then score up to
        :data:`MARGIN` more).
    """

    passed: bool
    reasons: tuple
    mode: str
    n_lines: int
    n_precise: int
    n_groups: int
    energy_range: tuple
    scale_precision: float
    line_error: float
    line_error_limit: float
    rms: float
    rms_limit: float
    max_residual: float
    scatter: float
    score: float
    rival: tuple | None
    rival_score: float
    margin: float
    margin_required: float

    def summary(self):
        """The gate's numbers as text.

        Returns
        -------
        str
            One line per criterion, with the verdict.
        """
        lo, hi = self.energy_range
        rival = (
            f"next best scale {self.rival[0] * 1000:.3f} eV/channel, offset "
            f"{self.rival[1]:.4f} keV: score {self.score:.1f} vs {self.rival_score:.1f} "
            f"(margin {self.margin:.1f}, needed {self.margin_required:.1f})"
            if self.rival is not None
            else f"no other calibration explains the peaks (score {self.score:.1f})"
        )
        rows = [
            f"quality gate: {'passed' if self.passed else 'FAILED'} ({self.mode})",
            f"  lines fitted: {self.n_lines} ({self.n_precise} well measured) from "
            f"{self.n_groups} elements/families, {lo:.3f}-{hi:.3f} keV",
            f"  precision: scale {self.scale_precision * 100:.3f} %, line energies "
            f"{self.line_error:.1f} eV (limit {self.line_error_limit:.1f} eV)",
            f"  rms residual: {self.rms:.2f} eV (limit {self.rms_limit:.1f} eV), largest "
            f"{self.max_residual:.2f} FWHM, extra scatter {self.scatter:.2f} eV",
            f"  {rival}",
        ]
        rows += [f"  refused: {reason}" for reason in self.reasons]
        return "\n".join(rows)


def evaluate_gate(
    fit, residuals, significance, mode, lines, n, agrees, score, rival, rival_score, axis_decided
):
    """Check a final fit against the quality criteria.

    Parameters
    ----------
    fit : FinalFit
        The final fit.
    residuals : numpy.ndarray
        Residuals of the fitted lines, keV.
    significance : numpy.ndarray
        Significance of their peaks.
    mode : str
        ``"search"``, ``"refine"`` or ``"offset"``.
    lines : LineArrays
        Candidate lines.
    n : int
        Number of channels.
    agrees : bool
        Whether the final fit still agrees with the axis it refined (see
        :func:`~hyperspy_cmeans._calibration.search.agrees_with_prior`;
        True in ``"search"`` mode).
    score : float
        Score of the solution.
    rival : tuple of float or None
        Next-best distinct ``(scale, offset)``.
    rival_score : float
        Its score.
    axis_decided : bool
        Whether the current axis chose this solution among near-equal ones.

    Returns
    -------
    QualityGate
        The numbers and the verdict.
    """
    numbers = _measure(fit, residuals, lines, n)
    # when the axis agrees with the solution, it breaks near-ties
    required = -MARGIN if axis_decided or mode != "search" else MARGIN
    margin = score - rival_score
    reasons = _line_reasons(fit, numbers, significance, mode)
    reasons += _fit_reasons(numbers, agrees)
    if rival is not None and margin < required:
        reasons.append(
            f"ambiguous: another calibration (scale {rival[0] * 1000:.3f} eV/channel, offset "
            f"{rival[1]:.3f} keV) explains the peaks {'better' if margin < 0 else 'nearly as well'}"
            f" (score {score:.1f} vs {rival_score:.1f}, a margin of {required:.0f} is needed)"
        )
    energy = numbers["energy"]
    return QualityGate(
        passed=not reasons,
        reasons=tuple(reasons),
        mode=mode,
        n_lines=energy.size,
        n_precise=numbers["n_precise"],
        n_groups=numbers["n_groups"],
        energy_range=(float(energy.min()), float(energy.max())) if energy.size else (np.nan,) * 2,
        scale_precision=float(np.sqrt(fit.cov[1, 1]) / fit.scale) if fit.free_scale else 0.0,
        line_error=numbers["line_error"] * 1000.0,
        line_error_limit=numbers["line_limit"] * 1000.0,
        rms=numbers["rms"] * 1000.0,
        rms_limit=numbers["rms_limit"] * 1000.0,
        max_residual=numbers["worst"],
        scatter=fit.tau * 1000.0,
        score=float(score),
        rival=None if rival is None else (float(rival[0]), float(rival[1])),
        rival_score=float(rival_score),
        margin=float(margin),
        margin_required=float(required),
    )


def _measure(fit, residuals, lines, n):
    """The numbers the gate judges, from a final fit (energies in keV)."""
    keys = list(fit.fitted)
    energy, fwhm = lines.energy[keys], lines.fwhm[keys]
    stat = np.array([fit.sigma[j] for j in keys])
    out = {
        "energy": energy,
        "n_groups": int(np.unique(lines.group[keys]).size),
        # lines measured well enough to confirm a match: a chance alignment of
        # a peak within a twentieth of the FWHM is unlikely
        "n_precise": int(np.sum(stat <= PRECISE_FWHM * fwhm)),
        "rms": np.nan,
        "rms_limit": RMS_FRACTION * lines.resolution,
        "worst": np.nan,
        "line_error": 0.0,
        "line_limit": 0.0,
        "worst_line": None,
    }
    if not keys:
        return out
    # lines whose position is uncertain (blends, weak peaks) count less
    weight = 1.0 / (stat**2 + (SYSTEMATIC_FWHM * fwhm) ** 2)
    out["rms"] = float(np.sqrt(np.sum(weight * residuals**2) / np.sum(weight)))
    out["rms_limit"] = max(out["rms_limit"], 3.0 * float(np.median(stat)))
    out["worst"] = float(np.max(np.abs(residuals) / fwhm))
    at, limit, where = checked_lines(fit.scale, fit.offset, lines, n)
    if at.size:
        x = np.array([fit.channel[j] for j in keys])
        known = None if fit.free_scale else fit.scale
        error = prediction_error(x, energy, stat, at, fit.tau, known)
        k = int(np.argmax(error / limit))
        out.update(
            line_error=float(error[k]),
            line_limit=float(limit[k]),
            worst_line=lines.check_names[where[k]],
        )
    return out


def _line_reasons(fit, numbers, significance, mode):
    """Refusals for too few or too weak lines, or an imprecise calibration."""
    energy, n_precise, n_groups = numbers["energy"], numbers["n_precise"], numbers["n_groups"]
    if fit.free_scale:
        min_lines = MIN_LINES_SEARCH if mode == "search" else MIN_LINES
        if n_precise < min_lines or n_groups < MIN_GROUPS:
            return [
                f"only {n_precise} well-measured line(s) of {n_groups} element(s)/famil(ies) "
                f"could be fitted ({energy.size} in all); fitting the scale needs at least "
                f"{min_lines} lines of {MIN_GROUPS}, each placed to {PRECISE_FWHM:g} FWHM"
                + (" without a rough calibration on the axis" if mode == "search" else "")
            ]
        if numbers["line_error"] > numbers["line_limit"]:
            return [
                f"the fitted lines ({energy.min():.2f}-{energy.max():.2f} keV) fix the energy "
                f"of {numbers['worst_line']} only to {numbers['line_error'] * 1000:.1f} eV (a "
                f"tenth of the FWHM, {numbers['line_limit'] * 1000:.1f} eV, is needed)"
            ]
        return []
    if not energy.size:
        return ["no line could be fitted"]
    if np.max(significance) < MIN_OFFSET_SIGNIFICANCE:
        return [
            f"with the scale kept from the axis, the offset rests on peaks no more significant "
            f"than {np.max(significance):.1f} noise standard deviations "
            f"(at least {MIN_OFFSET_SIGNIFICANCE:g} needed)"
        ]
    return []


def _fit_reasons(numbers, agrees):
    """Refusals for residuals the detector resolution does not allow."""
    reasons = []
    if not agrees:
        reasons.append("the refined calibration moved away from the axis it started from")
    if numbers["energy"].size > 1 and numbers["rms"] > numbers["rms_limit"]:
        reasons.append(
            f"the residuals (rms {numbers['rms'] * 1000:.1f} eV) are larger than the detector "
            f"resolution allows ({numbers['rms_limit'] * 1000:.1f} eV): some lines are matched "
            "to the wrong peaks"
        )
    if numbers["worst"] > STRONG_LIMITS[1] + 1e-9:
        reasons.append(f"a fitted line misses by {numbers['worst']:.2f} FWHM")
    return reasons
