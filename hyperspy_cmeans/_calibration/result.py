"""The result types of an energy calibration: what users receive.

:class:`EnergyCalibration` (with its :class:`LineMatch` list and the
:class:`~hyperspy_cmeans._calibration.gate.QualityGate`) is returned by
``calibrate_energy_from_peaks(return_info=True)``;
:class:`EnergyCalibrationError` is the ValueError raised when the quality gate
refuses a calibration.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "EXTRAPOLATION_FRACTION",
    "EXTRAPOLATION_MIN",
    "EnergyCalibration",
    "EnergyCalibrationError",
    "LineMatch",
]

#: A line is extrapolated when it lies beyond the fitted lines' range by more
#: than this fraction of that range and :data:`EXTRAPOLATION_MIN` keV.
EXTRAPOLATION_FRACTION = 0.5
EXTRAPOLATION_MIN = 0.5


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
        the composition) or ``"outlier"`` (it misses the line through the
        others by more than the detector resolution allows); empty if fitted.
    peak_index : int
        Index of the matched peak in the result's ``peaks`` table.
    reason : str
        The ``note`` in words, with the numbers of an outlier.
    """

    line: str
    energy: float
    channel: float
    channel_std: float
    residual: float
    fitted: bool
    note: str = ""
    peak_index: int = -1
    reason: str = ""


