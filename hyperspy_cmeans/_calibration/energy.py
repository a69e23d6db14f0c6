"""Energy calibration of an EDS spectrum from its peaks.

The search works in channel indices, so it does not depend on the current
calibration of the axis (none, rough or wrong):

1. Significant peaks are found and fitted to sub-channel positions
   (:func:`~hyperspy_cmeans._calibration.peaks.find_spectrum_peaks`).
2. Every pair of strong peaks matched to every pair of strong candidate lines
   gives a hypothesis ``energy = offset + scale * channel``; hypotheses
   outside the plausible scale/offset range, or for which a peak is much
   narrower or wider than the detector resolution allows at that line's
   energy, are dropped.
3. Each hypothesis is scored by consensus: every line it predicts inside the
   spectrum that has a width-consistent peak within the tolerance adds the
   log-significance of that peak (times the square root of the line's
   relative weight, so weak lines count little); every strong line it
   predicts inside the spectrum without a peak costs a penalty.
4. The best distinct hypotheses are refined by iterated matching and
   weighted least squares through the matched (inlier) lines; the refined
   solution with the best score wins. Weak lines (Kb, L satellites) are only
   kept when the main line of their family is matched too. If the winner
   rests on two lines only and a different solution scores nearly as well,
   the match is ambiguous: a rough calibration (``prior``) decides, or a
   ValueError is raised.
5. Each matched peak is refitted with the shape of all its unresolved lines
   (and its overlapping neighbours), which removes the bias of a single
   Gaussian on a blend, and the straight line is refitted by weighted least
   squares whose weights combine the statistical errors with an extra scatter
   estimated from the residuals; gross outliers are dropped one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hyperspy_cmeans._calibration.peaks import (
    estimate_noise_gain,
    find_spectrum_peaks,
    fit_line_template,
)

__all__ = [
    "DEFAULT_OFFSET_RANGE",
    "DEFAULT_SCALE_RANGE",
    "ENERGY_CALIBRATION_NODE",
    "EnergyCalibration",
    "LineMatch",
    "axis_prior",
    "calibrate_spectrum",
    "check_energy_axis",
]

#: Default range of the energy scale searched, eV per channel.
DEFAULT_SCALE_RANGE = (2.0, 40.0)
#: Default range of the energy of channel 0 searched, keV.
DEFAULT_OFFSET_RANGE = (-1.0, 1.0)
#: Where the calibration is recorded in a signal's metadata.
ENERGY_CALIBRATION_NODE = "Signal.Energy_calibration"

_N_HYPOTHESIS_PEAKS = 12
_N_REFINED = 12
_WIDTH_RATIO = (0.5, 1.6)
_MAIN_WEIGHT = 0.5
# solutions whose scores differ by less than this are near-equal
_AMBIGUITY_MARGIN = 3.0
_ENERGY_FLOOR = 0.0001  # keV: line-energy / line-shape uncertainty floor


@dataclass(frozen=True)
class LineMatch:
    """One peak matched to one candidate line.

    Attributes
    ----------
    line : str
        Candidate line name, e.g. ``"Fe_Ka"``.
    energy : float
        Database energy of the line (weight-averaged over unresolved lines), keV.
    channel : float
        Fitted peak position, channels.
    channel_std : float
        Standard error of ``channel``.
    residual : float
        ``energy`` minus the calibrated energy of ``channel``, eV.
    fitted : bool
        Whether the match was used in the least-squares fit.
    note : str
        Why it was not: ``"excluded"`` (by the user), ``"overlap"`` (the line
        overlaps a line of another element, so its peak position depends on
        the composition) or ``"outlier"`` (far off the line through the
        others); empty if fitted.
    peak_index : int
        Index of the matched peak in the result's ``peaks`` table.
    """

    line: str
    energy: float
    channel: float
    channel_std: float
    residual: float
    fitted: bool
    note: str = ""
    peak_index: int = -1


class EnergyCalibration:
    """Result of an energy calibration from peaks.

    Attributes
    ----------
    scale, offset : float
        Calibration ``energy = offset + scale * channel``, keV per channel and
        keV.
    scale_std, offset_std : float
        Their standard errors, from the weighted least-squares covariance;
        the weights combine each peak position's statistical error with an
        extra scatter estimated from the residuals (so that the reduced
        chi-square is at most 1), which covers systematic line shifts.
    matches : list of LineMatch
        The matched lines, sorted by energy.
    rms : float
        Root-mean-square residual of the fitted lines, eV.
    spectrum : numpy.ndarray
        The (summed) spectrum that was calibrated.
    peaks : PeakTable
        All significant peaks found in ``spectrum``.
    units : str
        ``"keV"``.
    """

    units = "keV"

    def __init__(self, scale, offset, scale_std, offset_std, matches, spectrum, peaks):
        self.scale = float(scale)
        self.offset = float(offset)
        self.scale_std = float(scale_std)
        self.offset_std = float(offset_std)
        self.matches = list(matches)
        self.spectrum = np.asarray(spectrum)
        self.peaks = peaks
        res = np.array([m.residual for m in self.matches if m.fitted])
        self.rms = float(np.sqrt(np.mean(res**2))) if res.size else float("nan")

    @property
    def n_channels(self):
        """Number of channels of the calibrated spectrum."""
        return self.spectrum.size

    def energy(self, channel):
        """Energy (keV) of a (fractional) channel index.

        Parameters
        ----------
        channel : float or array_like
            Channel index.

        Returns
        -------
        float or numpy.ndarray
            ``offset + scale * channel``.
        """
        return self.offset + self.scale * np.asarray(channel, dtype=float)

    def table(self):
        """Return the matches as a text table.

        Returns
        -------
        str
            One row per matched line: name, database energy (keV), fitted
            channel, residual (eV) and whether it was fitted.
        """
        rows = [f"{'line':<24}{'energy (keV)':>13}{'channel':>11}{'residual (eV)':>15}  fitted"]
        for m in self.matches:
            rows.append(
                f"{m.line:<24}{m.energy:>13.4f}{m.channel:>11.2f}{m.residual:>15.2f}  "
                f"{'yes' if m.fitted else f'no ({m.note})'}"
            )
        return "\n".join(rows)

    def __repr__(self):
        return (
            f"<EnergyCalibration: scale={self.scale * 1000:.4f}±{self.scale_std * 1000:.4f} "
            f"eV/channel, offset={self.offset:.5f}±{self.offset_std:.5f} keV, "
            f"{sum(m.fitted for m in self.matches)} lines, rms={self.rms:.2f} eV>\n" + self.table()
        )

    def to_dict(self):
        """Return the calibration as plain Python types, for metadata.

        Returns
        -------
        dict
            ``scale``, ``offset`` (keV), ``scale_std``, ``offset_std``,
            ``units``, ``rms_residual_eV`` and, for the fitted lines,
            ``lines``, ``line_energies_keV``, ``channels`` and
            ``residuals_eV``; ``unfitted_matches`` lists the other matched
            lines with the reason (e.g. ``"Pt_Ma (excluded)"``) if any.
        """
        fitted = [m for m in self.matches if m.fitted]
        others = [f"{m.line} ({m.note})" for m in self.matches if not m.fitted]
        record = {
            "method": "calibrate_energy_from_peaks",
            "scale": self.scale,
            "offset": self.offset,
            "scale_std": self.scale_std,
            "offset_std": self.offset_std,
            "units": self.units,
            "rms_residual_eV": self.rms,
            "lines": [m.line for m in fitted],
            "line_energies_keV": [float(m.energy) for m in fitted],
            "channels": [float(m.channel) for m in fitted],
            "residuals_eV": [float(m.residual) for m in fitted],
        }
        if others:
            record["unfitted_matches"] = others
        return record

    def apply(self, signal):
        """Copy this calibration onto a signal with the same number of channels.

        Sets the signal axis ``scale``, ``offset``, ``units="keV"`` and
        ``name="Energy"``, and records the calibration in
        ``metadata.Signal.Energy_calibration`` (see :meth:`to_dict`, plus the
        ``previous_scale``, ``previous_offset`` and ``previous_units`` of the
        axis).

        Parameters
        ----------
        signal : hyperspy.signal.BaseSignal
            A signal with one uniform signal axis of ``n_channels`` channels.

        Returns
        -------
        hyperspy.signal.BaseSignal
            ``signal``, modified in place.

        Raises
        ------
        ValueError
            If the signal axis is not uniform or has another size; the signal
            is then left unchanged.
        """
        axis = check_energy_axis(signal)
        if axis.size != self.n_channels:
            raise ValueError(
                f"The calibration is for {self.n_channels} channels, the signal has {axis.size}."
            )
        record = self.to_dict()
        record["previous_scale"] = float(axis.scale)
        record["previous_offset"] = float(axis.offset)
        record["previous_units"] = axis.units if isinstance(axis.units, str) else ""
        axis.scale = self.scale
        axis.offset = self.offset
        axis.units = self.units
        axis.name = "Energy"
        signal.metadata.set_item(ENERGY_CALIBRATION_NODE, record)
        return signal

    def plot(self, ax=None, yscale="linear"):
        """Plot the spectrum on the calibrated axis with the matched lines.

        Fitted lines are drawn as solid red vertical lines at their database
        energies, labelled with their residual; matched but unfitted lines
        (overlaps, outliers) dashed blue; the peaks that matched no line are
        marked with grey triangles.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw in; a new figure is created by default.
        yscale : {"linear", "log"}, default "linear"
            Scale of the intensity axis.

        Returns
        -------
        matplotlib.axes.Axes
            The axes drawn in.
        """
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
        from matplotlib.transforms import blended_transform_factory

        if ax is None:
            _, ax = plt.subplots(figsize=(10, 4.5))
        energy = self.energy(np.arange(self.n_channels))
        ax.plot(energy, self.spectrum, color="k", lw=0.8)
        ax.set_yscale(yscale)
        # headroom above the spectrum for the line labels
        top = float(np.nanmax(self.spectrum)) if self.spectrum.size else 1.0
        if yscale == "log":
            positive = self.spectrum[self.spectrum > 0]
            ax.set_ylim(max(float(positive.min()) if positive.size else 1.0, 0.5), top * 30)
        else:
            ax.set_ylim(min(0.0, float(np.nanmin(self.spectrum))), top * 1.4)
        trans = blended_transform_factory(ax.transData, ax.transAxes)
        span = float(energy[-1] - energy[0]) or 1.0
        last_x, right = -np.inf, False
        for m in sorted(self.matches, key=lambda m: m.energy):
            color = "tab:red" if m.fitted else "tab:blue"
            ax.axvline(m.energy, color=color, lw=0.8, ls="-" if m.fitted else "--", alpha=0.7)
            label = f"{m.line} {m.residual:+.1f} eV" if m.fitted else f"{m.line} ({m.note})"
            # the label of a line close to the previous one goes on its right
            right = (not right) and (m.energy - last_x) / span < 0.02
            last_x = m.energy
            ax.text(
                m.energy,
                0.99,
                label,
                transform=trans,
                rotation=90,
                va="top",
                ha="left" if right else "right",
                fontsize=7,
                color=color,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
            )
        matched = {m.peak_index for m in self.matches}
        free = [i for i in range(len(self.peaks)) if i not in matched]
        if free:
            pos = self.peaks.position[free]
            y = np.interp(pos, np.arange(self.n_channels), self.spectrum)
            ax.plot(self.energy(pos), y, "v", color="0.5", ms=5, ls="none")
        ax.set_xlim(energy[0], energy[-1])
        ax.set_xlabel("Energy (keV)")
        ax.set_ylabel("Counts (summed)")
        ax.set_title(
            f"scale = {self.scale * 1000:.4f} ± {self.scale_std * 1000:.4f} eV/channel, "
            f"offset = {self.offset * 1000:.1f} ± {self.offset_std * 1000:.1f} eV, "
            f"rms = {self.rms:.1f} eV",
            fontsize=9,
        )
        handles = [
            Line2D([], [], color="k", lw=0.8, label="summed spectrum"),
            Line2D([], [], color="tab:red", lw=0.8, label="fitted line (database energy)"),
        ]
        if not all(m.fitted for m in self.matches):
            handles.append(
                Line2D([], [], color="tab:blue", lw=0.8, ls="--", label="matched, not fitted")
            )
        if free:
            handles.append(
                Line2D([], [], color="0.5", marker="v", ls="none", label="unmatched peak")
            )
        ax.legend(handles=handles, loc="best", fontsize=8)
        return ax


def check_energy_axis(signal):
    """Return the signal's energy axis if it can be calibrated linearly.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The signal.

    Returns
    -------
    hyperspy.axes.UniformDataAxis
        Its single, uniform signal axis.

    Raises
    ------
    ValueError
        If the signal has more than one signal axis or a non-uniform one.
    """
    axes = signal.axes_manager.signal_axes
    if len(axes) != 1:
        raise ValueError("The signal must have exactly one signal axis.")
    axis = axes[0]
    if not getattr(axis, "is_uniform", False):
        raise ValueError("The energy axis is not uniform; it cannot be calibrated linearly.")
    return axis


def axis_prior(axis):
    """The rough calibration of an axis in energy units, for ``prior``.

    Parameters
    ----------
    axis : hyperspy.axes.UniformDataAxis
        The signal axis.

    Returns
    -------
    tuple of float or None
        ``(scale, offset)`` in keV per channel and keV if the axis units are
        an energy (eV, keV, ...) and its scale is positive, else None.
    """
    import pint

    units = axis.units if isinstance(axis.units, str) else ""
    if not units or not axis.scale > 0:
        return None
    ureg = pint.get_application_registry()
    try:
        factor = float((1.0 * ureg.Unit(units)).to(ureg.keV).magnitude)
    except Exception:  # unknown or non-energy units: no prior
        return None
    return float(axis.scale) * factor, float(axis.offset) * factor


def calibrate_spectrum(
    spectrum,
    candidates,
    scale_range=None,
    offset_range=None,
    tolerance=None,
    min_significance=6.0,
    prior=None,
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
        :data:`DEFAULT_OFFSET_RANGE` (-1 to 1).
    tolerance : float, optional
        Largest distance between a peak and a line it is matched to, eV.
        Default: 0.4 times the detector FWHM at the line, plus the spread of
        unresolved lines merged into the candidate.
    min_significance : float, default 6.0
        Peaks less significant than this (net counts over noise) are ignored.
    prior : tuple of float, optional
        A rough calibration ``(scale, offset)`` in keV per channel and keV
        (e.g. the current axis). It is not used by the search; it only
        decides between solutions whose consensus scores are nearly equal.

    Returns
    -------
    EnergyCalibration
        The calibration and the matches.

    Raises
    ------
    ValueError
        If the ranges are invalid, fewer than two lines can be matched, or
        the best solution rests on only two lines and another, different
        solution is nearly as good (and no ``prior`` decides between them).
    """
    y = np.asarray(spectrum, dtype=float).ravel()
    n = y.size
    smin, smax = _check_range(scale_range, DEFAULT_SCALE_RANGE, "scale_range", positive=True)
    smin, smax = smin / 1000.0, smax / 1000.0
    omin, omax = _check_range(offset_range, DEFAULT_OFFSET_RANGE, "offset_range")
    if tolerance is not None and not tolerance > 0:
        raise ValueError("tolerance must be a positive number of eV.")
    if sum(not c.model_only for c in candidates) < 2:
        raise ValueError("At least two candidate lines are needed to calibrate.")
    if n < 8 or not np.isfinite(y).any():
        raise ValueError("The spectrum is too short or empty to calibrate.")

    peaks = find_spectrum_peaks(y, min_significance=min_significance)
    lines = _LineArrays(candidates, tolerance)
    if len(peaks) < 2:
        raise ValueError(
            f"Fewer than two significant peaks found ({len(peaks)}); cannot calibrate."
        )
    hyps = _hypotheses(peaks, lines, (smin, smax), (omin, omax))
    if hyps.shape[0] == 0:
        raise ValueError(
            "Fewer than two lines matched: no pair of peaks fits a pair of candidate "
            "lines within the scale and offset ranges."
        )
    scores = _score(hyps, peaks, lines, n)
    solutions = []
    for h in _distinct_top(hyps, scores, n, _N_REFINED):
        refined = _refine(hyps[h], peaks, lines, n, (smin, smax), (omin, omax))
        if refined is None:
            continue
        score = float(_score(np.array([refined[:2]]), peaks, lines, n)[0])
        solutions.append((round(score, 9), -refined[2], refined))
    if not solutions:
        raise ValueError(
            "Fewer than two lines matched: no consistent set of at least two "
            "resolved lines was found."
        )
    solutions.sort(key=lambda sol: sol[:2], reverse=True)
    best = solutions[0]
    s0, o0 = best[2][:2]
    rivals = [
        sol
        for sol in solutions[1:]
        if sol[0] >= best[0] - _AMBIGUITY_MARGIN
        and abs(sol[2][0] - s0) * n + abs(sol[2][1] - o0) > 2.0 * s0
    ]
    if rivals and prior is not None:
        # a rough calibration decides between near-equal solutions
        best = min([best, *rivals], key=lambda sol: _distance(sol[2][:2], prior, n))
    elif rivals and len(_matches(s0, o0, peaks, lines, n)) < 3:
        raise ValueError(
            "Ambiguous calibration: the best match rests on two lines only and "
            f"another match (scale {rivals[0][2][0] * 1000:.3f} eV/channel, offset "
            f"{rivals[0][2][1]:.3f} keV) is nearly as good. Give more lines or "
            "elements, narrower scale_range/offset_range, or a rough calibration."
        )
    scale, offset = best[2][:2]
    scale, offset, cov, matches = _final_fit(y, scale, offset, peaks, lines, n)
    return EnergyCalibration(
        scale, offset, np.sqrt(cov[1, 1]), np.sqrt(cov[0, 0]), matches, y, peaks
    )


