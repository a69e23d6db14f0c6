"""Every figure of the package: one home for plotting.

Functions that draw one panel take an ``ax`` (a new figure when it is None)
and return it; functions that draw a grid take a ``fig`` and return their
axes. They work on plain arrays. The signal methods, the result types, the
GUI previews and the demo all draw through these functions.
"""

from hyperspy_cmeans._drawing.calibration import plot_energy_calibration
from hyperspy_cmeans._drawing.clusters import (
    UNASSIGNED_COLOR,
    cluster_colors,
    draw_membership,
    image_extent,
    phase_colormap,
    phase_legend_handles,
    plot_data_space,
    plot_membership_maps,
    plot_memberships_per_n,
    plot_phase_map,
    plot_phase_spectra,
    readable_extent,
)
from hyperspy_cmeans._drawing.overview import plot_cluster_overview, plot_membership_profiles

__all__ = [
    "UNASSIGNED_COLOR",
    "cluster_colors",
    "draw_membership",
    "image_extent",
    "phase_colormap",
    "phase_legend_handles",
    "plot_cluster_overview",
    "plot_data_space",
    "plot_energy_calibration",
    "plot_membership_maps",
    "plot_membership_profiles",
    "plot_memberships_per_n",
    "plot_phase_map",
    "plot_phase_spectra",
    "readable_extent",
]