class EnergyCalibrationError(ValueError):
    """An energy calibration refused by the quality gate.

    A :class:`ValueError` whose message says why and what to change;
    ``calibration`` holds the refused result (its ``gate``, ``matches`` and
    ``plot()`` show what was found), or None.
    """

    def __init__(self, message, calibration=None):
        super().__init__(message)
        self.calibration = calibration


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
        ``scale_std`` is 0 when the scale was kept from the axis.
    matches : list of LineMatch
        The matched lines, sorted by energy, fitted or not (with the reason).
    rms : float
        Root-mean-square residual of the fitted lines, eV.
    spectrum : numpy.ndarray
        The (summed) spectrum that was calibrated.
    peaks : PeakTable
        All significant peaks found in ``spectrum``.
    gate : QualityGate
        The quality gate's numbers and verdict.
    mode : str
        ``"search"``, ``"refine"`` or ``"offset"`` (see ``gate``).
    energy_range : tuple of float
        Lowest and highest fitted line energy, keV: where the calibration is
        constrained.
    prior : tuple of float or None
        The rough ``(scale, offset)`` the search started from, if any.
    units : str
        ``"keV"``.
    """

    units = "keV"

    def __init__(
        self, scale, offset, scale_std, offset_std, matches, spectrum, peaks, gate, prior=None
    ):
        self.scale = float(scale)
        self.offset = float(offset)
        self.scale_std = float(scale_std)
        self.offset_std = float(offset_std)
        self.matches = list(matches)
        self.spectrum = np.asarray(spectrum)
        self.peaks = peaks
        self.gate = gate
        self.prior = None if prior is None else (float(prior[0]), float(prior[1]))
        res = np.array([m.residual for m in self.matches if m.fitted])
        self.rms = float(np.sqrt(np.mean(res**2))) if res.size else float("nan")

    @property
    def mode(self):
        """How the calibration was found (``gate.mode``): "search", "refine" or "offset"."""
        return self.gate.mode

    @property
    def energy_range(self):
        """Range ``(low, high)`` of the fitted line energies, keV."""
        return self.gate.energy_range

    @property
    def n_channels(self):
        """Number of channels of the calibrated spectrum."""
        return self.spectrum.size

    @property
    def rejected(self):
        """Matched lines left out of the fit (a list of LineMatch), with the reason."""
        return [m for m in self.matches if not m.fitted]

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

    def lines_outside(self, lines):
        """Lines far outside the energy range the fitted lines constrain.

        Parameters
        ----------
        lines : dict
            Line name -> energy (keV), e.g. the lines of ``metadata.Sample``.

        Returns
        -------
        dict
            Name -> energy of the lines recorded on the calibrated axis that
            lie beyond ``energy_range`` by more than
            :data:`EXTRAPOLATION_FRACTION` of its width and
            :data:`EXTRAPOLATION_MIN` keV: their calibration is extrapolated.
        """
        lo, hi = self.energy_range
        if not np.isfinite(lo):
            return {}
        far = max(EXTRAPOLATION_FRACTION * (hi - lo), EXTRAPOLATION_MIN)
        first, last = self.energy(0), self.energy(self.n_channels - 1)
        return {
            name: float(e)
            for name, e in lines.items()
            if first <= e <= last and (e < lo - far or e > hi + far)
        }

    def table(self):
        """Return the matches as a text table.

        Returns
        -------
        str
            One row per matched line: name, database energy (keV), fitted
            channel, residual (eV) and whether it was fitted (or why not).
        """
        rows = [f"{'line':<24}{'energy (keV)':>13}{'channel':>11}{'residual (eV)':>15}  fitted"]
        for m in self.matches:
            rows.append(
                f"{m.line:<24}{m.energy:>13.4f}{m.channel:>11.2f}{m.residual:>15.2f}  "
                f"{'yes' if m.fitted else f'no ({m.reason or m.note})'}"
            )
        return "\n".join(rows)

    def __repr__(self):
        scale_std = f"±{self.scale_std * 1000:.4f}" if self.gate.mode != "offset" else " (kept)"
        return (
            f"<EnergyCalibration: scale={self.scale * 1000:.4f}{scale_std} "
            f"eV/channel, offset={self.offset:.5f}±{self.offset_std:.5f} keV, "
            f"{sum(m.fitted for m in self.matches)} lines, rms={self.rms:.2f} eV>\n"
            + self.table()
            + "\n"
            + self.gate.summary()
        )

    def to_dict(self):
        """Return the calibration as plain Python types, for metadata.

        Returns
        -------
        dict
            ``scale``, ``offset`` (keV), ``scale_std``, ``offset_std``,
            ``units``, ``rms_residual_eV``, ``mode``, ``energy_range_keV``
            (the fitted lines' range), ``scale_precision`` and, for the fitted
            lines, ``lines``, ``line_energies_keV``, ``channels`` and
            ``residuals_eV``; ``unfitted_matches`` lists the other matched
            lines with the reason (e.g. ``"Pt_Ma (excluded)"``) if any, and
            ``score_margin`` the score difference to the next-best
            calibration if there is one.
        """
        fitted = [m for m in self.matches if m.fitted]
        others = [f"{m.line} ({m.reason or m.note})" for m in self.matches if not m.fitted]
        record = {
            "method": "calibrate_energy_from_peaks",
            "mode": self.gate.mode,
            "scale": self.scale,
            "offset": self.offset,
            "scale_std": self.scale_std,
            "offset_std": self.offset_std,
            "units": self.units,
            "rms_residual_eV": self.rms,
            "energy_range_keV": [float(v) for v in self.energy_range],
            "scale_precision": self.gate.scale_precision,
            "lines": [m.line for m in fitted],
            "line_energies_keV": [float(m.energy) for m in fitted],
            "channels": [float(m.channel) for m in fitted],
            "residuals_eV": [float(m.residual) for m in fitted],
        }
        if others:
            record["unfitted_matches"] = others
        if self.gate.rival is not None:
            record["score_margin"] = self.gate.margin
        return record

    def apply(self, signal):
        """Copy this calibration onto a signal with the same number of channels.

        Sets the signal axis ``scale``, ``offset``, ``units="keV"`` and
        ``name="Energy"``, and records the calibration in
        ``metadata.Signal.Energy_calibration`` (see :meth:`to_dict`, plus the
        ``previous_scale``, ``previous_offset`` and ``previous_units`` of the
        axis). Warns when lines of ``metadata.Sample`` lie far outside
        ``energy_range``.

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
        from hyperspy_cmeans.signals._calibration import apply_energy_calibration

        return apply_energy_calibration(self, signal)

    def plot(self, ax=None, yscale="linear"):
        """Plot the spectrum on the calibrated axis with the matched lines.

        See :func:`hyperspy_cmeans._drawing.plot_energy_calibration`; the
        energy range shown ends a little beyond the highest peak.

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
        from hyperspy_cmeans._drawing import plot_energy_calibration

        matched = {m.peak_index for m in self.matches}
        free = [i for i in range(len(self.peaks)) if i not in matched]
        title = (
            f"scale = {self.scale * 1000:.4f} ± {self.scale_std * 1000:.4f} eV/channel, "
            f"offset = {self.offset * 1000:.1f} ± {self.offset_std * 1000:.1f} eV, "
            f"rms = {self.rms:.1f} eV ({self.gate.mode})"
        )
        energy = self.energy(np.arange(self.n_channels))
        # up to a little beyond the highest peak (not the empty end of an
        # 80 keV range)
        found = [m.energy for m in self.matches] + list(self.energy(self.peaks.position))
        top = min(energy[-1], 1.1 * max(found) + 0.5) if found else energy[-1]
        return plot_energy_calibration(
            energy,
            self.spectrum,
            self.matches,
            unmatched=self.energy(self.peaks.position[free]),
            energy_range=self.energy_range,
            title=title,
            ax=ax,
            yscale=yscale,
            xlim=(energy[0], top),
        )
