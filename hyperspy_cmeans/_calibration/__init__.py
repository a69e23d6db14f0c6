"""Energy calibration from peaks and stage-tilt arithmetic, on plain arrays.

Nothing here imports HyperSpy or handles signals: the functions work on NumPy
arrays and exspy's element database. The signal methods
:meth:`EDSSEMCmeansSpectrum.calibrate_energy_from_peaks` and
:meth:`EDSSEMCmeansSpectrum.tilt_correct_scale` validate their input and
delegate to :mod:`hyperspy_cmeans.signals._calibration`, which converts
between signals and arrays and calls these functions.

The result types users receive are :class:`EnergyCalibration` (with its
:class:`LineMatch` list and :class:`QualityGate`) and the error
:class:`EnergyCalibrationError`.
"""

from hyperspy_cmeans._calibration.energy import (
    DEFAULT_OFFSET_RANGE,
    DEFAULT_SCALE_RANGE,
    calibrate_spectrum,
    checked_spectrum,
)
from hyperspy_cmeans._calibration.gate import QualityGate
from hyperspy_cmeans._calibration.lines import (
    CandidateLine,
    analysis_lines,
    build_line_table,
    fwhm_at_energy,
    line_energies,
    split_line,
)
from hyperspy_cmeans._calibration.peaks import (
    PeakTable,
    estimate_noise_gain,
    find_spectrum_peaks,
    fit_line_template,
)
from hyperspy_cmeans._calibration.result import (
    EnergyCalibration,
    EnergyCalibrationError,
    LineMatch,
)
from hyperspy_cmeans._calibration.tilt import (
    PLAUSIBLE_TILT_RANGE,
    check_stage_tilt,
    implausible_tilt,
    pixel_size_from_field_width,
    tilt_corrected_pixel_size,
)

__all__ = [
    "DEFAULT_OFFSET_RANGE",
    "DEFAULT_SCALE_RANGE",
    "PLAUSIBLE_TILT_RANGE",
    "CandidateLine",
    "EnergyCalibration",
    "EnergyCalibrationError",
    "LineMatch",
    "PeakTable",
    "QualityGate",
    "analysis_lines",
    "build_line_table",
    "calibrate_spectrum",
    "check_stage_tilt",
    "checked_spectrum",
    "estimate_noise_gain",
    "find_spectrum_peaks",
    "fit_line_template",
    "fwhm_at_energy",
    "implausible_tilt",
    "line_energies",
    "pixel_size_from_field_width",
    "split_line",
    "tilt_corrected_pixel_size",
]