def _distance(calibration, prior, n):
    """Largest energy difference (keV) of two calibrations over the channels."""
    ds, do = calibration[0] - prior[0], calibration[1] - prior[1]
    return max(abs(do), abs(do + ds * (n - 1)))


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


class _LineArrays:
    """Candidate lines as arrays, with tolerance, width and family links."""

    def __init__(self, candidates, tolerance):
        self.model = list(candidates)
        candidates = [c for c in candidates if not c.model_only]
        self.candidates = candidates
        self.energy = np.array([c.energy for c in candidates])
        self.weight = np.array([c.weight for c in candidates])
        self.spread = np.array([c.spread for c in candidates])
        self.ambiguous = np.array([c.ambiguous for c in candidates])
        self.excluded = np.array([c.excluded for c in candidates])
        # matched lines that are not fitted
        self.unfit = self.ambiguous | self.excluded
        self.fwhm = fwhm = np.array([c.fwhm for c in candidates])
        # expected peak FWHM (keV) including the unresolved lines
        self.fwhm_eff = np.sqrt(fwhm**2 + (2.3548 * self.spread) ** 2)
        if tolerance is None:
            self.tol = 0.4 * fwhm + self.spread
        else:
            self.tol = np.full(len(candidates), tolerance / 1000.0)
        self.strong = self.weight >= _MAIN_WEIGHT
        # index of the main (strongest) candidate of each candidate's family
        fam = [_family_key(c) for c in candidates]
        self.main = np.array(
            [
                max((k for k in range(len(fam)) if fam[k] == fam[j]), key=lambda k: self.weight[k])
                for j in range(len(fam))
            ]
        )


