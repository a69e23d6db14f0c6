"""Pictures of fuzzy clustering results with one colour per cluster everywhere.

Cluster ``k`` is drawn in ``cluster_colors(n)[k]`` in the membership maps,
the phase map, the phase spectra and the data-space scatter plots; unassigned
(mixed) pixels are grey. All functions take plain arrays and return matplotlib
figures.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, to_rgba

UNASSIGNED_COLOR = (0.75, 0.75, 0.75, 1.0)


def cluster_colors(n_clusters):
    """RGBA colour of each cluster: matplotlib's ``tab10`` (``tab20`` beyond 10).

    Parameters
    ----------
    n_clusters : int
        Number of clusters.

    Returns
    -------
    list of tuple
        One RGBA tuple per cluster, the same for every plot of this package.
    """
    cmap = plt.get_cmap("tab10" if n_clusters <= 10 else "tab20")
    return [to_rgba(cmap(i % cmap.N)) for i in range(n_clusters)]


def phase_colormap(n_clusters):
    """Colormap for phase maps: grey for 0 (unassigned), then the cluster colours."""
    return ListedColormap([UNASSIGNED_COLOR, *cluster_colors(n_clusters)], name="phases")


def image_extent(axes):
    """The ``imshow`` extent of a calibrated map, so pixels keep their physical aspect.

    Parameters
    ----------
    axes : list of tuple
        ``[(x offset, x scale, nx), (y offset, y scale, ny)]``.

    Returns
    -------
    list of float
        ``[left, right, bottom, top]`` with pixel centres at the axis values.
    """
    (x0, dx, nx), (y0, dy, ny) = axes
    return [x0 - dx / 2, x0 + dx * (nx - 0.5), y0 + dy * (ny - 0.5), y0 - dy / 2]


def plot_membership_maps(memberships, axes=None, units="", per_row=4, title=None):
    """Grid of membership maps, each framed and titled in its cluster colour.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_clusters, ny, nx)`` memberships in [0, 1] (NaN = masked).
    axes : list of tuple, optional
        ``[(x offset, x scale, nx), (y offset, y scale, ny)]`` calibration.
    units : str
        Units of the navigation axes.
    per_row : int
        Maps per row.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    n = len(memberships)
    colors = cluster_colors(n)
    rows = int(np.ceil(n / per_row))
    cols = min(n, per_row)
    fig, axs = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False, layout="constrained")
    extent = image_extent(axes) if axes else None
    for k, ax in enumerate(axs.flat):
        if k >= n:
            ax.remove()
            continue
        im = ax.imshow(memberships[k], vmin=0, vmax=1, cmap="viridis", extent=extent, interpolation="nearest")
        ax.set_title(f"cluster {k}", color=colors[k], fontweight="bold")
        for spine in ax.spines.values():
            spine.set_edgecolor(colors[k])
            spine.set_linewidth(3)
        if units:
            ax.set_xlabel(units)
    fig.colorbar(im, ax=axs, shrink=0.8, label="membership")
    if title:
        fig.suptitle(title)
    return fig


