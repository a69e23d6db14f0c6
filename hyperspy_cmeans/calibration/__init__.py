"""Energy calibration from peaks and stage-tilt correction, on plain arrays.

The functions here work on NumPy arrays and exspy's element database; the
signal methods :meth:`EDSSEMCmeansSpectrum.calibrate_energy_from_peaks` and
:meth:`EDSSEMCmeansSpectrum.tilt_correct_scale` validate their input and
delegate to them.
"""

from hyperspy_cmeans.calibration.energy import (
    DEFAULT_OFFSET_RANGE,
    DEFAULT_SCALE_RANGE,
    ENERGY_CALIBRATION_NODE,
    EnergyCalibration,
    LineMatch,
    calibrate_spectrum,
)
from hyperspy_cmeans.calibration.lines import (
    CandidateLine,
    build_line_table,
    fwhm_at_energy,
    split_line,
)
from hyperspy_cmeans.calibration.peaks import PeakTable, estimate_noise_gain, find_spectrum_peaks

__all__ = [
    "DEFAULT_OFFSET_RANGE",
    "DEFAULT_SCALE_RANGE",
    "ENERGY_CALIBRATION_NODE",
    "CandidateLine",
    "EnergyCalibration",
    "LineMatch",
    "PeakTable",
    "build_line_table",
    "calibrate_spectrum",
    "estimate_noise_gain",
    "find_spectrum_peaks",
    "fwhm_at_energy",
    "split_line",
]
