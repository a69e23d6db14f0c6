"""Traits tool objects behind the GUIs of the ``EDS_SEM_cmeans`` signal methods.

Each tool is a :class:`traits.api.HasTraits` object that holds the parameters
of one signal method as traits, calls the method (``run()`` or ``apply()``),
can undo what it applied (``reset()``) and draws what the GUI previews. The
class decorator :func:`hyperspy.ui_registry.add_gui_method` gives each tool a
``gui(display=True, toolkit=None)`` method that looks up the widget registered
for its toolkey in ``hyperspy_extension.yaml``. The widgets only link to the
traits and call these methods, so everything here works, and is tested,
without any GUI toolkit installed.
"""

import inspect
import numbers

import numpy as np
import traits.api as t
from hyperspy.ui_registry import add_gui_method

from hyperspy_cmeans import _learning_results as lrio
from hyperspy_cmeans._calibration import EnergyCalibrationError
from hyperspy_cmeans._clustering import ALGORITHM_ALIASES
from hyperspy_cmeans._features import PREPROCESSING
from hyperspy_cmeans.signals._calibration import (
    ENERGY_CALIBRATION_NODE,
    STAGE_TILT_KEY,
    TILT_CORRECTION_NODE,
)

__all__ = [
    "GUI_INSTALL_HINT",
    "EnergyCalibrationTool",
    "FuzzyClusterTool",
    "TiltCorrectionTool",
    "open_tool",
]

#: How to get the Jupyter GUIs (the ``gui-jupyter`` extra, as exspy names it).
GUI_INSTALL_HINT = "pip install hyperspy_cmeans[gui-jupyter]"

_GUI_ARGUMENTS = ("self", "display", "toolkit")


def _is_default(value, default):
    """Whether ``value`` is the parameter's default (equal plain scalars count)."""
    if value is default:
        return True
    if isinstance(default, (bool, numbers.Number, str)) and type(value) is type(default):
        return bool(value == default)
    return False


def given_arguments(signal, method_name, arguments):
    """The arguments of a signal-method call that differ from their defaults.

    Parameters
    ----------
    signal : hyperspy.signal.BaseSignal
        The signal whose method was called.
    method_name : str
        Name of the method, e.g. ``"fuzzy_cluster"``.
    arguments : dict
        The method's local variables at its start (``locals()``), i.e. every
        parameter by name; ``**kwargs`` as a dict under its own name.

    Returns
    -------
    dict
        Parameter name -> value for every parameter (other than ``display``
        and ``toolkit``) not at its default, plus every ``**kwargs`` entry.
    """
    given = {}
    signature = inspect.signature(getattr(type(signal), method_name))
    for name, parameter in signature.parameters.items():
        if name in _GUI_ARGUMENTS:
            continue
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            given.update(arguments.get(name) or {})
        elif parameter.kind is not inspect.Parameter.VAR_POSITIONAL:
            value = arguments[name]
            if not _is_default(value, parameter.default):
                given[name] = value
    return given


def open_tool(tool_class, signal, arguments, display=None, toolkit=None, required=None):
    """Open the GUI of a signal method, following HyperSpy's convention.

    Called by a signal method that was asked for its GUI: without its
    required value argument, or with ``display`` or ``toolkit``. The tool is
    pre-filled with every argument of the call that is not at its default;
    the arguments that are not tool traits are passed unchanged to the
    method at every run.

    Parameters
    ----------
    tool_class : type
        One of the tool classes of this module.
    signal : EDSSEMCmeansSpectrum
        The signal whose method was called.
    arguments : dict
        The method's ``locals()`` at its start.
    display : bool or None
        None (not given) displays the GUI, as True does.
    toolkit : str, iterable of str or None
        The toolkit(s) to use; None for all enabled ones.
    required : str, optional
        Name of the argument without which a call computes nothing. When it
        is missing but other value arguments are given, and neither
        ``display`` nor ``toolkit`` is, the call is a mistake rather than a
        request for the GUI.

    Returns
    -------
    dict or None
        ``{toolkit: widgets}`` with ``display=False`` (see
        :func:`hyperspy.ui_registry.get_gui`), else None.

    Raises
    ------
    ValueError
        If ``required`` is missing while other value arguments are given.
    """
    given = given_arguments(signal, tool_class.method_name, arguments)
    name = tool_class.method_name
    if required is not None and display is None and toolkit is None:
        if given:
            raise ValueError(
                f"{required} is required: {name}() got {', '.join(sorted(given))} but no "
                f"{required}. Give {required}, or call {name}() without value arguments to "
                "open its GUI."
            )
        if not gui_can_display():
            raise ValueError(
                f"{required} is required: {name}() without arguments opens a GUI, which "
                f"needs a Jupyter notebook. Give {required}, e.g. s.{name}({required}=4)."
            )
    tool = tool_class(signal, **given)
    return tool.gui(display=True if display is None else display, toolkit=toolkit)