def _family_key(candidate):
    el, line = candidate.name.split("+")[0].split("_")
    return el, line[0]


def _width_ok(width_ch, fwhm_eff, scale):
    """Whether measured widths (channels) fit the expected ones at ``scale``."""
    expected = np.sqrt((fwhm_eff / scale) ** 2 + 0.46)  # + channel binning
    ratio = width_ch / expected
    return (ratio > _WIDTH_RATIO[0]) & (ratio < _WIDTH_RATIO[1])


def _hypotheses(peaks, lines, srange, orange):
    """(scale, offset) from every pair of strong peaks and strong lines."""
    order = np.argsort(-peaks.significance)[:_N_HYPOTHESIS_PEAKS]
    hp = np.sort(order)
    hl = np.flatnonzero(lines.strong)
    if hl.size < 2:
        hl = np.arange(len(lines.energy))
    pa, pb = np.triu_indices(hp.size, 1)
    la, lb = np.triu_indices(hl.size, 1)
    pa, pb, la, lb = hp[pa], hp[pb], hl[la], hl[lb]
    ca, cb = peaks.position[pa][:, None], peaks.position[pb][:, None]
    ea, eb = lines.energy[la][None, :], lines.energy[lb][None, :]
    scale = (eb - ea) / (cb - ca)
    offset = ea - scale * ca
    ok = (scale >= srange[0]) & (scale <= srange[1])
    ok &= (offset >= orange[0]) & (offset <= orange[1])
    ok &= _width_ok(peaks.width[pa][:, None], lines.fwhm_eff[la][None, :], scale)
    ok &= _width_ok(peaks.width[pb][:, None], lines.fwhm_eff[lb][None, :], scale)
    return np.column_stack([scale[ok], offset[ok]])


