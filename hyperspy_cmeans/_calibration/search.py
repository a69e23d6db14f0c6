"""Search for the (scale, offset) that matches the peaks of a spectrum to lines.

Everything here works on channel indices and keV, on NumPy arrays:

1. :func:`pair_hypotheses` turns every pair of strong peaks matched to every
   pair of strong candidate lines into a hypothesis ``energy = offset + scale
   * channel``, kept when it lies inside the plausible ranges and both peaks
   are as wide as the detector resolution allows at their lines;
   :func:`prior_hypotheses` does the same near a rough calibration (the
   current axis), adding one-peak/one-line hypotheses at its scale.
2. :func:`consensus_score` scores hypotheses: every predicted line with a
   width-consistent peak within the tolerance adds the log-significance of
   the peak (times the square root of the line's relative weight), every
   strong line predicted without a peak costs a penalty.
3. :func:`refine` iterates matching and weighted least squares from one
   hypothesis, dropping lines that do not fit (:func:`clip_lines`), and
   scores the result with :func:`fit_score`, which also charges the
   residuals against the detector resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyperspy_cmeans._calibration.linefit import PRECISION_FWHM, clip_lines, scale_is_constrained
from hyperspy_cmeans._calibration.lines import MN_KA, fwhm_at_energy

__all__ = [
    "LineArrays",
    "Solution",
    "agrees_with_prior",
    "checked_lines",
    "consensus_score",
    "distinct",
    "match_pairs",
    "pair_hypotheses",
    "prior_hypotheses",
    "refine",
    "width_ok",
]

N_HYPOTHESIS_PEAKS = 12
WIDTH_RATIO = (0.5, 1.6)
#: Candidates with a relative weight at least this are strong (Ka, La, Ma, ...).
MAIN_WEIGHT = 0.5
#: Relative weight of the lines of a secondary family in the consensus score.
SECONDARY_WEIGHT = 0.25
#: Line-energy / line-shape uncertainty floor, keV.
ENERGY_FLOOR = 0.0001
#: Systematic line-position uncertainty charged in the fit score, fraction of the FWHM.
SYSTEMATIC_FWHM = 0.03
#: A rough calibration is searched within this relative scale error ...
PRIOR_SCALE_WINDOW = 0.025
#: ... and this offset error, keV; a solution agrees with it when the lines
#: it fits are within this window plus the relative one times their energy.
PRIOR_OFFSET_WINDOW = 0.1


class LineArrays:
    """Candidate lines as arrays, with tolerance, width and family links.

    Parameters
    ----------
    candidates : list of CandidateLine
        The line table (model-only entries are kept for the peak shapes).
    tolerance : float or None
        Matching tolerance in eV; None for 0.4 FWHM plus the member spread.
    check_lines : dict, optional
        Name -> energy (keV) of further lines where the calibration must be
        precise (e.g. the lines of the sample), besides the candidates.
    """

    def __init__(self, candidates, tolerance, check_lines=None):
        self.model = list(candidates)
        candidates = [c for c in candidates if not c.model_only]
        self.candidates = candidates
        self.names = [c.name for c in candidates]
        self.energy = np.array([c.energy for c in candidates])
        self.weight = np.array([c.weight for c in candidates])
        self.spread = np.array([c.spread for c in candidates])
        self.ambiguous = np.array([c.ambiguous for c in candidates], dtype=bool)
        self.excluded = np.array([c.excluded for c in candidates], dtype=bool)
        # matched lines that are not fitted
        self.unfit = self.ambiguous | self.excluded
        self.fwhm = fwhm = np.array([c.fwhm for c in candidates])
        # expected peak FWHM (keV) including the unresolved lines
        self.fwhm_eff = np.sqrt(fwhm**2 + (2.3548 * self.spread) ** 2)
        if tolerance is None:
            self.tol = 0.4 * fwhm + self.spread
        else:
            self.tol = np.full(len(candidates), tolerance / 1000.0)
        self.secondary = np.array([c.secondary for c in candidates], dtype=bool)
        # secondary families (Ca L when Ca K is excited) count as weak lines
        self.strong = (self.weight >= MAIN_WEIGHT) & ~self.secondary
        # weight of a match in the consensus score
        self.score_weight = np.sqrt(
            np.minimum(self.weight, 1.0) * np.where(self.secondary, SECONDARY_WEIGHT, 1.0)
        )
        #: detector FWHM at Mn Ka, keV (the line widths follow from it)
        self.resolution = resolution_at_mn_ka(self.energy, self.fwhm) if len(self) else 0.13
        # where the calibration must be precise: the candidates and the
        # lines of interest (those of the sample)
        check_lines = dict(check_lines or {})
        extra = np.array(list(check_lines.values()), dtype=float)
        self.check_names = self.names + list(check_lines)
        self.check_energy = np.concatenate([self.energy, extra])
        extra_fwhm = np.atleast_1d(fwhm_at_energy(extra, self.resolution * 1000.0))
        self.check_fwhm = np.concatenate([self.fwhm, extra_fwhm])
        # element/family of each candidate: lines of one family are not
        # independent constraints on the scale
        keys = [family_key(c.name) for c in candidates]
        index = {key: k for k, key in enumerate(dict.fromkeys(keys))}
        self.group = np.array([index[key] for key in keys], dtype=int)
        # index of the main (strongest) candidate of each candidate's family
        self.main = np.array(
            [
                max(np.flatnonzero(self.group == g), key=lambda k: self.weight[k])
                for g in self.group
            ],
            dtype=int,
        )

    def __len__(self):
        return len(self.energy)


def resolution_at_mn_ka(energy, fwhm):
    """Detector FWHM at Mn Ka (keV) from the FWHM (keV) of lines at ``energy`` (keV).

    Inverts the relation of
    :func:`~hyperspy_cmeans._calibration.lines.fwhm_at_energy` at the
    highest-energy line (away from its low-energy floor).
    """
    k = int(np.argmax(energy))
    e_ev, f_ev = energy[k] * 1000.0, fwhm[k] * 1000.0
    return float(np.sqrt(f_ev**2 - 2.5 * (e_ev - MN_KA * 1000.0))) / 1000.0


def family_key(name):
    """``("Fe", "K")`` for a candidate named ``"Fe_Ka"`` or ``"Fe_Ka+Mn_Kb"``."""
    element, line = name.split("+")[0].split("_")
    return element, line[0]


@dataclass
class Solution:
    """A refined calibration and how well it explains the spectrum.

    Attributes
    ----------
    scale, offset : float
        keV per channel and keV.
    free_scale : bool
        Whether the scale was fitted (False: kept from the rough calibration).
    pairs : list of tuple
        ``(peak index, candidate index)`` of the fitted lines.
    rejected : dict
        Candidate index -> ``(peak index, (miss, limit))`` of matched lines
        left out of the fit because they miss the line through the others by
        ``miss`` keV, more than the ``limit`` allowed.
    score : float
        :func:`fit_score` of the solution.
    origin : str
        ``"search"`` or ``"axis"`` (found near the rough calibration).
    """

    scale: float
    offset: float
    free_scale: bool
    pairs: list
    rejected: dict = field(default_factory=dict)
    score: float = -np.inf
    origin: str = "search"


def width_ok(width_ch, fwhm_eff, scale):
    """Whether measured widths (channels) fit the expected ones at ``scale``."""
    expected = np.sqrt((fwhm_eff / scale) ** 2 + 0.46)  # + channel binning
    ratio = width_ch / expected
    return (ratio > WIDTH_RATIO[0]) & (ratio < WIDTH_RATIO[1])


def _strong_peaks(peaks):
    return np.sort(np.argsort(-peaks.significance)[:N_HYPOTHESIS_PEAKS])


def _strong_lines(lines):
    hl = np.flatnonzero(lines.strong)
    return hl if hl.size >= 2 else np.arange(len(lines))


def pair_hypotheses(peaks, lines, scale_range, offset_range):
    """(scale, offset) from every pair of strong peaks and strong lines.

    Parameters
    ----------
    peaks : PeakTable
        Peaks of the spectrum.
    lines : LineArrays
        Candidate lines.
    scale_range, offset_range : tuple of float
        Plausible scale (keV per channel) and offset (keV).

    Returns
    -------
    numpy.ndarray
        ``(H, 2)`` hypotheses ``(scale, offset)``.
    """
    hp, hl = _strong_peaks(peaks), _strong_lines(lines)
    pa, pb = np.triu_indices(hp.size, 1)
    la, lb = np.triu_indices(hl.size, 1)
    pa, pb, la, lb = hp[pa], hp[pb], hl[la], hl[lb]
    ca, cb = peaks.position[pa][:, None], peaks.position[pb][:, None]
    ea, eb = lines.energy[la][None, :], lines.energy[lb][None, :]
    scale = (eb - ea) / (cb - ca)
    offset = ea - scale * ca
    ok = (scale >= scale_range[0]) & (scale <= scale_range[1])
    ok &= (offset >= offset_range[0]) & (offset <= offset_range[1])
    ok &= width_ok(peaks.width[pa][:, None], lines.fwhm_eff[la][None, :], scale)
    ok &= width_ok(peaks.width[pb][:, None], lines.fwhm_eff[lb][None, :], scale)
    return np.column_stack([scale[ok], offset[ok]])


def prior_hypotheses(peaks, lines, prior):
    """Hypotheses near a rough calibration ``prior = (scale, offset)``.

    The prior itself, the pair hypotheses within
    :data:`PRIOR_SCALE_WINDOW` and :data:`PRIOR_OFFSET_WINDOW` of it, and
    one peak matched to one line at the prior's scale when the prior already
    places that line within the matching tolerance of the peak (which is all
    a single line family can give).

    Returns
    -------
    numpy.ndarray
        ``(H, 2)`` hypotheses ``(scale, offset)``.
    """
    s0, o0 = prior
    srange = (s0 * (1 - PRIOR_SCALE_WINDOW), s0 * (1 + PRIOR_SCALE_WINDOW))
    orange = (o0 - PRIOR_OFFSET_WINDOW, o0 + PRIOR_OFFSET_WINDOW)
    pairs = pair_hypotheses(peaks, lines, srange, orange)
    hp, hl = _strong_peaks(peaks), _strong_lines(lines)
    offset = lines.energy[hl][None, :] - s0 * peaks.position[hp][:, None]
    ok = np.abs(offset - o0) <= lines.tol[hl][None, :]
    ok &= width_ok(peaks.width[hp][:, None], lines.fwhm_eff[hl][None, :], s0)
    singles = np.column_stack([np.full(int(ok.sum()), s0), offset[ok]])
    return np.vstack([[[s0, o0]], pairs, singles])


def agrees_with_prior(solution, prior, lines):
    """Whether a solution agrees with a rough calibration at its fitted lines.

    With a fitted scale, the rough calibration must place each fitted line
    within :data:`PRIOR_OFFSET_WINDOW` plus :data:`PRIOR_SCALE_WINDOW` times
    the line energy of where the solution puts it (a rough start); with the
    scale kept from the rough calibration, within the matching tolerance of
    the line (the axis already placed it).

    Parameters
    ----------
    solution : Solution or FinalFit
        Has ``scale``, ``offset``, ``free_scale`` and the fitted candidates
        (``pairs`` or ``fitted``).
    prior : tuple of float
        Rough ``(scale, offset)``.
    lines : LineArrays
        Candidate lines.

    Returns
    -------
    bool
    """
    keys = [j for _, j in solution.pairs] if hasattr(solution, "pairs") else solution.fitted
    if not keys:
        return False
    energy = lines.energy[keys]
    channel = (energy - solution.offset) / solution.scale
    miss = np.abs(prior[1] + prior[0] * channel - energy)
    if solution.free_scale:
        return bool(np.all(miss <= PRIOR_OFFSET_WINDOW + PRIOR_SCALE_WINDOW * energy))
    return bool(np.all(miss <= lines.tol[keys]))


def _assign(scale, offset, peaks, lines, n):
    """Peak-to-line assignment for each hypothesis.

    Returns the (H, N) index of the line assigned to each peak (-1 for none)
    and the (H, M) boolean "line predicted inside the spectrum".
    """
    pred = (lines.energy[None, :] - offset[:, None]) / scale[:, None]  # (H, M)
    inside = (pred > 0) & (pred < n - 1)
    dist = np.abs(peaks.position[None, :, None] - pred[:, None, :])  # (H, N, M)
    tol = lines.tol[None, None, :] / scale[:, None, None] + 3.0 * peaks.position_std[None, :, None]
    ok = (dist < tol) & inside[:, None, :]
    ok &= width_ok(peaks.width[None, :, None], lines.fwhm_eff[None, None, :], scale[:, None, None])
    norm = np.where(ok, dist / tol, np.inf)
    best = np.argmin(norm, axis=2)
    has = np.isfinite(np.take_along_axis(norm, best[..., None], axis=2)[..., 0])
    return np.where(has, best, -1), inside


def _gain(peaks):
    return np.log(np.maximum(peaks.significance, 1.0))


def _missing_penalty(lines):
    return np.minimum(lines.weight, 1.0) * (lines.strong & ~lines.unfit)


def consensus_score(hyps, peaks, lines, n, chunk=1024):
    """Consensus score of each (scale, offset) hypothesis.

    Parameters
    ----------
    hyps : numpy.ndarray
        ``(H, 2)`` hypotheses.
    peaks : PeakTable
        Peaks of the spectrum.
    lines : LineArrays
        Candidate lines.
    n : int
        Number of channels.
    chunk : int, default 1024
        Hypotheses scored at once (memory).

    Returns
    -------
    numpy.ndarray
        ``(H,)`` scores.
    """
    gain = _gain(peaks)
    line_w = lines.score_weight
    penalty = _missing_penalty(lines)
    out = np.empty(hyps.shape[0])
    m = len(lines)
    for start in range(0, hyps.shape[0], chunk):
        s, o = hyps[start : start + chunk, 0], hyps[start : start + chunk, 1]
        assigned, inside = _assign(s, o, peaks, lines, n)
        contrib = np.zeros((s.size, m))
        hh, ii = np.nonzero(assigned >= 0)
        jj = assigned[hh, ii]
        # one peak per line: keep the best contribution for each line
        np.maximum.at(contrib, (hh, jj), gain[ii] * line_w[jj])
        matched = contrib > 0
        # weak lines count only if the main line of their family is matched
        main_ok = matched[:, lines.main] | ~inside[:, lines.main]
        contrib *= main_ok
        missing = inside & ~matched
        out[start : start + chunk] = contrib.sum(axis=1) - (missing * penalty).sum(axis=1)
    return out


def match_pairs(scale, offset, peaks, lines, n):
    """One-to-one (peak, line) matches of one calibration, weak-line rule applied.

    Returns
    -------
    list of tuple
        ``(peak index, candidate index)``, the most significant peak for each
        line; a weak line only when the main line of its family is matched
        too (or lies outside the spectrum).
    """
    assigned, inside = _assign(np.array([scale]), np.array([offset]), peaks, lines, n)
    assigned, inside = assigned[0], inside[0]
    by_line = {}
    for i, j in enumerate(assigned):
        if j < 0:
            continue
        if j not in by_line or peaks.significance[i] > peaks.significance[by_line[j]]:
            by_line[j] = i
    matched = set(by_line)
    return sorted(
        (i, j)
        for j, i in by_line.items()
        if lines.main[j] in matched or not inside[lines.main[j]] or lines.main[j] == j
    )


def checked_lines(scale, offset, lines, n):
    """Where a calibration must be precise: the lines of interest recorded in the spectrum.

    Those are the candidates and ``lines.check_lines`` that a calibration
    ``(scale, offset)`` places inside the ``n`` channels.

    Returns
    -------
    tuple of numpy.ndarray
        Their channels, the largest standard error allowed on their energy
        (:data:`~hyperspy_cmeans._calibration.linefit.PRECISION_FWHM` times
        the detector FWHM, keV) and their indices in ``lines.check_names``.
    """
    channel = (lines.check_energy - offset) / scale
    inside = np.flatnonzero((channel >= 0) & (channel <= n - 1))
    return channel[inside], PRECISION_FWHM * lines.check_fwhm[inside], inside


def distinct(a, b, n):
    """Whether two calibrations differ by more than two channels anywhere on the axis."""
    ds, do = a[0] - b[0], a[1] - b[1]
    return max(abs(do), abs(do + ds * (n - 1))) > 2.0 * min(a[0], b[0])


def _position_sigma(scale, ii, jj, peaks, lines):
    """Energy uncertainty (keV) of the peak positions used in the refinement."""
    return np.sqrt((scale * peaks.position_std[ii]) ** 2 + lines.spread[jj] ** 2 + ENERGY_FLOOR**2)


def refine(hyp, peaks, lines, n, scale_range, offset_range, prior_scale=None, max_iter=10):
    """Iterated matching and weighted least squares from one hypothesis.

    Parameters
    ----------
    hyp : tuple of float
        Starting ``(scale, offset)``.
    peaks, lines, n
        As in :func:`consensus_score`.
    scale_range, offset_range : tuple of float
        Plausible ranges; a solution far outside them is dropped.
    prior_scale : float, optional
        The scale of a rough calibration: when the matched lines cannot fix
        the scale (see :func:`~hyperspy_cmeans._calibration.linefit.scale_is_constrained`),
        only the offset is fitted and this scale is kept. Without it, the
        scale is always fitted.
    max_iter : int, default 10
        Largest number of match-and-fit rounds.

    Returns
    -------
    Solution or None
        None if no line (with ``prior_scale``) or fewer than two lines
        (without) stay matched, or the solution leaves the plausible ranges.
    """
    scale, offset = float(hyp[0]), float(hyp[1])
    previous, result = None, None
    for _ in range(max_iter):
        pairs = [
            (i, j) for i, j in match_pairs(scale, offset, peaks, lines, n) if not lines.unfit[j]
        ]
        if tuple(pairs) == previous:
            break
        previous = tuple(pairs)
        if len(pairs) < (1 if prior_scale is not None else 2):
            return None
        ii, jj = (np.array(a) for a in zip(*pairs, strict=True))
        x, e = peaks.position[ii], lines.energy[jj]
        sigma = _position_sigma(scale, ii, jj, peaks, lines)
        at, limit, _ = checked_lines(scale, offset, lines, n)
        free = prior_scale is None or scale_is_constrained(x, e, sigma, lines.group[jj], at, limit)
        if not free:
            scale = prior_scale
        fit = clip_lines(x, e, sigma, lines.fwhm[jj], ~lines.strong[jj], free, scale)
        if fit is None:
            return None
        offset, scale = fit.offset, fit.scale
        margin = 0.1 * (offset_range[1] - offset_range[0])
        if not (
            0.9 * scale_range[0] <= scale <= 1.1 * scale_range[1]
            and offset_range[0] - margin <= offset <= offset_range[1] + margin
        ):
            return None
        result = Solution(
            scale,
            offset,
            free,
            [pairs[k] for k in fit.kept],
            {pairs[k][1]: (pairs[k][0], fit.rejected[k]) for k in fit.rejected},
        )
    if result is None:
        return None
    result.score = fit_score(result, peaks, lines, n)
    return result


def fit_score(solution, peaks, lines, n):
    """Consensus of a refined solution, charged for its residuals.

    Every fitted line adds the log-significance of its peak (times the square
    root of its weight) and costs half its squared residual in units of its
    position uncertainty, which includes a systematic part of
    :data:`SYSTEMATIC_FWHM` times the detector FWHM; matched lines that are
    not fitted (overlaps, exclusions) add their consensus share; strong lines
    predicted inside the spectrum without any peak cost their weight.

    Returns
    -------
    float
        The score (higher is better).
    """
    s, o = solution.scale, solution.offset
    gain = _gain(peaks)
    line_w = lines.score_weight
    score = 0.0
    accounted = set()
    for i, j in solution.pairs:
        residual = lines.energy[j] - (o + s * peaks.position[i])
        sigma = np.hypot(
            float(_position_sigma(s, np.array([i]), np.array([j]), peaks, lines)[0]),
            SYSTEMATIC_FWHM * lines.fwhm[j],
        )
        score += gain[i] * line_w[j] - 0.5 * (residual / sigma) ** 2
        accounted.add(j)
    pred = (lines.energy - o) / s
    inside = (pred > 0) & (pred < n - 1)
    for i, j in match_pairs(s, o, peaks, lines, n):
        if j not in accounted and lines.unfit[j]:
            score += gain[i] * line_w[j]
            accounted.add(j)
    accounted |= set(solution.rejected)
    missing = inside & ~np.isin(np.arange(len(lines)), list(accounted))
    return float(score - (missing * _missing_penalty(lines)).sum())