def gui_can_display():
    """Whether a GUI can be shown: the code runs in a Jupyter (IPython) kernel.

    Returns
    -------
    bool
        False in a plain Python or terminal IPython session, where HyperSpy's
        ipywidgets GUIs would only print their text representation.
    """
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with HyperSpy
        return False
    shell = get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _split_names(text):
    """``"Fe, O Si"`` -> ``["Fe", "O", "Si"]``; empty text -> None."""
    names = [n for n in text.replace(",", " ").split() if n]
    return names or None


def _join_names(value):
    """Inverse of :func:`_split_names` for a list/tuple (strings unchanged)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return ", ".join(str(v) for v in value)


def _figure(width, height):
    """A matplotlib figure outside pyplot: notebooks never show it on their own."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


class _SignalTool(t.HasTraits):
    """Common part of the tools: construction from a method call, undo.

    Subclasses set ``method_name`` (the signal method), ``controlled`` (the
    method arguments the tool sets itself, ignored when given) and, if the
    tool can undo what it applied, ``_restorable_axes()`` and ``_record_node``.
    """

    method_name = ""
    controlled = ()
    _record_node = None

    def __init__(self, signal, **arguments):
        super().__init__()
        self.signal = signal
        self.extra_kwargs = {}
        self._saved = None
        self._set_defaults()
        traits = set(self.editable_traits())
        for name, value in arguments.items():
            if name in self.controlled:
                continue
            if name in traits:
                setattr(self, name, self._trait_value(name, value))
            else:
                self.extra_kwargs[name] = value

    def _set_defaults(self):
        """Set trait defaults that depend on the signal."""

    def _trait_value(self, name, value):
        """Convert a method argument to the value of the trait ``name``."""
        return value

    def _restorable_axes(self):
        return []

    def _apply_with_undo(self, change):
        """Call ``change()``, remembering the state before the first successful change.

        The signal methods leave the signal unchanged when they raise, so a
        failed first change forgets the remembered state again.
        """
        first = self._saved is None
        if first:
            axes = [(ax, ax.scale, ax.offset, ax.units, ax.name) for ax in self._restorable_axes()]
            md = self.signal.metadata
            node = self._record_node
            record = md.get_item(node).as_dictionary() if md.has_item(node) else None
            self._saved = (axes, record)
        try:
            return change()
        except Exception:
            if first:
                self._saved = None
            raise

    @property
    def can_reset(self):
        """bool: Whether :meth:`reset` has something to undo."""
        return self._saved is not None

    def reset(self):
        """Restore the axes and metadata as they were before the first ``apply()``.

        Returns
        -------
        EDSSEMCmeansSpectrum
            The signal. Nothing changes if nothing was applied since the tool
            was created or last reset.
        """
        if self._saved is None:
            return self.signal
        axes, record = self._saved
        for ax, scale, offset, units, name in axes:
            ax.scale, ax.offset, ax.units, ax.name = scale, offset, units, name
        md = self.signal.metadata
        if md.has_item(self._record_node):
            parent, _, leaf = self._record_node.rpartition(".")
            md.get_item(parent).__delattr__(leaf)
        if record is not None:
            md.set_item(self._record_node, record)
        self._saved = None
        return self.signal


