"""Signal layer of the calibration methods: signals in, arrays to ``_calibration``, signals out.

:meth:`EDSSEMCmeansSpectrum.calibrate_energy_from_peaks` and
:meth:`EDSSEMCmeansSpectrum.tilt_correct_scale` delegate here. This module
reads what the plain-array modules of :mod:`hyperspy_cmeans._calibration`
need from a signal (the summed spectrum, the energy axis, the metadata, unit
conversions with HyperSpy's own axis machinery) and writes their results back
(axes and metadata records). Everything is validated before anything is
written, so a call that raises leaves the signal exactly as it was.
"""

from __future__ import annotations

import logging
import math
import re
import warnings

import numpy as np
from hyperspy.axes import UnitConversion

from hyperspy_cmeans._calibration.energy import calibrate_spectrum, check_parameters
from hyperspy_cmeans._calibration.lines import analysis_lines, build_line_table, line_energies
from hyperspy_cmeans._calibration.tilt import (
    PLAUSIBLE_TILT_RANGE,
    check_stage_tilt,
    implausible_tilt,
    pixel_size_from_field_width,
    tilt_corrected_pixel_size,
)

__all__ = [
    "ENERGY_CALIBRATION_NODE",
    "STAGE_TILT_KEY",
    "TILT_CORRECTION_NODE",
    "apply_energy_calibration",
    "axis_energy_calibration",
    "calibrate_energy",
    "energy_axis",
    "sample_lines",
    "summed_spectrum",
    "tilt_correct",
]

_logger = logging.getLogger(__name__)

#: Where the energy calibration is recorded in a signal's metadata.
ENERGY_CALIBRATION_NODE = "Signal.Energy_calibration"
#: Where the tilt correction is recorded in a signal's metadata.
TILT_CORRECTION_NODE = "Signal.Tilt_correction"
#: The stage tilt read and written by the tilt correction (and read by
#: exspy's take-off angle and .msa export).
STAGE_TILT_KEY = "Acquisition_instrument.SEM.Stage.tilt_alpha"
# a TEM acquisition converted to this class also gets exspy's default SEM branch: the TEM
# branch, when there is one, is the real one
_INSTRUMENTS = ("Acquisition_instrument.TEM.", "Acquisition_instrument.SEM.")


# ----------------------------------------------------------------------------- units


def _convert(value, units, target, offset=0.0):
    """``(value, offset)`` from ``units`` to ``target`` with HyperSpy's axis units, or None."""
    if not isinstance(units, str) or not units:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # HyperSpy warns about unknown units
        try:
            out = UnitConversion(units=units, scale=float(value), offset=float(offset))
            out = out.convert_to_units(target, inplace=False)
        except Exception:  # unknown units or another dimension
            return None
    return None if out is None else (float(out[0]), float(out[1]))


def _is_length(units):
    return _convert(1.0, "m", units) is not None


def _length(value, units, target):
    """A length ``value`` in ``units`` expressed in ``target`` units."""
    out = _convert(value, units, target)
    if out is None:
        raise ValueError(f"{units!r} is not a length unit: cannot convert it to {target!r}.")
    return out[0]


_QUANTITY = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*?)\s*$")


def _parse_length(value, units):
    """A number (taken in ``units``) or a string such as ``"17.6 um"``, in ``units``."""
    if not isinstance(value, str):
        return value
    match = _QUANTITY.match(value)
    if match is None:
        raise ValueError(f"Cannot read the length {value!r}; write e.g. '17.6 um'.")
    number, unit = float(match.group(1)), match.group(2)
    if not unit:
        return number
    if not _is_length(unit):
        raise ValueError(f"{value!r} is not a length (units {unit!r}).")
    return _length(number, unit, units)


# ----------------------------------------------------------------------------- energy


