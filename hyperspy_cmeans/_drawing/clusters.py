"""Pictures of fuzzy clustering results with one colour per cluster everywhere.

Cluster ``k`` is drawn in ``cluster_colors(n)[k]`` in the membership maps,
the phase map, the phase spectra and the data-space scatter plots; unassigned
(mixed) pixels are grey. Functions that draw one panel take an ``ax`` (a new
figure when it is None) and return it; functions that draw a grid take a
``fig`` and return the array of their axes. They take plain arrays only.
"""

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap, to_rgba
from matplotlib.patches import Patch

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
    """Colormap for phase maps: grey for -1 (unassigned), then the cluster colours.

    Use it with ``vmin=-1.5, vmax=n_clusters - 0.5`` so that value ``k`` gets
    cluster ``k``'s colour.

    Parameters
    ----------
    n_clusters : int
        Number of clusters.

    Returns
    -------
    matplotlib.colors.ListedColormap
        ``n_clusters + 1`` colours.
    """
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


#: Length units and their size in metres.
_LENGTHS = {"nm": 1e-9, "µm": 1e-6, "um": 1e-6, "mm": 1e-3, "m": 1.0}


def readable_extent(extent, units):
    """An image extent in the length unit that reads best (800000 nm -> 800 µm).

    Parameters
    ----------
    extent : list of float or None
        ``imshow`` extent in ``units``.
    units : str
        Length units of the extent (other units are left alone).

    Returns
    -------
    tuple
        ``(extent, units)``: the field's width is between 1 and 1000 of the
        returned unit whenever one of nm, µm, mm, m allows it.
    """
    if extent is None or units not in _LENGTHS:
        return extent, units
    width = max(abs(extent[1] - extent[0]), abs(extent[3] - extent[2])) * _LENGTHS[units]
    best = "nm"
    for name in ("nm", "µm", "mm", "m"):
        if width / _LENGTHS[name] >= 1:
            best = name
    factor = _LENGTHS[units] / _LENGTHS[best]
    return [v * factor for v in extent], best


def _new_axes(ax, figsize):
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _new_grid(fig, rows, cols, panel_size):
    if fig is None:
        fig = plt.figure(figsize=(panel_size[0] * cols, panel_size[1] * rows), layout="constrained")
    return fig.subplots(rows, cols, squeeze=False)


def _frame(ax, color, width=3.0):
    for spine in ax.spines.values():
        spine.set_edgecolor(color)
        spine.set_linewidth(width)


def draw_membership(ax, membership, k, n_clusters, extent=None, title=None):
    """Draw one cluster's membership map, framed and titled in its colour.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    membership : numpy.ndarray
        ``(ny, nx)`` memberships in [0, 1] (NaN = masked).
    k : int
        Cluster index.
    n_clusters : int
        Number of clusters (for the colour).
    extent : list of float, optional
        ``imshow`` extent (see :func:`image_extent`).
    title : str, optional
        Panel title; default ``"cluster k"``.

    Returns
    -------
    matplotlib.image.AxesImage
        The image (for a colour bar).
    """
    color = cluster_colors(n_clusters)[k]
    image = ax.imshow(
        membership, vmin=0, vmax=1, cmap="viridis", extent=extent, interpolation="nearest"
    )
    ax.set_title(title or f"cluster {k}", color=color, fontweight="bold", fontsize=10)
    _frame(ax, color)
    return image


def plot_membership_maps(memberships, extent=None, units="", per_row=4, title=None, fig=None):
    """Grid of membership maps, each framed and titled in its cluster colour.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_clusters, ny, nx)`` memberships in [0, 1] (NaN = masked).
    extent : list of float, optional
        ``imshow`` extent of the calibrated map (see :func:`image_extent`).
    units : str
        Units of the navigation axes (axis labels).
    per_row : int
        Maps per row.
    title : str, optional
        Figure title.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in (a new one by default).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The ``(rows, columns)`` axes; unused ones are removed.
    """
    n = len(memberships)
    rows = int(np.ceil(n / per_row))
    cols = min(n, per_row)
    grid = _new_grid(fig, rows, cols, (3.2, 3.0))
    fig = grid.flat[0].figure
    image = None
    for k, ax in enumerate(grid.flat):
        if k >= n:
            ax.remove()
            continue
        image = draw_membership(ax, memberships[k], k, n, extent)
        if units:
            ax.set_xlabel(f"x ({units})")
            ax.set_ylabel(f"y ({units})")
    fig.colorbar(image, ax=list(grid.flat[:n]), shrink=0.8, label="membership")
    if title:
        fig.suptitle(title)
    return grid