@add_gui_method(toolkey="hyperspy_cmeans.fuzzy_cluster")
class FuzzyClusterTool(_SignalTool):
    """Parameters and preview of :meth:`EDSSEMCmeansSpectrum.fuzzy_cluster`.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map to cluster.
    **arguments
        Initial values of the traits below (method argument names); other
        ``fuzzy_cluster`` arguments (masks, ``max_iter``, ``tol``, estimator
        options) are passed unchanged at every :meth:`run`.

    Attributes
    ----------
    n_clusters, algorithm, m, source, n_components, preprocessing, n_init, random_state, assignment_threshold
        Traits with the meaning of the ``fuzzy_cluster`` arguments of the
        same names; ``random_state`` is an integer seed (default 0), so that
        runs from the GUI are reproducible.
    estimator : object or None
        The estimator fitted by the last :meth:`run`.
    n_runs : int
        Number of successful runs.
    """

    method_name = "fuzzy_cluster"
    controlled = ("return_info",)

    n_clusters = t.Int(
        3, label="Number of clusters", desc="number of clusters (phases), at least 2"
    )
    algorithm = t.Enum(
        "gustafson_kessel",
        "probabilistic",
        "possibilistic",
        label="Algorithm",
        desc="c-means variant",
    )
    m = t.Float(2.0, label="Fuzzifier m", desc="fuzzifier, > 1")
    source = t.Enum(
        "pca",
        "decomposition",
        "bss",
        label="Data space",
        desc="where the clustered scores come from",
    )
    n_components = t.Int(
        3, label="Components", desc="number of principal components of the data space"
    )
    preprocessing = t.Enum(
        "composition",
        PREPROCESSING,
        label="Preprocessing",
        desc="how spectra are scaled before PCA",
    )
    n_init = t.Int(
        10, label="Restarts", desc="number of random restarts; the best objective is kept"
    )
    random_state = t.Int(0, label="Random state", desc="seed of the random restarts")
    assignment_threshold = t.Float(
        0.5, label="Threshold", desc="membership a pixel needs in its best cluster to be assigned"
    )
    n_runs = t.Int(0)

    def __init__(self, signal, **arguments):
        super().__init__(signal, **arguments)
        self.estimator = None

    def _trait_value(self, name, value):
        if name == "algorithm" and isinstance(value, str):
            return ALGORITHM_ALIASES.get(value.lower(), value)
        return value

    def parameters(self):
        """The ``fuzzy_cluster`` arguments the GUI sets.

        Returns
        -------
        dict
            Argument name -> current trait value.
        """
        names = (
            "n_clusters",
            "algorithm",
            "m",
            "source",
            "n_components",
            "preprocessing",
            "n_init",
            "random_state",
            "assignment_threshold",
        )
        return {name: getattr(self, name) for name in names}

    def run(self):
        """Cluster the signal with the current parameters.

        Returns
        -------
        EDSSEMCmeansSpectrum
            The signal, whose ``learning_results`` now hold the clusters.

        Raises
        ------
        ValueError
            For a bad parameter; the signal's results are then unchanged.
        """
        kwargs = {**self.extra_kwargs, **self.parameters()}
        self.estimator = self.signal.fuzzy_cluster(return_info=True, **kwargs)
        self.n_runs += 1
        return self.signal

    @property
    def has_results(self):
        """bool: Whether the signal holds fuzzy cluster results to preview."""
        return lrio.has_cluster_results(self.signal)

    def preview_figure(self, threshold=None):
        """Draw the membership maps and the phase map of the current results.

        Parameters
        ----------
        threshold : float, optional
            Assignment threshold of the phase map; default the
            ``assignment_threshold`` trait.

        Returns
        -------
        matplotlib.figure.Figure
            One panel per cluster (its membership map, framed in its colour)
            and the phase map (unassigned pixels grey) for 2-D maps; the
            membership profiles for line scans. The figure is not managed by
            pyplot.

        Raises
        ------
        RuntimeError
            If the signal has no fuzzy cluster results.
        """
        from hyperspy_cmeans import _drawing as drawing
        from hyperspy_cmeans.signals import _plots
        from hyperspy_cmeans.signals import _state as state

        threshold = self.assignment_threshold if threshold is None else threshold
        res = state.current_results(self.signal)
        k = res["n_clusters"]
        unassigned = self.signal.get_phase_map(threshold).metadata.Phase_map.unassigned_fraction
        title = (
            f"{k} clusters ({res['parameters'].get('algorithm', '')}), threshold {threshold:g}: "
            f"{100 * unassigned:.1f} % of pixels unassigned"
        )
        nav_axes = self.signal.axes_manager.navigation_axes
        if len(nav_axes) == 2:
            fig = _figure(2.3 * min(k + 1, 5) + 1.2, 2.3 * int(np.ceil((k + 1) / 5)) + 0.9)
            _plots.cluster_overview(self.signal, threshold, title=title, fig=fig)
        elif len(nav_axes) == 1:
            fig = _figure(7.0, 3.0)
            drawing.plot_membership_profiles(
                nav_axes[0].axis, res["memberships"], threshold, fig.subplots(), nav_axes[0].units
            )
            fig.suptitle(title, fontsize=9)
        else:
            fig = _figure(4.0, 1.0)
            fig.text(
                0.5, 0.5, "No map preview for this navigation shape.", ha="center", va="center"
            )
        return fig


