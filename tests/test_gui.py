"""The GUIs of fuzzy_cluster, calibrate_energy_from_peaks and tilt_correct_scale.

The widgets are driven programmatically, as hyperspy_gui_ipywidgets' own
tests do: open the GUI with ``display=False``, set widget values, call the
buttons' click handlers and check the signal. Widget tests skip when the
``gui-jupyter`` packages are absent; the tests of the registration, of the
method dispatch and of the message shown without the packages always run.
"""

import inspect
import math
import subprocess
import sys
import textwrap

import exspy
import hyperspy.api as hs
import numpy as np
import pytest

from hyperspy_cmeans._gui.tools import FuzzyClusterTool, TiltCorrectionTool
from hyperspy_cmeans.data import synthetic_eds_map
from hyperspy_cmeans.signals import EDSSEMCmeansSpectrum

TOOLKEYS = (
    "hyperspy_cmeans.fuzzy_cluster",
    "hyperspy_cmeans.calibrate_energy_from_peaks",
    "hyperspy_cmeans.tilt_correct_scale",
)
KWARGS = {"toolkit": "ipywidgets", "display": False}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True, scope="module")
def _ipywidgets_only():
    """Enable the ipywidgets GUIs and disable traitsui, as hyperspy_gui_ipywidgets' conftest."""
    gui = hs.preferences.GUIs
    before = (gui.enable_ipywidgets_gui, gui.enable_traitsui_gui)
    gui.enable_ipywidgets_gui, gui.enable_traitsui_gui = True, False
    yield
    gui.enable_ipywidgets_gui, gui.enable_traitsui_gui = before


@pytest.fixture
def ipy():
    """The ipywidgets module; skips the test without the gui-jupyter packages."""
    pytest.importorskip("hyperspy_gui_ipywidgets")
    pytest.importorskip("link_traits")
    return pytest.importorskip("ipywidgets")


@pytest.fixture
def s():
    """A small synthetic map (40 x 36 pixels, 256 channels, 52 deg stage tilt)."""
    return synthetic_eds_map(shape=(40, 36), n_channels=256, scale=0.04, random_state=3)


def click(wdict, name):
    """Click a button of a widget dictionary."""
    wdict[name]._click_handlers(wdict[name])


# --------------------------------------------------------------------------
# registration and dispatch (no GUI package needed)
# --------------------------------------------------------------------------


def test_toolkeys_registered_with_ipywidgets():
    from hyperspy.ui_registry import UI_REGISTRY

    for key in TOOLKEYS:
        assert set(UI_REGISTRY[key]) == {"ipywidgets"}, key
        assert UI_REGISTRY[key]["ipywidgets"]["module"] == "hyperspy_cmeans._gui.ipywidgets"


def test_widget_functions_exist(ipy):
    import importlib

    from hyperspy.ui_registry import UI_REGISTRY

    for key in TOOLKEYS:
        spec = UI_REGISTRY[key]["ipywidgets"]
        assert callable(getattr(importlib.import_module(spec["module"]), spec["function"]))


def test_docstrings_document_display_and_toolkit():
    for name in ("fuzzy_cluster", "calibrate_energy_from_peaks", "tilt_correct_scale"):
        doc = getattr(EDSSEMCmeansSpectrum, name).__doc__
        params = doc[doc.index("Parameters") : doc.index("Returns")]
        assert "\n        display : bool" in params, name
        assert "\n        toolkit : str, iterable of str or None" in params, name