def _assign(scale, offset, peaks, lines, n):
    """Peak-to-line assignment for each hypothesis.

    Returns the (H, N) index of the line assigned to each peak (-1 for none),
    the (H, M) boolean "line predicted inside the spectrum" and the (H, N, M)
    boolean "peak i may be line j".
    """
    pred = (lines.energy[None, :] - offset[:, None]) / scale[:, None]  # (H, M)
    inside = (pred > 0) & (pred < n - 1)
    dist = np.abs(peaks.position[None, :, None] - pred[:, None, :])  # (H, N, M)
    tol = lines.tol[None, None, :] / scale[:, None, None] + 3.0 * peaks.position_std[None, :, None]
    ok = (dist < tol) & inside[:, None, :]
    ok &= _width_ok(peaks.width[None, :, None], lines.fwhm_eff[None, None, :], scale[:, None, None])
    norm = np.where(ok, dist / tol, np.inf)
    best = np.argmin(norm, axis=2)
    has = np.isfinite(np.take_along_axis(norm, best[..., None], axis=2)[..., 0])
    return np.where(has, best, -1), inside, ok


def _score(hyps, peaks, lines, n, chunk=2048):
    """Consensus score of each (scale, offset) hypothesis."""
    gain = np.log(np.maximum(peaks.significance, 1.0))
    line_w = np.sqrt(np.minimum(lines.weight, 1.0))
    penalty = 1.0 * np.minimum(lines.weight, 1.0) * (lines.strong & ~lines.unfit)
    out = np.empty(hyps.shape[0])
    m = len(lines.energy)
    for start in range(0, hyps.shape[0], chunk):
        s, o = hyps[start : start + chunk, 0], hyps[start : start + chunk, 1]
        assigned, inside, _ = _assign(s, o, peaks, lines, n)
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