def phase_legend_handles(n_clusters, unassigned_fraction=None):
    """Legend patches of a phase map: unassigned (grey, -1), then each cluster ``k``.

    Parameters
    ----------
    n_clusters : int
        Number of clusters.
    unassigned_fraction : float, optional
        Shown in the unassigned entry.

    Returns
    -------
    list of matplotlib.patches.Patch
        ``n_clusters + 1`` handles.
    """
    unassigned = "unassigned"
    if unassigned_fraction is not None:
        unassigned += f" ({100 * unassigned_fraction:.1f} %)"
    return [Patch(color=UNASSIGNED_COLOR, label=unassigned)] + [
        Patch(color=c, label=f"cluster {k}") for k, c in enumerate(cluster_colors(n_clusters))
    ]


def plot_phase_map(
    labels,
    n_clusters,
    extent=None,
    units="",
    title=None,
    unassigned_fraction=None,
    ax=None,
    legend=True,
):
    """Phase map: cluster colours, unassigned (-1) pixels grey, with a legend.

    Parameters
    ----------
    labels : numpy.ndarray
        ``(ny, nx)`` integers: cluster index ``0..n_clusters - 1``, -1 for
        unassigned or masked pixels (HyperSpy's ``get_cluster_labels(merged=True)``).
    n_clusters : int
        Number of clusters.
    extent : list of float, optional
        ``imshow`` extent of the calibrated map (see :func:`image_extent`).
    units : str
        Units of the navigation axes.
    title : str, optional
        Title (over the whole figure when the figure is new).
    unassigned_fraction : float, optional
        Shown in the legend entry of the unassigned pixels.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure by default).
    legend : bool
        Draw the legend beside the map.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in.
    """
    new = ax is None
    ax = _new_axes(ax, (6, 5))
    ax.imshow(
        labels,
        cmap=phase_colormap(n_clusters),
        vmin=-1.5,
        vmax=n_clusters - 0.5,
        extent=extent,
        interpolation="nearest",
    )
    if legend:
        ax.legend(
            handles=phase_legend_handles(n_clusters, unassigned_fraction),
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
        )
    if units:
        ax.set_xlabel(f"x ({units})")
        ax.set_ylabel(f"y ({units})")
    if title and new:  # over the whole figure (map and legend), wrapped: titles can be long
        ax.figure.suptitle(title, fontsize=11, wrap=True)
    elif title:
        ax.set_title(title, fontsize=10)
    return ax


def _label_levels(positions, min_gap):
    """Stagger labels at sorted ``positions``: level 0, 1, 2 ... where they would touch."""
    levels = []
    last_at_level = {}
    for x in positions:
        level = 0
        while level in last_at_level and x - last_at_level[level] < min_gap:
            level += 1
        last_at_level[level] = x
        levels.append(level)
    return levels


def intensity_limits(energy, spectra, low_energy_cut, xlim):
    """``(low, high)`` intensity range of the spectra over ``xlim``, ignoring the zero peak.

    Parameters
    ----------
    energy : numpy.ndarray
        Channel energies.
    spectra : numpy.ndarray
        ``(n, n_channels)``.
    low_energy_cut : float
        Channels below this energy (the detector's zero-energy noise peak)
        do not set the scale.
    xlim : tuple of float
        Plotted energy range.

    Returns
    -------
    tuple of float
        The smallest and largest finite value in range (0, 1 without any).
    """
    inside = (energy >= max(low_energy_cut, xlim[0])) & (energy <= xlim[1])
    values = spectra[:, inside] if inside.any() else spectra
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    return float(finite.min()), float(finite.max())