def test_gui_parameters_follow_docstring_indentation():
    """HyperSpy's display/toolkit text fills the <<gui_parameters>> line at its indentation."""
    from hyperspy_cmeans._docstrings import fill_docstring

    def f():
        """Do.

        Parameters
        ----------
        a : int
            A.
        <<gui_parameters>>

        Returns
        -------
        int
            One.
        """

    def g():
        pass

    g.__doc__ = inspect.cleandoc(f.__doc__)  # how Python 3.13 stores docstrings
    fill_docstring(f)
    fill_docstring(g)
    assert "            A.\n        display : bool\n            If True" in f.__doc__
    assert "    A.\ndisplay : bool\n    If True" in g.__doc__
    assert g.__doc__.index("toolkit :") < g.__doc__.index("Returns")
    assert "<<" not in f.__doc__ + g.__doc__
    for method in ("fuzzy_cluster", "calibrate_energy_from_peaks", "tilt_correct_scale"):
        doc = getattr(EDSSEMCmeansSpectrum, method).__doc__
        assert doc.count("display : bool") == 1 and "<<" not in doc, method


@pytest.mark.parametrize(
    "kwargs",
    [
        {"m": 3.0},
        {"random_state": 0},
        {"algorithm": "fcm"},
        {"return_info": True},
        {"rho": [1, 1, 1]},
    ],
)
def test_value_arguments_without_n_clusters_raise(s, kwargs):
    with pytest.raises(ValueError, match="n_clusters is required"):
        s.fuzzy_cluster(**kwargs)
    assert not hasattr(s.learning_results, "fuzzy_cluster_parameters") or (
        s.learning_results.fuzzy_cluster_parameters is None
    )


def test_n_clusters_given_computes_without_gui(s):
    assert s.fuzzy_cluster(2, n_init=1, random_state=0) is s
    assert s.learning_results.number_of_clusters == 2


def test_tools_work_without_widgets(s):
    """The traits tools alone: run, preview (map and line scan), apply, reset."""
    tool = FuzzyClusterTool(s, n_clusters=2, algorithm="fcm", n_init=1)
    assert tool.algorithm == "probabilistic"  # alias resolved
    tool.run()
    assert s.learning_results.number_of_clusters == 2
    fig = tool.preview_figure()
    assert len([ax for ax in fig.axes if ax.images]) == 3  # 2 memberships + phase map

    line = s.inav[:, 5]
    line_tool = FuzzyClusterTool(line, n_clusters=3, n_init=1)
    line_tool.run()
    assert len(line_tool.preview_figure().axes[0].lines) == 4  # 3 profiles + threshold

    tilt = TiltCorrectionTool(s, field_width="720 nm")
    assert tilt.stage_tilt == 52.0
    tilt.apply()
    x, y = s.axes_manager.navigation_axes
    assert x.scale == pytest.approx(20.0)
    assert y.scale == pytest.approx(20.0 / math.sin(math.radians(52.0)))
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0
    tilt.reset()
    assert (x.scale, y.scale) == (pytest.approx(17.1875), pytest.approx(17.1875))
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0
    tilt = TiltCorrectionTool(s, stage_tilt=30.0, field_width="720 nm")
    tilt.apply()
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 30.0
    tilt.reset()  # the stage tilt is restored with the axes
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0


