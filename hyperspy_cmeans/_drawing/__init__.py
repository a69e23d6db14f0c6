"""Every figure of the package: one home for plotting.

Each function draws on the ``ax`` (or ``fig``) it is given when it draws one
panel, creates a figure otherwise, and returns what it drew. The signal
methods, the GUI previews and the demo all call these functions.
"""

from hyperspy_cmeans._drawing.calibration import plot_energy_calibration
from hyperspy_cmeans._drawing.clusters import (
    UNASSIGNED_COLOR,
    cluster_colors,
    image_extent,
    phase_colormap,
    plot_data_space,
    plot_membership_maps,
    plot_phase_map,
    plot_phase_spectra,
)

__all__ = [
    "UNASSIGNED_COLOR",
    "cluster_colors",
    "image_extent",
    "phase_colormap",
    "plot_data_space",
    "plot_energy_calibration",
    "plot_membership_maps",
    "plot_phase_map",
    "plot_phase_spectra",
]