def energy_axis(signal):
    """The signal's energy axis, if it can be calibrated linearly.

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


def axis_energy_calibration(axis):
    """The calibration of an axis in keV, if it is in energy units.

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
    out = _convert(axis.scale, axis.units, "keV", axis.offset)
    if out is None or not out[0] > 0:
        return None
    return out


def _instrument_item(signal, key, default=None):
    for branch in _INSTRUMENTS:
        value = signal.metadata.get_item(branch + key, None)
        if value is not None:
            return value
    return default


def calibration_lines(signal, elements=None, lines=None, exclude=None):
    """The candidate line table for a signal.

    ``elements`` default to ``metadata.Sample.elements`` when neither
    ``elements`` nor ``lines`` is given; the beam energy and the detector
    resolution come from the SEM (or TEM) metadata.

    Returns
    -------
    list of CandidateLine

    Raises
    ------
    ValueError
        If there are no elements, or an element or line is unknown.
    """
    if elements is None and lines is None:
        elements = signal.metadata.get_item("Sample.elements", None)
        if not elements:
            raise ValueError(
                "No elements: give elements or lines, or set metadata.Sample.elements."
            )
    resolution = _instrument_item(signal, "Detector.EDS.energy_resolution_MnKa", 130.0)
    return build_line_table(
        elements=elements,
        lines=lines,
        exclude=exclude,
        beam_energy=_instrument_item(signal, "beam_energy"),
        energy_resolution_MnKa=resolution,
    )


def summed_spectrum(signal):
    """The signal summed over its navigation axes (chunk by chunk when lazy).

    Returns
    -------
    numpy.ndarray
        1D float array.
    """
    nav = signal.axes_manager.navigation_axes
    summed = signal.sum(nav) if nav else signal
    data = summed.data
    if hasattr(data, "compute"):
        data = data.compute()
    return np.asarray(data, dtype=float).ravel()


def sample_lines(signal):
    """The X-ray lines of ``metadata.Sample`` and their energies.

    Returns
    -------
    dict
        ``metadata.Sample.xray_lines`` if set, else one line per element of
        ``metadata.Sample.elements`` chosen as exspy does (Ka, La or Ma, the
        first below half the beam energy), name -> energy (keV).
    """
    lines = signal.metadata.get_item("Sample.xray_lines", None)
    if lines:
        return line_energies(lines)
    elements = signal.metadata.get_item("Sample.elements", None) or []
    return analysis_lines(elements, _instrument_item(signal, "beam_energy"))


def _calibration_warning(calibration, outside):
    """The warning due when applying a calibration, or an empty string."""
    lo, hi = calibration.energy_range
    parts = []
    if calibration.mode == "offset":
        fitted = ", ".join(m.line for m in calibration.matches if m.fitted)
        parts.append(
            f"Only the offset of the energy axis was refined, from {fitted} "
            f"({lo:.2f}-{hi:.2f} keV): these lines cannot fix the scale, so the axis scale "
            f"{calibration.scale * 1000:.4f} eV/channel was kept as it was, unverified."
        )
    if outside:
        names = ", ".join(
            f"{k} ({v:.2f} keV)" for k, v in sorted(outside.items(), key=lambda i: i[1])
        )
        parts.append(
            f"The energy calibration is constrained by lines at {lo:.2f}-{hi:.2f} keV only "
            f"and extrapolated to {names} of metadata.Sample, where it may be off by tens of eV."
        )
    if parts:
        parts.append("Calibrate with more elements, whose lines spread over the spectrum.")
    return " ".join(parts)