def test_clear_message_without_gui_packages():
    """In a fresh interpreter where ipywidgets and link_traits cannot be imported."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["ipywidgets"] = None
        sys.modules["link_traits"] = None
        import hyperspy.api as hs
        from hyperspy_cmeans.data import synthetic_eds_map
        from hyperspy_cmeans._gui.tools import FuzzyClusterTool
        s = synthetic_eds_map(shape=(8, 6), n_channels=64, scale=0.16, random_state=0)
        FuzzyClusterTool(s, n_clusters=2, n_init=1).run()
        assert s.learning_results.number_of_clusters == 2
        try:
            s.fuzzy_cluster(toolkit="ipywidgets", display=False)
        except ImportError as error:
            print("MESSAGE:", error)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    assert "MESSAGE:" in out.stdout
    assert "pip install hyperspy_cmeans[gui-jupyter]" in out.stdout


# --------------------------------------------------------------------------
# fuzzy_cluster widget
# --------------------------------------------------------------------------


def test_fuzzy_cluster_widget_runs_and_previews(s, ipy):
    wd = s.fuzzy_cluster(**KWARGS)["ipywidgets"]["wdict"]
    assert wd["preview"].value == b""  # no results yet ...
    (empty,) = wd["preview_box"].children  # ... so a message, not a broken image
    assert isinstance(empty, ipy.HTML) and "Press <b>Run</b>" in empty.value
    wd["n_clusters"].value = 3
    wd["algorithm"].value = "probabilistic"
    wd["m"].value = 1.8
    wd["n_components"].value = 4
    wd["preprocessing"].value = "poisson"
    wd["n_init"].value = 2
    wd["random_state"].value = 5
    wd["assignment_threshold"].value = 0.6
    click(wd, "run_button")
    assert wd["preview_box"].children == (wd["preview"],)
    lr = s.learning_results
    assert lr.number_of_clusters == 3
    assert lr.cluster_membership.shape == (3, 40 * 36)
    params = lr.fuzzy_cluster_parameters
    assert params["algorithm"] == "probabilistic"
    assert (params["m"], params["n_components"], params["preprocessing"]) == (1.8, 4, "poisson")
    assert (params["n_init"], params["random_state"], params["assignment_threshold"]) == (2, 5, 0.6)
    # the same as calling the method with these values
    ref = s.deepcopy()
    ref.fuzzy_cluster(
        3,
        "probabilistic",
        m=1.8,
        n_components=4,
        preprocessing="poisson",
        n_init=2,
        random_state=5,
        assignment_threshold=0.6,
    )
    np.testing.assert_allclose(lr.cluster_membership, ref.learning_results.cluster_membership)
    first = bytes(wd["preview"].value)
    assert first.startswith(PNG_SIGNATURE)
    assert "Run 1" in wd["status"].value

    # the preview follows the next run ...
    wd["n_clusters"].value = 4
    click(wd, "run_button")
    assert s.learning_results.number_of_clusters == 4
    second = bytes(wd["preview"].value)
    assert second.startswith(PNG_SIGNATURE) and second != first
    # ... and the threshold, without a new run
    wd["assignment_threshold"].value = 0.9
    assert wd["preview"].value != second
    assert s.learning_results.fuzzy_cluster_parameters["assignment_threshold"] == 0.6


def test_fuzzy_cluster_widget_reports_bad_parameters(s, ipy):
    wd = s.fuzzy_cluster(**KWARGS)["ipywidgets"]["wdict"]
    wd["source"].value = "decomposition"  # no decomposition was run
    click(wd, "run_button")
    assert "decomposition" in wd["status"].value and "color:#b00020" in wd["status"].value
    assert getattr(s.learning_results, "cluster_membership", None) is None
    assert wd["preview"].value == b""
    assert not wd["run_button"].disabled


def test_fuzzy_cluster_gui_prefilled_from_call(s, ipy):
    wd = s.fuzzy_cluster(2, algorithm="pcm", n_init=1, max_iter=7, **KWARGS)["ipywidgets"]["wdict"]
    assert (wd["n_clusters"].value, wd["algorithm"].value, wd["n_init"].value) == (
        2,
        "possibilistic",
        1,
    )
    assert s.learning_results.number_of_clusters is None  # opening the GUI computes nothing
    click(wd, "run_button")
    assert s.learning_results.fuzzy_cluster_parameters["max_iter"] == 7  # passed through


def test_fuzzy_cluster_gui_shows_earlier_results(s, ipy):
    s.fuzzy_cluster(2, n_init=1, random_state=0)
    wd = s.fuzzy_cluster(**KWARGS)["ipywidgets"]["wdict"]
    assert bytes(wd["preview"].value).startswith(PNG_SIGNATURE)


def test_no_arguments_displays_the_gui(s, ipy, monkeypatch):
    import IPython.display

    from hyperspy_cmeans._gui import tools

    shown = []
    monkeypatch.setattr(IPython.display, "display", shown.append)
    monkeypatch.setattr(tools, "gui_can_display", lambda: True)  # as in a Jupyter kernel
    assert s.fuzzy_cluster() is None
    assert len(shown) == 1 and isinstance(shown[0], ipy.Box)


def test_save_preview_png(s, ipy, tmp_path):
    wd = s.fuzzy_cluster(**KWARGS)["ipywidgets"]["wdict"]
    wd["n_clusters"].value = 4
    wd["n_init"].value = 3
    wd["random_state"].value = 1
    click(wd, "run_button")
    path = tmp_path / "preview.png"
    path.write_bytes(wd["preview"].value)
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 400


# --------------------------------------------------------------------------
# calibrate_energy_from_peaks widget
# --------------------------------------------------------------------------


@pytest.fixture
def tm002():
    """exspy's BAM TM002 reference spectrum, converted, with its shipped calibration."""
    s = exspy.data.EDS_SEM_TM002()
    s.set_signal_type("EDS_SEM_cmeans")
    return s