def _distinct_top(hyps, scores, n, k):
    """Indices of the k best hypotheses that differ by more than ~1 channel."""
    chosen = []
    for h in np.argsort(-scores):
        s, o = hyps[h]
        if any(abs(s - hyps[c, 0]) * n < 2.0 * s and abs(o - hyps[c, 1]) < 2.0 * s for c in chosen):
            continue
        chosen.append(h)
        if len(chosen) == k:
            break
    return chosen


def _refine(hyp, peaks, lines, n, srange, orange, max_iter=10):
    """Iterated matching + weighted least squares from one hypothesis.

    Returns ``(scale, offset, chi2)`` or None if fewer than two resolved
    lines stay matched or the solution leaves the plausible ranges.
    """
    scale, offset = float(hyp[0]), float(hyp[1])
    previous, chi2 = None, np.inf
    for _ in range(max_iter):
        fit = [(i, j) for i, j in _matches(scale, offset, peaks, lines, n) if not lines.unfit[j]]
        if len(fit) < 2 or tuple(fit) == previous:
            break
        previous = tuple(fit)
        ii, jj = (np.array(a) for a in zip(*fit, strict=True))
        x = peaks.position[ii]
        if np.ptp(x) <= 0:
            return None
        sigma = np.sqrt(
            (scale * peaks.position_std[ii]) ** 2 + lines.spread[jj] ** 2 + _ENERGY_FLOOR**2
        )
        offset, scale, _, chi2 = _wls(x, lines.energy[jj], sigma)
        # the hypotheses lie inside the ranges; a refined solution may end
        # up slightly outside (a true calibration right at a range limit)
        margin = 0.1 * (orange[1] - orange[0])
        if not (
            0.9 * srange[0] <= scale <= 1.1 * srange[1]
            and orange[0] - margin <= offset <= orange[1] + margin
        ):
            return None
    if previous is None or len(previous) < 2:
        return None
    return scale, offset, chi2


