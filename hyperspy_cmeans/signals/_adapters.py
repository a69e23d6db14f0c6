"""Signal <-> array adapters: every place where a signal becomes arrays or back.

The array modules (:mod:`hyperspy_cmeans._features`,
:mod:`hyperspy_cmeans._clustering`, :mod:`hyperspy_cmeans._phases`,
:mod:`hyperspy_cmeans._drawing`) never see a signal; the signal methods use
these functions to unfold spectra, read masks and calibrations, and wrap
per-pixel results back into signals with this map's navigation axes.
"""

from contextlib import nullcontext

import dask.array as da
import hyperspy.api as hs
import numpy as np
from hyperspy.defaults_parser import preferences


def progress(signal, show_progressbar=None):
    """A dask progress bar for the passes over a lazy signal's data.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The signal whose data are read.
    show_progressbar : bool or None
        None uses HyperSpy's ``preferences.General.show_progressbar``.

    Returns
    -------
    contextlib.AbstractContextManager
        A :class:`dask.diagnostics.ProgressBar` when the signal is lazy and
        a bar is wanted (passes over an in-memory map take seconds), else a
        context that does nothing.
    """
    if show_progressbar is None:
        show_progressbar = preferences.General.show_progressbar
    if show_progressbar and signal._lazy:
        from dask.diagnostics import ProgressBar

        return ProgressBar()
    return nullcontext()


def check_has_navigation(signal):
    """Refuse a signal without navigation axes (one spectrum cannot be clustered).

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The signal.

    Raises
    ------
    ValueError
        If the signal has no navigation axes.
    """
    if signal.axes_manager.navigation_dimension == 0:
        raise ValueError(
            "fuzzy clustering needs a map or a line scan, but this signal is a single "
            "spectrum (no navigation axes)."
        )


def spectra_array(signal):
    """The spectra of a map with channels last.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        A map or line scan with one signal axis.

    Returns
    -------
    numpy.ndarray or dask.array.Array
        The map itself, ``(*navigation_shape, n_channels)`` in NumPy order (a
        view of NumPy data, never a copy), processed block by block and never
        reshaped across navigation blocks.
    """
    check_has_navigation(signal)
    sig_index = signal.axes_manager.signal_axes[0].index_in_array
    data = signal.data
    if sig_index == data.ndim - 1:
        return data
    return (da if isinstance(data, da.Array) else np).moveaxis(data, sig_index, -1)


def pixel_spectra(spectra, indices):
    """Spectra of the pixels at flat ``indices`` of :func:`spectra_array` output.

    Parameters
    ----------
    spectra : numpy.ndarray or dask.array.Array
        Output of :func:`spectra_array`.
    indices : array-like of int
        Flat (row-major) pixel indices.

    Returns
    -------
    numpy.ndarray
        ``(len(indices), n_channels)`` float spectra.
    """
    nav = np.unravel_index(np.asarray(indices), spectra.shape[:-1])
    if isinstance(spectra, da.Array):
        return np.asarray(spectra.vindex[nav].compute(), dtype=float)
    return np.asarray(spectra[nav], dtype=float)


def _mask_array(mask, shape, name, what):
    """Flat boolean mask (True = excluded) of an exact NumPy-order ``shape``."""
    if mask is None:
        return np.zeros(int(np.prod(shape)), dtype=bool)
    if isinstance(mask, hs.signals.BaseSignal):
        mask = mask.data
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise TypeError(
            f"{name} must be a boolean array or signal (True = excluded), got dtype {mask.dtype}."
        )
    if mask.shape != tuple(shape):
        raise ValueError(
            f"{name} has shape {mask.shape} but the {what} shape is {tuple(shape)} "
            "(NumPy order: rows first); give a mask of exactly that shape."
        )
    return mask.ravel()


def navigation_mask_of(signal, navigation_mask):
    """Flat boolean navigation mask, True for the pixels to exclude.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The map.
    navigation_mask : numpy.ndarray, BaseSignal or None
        Boolean mask of the navigation shape in NumPy order (``(ny, nx)``
        for a map), or a signal holding it; None excludes nothing.

    Returns
    -------
    numpy.ndarray
        ``(n_pixels,)`` bool in row-major pixel order.

    Raises
    ------
    TypeError
        If the mask is not boolean.
    ValueError
        If its shape is not the navigation shape (a transposed mask of the
        right size included).
    """
    shape = signal.axes_manager.navigation_shape[::-1]
    return _mask_array(navigation_mask, shape, "navigation_mask", "navigation")


def signal_mask_of(signal_mask, n_channels):
    """Flat boolean channel mask, True for the channels to exclude.

    Parameters
    ----------
    signal_mask : numpy.ndarray, BaseSignal or None
        Boolean mask with one value per channel (or per feature of a
        signal source).
    n_channels : int
        Number of channels or features.

    Returns
    -------
    numpy.ndarray
        ``(n_channels,)`` bool.
    """
    return _mask_array(signal_mask, (n_channels,), "signal_mask", "signal")


