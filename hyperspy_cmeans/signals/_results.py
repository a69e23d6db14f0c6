"""Stored cluster results as signals and files: memberships, phase map, phase spectra, CSV."""

import warnings
from pathlib import Path

import numpy as np

from hyperspy_cmeans import _checks
from hyperspy_cmeans import _phases as phases
from hyperspy_cmeans.signals import _adapters as adapters
from hyperspy_cmeans.signals import _state as state


def phase_labels(signal, threshold):
    """Hard labels at ``threshold`` from the stored memberships.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    threshold : float
        Membership a pixel needs in its best cluster to be assigned.

    Returns
    -------
    tuple
        ``(labels, results)``: ``(n_pixels,)`` int labels (-1 unassigned or
        masked) and the dict of :func:`hyperspy_cmeans._learning_results.read_cluster_results`.
    """
    threshold = _checks.check_threshold(threshold)
    res = state.current_results(signal)
    return phases.hard_labels(res["memberships"].T, threshold), res


def membership_stack(signal):
    """The membership maps of the stored clustering as an image stack.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.

    Returns
    -------
    hyperspy.signal.BaseSignal
        ``(n_clusters | navigation shape)`` memberships, NaN where masked.
    """
    res = state.current_results(signal)
    return adapters.navigation_stack(
        signal, res["memberships"], f"Cluster memberships of {signal.metadata.General.title}"
    )


def phase_map(signal, threshold):
    """Label image of the phases (cluster ``k``, -1 for unassigned) with its statistics.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    threshold : float
        Membership a pixel needs in its best cluster to be assigned.

    Returns
    -------
    hyperspy.signal.BaseSignal
        The image; ``metadata.Phase_map`` holds the threshold, the
        unassigned fraction of the unmasked pixels and the number of phases.
    """
    labels, res = phase_labels(signal, threshold)
    masked = ~np.all(np.isfinite(res["memberships"]), axis=0)
    n_valid = max(int((~masked).sum()), 1)
    unassigned = float(((labels < 0) & ~masked).sum()) / n_valid
    out = adapters.navigation_image(signal, labels, f"Phase map of {signal.metadata.General.title}")
    out.metadata.set_item("Phase_map.threshold", float(threshold))
    out.metadata.set_item("Phase_map.unassigned_fraction", unassigned)
    out.metadata.set_item("Phase_map.number_of_phases", res["n_clusters"])
    return out


def _phase_sums(signal, labels, res, threshold, show_progressbar):
    """Hard-member sums per cluster: the stored ones when the threshold matches."""
    stored = np.isclose(threshold, res["parameters"].get("assignment_threshold", np.nan))
    if stored and res["sum_signals"] is not None:
        return res["sum_signals"]
    c = res["n_clusters"]
    with adapters.progress(signal, show_progressbar):
        sums, _ = phases.cluster_sums(
            adapters.spectra_array(signal), labels, np.zeros((labels.size, c))
        )
    return sums


def phase_spectra(signal, threshold, weighting, show_progressbar=None):
    """Mean spectra per phase as a plain ``EDS_SEM`` signal ``(n_clusters | channels)``.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    threshold : float
        Membership threshold of the hard members (``weighting="threshold"``).
    weighting : {"threshold", "membership"}
        Hard-member mean, or ``u**m``-weighted mean over all pixels.
    show_progressbar : bool or None
        Progress bar for the pass over lazy data.

    Returns
    -------
    exspy.signals.EDSSEMSpectrum
        The phase spectra with the map's energy axis and Sample /
        Acquisition_instrument metadata.
    """
    from exspy.signals import EDSSEMSpectrum

    if weighting not in ("threshold", "membership"):
        raise ValueError(f"weighting={weighting!r}; use 'threshold' or 'membership'.")
    labels, res = phase_labels(signal, threshold)
    c = res["n_clusters"]
    if weighting == "membership":
        spectra = res["centers"]
        counts = np.nansum(res["memberships"] ** res["parameters"].get("m", 1.0), axis=1)
    else:
        sums = _phase_sums(signal, labels, res, threshold, show_progressbar)
        counts = phases.one_hot(labels, c).sum(1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            spectra = sums / counts[:, None]
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        warnings.warn(
            f"cluster(s) {empty.tolist()} have no pixel with membership above {threshold}: "
            "their phase spectrum is NaN. Lower the threshold or use weighting='membership'.",
            UserWarning,
            stacklevel=3,
        )
        spectra = spectra.copy()
        spectra[empty] = np.nan
    out = EDSSEMSpectrum(
        np.asarray(spectra, dtype=float),
        axes=[{"size": c, "navigate": True, "name": "Cluster index"}]
        + signal.axes_manager._get_signal_axes_dicts(),
    )
    md = signal.metadata
    for node in ("Sample", "Acquisition_instrument"):
        if node in md:
            out.metadata.set_item(node, md.get_item(node).deepcopy())
    out.metadata.General.title = f"Phase spectra of {md.General.title}".strip()
    out.metadata.set_item("Phase_spectra.weighting", weighting)
    out.metadata.set_item("Phase_spectra.threshold", float(threshold))
    out.metadata.set_item("Phase_spectra.number_of_pixels", counts.tolist())
    return out


def export_data_space(signal, path):
    """Write scores, memberships and labels as CSV, one row per unmasked pixel.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    path : str or pathlib.Path
        Output file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    res = state.current_results(signal)
    scores = res["scores"]
    u = res["memberships"].T
    labels = phases.hard_labels(u, res["parameters"].get("assignment_threshold", 0.5))
    coords, names = adapters.navigation_coordinates(signal)
    header = (
        names
        + [f"score_{k}" for k in range(scores.shape[1])]
        + [f"membership_{k}" for k in range(u.shape[1])]
        + ["label"]
    )
    ok = np.all(np.isfinite(u), axis=1)
    table = np.column_stack([*coords, scores, u, labels])[ok]
    path = Path(path)
    fmt = ["%.6g"] * (table.shape[1] - 1) + ["%d"]
    np.savetxt(path, table, delimiter=",", header=",".join(header), comments="", fmt=fmt)
    return path