def _final_fit(y, scale, offset, peaks, lines, n, n_iter=2):
    """Refit the matched peaks with their line templates, then the straight line.

    Each matched candidate's position is refitted with the shape of all its
    unresolved lines (and its overlapping neighbours) at the current
    calibration, which removes the bias of fitting a single Gaussian to a
    blend; the weighted least-squares line is then refitted, a few times.
    """
    gain = estimate_noise_gain(y)
    pairs = _matches(scale, offset, peaks, lines, n)
    cov = None
    for _ in range(n_iter):
        chan, chan_std, sys_err, peak_of = {}, {}, {}, {}
        for i, j in pairs:
            peak_of[j] = i
            fitted = _template_position(y, scale, offset, j, lines, gain)
            if fitted is None:  # fall back to the single-peak fit
                chan[j], chan_std[j] = peaks.position[i], peaks.position_std[i]
                sys_err[j] = lines.spread[j]
            else:
                chan[j], chan_std[j] = fitted
                sys_err[j] = 0.0
        fit = [j for _, j in pairs if not lines.unfit[j]]
        sigma = {
            j: np.sqrt((scale * chan_std[j]) ** 2 + sys_err[j] ** 2 + _ENERGY_FLOOR**2) for j in fit
        }
        fit, offset, scale, cov = _clipped_wls(fit, chan, sigma, lines.energy, lines.fwhm)
    matches = [
        LineMatch(
            line=lines.candidates[j].name,
            energy=float(lines.energy[j]),
            channel=float(chan[j]),
            channel_std=float(chan_std[j]),
            residual=float((lines.energy[j] - (offset + scale * chan[j])) * 1000.0),
            fitted=j in fit,
            note=(
                ""
                if j in fit
                else "excluded"
                if lines.excluded[j]
                else "overlap"
                if lines.ambiguous[j]
                else "outlier"
            ),
            peak_index=int(peak_of[j]),
        )
        for j in sorted(chan, key=lambda j: lines.energy[j])
    ]
    return scale, offset, cov, matches


