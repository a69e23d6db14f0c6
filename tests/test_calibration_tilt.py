"""EDSSEMCmeansSpectrum.tilt_correct_scale: pixel sizes of a tilted cross-section."""

import copy
import warnings

import dask.array as da
import hyperspy.api as hs
import numpy as np
import pytest
import traits.api as t

from hyperspy_cmeans import EDSSEMCmeansSpectrum, LazyEDSSEMCmeansSpectrum
from hyperspy_cmeans.data import synthetic_eds_map


def _map(nx=1024, ny=3, scale=1.0, units=t.Undefined, tilt=None, lazy=False):
    s = hs.signals.Signal1D(np.zeros((ny, nx, 8), dtype="uint16"))
    s.set_signal_type("EDS_SEM_cmeans")
    if lazy:
        s = s.as_lazy()
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.offset, ax.units = scale, 2.0 * scale, units
    if tilt is not None:
        s.metadata.set_item("Acquisition_instrument.SEM.Stage.tilt_alpha", tilt)
    return s


def _nav_state(s):
    return [(ax.name, ax.scale, ax.offset, ax.units) for ax in s.axes_manager.navigation_axes]


def test_study_numbers_from_the_field_width():
    s = _map()  # raw pixels, as loaded
    out = s.tilt_correct_scale(stage_tilt=52.0, field_width=17.6e3, units="nm")
    assert out is s
    x, y = s.axes_manager.navigation_axes
    assert (x.name, y.name, x.units, y.units) == ("x", "y", "nm", "nm")
    assert x.scale == pytest.approx(17.1875)
    assert y.scale == pytest.approx(21.81, abs=0.01)
    # offsets keep their position in pixels (2 pixels)
    assert x.offset == pytest.approx(2 * 17.1875) and y.offset == pytest.approx(2 * y.scale)
    record = s.metadata.Signal.Tilt_correction
    assert record.stage_tilt == 52.0 and record.source == "field_width"
    assert record.x_scale == x.scale and record.y_scale == y.scale
    assert record.field_width == 17.6e3 and record.units == "nm"
    assert record.factor == pytest.approx(1 / np.cos(np.radians(90 - 52)))


def test_field_width_with_its_own_units_and_other_output_units():
    s = _map()
    s.tilt_correct_scale(stage_tilt=52.0, field_width="17.6 um", units="um")
    x, y = s.axes_manager.navigation_axes
    assert x.scale == pytest.approx(0.0171875) and x.units == "um"
    assert y.scale == pytest.approx(0.02181, abs=1e-5)


def test_current_x_scale_is_converted_to_the_units():
    s = _map(scale=0.0171875, units="µm")
    s.tilt_correct_scale(stage_tilt=52.0)
    x, y = s.axes_manager.navigation_axes
    assert x.scale == pytest.approx(17.1875) and x.units == "nm"
    assert x.offset == pytest.approx(2 * 17.1875)
    assert y.scale == pytest.approx(21.81, abs=0.01)
    assert s.metadata.Signal.Tilt_correction.source == "x_scale"


def test_tilt_defaults_to_the_stage_metadata():
    s = synthetic_eds_map(shape=(8, 10), random_state=0)  # 17.1875 nm pixels, tilt 52
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0
    s.tilt_correct_scale()
    x, y = s.axes_manager.navigation_axes
    assert x.size == 10 and y.size == 8  # navigation_axes[0] is x (columns)
    assert x.scale == pytest.approx(17.1875)
    assert y.scale == pytest.approx(21.81, abs=0.01)


@pytest.mark.parametrize(
    "kwargs, tilt, match",
    [
        ({"field_width": 17.6e3}, None, "stage tilt"),  # no tilt anywhere
        ({"stage_tilt": 0.0, "field_width": 17.6e3}, None, r"\(0, 90\]"),
        ({"stage_tilt": 95.0, "field_width": 17.6e3}, None, r"\(0, 90\]"),
        ({"stage_tilt": -52.0, "field_width": 17.6e3}, None, r"\(0, 90\]"),
        ({"field_width": 17.6e3}, 120.0, r"\(0, 90\]"),  # bad metadata tilt
        ({"stage_tilt": 52.0, "field_width": 0.0}, None, "positive"),
        ({"stage_tilt": 52.0, "field_width": -17.6e3}, None, "positive"),
        ({"stage_tilt": 52.0, "field_width": "17.6 keV"}, None, "length"),
        ({"stage_tilt": 52.0, "field_width": 17.6e3, "units": "keV"}, None, "length"),
        ({"stage_tilt": 52.0, "field_width": 17.6e3, "units": "nanometres_x"}, None, "units"),
        ({"stage_tilt": 52.0}, None, "field_width"),  # x axis in raw pixels
    ],
)
def test_invalid_inputs_raise_and_change_nothing(kwargs, tilt, match):
    s = _map(tilt=tilt)
    before = _nav_state(s)
    metadata_before = copy.deepcopy(s.metadata.as_dictionary())
    with pytest.raises(ValueError, match=match):
        s.tilt_correct_scale(**kwargs)
    assert _nav_state(s) == before
    assert s.metadata.as_dictionary() == metadata_before


def test_a_spectrum_without_a_map_raises():
    s = EDSSEMCmeansSpectrum(np.zeros((5, 8)))  # a line scan: one navigation axis
    with pytest.raises(ValueError, match="x and y"):
        s.tilt_correct_scale(stage_tilt=52.0, field_width=100.0)