def test_calibration_widget_find_apply_reset(tm002, ipy):
    s = tm002
    ax = s.axes_manager.signal_axes[0]
    true_scale, true_offset = ax.scale, ax.offset
    ax.scale, ax.offset, ax.units, ax.name = 1.0, 0.0, "channel", "Channel"
    wd = s.calibrate_energy_from_peaks(**KWARGS)["ipywidgets"]["wdict"]
    assert wd["elements"].value == "Al, C, Cu, Mn, Zr"  # from metadata.Sample.elements
    assert wd["reset_button"].disabled

    click(wd, "find_button")  # a dry run: the axis does not change
    assert (ax.scale, ax.offset, ax.units) == (1.0, 0.0, "channel")
    assert bytes(wd["preview"].value).startswith(PNG_SIGNATURE)
    assert "Cu_Ka" in wd["table"].value
    assert "quality gate: passed (search)" in wd["table"].value  # the gate's numbers
    assert "searched; lines at 0.63-8.05 keV" in wd["status"].value
    assert not s.metadata.has_item("Signal.Energy_calibration")

    click(wd, "apply_button")
    assert ax.scale == pytest.approx(true_scale, rel=1.5e-3)
    assert abs(ax.offset - true_offset) < true_scale
    assert (ax.units, ax.name) == ("keV", "Energy")
    assert s.metadata.Signal.Energy_calibration.previous_units == "channel"
    assert not wd["reset_button"].disabled
    assert "eV/channel" in wd["axis"].value

    click(wd, "reset_button")
    assert (ax.scale, ax.offset, ax.units, ax.name) == (1.0, 0.0, "channel", "Channel")
    assert not s.metadata.has_item("Signal.Energy_calibration")
    assert wd["reset_button"].disabled


def test_calibration_widget_lines_exclude_and_reset_to_earlier_record(s, ipy):
    ax = s.axes_manager.signal_axes[0]
    s.calibrate_energy_from_peaks()  # an earlier calibration, recorded in metadata
    earlier = s.metadata.Signal.Energy_calibration.as_dictionary()
    before = (ax.scale, ax.offset, ax.units, ax.name)
    wd = s.calibrate_energy_from_peaks(exclude=["Fe"], **KWARGS)["ipywidgets"]["wdict"]
    assert wd["exclude"].value == "Fe"
    wd["elements"].value = ""
    wd["lines"].value = "Si_Ka, Ca_Ka, Ti_Ka, Fe_Ka"
    click(wd, "apply_button")
    fitted = s.metadata.Signal.Energy_calibration.lines
    assert set(fitted) <= {"Si_Ka", "Ca_Ka", "Ti_Ka"} and len(fitted) >= 2
    click(wd, "reset_button")
    assert (ax.scale, ax.offset, ax.units, ax.name) == before
    assert s.metadata.Signal.Energy_calibration.as_dictionary() == earlier