def _clipped_wls(fit, chan, sigma, energy, fwhm, threshold=5.0):
    """Weighted line fit with extra scatter, dropping gross outliers one at a time.

    With four points or more, the point that, predicted by the fit of the
    others, misses most is dropped if it misses by more than
    ``threshold`` times its uncertainty (its own, the others' extra scatter
    and the prediction's) and by more than a quarter of the detector FWHM
    (smaller shifts are the usual line-shape systematics of real detectors,
    such as incomplete charge collection at low energy, not mismatches).
    """
    fit = list(fit)

    def wls(keys):
        x = np.array([chan[j] for j in keys])
        s = np.array([sigma[j] for j in keys])
        return _wls_scatter(x, energy[keys], s)

    while True:
        offset, scale, cov, _ = wls(fit)
        if len(fit) < 4:
            return fit, offset, scale, cov
        ratios = []
        for worst in fit:
            others = [j for j in fit if j != worst]
            o2, s2, cov2, tau2 = wls(others)
            c = chan[worst]
            pred_var = cov2[0, 0] + 2 * c * cov2[0, 1] + c**2 * cov2[1, 1]
            miss = abs(energy[worst] - o2 - s2 * c)
            limit = max(
                threshold * np.sqrt(sigma[worst] ** 2 + tau2**2 + pred_var), 0.25 * fwhm[worst]
            )
            ratios.append(miss / limit)
        k = int(np.argmax(ratios))
        if ratios[k] <= 1.0:
            return fit, offset, scale, cov
        fit = fit[:k] + fit[k + 1 :]


