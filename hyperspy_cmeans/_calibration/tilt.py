"""Pixel-size arithmetic for maps of a cross-section viewed at a stage tilt.

A FIB cross-section is imaged with the stage tilted by ``stage_tilt`` degrees
(52 degrees in a dual-beam microscope), so the face is seen foreshortened in
the vertical direction: a vertical pixel covers ``horizontal / sin(tilt)``
(``= horizontal / cos(90 - tilt)``) of the face, while the horizontal pixel
size is unchanged. Plain numbers only; the signal method
``tilt_correct_scale`` reads and writes the axes and metadata.
"""

from __future__ import annotations

import math
import numbers

__all__ = [
    "PLAUSIBLE_TILT_RANGE",
    "check_stage_tilt",
    "implausible_tilt",
    "pixel_size_from_field_width",
    "tilt_corrected_pixel_size",
]

#: Stage tilts (degrees) plausible for viewing a cross-section; outside this
#: range the correction factor 1 / sin(tilt) is most likely a mistake (a
#: 0.5 degree tilt would multiply the y pixel size by 115).
PLAUSIBLE_TILT_RANGE = (5.0, 85.0)


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


def implausible_tilt(stage_tilt):
    """Whether a valid stage tilt is implausible for a cross-section.

    Parameters
    ----------
    stage_tilt : float
        Stage tilt in degrees, in (0, 90].

    Returns
    -------
    bool
        True outside :data:`PLAUSIBLE_TILT_RANGE`.
    """
    lo, hi = PLAUSIBLE_TILT_RANGE
    return not lo <= float(stage_tilt) <= hi


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