def apply_energy_calibration(calibration, signal, stacklevel=3):
    """Write an energy calibration onto a signal's axis and metadata.

    Parameters
    ----------
    calibration : EnergyCalibration
        The result to apply.
    signal : hyperspy.signal.BaseSignal
        A signal with one uniform signal axis of ``calibration.n_channels``
        channels.
    stacklevel : int, default 3
        Of the warning (3: the caller of the function that called this one).

    Returns
    -------
    hyperspy.signal.BaseSignal
        ``signal``, modified in place.

    Raises
    ------
    ValueError
        If the signal axis is not uniform or has another size (nothing is
        changed).

    Warns
    -----
    UserWarning
        If lines of ``metadata.Sample`` lie far outside the energy range the
        fitted lines constrain (see ``EnergyCalibration.lines_outside``), or
        only the offset was refined (``mode="offset"``: the axis scale was
        kept unverified).
    """
    axis = energy_axis(signal)
    if axis.size != calibration.n_channels:
        raise ValueError(
            f"The calibration is for {calibration.n_channels} channels, the signal has {axis.size}."
        )
    record = calibration.to_dict()
    record["previous_scale"] = float(axis.scale)
    record["previous_offset"] = float(axis.offset)
    record["previous_units"] = axis.units if isinstance(axis.units, str) else ""
    outside = calibration.lines_outside(sample_lines(signal))
    if outside:
        record["extrapolated_lines"] = sorted(outside, key=outside.get)
    axis.scale = calibration.scale
    axis.offset = calibration.offset
    axis.units = calibration.units
    axis.name = "Energy"
    signal.metadata.set_item(ENERGY_CALIBRATION_NODE, record)
    message = _calibration_warning(calibration, outside)
    if message:
        warnings.warn(message, UserWarning, stacklevel=stacklevel)
    return signal


def calibrate_energy(
    signal,
    elements=None,
    lines=None,
    exclude=None,
    scale_range=None,
    offset_range=None,
    tolerance=None,
    min_significance=6.0,
    inplace=True,
    return_info=False,
):
    """The body of ``calibrate_energy_from_peaks``: see that method.

    Returns
    -------
    EDSSEMCmeansSpectrum or EnergyCalibration
        The calibrated signal (itself or a copy), or the result with
        ``return_info=True``.
    """
    axis = energy_axis(signal)
    check_parameters(scale_range, offset_range, tolerance, min_significance)
    candidates = calibration_lines(signal, elements, lines, exclude)
    prior = axis_energy_calibration(axis)
    result = calibrate_spectrum(
        summed_spectrum(signal),
        candidates,
        scale_range=scale_range,
        offset_range=offset_range,
        tolerance=tolerance,
        min_significance=min_significance,
        prior=prior,
        check_lines=sample_lines(signal),
    )
    _logger.info(
        "Energy calibration (%s): %.4f eV/channel, offset %.4f keV, %d lines, rms %.2f eV",
        {"search": "searched", "refine": "refined from the axis", "offset": "offset refined"}[
            result.mode
        ],
        result.scale * 1000,
        result.offset,
        result.gate.n_lines,
        result.rms,
    )
    if return_info:
        if inplace:
            apply_energy_calibration(result, signal, stacklevel=4)
        return result
    target = signal if inplace else signal.deepcopy()
    return apply_energy_calibration(result, target, stacklevel=4)


# ----------------------------------------------------------------------------- tilt


def _stage_tilt(signal, stage_tilt):
    """The stage tilt to use and where it came from."""
    if stage_tilt is not None:
        return stage_tilt, "the stage_tilt argument"
    tilt = signal.metadata.get_item(STAGE_TILT_KEY, None)
    if tilt is None:
        raise ValueError(f"No stage tilt: give stage_tilt or set metadata.{STAGE_TILT_KEY}.")
    return tilt, f"metadata.{STAGE_TILT_KEY}"


def _x_pixel_size(x_axis, field_width, units):
    """Horizontal pixel size in ``units``, where it came from, and the field width."""
    if field_width is not None:
        width = _parse_length(field_width, units)
        return pixel_size_from_field_width(width, x_axis.size), "field_width", float(width)
    x_units = x_axis.units if isinstance(x_axis.units, str) else ""
    if not x_units:
        raise ValueError(
            "The x axis has no length units: give field_width (e.g. 17.6e3 with units='nm')."
        )
    if not _is_length(x_units):
        raise ValueError(f"The x axis units {x_units!r} are not a length: give field_width.")
    x_size = _length(float(x_axis.scale), x_units, units)
    if not x_size > 0:
        raise ValueError("The x scale must be positive.")
    return x_size, "x_scale", None