def navigation_calibration(signal):
    """Offsets, scales and sizes of a 2-D map's axes, and their units.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The map.

    Returns
    -------
    tuple
        ``([(x offset, x scale, nx), (y offset, y scale, ny)], units)`` for
        maps with two navigation axes, else ``(None, "")``.
    """
    nav = signal.axes_manager.navigation_axes
    if len(nav) != 2:
        return None, ""
    units = nav[0].units
    return [(ax.offset, ax.scale, ax.size) for ax in nav], units if isinstance(units, str) else ""


def navigation_stack(signal, rows, title, index_name="Cluster index"):
    """An image stack over the navigation axes from ``(k, n_pixels)`` rows.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The map whose navigation axes the images get.
    rows : numpy.ndarray
        ``(k, n_pixels)`` values in row-major pixel order.
    title : str
        Title of the new signal.
    index_name : str
        Name of the stacking (navigation) axis.

    Returns
    -------
    hyperspy.signal.BaseSignal
        ``(k | navigation shape)``: a ``Signal2D`` for maps, a ``Signal1D``
        for line scans.
    """
    am = signal.axes_manager
    data = np.asarray(rows).reshape((-1,) + am.navigation_shape[::-1])
    nav_axes = am._get_navigation_axes_dicts()
    for ax in nav_axes:
        ax["navigate"] = False
    cls = {2: hs.signals.Signal2D, 1: hs.signals.Signal1D}.get(len(nav_axes), hs.signals.BaseSignal)
    out = cls(data, axes=[{"size": data.shape[0], "navigate": True, "name": index_name}] + nav_axes)
    out.metadata.General.title = title
    return out


def navigation_image(signal, values, title):
    """An image (or line) over the navigation axes of ``signal``.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The map.
    values : numpy.ndarray
        ``(n_pixels,)`` values in row-major pixel order.
    title : str
        Title of the new signal.

    Returns
    -------
    hyperspy.signal.BaseSignal
        HyperSpy's navigation signal of ``signal`` holding ``values``.
    """
    out = signal._get_navigation_signal(
        np.asarray(values).reshape(signal.axes_manager.navigation_shape[::-1])
    )
    out.metadata.General.title = title
    return out


def navigation_coordinates(signal):
    """Calibrated navigation coordinates of every pixel, and the axis names.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The map.

    Returns
    -------
    tuple
        ``(coordinates, names)``: a list of ``(n_pixels,)`` arrays in NumPy
        axis order (y before x) and their axis names.
    """
    am = signal.axes_manager
    idx = np.unravel_index(np.arange(am.navigation_size), am.navigation_shape[::-1])
    axes = am.navigation_axes[::-1]
    coords = [ax.offset + ax.scale * i for ax, i in zip(axes, idx, strict=True)]
    names = [
        ax.name if isinstance(ax.name, str) and ax.name else f"nav{k}" for k, ax in enumerate(axes)
    ]
    return coords, names


def line_energies(signal, extra=None):
    """Energies (keV) of the X-ray lines in ``metadata.Sample``, and of extra ones.

    Parameters
    ----------
    signal : exspy.signals.EDSSpectrum
        An EDS signal.
    extra : list of str, optional
        More lines (``"C_Ka"``) or elements (``"Pt"``: its main line in range),
        e.g. lines found in the spectrum but not listed in the metadata.

    Returns
    -------
    dict
        ``{"Fe_Ka": 6.4039, ...}`` for ``Sample.xray_lines`` (or the main lines
        of ``Sample.elements`` when no lines are set) and ``extra``.

    Raises
    ------
    ValueError
        For an unknown element or line in ``extra``.
    """
    from exspy.material import elements as database

    lines = list(signal.metadata.get_item("Sample.xray_lines", []) or [])
    if not lines and signal.metadata.get_item("Sample.elements"):
        lines = signal._get_lines_from_elements(
            signal.metadata.Sample.elements, only_one=True, only_lines=("a",)
        )
    extra = [str(x) for x in (extra or [])]
    elements = [x for x in extra if "_" not in x]
    unknown = [x for x in elements if x not in database]
    if unknown:
        raise ValueError(
            f"unknown element(s) {unknown}; give element symbols or lines like 'C_Ka'."
        )
    if elements:
        lines += signal._get_lines_from_elements(elements, only_one=True, only_lines=("a",))
    lines += [x for x in extra if "_" in x]
    energies = {}
    for line in lines:
        element, name = line.split("_", 1)
        try:
            info = database[element].Atomic_properties.Xray_lines[name]
        except (KeyError, AttributeError):
            raise ValueError(f"unknown X-ray line {line!r}; use names like 'Fe_Ka'.") from None
        energies[line] = float(info["energy (keV)"])
    return energies
