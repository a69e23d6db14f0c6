"""Energy calibration from peaks and stage-tilt correction, on plain arrays.

The functions here work on NumPy arrays and exspy's element database; the
signal methods :meth:`EDSSEMCmeansSpectrum.calibrate_energy_from_peaks` and
:meth:`EDSSEMCmeansSpectrum.tilt_correct_scale` validate their input and
delegate to them.
"""

from hyperspy_cmeans._calibration.energy import (
    DEFAULT_OFFSET_RANGE,
    DEFAULT_SCALE_RANGE,
    ENERGY_CALIBRATION_NODE,
    EnergyCalibration,
    LineMatch,
    calibrate_spectrum,
)
from hyperspy_cmeans._calibration.lines import (
    CandidateLine,
    build_line_table,
    fwhm_at_energy,
    split_line,
)
from hyperspy_cmeans._calibration.peaks import (
    PeakTable,
    estimate_noise_gain,
    find_spectrum_peaks,
    fit_line_template,
)
from hyperspy_cmeans._calibration.tilt import (
    TILT_CORRECTION_NODE,
    check_stage_tilt,
    pixel_size_from_field_width,
    tilt_correct_axes,
    tilt_corrected_pixel_size,
)

__all__ = [
    "DEFAULT_OFFSET_RANGE",
    "DEFAULT_SCALE_RANGE",
    "ENERGY_CALIBRATION_NODE",
    "TILT_CORRECTION_NODE",
    "CandidateLine",
    "EnergyCalibration",
    "LineMatch",
    "PeakTable",
    "build_line_table",
    "calibrate_spectrum",
    "check_stage_tilt",
    "estimate_noise_gain",
    "find_spectrum_peaks",
    "fit_line_template",
    "fwhm_at_energy",
    "pixel_size_from_field_width",
    "split_line",
    "tilt_correct_axes",
    "tilt_corrected_pixel_size",
]
