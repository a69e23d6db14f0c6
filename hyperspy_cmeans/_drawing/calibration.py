"""The energy-calibration figure: a spectrum on its calibrated axis with the matched lines."""

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

FITTED_COLOR = "tab:red"
UNFITTED_COLOR = "tab:blue"
RANGE_COLOR = (1.0, 0.85, 0.3, 0.18)


def plot_energy_calibration(
    energy,
    spectrum,
    matches,
    unmatched=(),
    energy_range=None,
    title=None,
    ax=None,
    yscale="linear",
    xlim=None,
):
    """Draw a spectrum on its calibrated axis with the lines matched to its peaks.

    Fitted lines are solid red vertical lines at their database energies,
    labelled with their residual; matched but unfitted lines (overlaps,
    exclusions, outliers) dashed blue, labelled with the reason; peaks that
    matched no line are grey triangles; the energy range constrained by the
    fitted lines is shaded.

    Parameters
    ----------
    energy : numpy.ndarray
        Calibrated energy of each channel, keV.
    spectrum : numpy.ndarray
        The spectrum (same length).
    matches : sequence
        Objects with the attributes ``line``, ``energy`` (keV), ``residual``
        (eV), ``fitted`` and ``note`` (e.g.
        :class:`~hyperspy_cmeans._calibration.LineMatch`).
    unmatched : array_like, optional
        Energies (keV) of the peaks that matched no line.
    energy_range : tuple of float, optional
        ``(low, high)`` keV range constrained by the fitted lines, shaded.
    title : str, optional
        Axes title.
    ax : matplotlib.axes.Axes, optional
        Axes to draw in (one panel); a new pyplot figure by default.
    yscale : {"linear", "log"}, default "linear"
        Scale of the intensity axis.
    xlim : tuple of float, optional
        Energy range shown; default the whole spectrum.

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn in.
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(10, 4.5), layout="constrained")
    energy = np.asarray(energy, dtype=float)
    spectrum = np.asarray(spectrum, dtype=float)
    ax.plot(energy, spectrum, color="k", lw=0.8)
    ax.set_yscale(yscale)
    _set_headroom(ax, spectrum, yscale)
    handles = [Line2D([], [], color="k", lw=0.8, label="spectrum")]
    if energy_range is not None and np.all(np.isfinite(energy_range)):
        ax.axvspan(*energy_range, color=RANGE_COLOR, lw=0)
        handles.append(Patch(color=RANGE_COLOR, label="range of the fitted lines"))
    _draw_lines(ax, matches, float(energy[-1] - energy[0]) or 1.0)
    handles.append(
        Line2D([], [], color=FITTED_COLOR, lw=0.8, label="fitted line (database energy)")
    )
    if not all(m.fitted for m in matches):
        handles.append(
            Line2D([], [], color=UNFITTED_COLOR, lw=0.8, ls="--", label="matched, not fitted")
        )
    unmatched = np.asarray(unmatched, dtype=float)
    if unmatched.size:
        ax.plot(unmatched, np.interp(unmatched, energy, spectrum), "v", color="0.5", ms=5)
        handles.append(Line2D([], [], color="0.5", marker="v", ls="none", label="unmatched peak"))
    ax.set_xlim(*(xlim if xlim is not None else (energy[0], energy[-1])))
    ax.set_xlabel("Energy (keV)")
    ax.set_ylabel("Counts (summed)")
    if title:
        ax.set_title(title, fontsize=9)
    ax.legend(handles=handles, loc="center right", fontsize=8)
    return ax


def _set_headroom(ax, spectrum, yscale):
    """Room above the spectrum for the line labels."""
    top = float(np.nanmax(spectrum)) if spectrum.size else 1.0
    if yscale == "log":
        positive = spectrum[spectrum > 0]
        ax.set_ylim(max(float(positive.min()) if positive.size else 1.0, 0.5), top * 30)
    else:
        ax.set_ylim(min(0.0, float(np.nanmin(spectrum))), top * 1.4)


def _draw_lines(ax, matches, span):
    """Vertical lines at the matched energies, with their labels."""
    trans = blended_transform_factory(ax.transData, ax.transAxes)
    last_x, right = -np.inf, False
    for m in sorted(matches, key=lambda m: m.energy):
        color = FITTED_COLOR if m.fitted else UNFITTED_COLOR
        ax.axvline(m.energy, color=color, lw=0.8, ls="-" if m.fitted else "--", alpha=0.7)
        label = f"{m.line} {m.residual:+.1f} eV" if m.fitted else f"{m.line} ({m.note})"
        # the label of a line close to the previous one goes on its right
        right = (not right) and (m.energy - last_x) / span < 0.02
        last_x = m.energy
        ax.text(
            m.energy,
            0.99,
            label,
            transform=trans,
            rotation=90,
            va="top",
            ha="left" if right else "right",
            fontsize=7,
            color=color,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
        )