def plot_phase_spectra(
    energy,
    spectra,
    line_energies=None,
    log=False,
    title=None,
    labels=None,
    ax=None,
    units="keV",
    xlim=None,
    ylabel="mean counts per pixel",
):
    """Phase spectra in cascade, coloured as the phase map, X-ray lines marked.

    Spectrum ``k`` is drawn in cluster ``k``'s colour, labelled ``labels[k]``
    (default ``"cluster k"``), and offset by ``k`` steps above the first one.
    The intensity scale ignores the detector's zero-energy peak, and line
    labels that would overlap are staggered.

    Parameters
    ----------
    energy : numpy.ndarray
        ``(n_channels,)`` channel energies in ``units``.
    spectra : numpy.ndarray
        ``(n_clusters, n_channels)`` spectra.
    line_energies : dict, optional
        ``{"Fe_Ka": 6.4039, ...}`` lines to mark, in ``units``.
    log : bool
        Logarithmic intensity axis (no cascade offset then).
    title : str, optional
        Axes title.
    labels : list of str, optional
        Legend entries, one per spectrum.
    ax : matplotlib.axes.Axes, optional
        Where to draw (a new figure by default).
    units : str
        Energy units (``"keV"`` or ``"eV"``).
    xlim : tuple of float, optional
        Energy range to show; default the whole axis.
    ylabel : str
        Intensity label.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in; the curve labelled ``"cluster k"`` is spectrum ``k``.
    """
    spectra = np.asarray(spectra, dtype=float)
    energy = np.asarray(energy, dtype=float)
    n = len(spectra)
    colors = cluster_colors(n)
    ax = _new_axes(ax, (9, 1.2 + 1.3 * n))
    xlim = (float(energy[0]), float(energy[-1])) if xlim is None else tuple(xlim)
    # the zero-energy (noise) peak sits below about 0.15 keV
    cut = 0.15 * (1000.0 if units == "eV" else 1.0)
    low, high = intensity_limits(energy, spectra, cut, xlim)
    step = 0.0 if log else 0.6 * high
    for k in range(n):
        label = labels[k] if labels else f"cluster {k}"
        ax.plot(energy, spectra[k] + step * k, color=colors[k], lw=1.0, label=label)
    handles, texts = ax.get_legend_handles_labels()
    # the top curve is the last cluster: list the legend top-down as drawn
    ax.legend(handles[::-1], texts[::-1], loc="upper right", frameon=False)
    if log:
        ax.set_yscale("log")
        positive = spectra[(spectra > 0) & np.isfinite(spectra)]
        floor = max(float(positive.min()), high * 1e-4) if positive.size else 1e-3
        ax.set_ylim(floor, high * 3)
        top = high * 3
    else:
        top = step * (n - 1) + high * 1.15
        ax.set_ylim(min(low, 0.0), top)
    shown = sorted(
        (e, name) for name, e in (line_energies or {}).items() if xlim[0] <= e <= xlim[1]
    )
    levels = _label_levels([e for e, _ in shown], 0.018 * (xlim[1] - xlim[0]))
    for (e, name), level in zip(shown, levels, strict=True):
        ax.axvline(e, color="0.5", lw=0.6, ls=":", zorder=0)
        y = top / (1.0 + 0.6 * level) if log else top - 0.09 * top * level
        text = name.replace("_", " ")
        ax.text(e, y, text, rotation=90, va="top", ha="right", fontsize=7, color="0.3")
    ax.set_xlabel(f"Energy ({units})")
    ax.set_ylabel(ylabel + ("" if log else " (offset)"))
    ax.set_xlim(*xlim)
    if title:
        ax.set_title(title)
    return ax


def plot_data_space(
    scores, labels=None, memberships=None, max_points=50000, random_state=0, title=None, fig=None
):
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
    fig : matplotlib.figure.Figure, optional
        Figure to draw in (a new one by default).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One panel per pair of scores.
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
        n_colors = int(lab.max()) + 1 if lab.size else 1
        palette = np.asarray([UNASSIGNED_COLOR, *cluster_colors(n_colors)])
        colors = palette[lab + 1]
    else:
        colors = "k"
    cols = min(len(pairs), 3)
    rows = int(np.ceil(len(pairs) / cols))
    grid = _new_grid(fig, rows, cols, (3.6, 3.4))
    for ax, (i, j) in zip(grid.flat, pairs, strict=False):
        ax.scatter(
            scores[idx, i], scores[idx, j], s=1.5, c=colors, edgecolors="none", rasterized=True
        )
        ax.set_xlabel(f"score {i}")
        ax.set_ylabel(f"score {j}")
    for ax in list(grid.flat)[len(pairs) :]:
        ax.remove()
    if title:
        grid.flat[0].figure.suptitle(title)
    return grid


def plot_memberships_per_n(memberships, values, estimate, metric, extent=None, fig=None):
    """Membership maps for each number of clusters of a scan, one row per number.

    Parameters
    ----------
    memberships : dict
        ``{n: (n, ny, nx) memberships}``.
    values : dict
        ``{n: index value}``, written beside each row.
    estimate : int
        The chosen number (its row is starred).
    metric : str
        The index name (in the title).
    extent : list of float, optional
        ``imshow`` extent of the maps.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in (a new one by default).

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        ``(rows, max(n))`` axes.

    Raises
    ------
    ValueError
        If the maps are not 2-D images.
    """
    if any(np.ndim(maps) != 3 for maps in memberships.values()):
        raise ValueError("membership maps per number of clusters can only be drawn for 2-D maps.")
    numbers = sorted(memberships)
    cols = max(numbers)
    grid = _new_grid(fig, len(numbers), cols, (2.2, 2.2))
    image = None
    for r, n in enumerate(numbers):
        for k in range(cols):
            ax = grid[r, k]
            ax.set_xticks([])
            ax.set_yticks([])
            if k >= n:
                ax.axis("off")
                continue
            image = draw_membership(ax, memberships[n][k], k, n, extent, title=f"{k}")
        mark = " *" if n == estimate else ""
        grid[r, 0].set_ylabel(f"n = {n}{mark}\n{metric} {values[n]:.3g}", fontsize=9)
    fig = grid.flat[0].figure
    fig.colorbar(image, ax=grid, shrink=0.6, label="membership")
    fig.suptitle(
        f"Memberships for each number of clusters (beside each row: the {metric} index; "
        "* = estimate)",
        fontsize=10,
    )
    return grid