def test_second_application_warns_and_does_not_compound():
    s = _map()
    s.tilt_correct_scale(stage_tilt=52.0, field_width=17.6e3)
    first = _nav_state(s)
    with pytest.warns(UserWarning, match="already tilt-corrected"):
        s.tilt_correct_scale(stage_tilt=52.0)
    assert _nav_state(s) == first
    # the first call does not warn
    fresh = _map()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fresh.tilt_correct_scale(stage_tilt=52.0, field_width=17.6e3)


def test_inplace_false_leaves_the_signal_untouched():
    s = _map(tilt=52.0)
    before = _nav_state(s)
    out = s.tilt_correct_scale(field_width=17.6e3, inplace=False)
    assert out is not s
    assert _nav_state(s) == before
    assert not s.metadata.has_item("Signal.Tilt_correction")
    assert out.axes_manager.navigation_axes[1].scale == pytest.approx(21.81, abs=0.01)


def test_lazy_signal_stays_lazy():
    s = _map(lazy=True, tilt=52.0)
    assert isinstance(s, LazyEDSSEMCmeansSpectrum)
    graph_before = dict(s.data.dask)
    s.tilt_correct_scale(field_width=17.6e3)
    assert s._lazy and isinstance(s.data, da.Array)
    assert dict(s.data.dask).keys() == graph_before.keys()
    assert s.axes_manager.navigation_axes[1].scale == pytest.approx(21.81, abs=0.01)


def test_chaining_calibration_and_tilt_correction():
    s = synthetic_eds_map(shape=(24, 24), random_state=1)
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units = 1.0, 0.0, t.Undefined
    out = s.calibrate_energy_from_peaks().tilt_correct_scale(field_width=17.6e3 * 24 / 1024)
    assert out is s
    assert s.axes_manager.signal_axes[0].scale == pytest.approx(0.01, rel=5e-4)
    assert s.axes_manager.navigation_axes[1].scale == pytest.approx(21.81, abs=0.01)


# ----------------------------------------------------------------------------- issue 15

TILT_KEY = "Acquisition_instrument.SEM.Stage.tilt_alpha"


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
@pytest.mark.parametrize(
    "kwargs, metadata_tilt, source",
    [
        ({}, 0.5, "metadata.Acquisition_instrument.SEM.Stage.tilt_alpha"),
        ({"stage_tilt": 2.0}, 52.0, "stage_tilt argument"),
        ({"stage_tilt": 88.0}, None, "stage_tilt argument"),
    ],
    ids=["0.5 deg from metadata", "2 deg argument", "88 deg argument"],
)
def test_implausible_tilts_warn_with_their_source(kwargs, metadata_tilt, source, lazy):
    """A 0.5 deg stage tilt multiplied the y pixel size by 114.6 without a word."""
    s = _map(tilt=metadata_tilt, lazy=lazy)
    tilt = kwargs.get("stage_tilt", metadata_tilt)
    with pytest.warns(UserWarning, match="plausible for a cross-section") as caught:
        s.tilt_correct_scale(field_width=17.6e3, **kwargs)
    message = str(caught[0].message)
    assert source in message and f"{tilt:g} deg" in message
    factor = 1 / np.sin(np.radians(tilt))
    assert f"{factor:.4g}" in message
    # applied as asked, and recorded with its source
    x, y = s.axes_manager.navigation_axes
    assert y.scale == pytest.approx(x.scale * factor)
    assert s.metadata.Signal.Tilt_correction.stage_tilt_source.endswith(source)


@pytest.mark.parametrize("tilt", [5.0, 30.0, 52.0, 85.0])
def test_plausible_tilts_do_not_warn(tilt):
    s = _map()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s.tilt_correct_scale(stage_tilt=tilt, field_width=17.6e3)


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_the_tilt_used_is_written_to_the_stage_metadata(lazy):
    """The take-off angle and the .msa export read the tilt there."""
    s = synthetic_eds_map(shape=(8, 10), random_state=0, lazy=lazy)  # tilt_alpha 52
    s.metadata.set_item("Acquisition_instrument.SEM.Detector.EDS.elevation_angle", 35.0)
    s.metadata.set_item("Acquisition_instrument.SEM.Detector.EDS.azimuth_angle", 0.0)
    before = s.get_take_off_angle()
    s.tilt_correct_scale(stage_tilt=45.0)
    assert s.metadata.get_item(TILT_KEY) == 45.0
    record = s.metadata.Signal.Tilt_correction
    assert record.stage_tilt == 45.0 and record.previous_stage_tilt == 52.0
    assert s.get_take_off_angle() != pytest.approx(before)
    # exspy's default stage tilt (0, no tilt) is replaced by the one used
    fresh = _map(lazy=lazy)
    assert fresh.metadata.get_item(TILT_KEY) == 0.0
    fresh.tilt_correct_scale(stage_tilt=52.0, field_width=17.6e3)
    assert fresh.metadata.get_item(TILT_KEY) == 52.0
    assert fresh.metadata.Signal.Tilt_correction.previous_stage_tilt == 0.0


@pytest.mark.parametrize("lazy", [False, True], ids=["eager", "lazy"])
def test_a_bad_metadata_tilt_is_refused_naming_the_key(lazy):
    s = _map(tilt=120.0, lazy=lazy)
    before = _nav_state(s)
    metadata_before = copy.deepcopy(s.metadata.as_dictionary())
    with pytest.raises(ValueError, match=r"\(0, 90\].*metadata\.Acquisition_instrument"):
        s.tilt_correct_scale(field_width=17.6e3)
    assert _nav_state(s) == before
    assert s.metadata.as_dictionary() == metadata_before