def _tilt_record(signal, tilt, source, x_size, y_size, units, size_source, width):
    """What a tilt correction does, as recorded in ``metadata.Signal.Tilt_correction``."""
    x_axis, y_axis = signal.axes_manager.navigation_axes[:2]
    record = {
        "stage_tilt": tilt,
        "stage_tilt_source": source,
        "factor": 1.0 / math.sin(math.radians(tilt)),
        "x_scale": x_size,
        "y_scale": y_size,
        "units": str(units),
        "source": size_source,
        "previous_x_scale": float(x_axis.scale),
        "previous_y_scale": float(y_axis.scale),
        "previous_x_units": x_axis.units if isinstance(x_axis.units, str) else "",
        "previous_y_units": y_axis.units if isinstance(y_axis.units, str) else "",
    }
    previous = signal.metadata.get_item(STAGE_TILT_KEY, None)
    if previous is not None:
        record["previous_stage_tilt"] = float(previous)
    if width is not None:
        record["field_width"] = width
    return record


def tilt_correct(signal, stage_tilt=None, field_width=None, units="nm", inplace=True):
    """The body of ``tilt_correct_scale``: see that method.

    Returns
    -------
    EDSSEMCmeansSpectrum
        The corrected signal (itself or a copy).
    """
    tilt, source = _stage_tilt(signal, stage_tilt)
    try:
        tilt = check_stage_tilt(tilt)
    except ValueError as error:
        raise ValueError(f"{error} (from {source})") from None
    if not isinstance(units, str) or not _is_length(units):
        raise ValueError(f"Unknown units {units!r}: units must be a length unit such as 'nm'.")
    nav = signal.axes_manager.navigation_axes
    if len(nav) < 2:
        raise ValueError("Tilt correction needs a map with x and y navigation axes.")
    x_axis, y_axis = nav[0], nav[1]
    if not all(getattr(axis, "is_uniform", False) for axis in (x_axis, y_axis)):
        raise ValueError("The x and y axes must be uniform.")
    x_size, size_source, width = _x_pixel_size(x_axis, field_width, units)
    y_size = tilt_corrected_pixel_size(x_size, tilt)
    # everything is valid: write
    if implausible_tilt(tilt):
        lo, hi = PLAUSIBLE_TILT_RANGE
        warnings.warn(
            f"Stage tilt {tilt:g} deg (from {source}) is outside the {lo:g}-{hi:g} deg "
            f"plausible for a cross-section: the y pixel size is multiplied by "
            f"{y_size / x_size:.4g}. Check the tilt and give stage_tilt if it is wrong.",
            UserWarning,
            stacklevel=3,
        )
    target = signal if inplace else signal.deepcopy()
    already = target.metadata.has_item(TILT_CORRECTION_NODE)
    record = _tilt_record(target, tilt, source, x_size, y_size, units, size_source, width)
    x_axis, y_axis = target.axes_manager.navigation_axes[:2]
    for axis, size, name in ((x_axis, x_size, "x"), (y_axis, y_size, "y")):
        # keep the offset at the same pixel position
        offset_pixels = axis.offset / axis.scale if axis.scale else 0.0
        axis.scale = size
        axis.offset = offset_pixels * size
        axis.units = str(units)
        axis.name = name
    target.metadata.set_item(TILT_CORRECTION_NODE, record)
    target.metadata.set_item(STAGE_TILT_KEY, tilt)
    if already:
        warnings.warn(
            "This signal was already tilt-corrected; the y pixel size was recomputed "
            "from the x pixel size (not compounded).",
            UserWarning,
            stacklevel=3,
        )
    return target