@add_gui_method(toolkey="hyperspy_cmeans.calibrate_energy_from_peaks")
class EnergyCalibrationTool(_SignalTool):
    """Parameters, preview and undo of :meth:`EDSSEMCmeansSpectrum.calibrate_energy_from_peaks`.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The map (or spectrum) to calibrate.
    **arguments
        Initial values of the traits below (lists of names are accepted);
        ``scale_range``, ``offset_range`` and ``tolerance`` are passed
        unchanged.

    Attributes
    ----------
    elements, lines, exclude : str
        Comma- or space-separated element or line names (``"Fe, O, Si"``,
        ``"Fe_Ka"``); ``elements`` starts with ``metadata.Sample.elements``.
        Empty means None.
    min_significance : float
        As in ``calibrate_energy_from_peaks``.
    result : EnergyCalibration or None
        The calibration found for the current parameters by :meth:`find`
        (None after a parameter changed).
    refused : EnergyCalibration or None
        The calibration the quality gate refused at the last :meth:`find`,
        if it did (its ``gate`` says why).
    """

    method_name = "calibrate_energy_from_peaks"
    controlled = ("inplace", "return_info")
    _record_node = ENERGY_CALIBRATION_NODE

    elements = t.Str(
        label="Elements", desc="elements whose X-ray lines are candidates, e.g. 'O, Si, Ti'"
    )
    lines = t.Str(label="Lines", desc="explicit candidate lines, e.g. 'Si_Ka, Ti_Ka'")
    exclude = t.Str(label="Exclude", desc="elements or lines never to match, e.g. 'Pt, Ga, Fe_La'")
    min_significance = t.Float(
        6.0, label="Min. significance", desc="peak significance threshold (noise sigmas)"
    )

    def __init__(self, signal, **arguments):
        self.result = None
        self.refused = None
        super().__init__(signal, **arguments)

    def _set_defaults(self):
        self.elements = _join_names(self.signal.metadata.get_item("Sample.elements", None))

    def _trait_value(self, name, value):
        return _join_names(value) if name in ("elements", "lines", "exclude") else value

    def _restorable_axes(self):
        return list(self.signal.axes_manager.signal_axes)

    @t.observe(["elements", "lines", "exclude", "min_significance"])
    def _parameters_changed(self, event):
        self.result = None
        self.refused = None

    def parameters(self):
        """The ``calibrate_energy_from_peaks`` arguments the GUI sets.

        Returns
        -------
        dict
            ``elements``, ``lines``, ``exclude`` (lists or None) and
            ``min_significance``.
        """
        return {
            "elements": _split_names(self.elements),
            "lines": _split_names(self.lines),
            "exclude": _split_names(self.exclude),
            "min_significance": self.min_significance,
        }

    def find(self):
        """Find the peaks and the calibration, without changing the signal.

        A dry run of ``calibrate_energy_from_peaks(inplace=False,
        return_info=True)``.

        Returns
        -------
        EnergyCalibration
            The result, also stored in ``result``.

        Raises
        ------
        ValueError
            As the method; a calibration refused by the quality gate is kept
            in ``refused``.
        """
        kwargs = {**self.extra_kwargs, **self.parameters()}
        self.refused = None
        try:
            self.result = self.signal.calibrate_energy_from_peaks(
                inplace=False, return_info=True, **kwargs
            )
        except EnergyCalibrationError as error:
            self.refused = error.calibration
            raise
        return self.result

    def apply(self):
        """Calibrate the signal's energy axis (finding the calibration first if needed).

        The axis calibration and metadata record before the first apply are
        kept for :meth:`reset`.

        Returns
        -------
        EDSSEMCmeansSpectrum
            The calibrated signal.
        """
        result = self.result if self.result is not None else self.find()
        return self._apply_with_undo(lambda: result.apply(self.signal))

    def axis_summary(self):
        """Describe the current calibration of the signal's energy axis.

        Returns
        -------
        str
            ``"scale ... eV/channel, offset ... keV"`` (or in the axis units).
        """
        ax = self.signal.axes_manager.signal_axes[0]
        units = ax.units if isinstance(ax.units, str) and ax.units else "no units"
        if units == "keV":
            return f"scale {ax.scale * 1000:.4f} eV/channel, offset {ax.offset:.5f} keV"
        return f"scale {ax.scale:g}, offset {ax.offset:g} ({units})"

    def preview_figure(self, result=None):
        """Draw the summed spectrum with the found peaks and the matched lines.

        Parameters
        ----------
        result : EnergyCalibration, optional
            The calibration to draw; default ``result`` (or ``refused``).

        Returns
        -------
        matplotlib.figure.Figure
            :meth:`EnergyCalibration.plot` of the calibration (not managed
            by pyplot).

        Raises
        ------
        RuntimeError
            If no calibration was found yet (see :meth:`find`).
        """
        result = result or self.result or self.refused
        if result is None:
            raise RuntimeError("No calibration found yet: call find() or apply() first.")
        fig = _figure(9.0, 3.8)
        result.plot(ax=fig.subplots())
        return fig


