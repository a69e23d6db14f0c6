"""Jupyter (ipywidgets) GUIs of the ``EDS_SEM_cmeans`` signal methods.

Registered in ``hyperspy_extension.yaml`` under ``GUI: widgets: ipywidgets``;
HyperSpy imports this module only when a GUI is requested. Each function
takes a tool object of :mod:`hyperspy_cmeans._gui.tools`, links widgets to its
traits with :func:`link_traits.link`, wires the buttons to the tool's methods
and returns ``{"widget": container, "wdict": {name: widget}}`` (or displays
the container, through :func:`hyperspy_gui_ipywidgets.utils.add_display_arg`).

Pictures (the clustering preview, the calibration plot) are PNG images in
:class:`ipywidgets.Image` widgets, drawn on figures that pyplot does not
manage, so they look the same with every matplotlib backend and stay in the
saved notebook.
"""

import html
import io
import warnings

from hyperspy_cmeans._gui.tools import GUI_INSTALL_HINT

try:
    import ipywidgets
    from hyperspy_gui_ipywidgets.utils import add_display_arg, labelme
    from link_traits import link
except ImportError as error:  # the gui-jupyter extra is not installed
    raise ImportError(
        "The Jupyter GUIs of hyperspy_cmeans need ipywidgets, link_traits and "
        f"hyperspy_gui_ipywidgets, which are not installed ({error}). Install them with: "
        f"{GUI_INSTALL_HINT}"
    ) from error

__all__ = ["calibrate_energy_from_peaks_ipy", "fuzzy_cluster_ipy", "tilt_correct_scale_ipy"]

_PREVIEW_DPI = 80


