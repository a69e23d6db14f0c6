"""Pixel-size arithmetic for maps of a cross-section viewed at a stage tilt.

A FIB cross-section is imaged with the stage tilted by ``stage_tilt`` degrees
(52 degrees in a dual-beam microscope), so the face is seen foreshortened in
the vertical direction: a vertical pixel covers ``horizontal / sin(tilt)``
(``= horizontal / cos(90 - tilt)``) of the face, while the horizontal pixel
size is unchanged.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "TILT_CORRECTION_NODE",
    "check_stage_tilt",
    "pixel_size_from_field_width",
    "tilt_correct_axes",
    "tilt_corrected_pixel_size",
]

#: Where the tilt correction is recorded in a signal's metadata.
TILT_CORRECTION_NODE = "Signal.Tilt_correction"


def check_stage_tilt(stage_tilt):
    """Validate a stage tilt.

    Parameters
    ----------
    stage_tilt : float
        Stage tilt in degrees.

    Returns
    -------
    float
        The tilt as a float.

    Raises
    ------
    ValueError
        If the tilt is missing, not a real number or outside (0, 90].
    """
    if isinstance(stage_tilt, bool) or not isinstance(stage_tilt, numbers.Real):
        raise ValueError(f"The stage tilt must be a number of degrees, not {stage_tilt!r}.")
    tilt = float(stage_tilt)
    if not (0.0 < tilt <= 90.0):
        raise ValueError(f"The stage tilt must be in (0, 90] degrees, not {tilt}.")
    return tilt


def pixel_size_from_field_width(field_width, n_pixels):
    """Horizontal pixel size from the width of the field of view.

    Parameters
    ----------
    field_width : float
        Width of the scanned field (any length unit).
    n_pixels : int
        Number of pixels across it.

    Returns
    -------
    float
        ``field_width / n_pixels``, in the units of ``field_width``; the
        study's 17.6 um over 1024 pixels gives 17.1875 nm.

    Raises
    ------
    ValueError
        If the width is not a positive finite number or ``n_pixels < 1``.
    """
    if isinstance(field_width, bool) or not isinstance(field_width, numbers.Real):
        raise ValueError(f"field_width must be a positive number, not {field_width!r}.")
    if not (math.isfinite(field_width) and field_width > 0):
        raise ValueError(f"field_width must be a positive number, not {field_width}.")
    if int(n_pixels) < 1:
        raise ValueError("The number of pixels must be positive.")
    return float(field_width) / int(n_pixels)


def tilt_corrected_pixel_size(pixel_size, stage_tilt):
    """Vertical pixel size of a cross-section viewed at a stage tilt.

    Parameters
    ----------
    pixel_size : float
        Horizontal pixel size (any length unit).
    stage_tilt : float
        Stage tilt in degrees, in (0, 90].

    Returns
    -------
    float
        ``pixel_size / sin(stage_tilt)``: 17.1875 nm at 52 degrees gives
        21.81 nm.

    Raises
    ------
    ValueError
        If the pixel size is not positive or the tilt is invalid.
    """
    tilt = check_stage_tilt(stage_tilt)
    if not (math.isfinite(pixel_size) and pixel_size > 0):
        raise ValueError(f"The pixel size must be positive, not {pixel_size}.")
    return float(pixel_size) / math.sin(math.radians(tilt))


def _length_units(units):
    """Validate a length unit with pint; return the pint unit."""
    import pint

    ureg = pint.get_application_registry()
    try:
        unit = ureg.Unit(units)
    except Exception:  # pint raises several error types for bad names
        raise ValueError(f"Unknown units {units!r}.") from None
    if unit.dimensionality != ureg.Unit("m").dimensionality:
        raise ValueError(f"{units!r} is not a length unit.")
    return unit


def _to_units(value, from_units, to_units):
    """Convert a length between units with pint (ValueError if not lengths)."""
    import pint

    ureg = pint.get_application_registry()
    try:
        return float((value * _length_units(from_units)).to(ureg.Unit(to_units)).magnitude)
    except pint.errors.DimensionalityError:
        raise ValueError(f"Cannot convert {from_units!r} to {to_units!r}.") from None


def _parse_length(value, units):
    """A number (taken in ``units``) or a string such as ``"17.6 um"``, in ``units``."""
    import pint

    if isinstance(value, str):
        ureg = pint.get_application_registry()
        try:
            quantity = ureg.Quantity(value)
        except Exception:
            raise ValueError(f"Cannot read the length {value!r}.") from None
        if quantity.dimensionless:
            return float(quantity.magnitude)
        return _to_units(quantity.magnitude, str(quantity.units), units)
    return value


def tilt_correct_axes(signal, stage_tilt, field_width=None, units="nm"):
    """Set the navigation pixel sizes of a cross-section map (in place).

    Everything is validated before anything is changed.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        A signal with at least two navigation axes; ``navigation_axes[0]`` is
        x (columns), ``navigation_axes[1]`` is y (rows).
    stage_tilt : float
        Stage tilt in degrees, in (0, 90].
    field_width : float or str, optional
        Width of the field of view: a number in ``units`` or a string with
        its units (``"17.6 um"``). Default: use the current x scale, which
        must then have length units.
    units : str, default "nm"
        Length units of the result.

    Returns
    -------
    dict
        What was done, as recorded in ``metadata.Signal.Tilt_correction``.

    Raises
    ------
    ValueError
        For fewer than two navigation axes, a non-uniform x/y axis, an
        invalid tilt, field width or unit, or an x axis without length units
        when no field width is given.
    """
    tilt = check_stage_tilt(stage_tilt)
    _length_units(units)
    nav = signal.axes_manager.navigation_axes
    if len(nav) < 2:
        raise ValueError("Tilt correction needs a map with x and y navigation axes.")
    x_axis, y_axis = nav[0], nav[1]
    for axis in (x_axis, y_axis):
        if not getattr(axis, "is_uniform", False):
            raise ValueError("The x and y axes must be uniform.")
    if field_width is not None:
        width = _parse_length(field_width, units)
        x_size = pixel_size_from_field_width(width, x_axis.size)
        source = "field_width"
    else:
        x_units = x_axis.units if isinstance(x_axis.units, str) else ""
        if not x_units:
            raise ValueError(
                "The x axis has no length units: give field_width (e.g. 17.6e3 with units='nm')."
            )
        try:
            x_size = _to_units(float(x_axis.scale), x_units, units)
        except ValueError:
            raise ValueError(
                f"The x axis units {x_units!r} are not a length: give field_width."
            ) from None
        if not x_size > 0:
            raise ValueError("The x scale must be positive.")
        source = "x_scale"
    y_size = tilt_corrected_pixel_size(x_size, tilt)
    record = {
        "stage_tilt": tilt,
        "factor": 1.0 / math.sin(math.radians(tilt)),
        "x_scale": x_size,
        "y_scale": y_size,
        "units": str(units),
        "source": source,
        "previous_x_scale": float(x_axis.scale),
        "previous_y_scale": float(y_axis.scale),
        "previous_x_units": x_axis.units if isinstance(x_axis.units, str) else "",
        "previous_y_units": y_axis.units if isinstance(y_axis.units, str) else "",
    }
    if field_width is not None:
        record["field_width"] = float(width)
    for axis, size, name in ((x_axis, x_size, "x"), (y_axis, y_size, "y")):
        # keep the offset at the same pixel position
        offset_pixels = axis.offset / axis.scale if axis.scale else 0.0
        axis.scale = size
        axis.offset = offset_pixels * size
        axis.units = str(units)
        axis.name = name
    signal.metadata.set_item(TILT_CORRECTION_NODE, record)
    return record