@add_gui_method(toolkey="hyperspy_cmeans.tilt_correct_scale")
class TiltCorrectionTool(_SignalTool):
    """Parameters and undo of :meth:`EDSSEMCmeansSpectrum.tilt_correct_scale`.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        The cross-section map.
    **arguments
        Initial values of the traits below.

    Attributes
    ----------
    stage_tilt : float
        Stage tilt in degrees; starts with
        ``metadata.Acquisition_instrument.SEM.Stage.tilt_alpha`` (0, which is
        refused, when that is missing).
    field_width : str
        Width of the field of view: a number in ``units``, a length with its
        units (``"17.6 um"``), or empty to keep the current x pixel size.
    units : str
        Length units of both axes after the correction.
    """

    method_name = "tilt_correct_scale"
    controlled = ("inplace",)
    _record_node = TILT_CORRECTION_NODE

    stage_tilt = t.Float(0.0, label="Stage tilt (deg)", desc="stage tilt in degrees, in (0, 90]")
    field_width = t.Str(
        label="Field width", desc="e.g. '17600' (in units) or '17.6 um'; empty: keep x scale"
    )
    units = t.Str("nm", label="Units", desc="length units of the corrected axes")

    def _set_defaults(self):
        self._saved_tilt = None
        tilt = self.signal.metadata.get_item(STAGE_TILT_KEY, None)
        if isinstance(tilt, numbers.Real) and not isinstance(tilt, bool):
            self.stage_tilt = float(tilt)

    def _trait_value(self, name, value):
        if name == "field_width":
            return "" if value is None else str(value)
        return value

    def _restorable_axes(self):
        return list(self.signal.axes_manager.navigation_axes[:2])

    def parameters(self):
        """The ``tilt_correct_scale`` arguments the GUI sets.

        Returns
        -------
        dict
            ``stage_tilt``, ``field_width`` (float, a string with units, or
            None when empty) and ``units``.
        """
        text = self.field_width.strip()
        try:
            width = float(text) if text else None
        except ValueError:
            width = text
        return {"stage_tilt": self.stage_tilt, "field_width": width, "units": self.units}

    def apply(self):
        """Correct the pixel sizes of the signal.

        The axes, the stage tilt and the metadata record before the first
        apply are kept for :meth:`reset`.

        Returns
        -------
        EDSSEMCmeansSpectrum
            The corrected signal.
        """
        kwargs = {**self.extra_kwargs, **self.parameters()}
        if self._saved is None:
            self._saved_tilt = self.signal.metadata.get_item(STAGE_TILT_KEY, None)
        return self._apply_with_undo(lambda: self.signal.tilt_correct_scale(**kwargs))

    def reset(self):
        """Restore the axes, stage tilt and metadata as before the first ``apply()``.

        Returns
        -------
        EDSSEMCmeansSpectrum
            The signal.
        """
        if self._saved is not None:
            md = self.signal.metadata
            if self._saved_tilt is not None:
                md.set_item(STAGE_TILT_KEY, self._saved_tilt)
            elif md.has_item(STAGE_TILT_KEY):
                parent, _, leaf = STAGE_TILT_KEY.rpartition(".")
                md.get_item(parent).__delattr__(leaf)
        return super().reset()

    def axes_summary(self):
        """Describe the current x and y pixel sizes.

        Returns
        -------
        str
            e.g. ``"x: 17.1875 nm, y: 21.8112 nm"``.
        """
        parts = []
        for ax in self.signal.axes_manager.navigation_axes[:2]:
            units = ax.units if isinstance(ax.units, str) else ""
            parts.append(f"{ax.name}: {ax.scale:.6g} {units}".rstrip())
        return ", ".join(parts)