def _wls_scatter(x, y, sigma):
    """Weighted line fit with an extra scatter term estimated from the data.

    Each point's variance is ``sigma**2 + tau**2``, with ``tau`` (keV) the
    smallest value giving a reduced chi-square of at most 1 (0 when the
    points agree within their statistical errors, or with two points). This
    weights by counting statistics when the line positions agree, and evenly
    when systematic deviations (line shapes, incomplete charge collection at
    low energy) dominate.

    Returns
    -------
    tuple
        ``(offset, scale, cov, tau)``.
    """
    dof = x.size - 2

    def chi2_red(tau):
        return _wls(x, y, np.hypot(sigma, tau))[3] / dof

    tau = 0.0
    if dof > 0 and chi2_red(0.0) > 1.0:
        lo, hi = 0.0, max(float(np.ptp(y)), 1e-3)
        while chi2_red(hi) > 1.0:
            hi *= 2.0
        for _ in range(40):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if chi2_red(mid) > 1.0 else (lo, mid)
        tau = hi
    offset, scale, cov, _ = _wls(x, y, np.hypot(sigma, tau))
    return offset, scale, cov, tau


def _wls(x, y, sigma):
    """Weighted straight-line fit y = a + b x; returns a, b, cov([a, b]), chi2."""
    w = 1.0 / sigma
    design = np.column_stack([np.ones_like(x), x]) * w[:, None]
    coef, *_ = np.linalg.lstsq(design, y * w, rcond=None)
    cov = np.linalg.inv(design.T @ design)
    chi2 = float(np.sum(((y - design @ coef / w) * w) ** 2))
    return float(coef[0]), float(coef[1]), cov, chi2


def _template_position(y, scale, offset, j, lines, gain):
    """Channel of candidate j's energy from a template fit, or None."""
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


def _matches(scale, offset, peaks, lines, n):
    """One-to-one (peak, line) matches of one hypothesis, weak-line rule applied."""
    assigned, inside, _ = _assign(np.array([scale]), np.array([offset]), peaks, lines, n)
    assigned, inside = assigned[0], inside[0]
    by_line = {}
    for i, j in enumerate(assigned):
        if j < 0:
            continue
        if j not in by_line or peaks.significance[i] > peaks.significance[by_line[j]]:
            by_line[j] = i
    matched = set(by_line)
    return [
        (i, j)
        for j, i in by_line.items()
        if lines.main[j] in matched or not inside[lines.main[j]] or lines.main[j] == j
    ]