def plot_phase_map(labels, n_clusters, axes=None, units="", title=None, unassigned_fraction=None):
    """Phase map: cluster colours, unassigned (0) pixels grey, with a legend.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(ny, nx)`` integers ``0..n_clusters`` (0 = unassigned).
    n_clusters : int
        Number of clusters.
    axes : list of tuple, optional
        ``[(x offset, x scale, nx), (y offset, y scale, ny)]`` calibration.
    units : str
        Units of the navigation axes.
    title : str, optional
        Axes title.
    unassigned_fraction : float, optional
        Shown in the legend entry of the unassigned pixels.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    from matplotlib.patches import Patch

    fig, ax = plt.subplots(figsize=(6, 5), layout="constrained")
    ax.imshow(
        labels,
        cmap=phase_colormap(n_clusters),
        vmin=-0.5,
        vmax=n_clusters + 0.5,
        extent=image_extent(axes) if axes else None,
        interpolation="nearest",
    )
    unassigned = "unassigned"
    if unassigned_fraction is not None:
        unassigned += f" ({100 * unassigned_fraction:.1f} %)"
    handles = [Patch(color=UNASSIGNED_COLOR, label=unassigned)] + [
        Patch(color=c, label=f"phase {k + 1} (cluster {k})") for k, c in enumerate(cluster_colors(n_clusters))
    ]
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    if units:
        ax.set_xlabel(units)
        ax.set_ylabel(units)
    if title:  # over the whole figure (map and legend), wrapped: titles can be long
        fig.suptitle(title, fontsize=11, wrap=True)
    return fig


def plot_phase_spectra(energy, spectra, line_energies=None, log=False, title=None, labels=None):
    """Phase spectra in cascade, coloured as the phase map, X-ray lines marked.

    Parameters
    ----------
    energy : numpy.ndarray
        ``(n_channels,)`` channel energies in keV.
    spectra : numpy.ndarray
        ``(n_clusters, n_channels)`` mean spectra.
    line_energies : dict, optional
        ``{"Fe_Ka": 6.4039, ...}`` lines to mark with labelled vertical lines.
    log : bool
        Logarithmic intensity axis (no cascade offset then).
    title : str, optional
        Axes title.
    labels : list of str, optional
        Legend entries (default ``"cluster k"``).

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    spectra = np.asarray(spectra, dtype=float)
    n = len(spectra)
    colors = cluster_colors(n)
    fig, ax = plt.subplots(figsize=(9, 1.2 + 1.3 * n), layout="constrained")
    peak = np.nanmax(spectra) if np.isfinite(spectra).any() else 1.0
    step = 0.0 if log else 0.6 * peak
    for k in range(n):
        label = labels[k] if labels else f"cluster {k}"
        ax.plot(energy, spectra[n - 1 - k] + step * k, color=colors[n - 1 - k], lw=1.0, label=label)
    handles, texts = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], texts[::-1], loc="upper right", frameon=False)
    if log:
        ax.set_yscale("log")
    top = (ax.get_ylim()[1]) if not log else ax.get_ylim()[1]
    for name, e in sorted((line_energies or {}).items(), key=lambda kv: kv[1]):
        if energy[0] <= e <= energy[-1]:
            ax.axvline(e, color="0.5", lw=0.6, ls=":", zorder=0)
            ax.text(e, top, name.replace("_", " "), rotation=90, va="top", ha="right", fontsize=7, color="0.3")
    ax.set_xlabel("Energy (keV)")
    ax.set_ylabel("mean counts per pixel" + ("" if log else " (offset)"))
    ax.set_xlim(energy[0], energy[-1])
    if title:
        ax.set_title(title)
    return fig


def plot_data_space(scores, labels=None, memberships=None, max_points=50000, random_state=0, title=None):
    """Pairwise scatter plots of the data-space scores (the study's ``scatter_loadings``).

    Parameters
    ----------
    scores : numpy.ndarray
        ``(n_pixels, n_features)``; rows with NaN (masked) are skipped.
    labels : numpy.ndarray, optional
        ``(n_pixels,)`` hard labels (-1 = unassigned, grey) to colour by.
    memberships : numpy.ndarray, optional
        ``(n_pixels, n_clusters)``: colour by the membership-weighted mix of
        the cluster colours instead (mixed pixels get blended colours).
    max_points : int
        Subsample to at most this many points (with ``random_state``).
    random_state : int
        Seed of the subsampling.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure.
    """
    scores = np.asarray(scores, dtype=float)
    ok = np.all(np.isfinite(scores), axis=1)
    idx = np.flatnonzero(ok)
    if idx.size > max_points:
        idx = np.sort(np.random.default_rng(random_state).choice(idx, max_points, replace=False))
    f = scores.shape[1]
    pairs = [(i, j) for i in range(f) for j in range(i + 1, f)] or [(0, 0)]
    if memberships is not None:
        u = np.nan_to_num(np.asarray(memberships, dtype=float)[idx])
        colors = np.clip(u @ np.asarray(cluster_colors(u.shape[1]))[:, :3], 0, 1)
    elif labels is not None:
        lab = np.asarray(labels)[idx]
        palette = np.asarray([UNASSIGNED_COLOR, *cluster_colors(int(lab.max()) + 1 if lab.size else 1)])
        colors = palette[lab + 1]
    else:
        colors = "k"
    cols = min(len(pairs), 3)
    rows = int(np.ceil(len(pairs) / cols))
    fig, axs = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.4 * rows), squeeze=False, layout="constrained")
    for ax, (i, j) in zip(axs.flat, pairs, strict=False):
        ax.scatter(scores[idx, i], scores[idx, j], s=1.5, c=colors, edgecolors="none", rasterized=True)
        ax.set_xlabel(f"score {i}")
        ax.set_ylabel(f"score {j}")
    for ax in list(axs.flat)[len(pairs):]:
        ax.remove()
    if title:
        fig.suptitle(title)
    return fig