def test_calibration_widget_reports_errors_and_keeps_axis(s, ipy):
    ax = s.axes_manager.signal_axes[0]
    before = (ax.scale, ax.offset, ax.units)
    wd = s.calibrate_energy_from_peaks(**KWARGS)["ipywidgets"]["wdict"]
    wd["elements"].value = "Xx"
    click(wd, "apply_button")
    assert "Xx" in wd["status"].value and "color:#b00020" in wd["status"].value
    assert (ax.scale, ax.offset, ax.units) == before
    assert wd["reset_button"].disabled


def test_calibration_widget_shows_what_the_gate_refused(tm002, ipy):
    s = tm002
    ax = s.axes_manager.signal_axes[0]
    ax.scale, ax.offset, ax.units = 1.0, 0.0, "channel"
    wd = s.calibrate_energy_from_peaks(elements=["Al", "Zr"], **KWARGS)["ipywidgets"]["wdict"]
    click(wd, "apply_button")
    assert "refused" in wd["status"].value and "color:#b00020" in wd["status"].value
    assert "quality gate: FAILED" in wd["table"].value
    assert bytes(wd["preview"].value).startswith(PNG_SIGNATURE)
    assert (ax.scale, ax.offset, ax.units) == (1.0, 0.0, "channel")
    assert not s.metadata.has_item("Signal.Energy_calibration")
    assert wd["reset_button"].disabled


# --------------------------------------------------------------------------
# tilt_correct_scale widget
# --------------------------------------------------------------------------


def test_tilt_widget_apply_and_reset(s, ipy):
    x, y = s.axes_manager.navigation_axes
    wd = s.tilt_correct_scale(**KWARGS)["ipywidgets"]["wdict"]
    assert wd["stage_tilt"].value == 52.0  # from the metadata
    assert wd["units"].value == "nm"
    wd["field_width"].value = "0.72 um"
    wd["stage_tilt"].value = 45.0
    click(wd, "apply_button")
    assert x.scale == pytest.approx(20.0)
    assert y.scale == pytest.approx(20.0 * math.sqrt(2.0))
    assert (x.units, y.units) == ("nm", "nm")
    assert s.metadata.Signal.Tilt_correction.stage_tilt == 45.0
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 45.0
    assert "28.28" in wd["axes"].value

    click(wd, "apply_button")  # again: the method's warning is shown, not compounded
    assert "already tilt-corrected" in wd["status"].value
    assert y.scale == pytest.approx(20.0 * math.sqrt(2.0))

    click(wd, "reset_button")
    assert (x.scale, y.scale) == (pytest.approx(17.1875), pytest.approx(17.1875))
    assert not s.metadata.has_item("Signal.Tilt_correction")
    assert s.metadata.Acquisition_instrument.SEM.Stage.tilt_alpha == 52.0

    wd["stage_tilt"].value = 1.0  # implausible: applied, with the warning shown
    click(wd, "apply_button")
    assert "plausible for a cross-section" in wd["status"].value
    assert "stage_tilt argument" in wd["status"].value


def test_tilt_widget_reports_invalid_tilt(s, ipy):
    y = s.axes_manager.navigation_axes[1]
    wd = s.tilt_correct_scale(stage_tilt=30, **KWARGS)["ipywidgets"]["wdict"]
    assert wd["stage_tilt"].value == 30.0  # the argument wins over the metadata
    wd["stage_tilt"].value = 0.0
    click(wd, "apply_button")
    assert "color:#b00020" in wd["status"].value
    assert y.scale == pytest.approx(17.1875)
    assert wd["reset_button"].disabled


def test_no_arguments_outside_jupyter_asks_for_n_clusters(s):
    """In a plain terminal the GUI cannot show: a clear error instead of a widget repr."""
    from hyperspy_cmeans._gui.tools import gui_can_display

    assert not gui_can_display()  # pytest is not a Jupyter kernel
    with pytest.raises(ValueError, match=r"needs a Jupyter notebook. Give n_clusters"):
        s.fuzzy_cluster()
    # asking for the widgets explicitly still works (notebooks, tests)
    widgets = s.fuzzy_cluster(display=False, toolkit="ipywidgets")
    assert "ipywidgets" in widgets
