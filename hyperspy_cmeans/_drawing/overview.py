"""Figures that combine several panels: the GUI preview and the demo overview."""

import numpy as np

from hyperspy_cmeans._drawing.clusters import (
    cluster_colors,
    draw_membership,
    phase_legend_handles,
    plot_phase_map,
    plot_phase_spectra,
)


def plot_cluster_overview(
    memberships,
    phase_labels,
    extent=None,
    title=None,
    energy=None,
    spectra=None,
    line_energies=None,
    per_row=5,
    fig=None,
    units="keV",
    xlim=None,
):
    """Membership maps and the phase map side by side, optionally with the phase spectra.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_clusters, ny, nx)`` memberships.
    phase_labels : numpy.ndarray
        ``(ny, nx)`` phase map (cluster ``k``, -1 for unassigned).
    extent : list of float, optional
        ``imshow`` extent of the maps.
    title : str, optional
        Figure title.
    energy, spectra : numpy.ndarray, optional
        Channel energies and ``(n_clusters, n_channels)`` phase spectra: drawn
        in a row below the maps when given.
    line_energies : dict, optional
        X-ray lines to mark on the spectra (in ``units``).
    per_row : int
        Map panels per row.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in (a new pyplot figure by default).
    units : str
        Energy units of the spectra.
    xlim : tuple of float, optional
        Energy range of the spectra.

    Returns
    -------
    list of matplotlib.axes.Axes
        The membership axes, the phase-map axes, then the spectra axes if
        drawn.
    """
    import matplotlib.pyplot as plt

    n = len(memberships)
    panels = n + 1
    cols = min(panels, per_row)
    map_rows = int(np.ceil(panels / cols))
    spectra_rows = 1 if spectra is not None else 0
    if fig is None:
        fig = plt.figure(
            figsize=(2.4 * cols + 1.6, 2.4 * map_rows + 2.6 * spectra_rows + 0.6),
            layout="constrained",
        )
    grid = fig.add_gridspec(map_rows + spectra_rows, cols)
    drawn = []
    image = None
    for k in range(panels):
        ax = fig.add_subplot(grid[k // cols, k % cols])
        ax.set_xticks([])
        ax.set_yticks([])
        if k < n:
            image = draw_membership(ax, memberships[k], k, n, extent)
        else:
            plot_phase_map(phase_labels, n, extent, ax=ax, legend=False)
            ax.set_title("phase map", fontsize=10)
        drawn.append(ax)
    fig.colorbar(image, ax=drawn, shrink=0.7, label="membership")
    fig.legend(
        handles=phase_legend_handles(n),
        loc="outside lower center",
        ncols=min(n + 1, 6),
        fontsize=8,
    )
    if spectra is not None:
        ax = fig.add_subplot(grid[map_rows, :])
        plot_phase_spectra(energy, spectra, line_energies, ax=ax, units=units, xlim=xlim)
        drawn.append(ax)
    if title:
        fig.suptitle(title, fontsize=10)
    return drawn


def plot_membership_profiles(position, memberships, threshold, ax, units=""):
    """Membership profiles of a line scan, with the assignment threshold.

    Parameters
    ----------
    position : numpy.ndarray
        ``(n_pixels,)`` calibrated positions.
    memberships : numpy.ndarray
        ``(n_clusters, n_pixels)`` memberships.
    threshold : float
        Assignment threshold (dashed line).
    ax : matplotlib.axes.Axes
        Where to draw.
    units : str
        Units of the positions.

    Returns
    -------
    matplotlib.axes.Axes
        ``ax``.
    """
    colors = cluster_colors(len(memberships))
    for k, profile in enumerate(memberships):
        ax.plot(position, profile, color=colors[k], label=f"cluster {k}")
    ax.axhline(threshold, color="0.5", ls="--", lw=0.8, label="threshold")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("membership")
    ax.set_xlabel(f"position ({units})" if units else "position")
    ax.legend(fontsize=8, loc="upper right")
    return ax
