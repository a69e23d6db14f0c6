"""The plot methods of the signal class: read the results, draw with :mod:`hyperspy_cmeans._drawing`."""

from hyperspy_cmeans import _drawing as drawing
from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans.signals import _adapters as adapters
from hyperspy_cmeans.signals import _results as results
from hyperspy_cmeans.signals import _state as state


def _map_geometry(signal, what):
    """``(extent, units)`` of a 2-D map; a clear error for other navigation shapes."""
    calibration, units = adapters.navigation_calibration(signal)
    if calibration is None:
        raise ValueError(
            f"{what} needs a map with two navigation axes; this signal has "
            f"{signal.axes_manager.navigation_dimension}. Use get_cluster_memberships() / "
            "get_phase_map() and plot the signal (or a slice of it) with HyperSpy."
        )
    return drawing.readable_extent(drawing.image_extent(calibration), units)


def cluster_memberships(signal, per_row, fig=None):
    """Draw the membership maps of a clustered 2-D map (see ``plot_cluster_memberships``).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    per_row : int
        Maps per row.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        The axes of the maps.
    """
    from hyperspy_cmeans import _checks

    per_row = _checks.check_positive_integer(per_row, "per_row")
    extent, units = _map_geometry(signal, "plot_cluster_memberships")
    stack = results.membership_stack(signal)
    return drawing.plot_membership_maps(
        stack.data, extent, units, per_row, title=stack.metadata.General.title, fig=fig
    )


def phase_map(signal, threshold, ax=None):
    """Draw the phase map of a clustered 2-D map (see ``plot_phase_map``).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    threshold : float
        Assignment threshold.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in.
    """
    extent, units = _map_geometry(signal, "plot_phase_map")
    pm = results.phase_map(signal, threshold)
    return drawing.plot_phase_map(
        pm.data,
        pm.metadata.Phase_map.number_of_phases,
        extent,
        units,
        title=pm.metadata.General.title,
        unassigned_fraction=pm.metadata.Phase_map.unassigned_fraction,
        ax=ax,
    )


def _energy_factor(units):
    """Axis units per keV (X-ray line energies are in keV)."""
    return {"keV": 1.0, "eV": 1000.0}.get(units, 1.0)


def spectrum_range(signal, lines_kev):
    """The energy range worth showing: up to the highest line of interest or the beam energy.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map (its energy axis and beam energy).
    lines_kev : dict
        The marked lines, in keV.

    Returns
    -------
    tuple of float
        ``(low, high)`` in the axis units: from the axis start to the highest
        line plus a margin (max(1 keV, 15 %)), never beyond the beam energy
        (no X-rays there) or the axis end.
    """
    axis = signal.axes_manager.signal_axes[0]
    factor = _energy_factor(axis.units)
    end = float(axis.axis[-1])
    high = end
    beam = signal.metadata.get_item("Acquisition_instrument.SEM.beam_energy", None)
    if beam:
        high = min(high, float(beam) * factor)
    if lines_kev:
        top = max(lines_kev.values())
        high = min(high, (top + max(1.0, 0.15 * top)) * factor)
    low = float(axis.axis[0])
    return low, max(high, low + (end - low) * 0.05)


def phase_spectra(signal, threshold, weighting, xray_lines, log, ax=None):
    """Draw the phase spectra (see ``plot_phase_spectra``).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    threshold : float
        Membership threshold of the members.
    weighting : {"threshold", "membership"}
        As in ``cluster_phase_spectra``.
    xray_lines : bool or list of str
        True: mark the lines of ``metadata.Sample``; a list: those and these
        lines or elements; False: none.
    log : bool
        Logarithmic intensity axis.
    ax : matplotlib.axes.Axes, optional
        Where to draw.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in.
    """
    spectra = results.phase_spectra(signal, threshold, weighting)
    axis = signal.axes_manager.signal_axes[0]
    lines = {}
    if xray_lines is not False and xray_lines is not None:
        extra = None if xray_lines is True else list(xray_lines)
        lines = adapters.line_energies(signal, extra)
    factor = _energy_factor(axis.units)
    units = axis.units if isinstance(axis.units, str) and axis.units else "keV"
    return drawing.plot_phase_spectra(
        axis.axis,
        spectra.data,
        {name: e * factor for name, e in lines.items()},
        log=log,
        title=spectra.metadata.General.title,
        ax=ax,
        units=units,
        xlim=spectrum_range(signal, lines),
    )


def data_space(signal, color_by, max_points, fig=None):
    """Draw the data-space scatter plots (see ``plot_data_space``).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    color_by : {"label", "membership"}
        Colouring.
    max_points : int
        Subsample size.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        One panel per pair of scores.
    """
    if color_by not in ("label", "membership"):
        raise ValueError(f"color_by={color_by!r}; use 'label' or 'membership'.")
    res = state.current_results(signal)
    u = state.in_memory(signal, res["memberships"]).T
    labels = phases.hard_labels(u, res["parameters"].get("assignment_threshold", 0.5))
    return drawing.plot_data_space(
        state.in_memory(signal, res["scores"]),
        labels=labels if color_by == "label" else None,
        memberships=u if color_by == "membership" else None,
        max_points=max_points,
        title=f"Data space ({res['parameters'].get('source', '')})",
        fig=fig,
    )


def cluster_overview(signal, threshold, title=None, with_spectra=False, fig=None):
    """Membership maps, phase map (and phase spectra) in one figure.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered 2-D map.
    threshold : float
        Assignment threshold of the phase map.
    title : str, optional
        Figure title.
    with_spectra : bool
        Add the phase spectra below the maps.
    fig : matplotlib.figure.Figure, optional
        Figure to draw in.

    Returns
    -------
    list of matplotlib.axes.Axes
        The axes drawn.
    """
    extent, _ = _map_geometry(signal, "the cluster overview")
    stack = results.membership_stack(signal)
    pm = results.phase_map(signal, threshold)
    spectra = energy = lines = xlim = None
    axis = signal.axes_manager.signal_axes[0]
    if with_spectra:
        spectra = results.phase_spectra(signal, threshold, "threshold").data
        energy = axis.axis
        lines_kev = adapters.line_energies(signal)
        lines = {name: e * _energy_factor(axis.units) for name, e in lines_kev.items()}
        xlim = spectrum_range(signal, lines_kev)
    return drawing.plot_cluster_overview(
        stack.data,
        pm.data,
        extent,
        title,
        energy,
        spectra,
        lines,
        fig=fig,
        units=axis.units or "keV",
        xlim=xlim,
    )