def _png(fig, dpi=_PREVIEW_DPI):
    """PNG bytes of a matplotlib figure."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _message(status, text, error=False):
    """Show ``text`` in an HTML status widget, in red for errors."""
    color = "#b00020" if error else "inherit"
    status.value = f'<span style="color:{color}">{html.escape(text)}</span>'


def _run_reporting(status, action, done):
    """Run ``action()``; report ``ValueError`` (a bad parameter) and warnings in ``status``.

    Other exceptions are reported too, then re-raised (Jupyter logs them).
    Returns True on success, after calling ``done(result)``.
    """
    _message(status, "working ...")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = action()
    except ValueError as error:
        _message(status, str(error), error=True)
        return False
    except Exception as error:
        _message(status, f"{type(error).__name__}: {error}", error=True)
        raise
    text = done(result)
    notes = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    _message(status, " ".join([text, *notes]))
    return True


def _image_slot(message):
    """A PNG image widget shown in a box that holds ``message`` until there is a picture.

    An empty :class:`ipywidgets.Image` renders as a broken-image icon in a
    browser; the box shows the message instead until :func:`_show_png`.

    Returns
    -------
    tuple
        ``(image, box)``.
    """
    image = ipywidgets.Image(format="png", layout=ipywidgets.Layout(max_width="100%"))
    placeholder = ipywidgets.HTML(
        f'<div style="color:#666;padding:2em;border:1px dashed #bbb">{message}</div>'
    )
    return image, ipywidgets.Box([placeholder])


def _show_png(image, box, fig):
    """Put the PNG of ``fig`` in ``image`` and show it in its box."""
    image.value = _png(fig)
    box.children = [image]


def _field(label, widget, tooltip=""):
    """A labelled row, with the trait description as tooltip."""
    if tooltip:
        widget.tooltip = tooltip
    return labelme(label, widget)


def _desc(obj, name):
    return obj.trait(name).desc or ""


@add_display_arg
def fuzzy_cluster_ipy(obj, **kwargs):
    """Widgets of :class:`~hyperspy_cmeans._gui.tools.FuzzyClusterTool`.

    Parameters, a Run button and a preview of the membership maps and the
    phase map, redrawn after every run and when the threshold changes.

    Parameters
    ----------
    obj : FuzzyClusterTool
        The tool.
    **kwargs
        Ignored (HyperSpy's GUI registry passes its own).

    Returns
    -------
    dict
        ``{"widget": container, "wdict": widgets}`` with the keys
        ``n_clusters``, ``algorithm``, ``m``, ``source``, ``n_components``,
        ``preprocessing``, ``n_init``, ``random_state``,
        ``assignment_threshold``, ``run_button``, ``status``, ``preview`` (an
        :class:`ipywidgets.Image` holding PNG bytes, empty before the first
        result) and ``preview_box`` (shows a message instead of the image
        until there is a result).
    """
    wdict = {
        "n_clusters": ipywidgets.BoundedIntText(min=2, max=1000),
        "algorithm": ipywidgets.Dropdown(options=obj.trait("algorithm").trait_type.values),
        "m": ipywidgets.BoundedFloatText(min=1.01, max=10.0, step=0.1),
        "source": ipywidgets.Dropdown(options=obj.trait("source").trait_type.values),
        "n_components": ipywidgets.BoundedIntText(min=1, max=1000),
        "preprocessing": ipywidgets.Dropdown(options=obj.trait("preprocessing").trait_type.values),
        "n_init": ipywidgets.BoundedIntText(min=1, max=1000),
        "random_state": ipywidgets.IntText(),
        "assignment_threshold": ipywidgets.BoundedFloatText(min=0.0, max=0.99, step=0.05),
    }
    rows = []
    for name, widget in wdict.items():
        link((obj, name), (widget, "value"))
        rows.append(_field(obj.trait(name).label, widget, _desc(obj, name)))
    run = ipywidgets.Button(description="Run", button_style="primary", tooltip="Run fuzzy_cluster")
    status = ipywidgets.HTML()
    preview, preview_box = _image_slot(
        "Press <b>Run</b> to see the membership maps and the phase map here."
    )
    wdict.update(run_button=run, status=status, preview=preview, preview_box=preview_box)

    def show_preview():
        if obj.has_results:
            _show_png(preview, preview_box, obj.preview_figure())

    def done(_):
        show_preview()
        return f"Run {obj.n_runs}: {obj.n_clusters} clusters stored in learning_results."

    def on_run(_button):
        run.disabled = True
        try:
            _run_reporting(status, obj.run, done)
        finally:
            run.disabled = False

    run.on_click(on_run)

    def on_threshold(change):
        if obj.has_results and 0 <= change["new"] < 1:
            show_preview()

    wdict["assignment_threshold"].observe(on_threshold, names="value")
    if obj.has_results:  # results of an earlier run: show them from the start
        try:
            show_preview()
        except (ValueError, RuntimeError):
            pass
    box = ipywidgets.HBox(
        [
            ipywidgets.VBox(rows + [ipywidgets.HBox([run]), status], layout={"min_width": "320px"}),
            preview_box,
        ]
    )
    return {"widget": box, "wdict": wdict}


@add_display_arg
def calibrate_energy_from_peaks_ipy(obj, **kwargs):
    """Widgets of :class:`~hyperspy_cmeans._gui.tools.EnergyCalibrationTool`.

    Element, line and exclusion fields (elements pre-filled from
    ``metadata.Sample.elements``), Find/Apply/Reset buttons, the table of
    matched lines and the summed spectrum with the found peaks and matched
    lines.

    Parameters
    ----------
    obj : EnergyCalibrationTool
        The tool.
    **kwargs
        Ignored (HyperSpy's GUI registry passes its own).

    Returns
    -------
    dict
        ``{"widget": container, "wdict": widgets}`` with the keys
        ``elements``, ``lines``, ``exclude``, ``min_significance``,
        ``find_button``, ``apply_button``, ``reset_button``, ``axis``
        (current calibration), ``table`` (matched lines and the quality
        gate's numbers, also of a refused calibration), ``status`` and
        ``preview`` (PNG of the calibration plot) and ``preview_box`` (a message
        until there is a plot).
    """
    wdict = {
        "elements": ipywidgets.Text(placeholder="e.g. O, Mg, Al, Si, Ca, Ti, Fe"),
        "lines": ipywidgets.Text(placeholder="optional, e.g. Si_Ka, Ti_Ka"),
        "exclude": ipywidgets.Text(placeholder="optional, e.g. Pt, Ga, Fe_La"),
        "min_significance": ipywidgets.BoundedFloatText(min=0.0, max=1000.0, step=0.5),
    }
    rows = []
    for name, widget in wdict.items():
        link((obj, name), (widget, "value"))
        rows.append(_field(obj.trait(name).label, widget, _desc(obj, name)))
    find = ipywidgets.Button(
        description="Find peaks", tooltip="Find the calibration; the signal is not changed"
    )
    apply = ipywidgets.Button(
        description="Apply", button_style="primary", tooltip="Calibrate the energy axis"
    )
    reset = ipywidgets.Button(
        description="Reset", tooltip="Restore the axis as it was before Apply"
    )
    axis = ipywidgets.HTML()
    table = ipywidgets.HTML()
    status = ipywidgets.HTML()
    preview, preview_box = _image_slot(
        "Press <b>Find peaks</b> to see the peaks, the matched lines and the fit here."
    )
    wdict.update(
        find_button=find,
        apply_button=apply,
        reset_button=reset,
        axis=axis,
        table=table,
        status=status,
        preview=preview,
        preview_box=preview_box,
    )

    def refresh():
        axis.value = f"<b>Energy axis:</b> {html.escape(obj.axis_summary())}"
        reset.disabled = not obj.can_reset

    def show_result(result):
        table.value = (
            f"<pre>{html.escape(result.table())}\n\n{html.escape(result.gate.summary())}</pre>"
        )
        _show_png(preview, preview_box, obj.preview_figure())
        refresh()
        fitted = sum(m.fitted for m in result.matches)
        how = {"search": "searched", "refine": "axis refined", "offset": "offset refined"}
        return (
            f"scale {result.scale * 1000:.4f} ± {result.scale_std * 1000:.4f} eV/channel, "
            f"offset {result.offset:.5f} keV, {fitted} lines fitted, rms {result.rms:.2f} eV "
            f"({how[result.mode]}; lines at {result.energy_range[0]:.2f}-"
            f"{result.energy_range[1]:.2f} keV)."
        )

    def show_refused():
        # what the quality gate refused, and why
        refused = obj.refused
        if refused is not None:
            table.value = f"<pre>{html.escape(refused.table())}\n\n{html.escape(refused.gate.summary())}</pre>"
            _show_png(preview, preview_box, obj.preview_figure(refused))

    def on_find(_button):
        if not _run_reporting(status, obj.find, lambda result: "Found: " + show_result(result)):
            show_refused()

    def on_apply(_button):
        if not _run_reporting(status, obj.apply, lambda _: "Applied: " + show_result(obj.result)):
            show_refused()

    def on_reset(_button):
        obj.reset()
        refresh()
        _message(status, "Axis restored.")

    find.on_click(on_find)
    apply.on_click(on_apply)
    reset.on_click(on_reset)
    refresh()
    box = ipywidgets.VBox(
        [
            ipywidgets.HBox(
                [
                    ipywidgets.VBox(
                        rows + [ipywidgets.HBox([find, apply, reset]), axis, status],
                        layout=ipywidgets.Layout(max_width="520px"),
                    ),
                    table,
                ]
            ),
            preview_box,
        ]
    )
    return {"widget": box, "wdict": wdict}


@add_display_arg
def tilt_correct_scale_ipy(obj, **kwargs):
    """Widgets of :class:`~hyperspy_cmeans._gui.tools.TiltCorrectionTool`.

    Stage tilt (pre-filled from the metadata), field width and units, with
    Apply and Reset buttons and the current pixel sizes.

    Parameters
    ----------
    obj : TiltCorrectionTool
        The tool.
    **kwargs
        Ignored (HyperSpy's GUI registry passes its own).

    Returns
    -------
    dict
        ``{"widget": container, "wdict": widgets}`` with the keys
        ``stage_tilt``, ``field_width``, ``units``, ``apply_button``,
        ``reset_button``, ``axes`` (current pixel sizes) and ``status``.
    """
    wdict = {
        "stage_tilt": ipywidgets.BoundedFloatText(min=0.0, max=90.0, step=1.0),
        "field_width": ipywidgets.Text(placeholder="e.g. 17600 or 17.6 um; empty: keep x scale"),
        "units": ipywidgets.Text(),
    }
    rows = []
    for name, widget in wdict.items():
        link((obj, name), (widget, "value"))
        rows.append(_field(obj.trait(name).label, widget, _desc(obj, name)))
    apply = ipywidgets.Button(
        description="Apply", button_style="primary", tooltip="Correct the pixel sizes"
    )
    reset = ipywidgets.Button(
        description="Reset", tooltip="Restore the axes as they were before Apply"
    )
    axes = ipywidgets.HTML()
    status = ipywidgets.HTML()
    wdict.update(apply_button=apply, reset_button=reset, axes=axes, status=status)

    def refresh():
        axes.value = f"<b>Pixel size:</b> {html.escape(obj.axes_summary())}"
        reset.disabled = not obj.can_reset

    def applied(_signal):
        refresh()
        return "Applied."

    def on_apply(_button):
        _run_reporting(status, obj.apply, applied)

    def on_reset(_button):
        obj.reset()
        refresh()
        _message(status, "Axes restored.")

    apply.on_click(on_apply)
    reset.on_click(on_reset)
    refresh()
    box = ipywidgets.VBox(
        rows + [ipywidgets.HBox([apply, reset]), axes, status],
        layout=ipywidgets.Layout(max_width="520px"),  # fields beside their labels
    )
    return {"widget": box, "wdict": wdict}
