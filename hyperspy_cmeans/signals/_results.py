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
    res["memberships"] = state.in_memory(signal, res["memberships"])
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


#: Detector times that scale with the number of pixels a spectrum sums.
_TIME_KEYS = ("Detector.EDS.live_time", "Detector.EDS.real_time")


def _microscope_branch(md):
    """``"Acquisition_instrument.SEM"`` (or TEM) if present, else None."""
    for branch in ("SEM", "TEM"):
        if md.has_item(f"Acquisition_instrument.{branch}"):
            return f"Acquisition_instrument.{branch}"
    return None


def _phase_statistics(signal, threshold, weighting, statistic, show_progressbar):
    """``(spectra, pixels, res)``: per-cluster spectra and the pixels (or weights) behind each."""
    labels, res = phase_labels(signal, threshold)
    c = res["n_clusters"]
    if weighting == "membership":
        weights = res["memberships"] ** res["parameters"].get("m", 1.0)
        pixels = np.nansum(weights, axis=1)
        centers = np.asarray(res["centers"], dtype=float)
        spectra = centers * pixels[:, None] if statistic == "sum" else centers
    else:
        sums = _phase_sums(signal, labels, res, threshold, show_progressbar)
        pixels = phases.one_hot(labels, c).sum(1).astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            spectra = sums if statistic == "sum" else sums / pixels[:, None]
    empty = np.flatnonzero(pixels == 0)
    if empty.size:
        warnings.warn(
            f"cluster(s) {empty.tolist()} have no pixel with membership above {threshold}: "
            "their phase spectrum is NaN. Lower the threshold or use weighting='membership'.",
            UserWarning,
            stacklevel=4,
        )
        spectra = np.array(spectra, dtype=float)
        spectra[empty] = np.nan
    return np.asarray(spectra, dtype=float), pixels, res


def _phase_title(k, names, map_title):
    name = f" ({names[k]})" if names and names[k] else ""
    return f"Phase {k}{name} of {map_title}".strip()


def _check_names(phase_names, c):
    if phase_names is None:
        return None
    names = [str(n) for n in phase_names]
    if len(names) != c:
        raise ValueError(
            f"phase_names has {len(names)} names for {c} clusters; give one per cluster."
        )
    return names


def phase_spectra(
    signal,
    threshold,
    weighting,
    statistic="mean",
    phase_names=None,
    split=False,
    show_progressbar=None,
):
    """Spectra per phase as plain ``EDS_SEM`` signals, ready for quantification.

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    threshold : float
        Membership threshold of the hard members (``weighting="threshold"``).
    weighting : {"threshold", "membership"}
        Hard members, or ``u**m`` weights over all pixels.
    statistic : {"mean", "sum"}
        Mean spectrum per pixel, or the sum over the members (counts).
    phase_names : list of str, optional
        One name per cluster, used in the titles.
    split : bool
        Return one signal per phase instead of a stack.
    show_progressbar : bool or None
        Progress bar for the pass over lazy data.

    Returns
    -------
    exspy.signals.EDSSEMSpectrum or list of exspy.signals.EDSSEMSpectrum
        The stack ``(n_clusters | channels)``, or one spectrum per phase.
    """
    from exspy.signals import EDSSEMSpectrum

    if weighting not in ("threshold", "membership"):
        raise ValueError(f"weighting={weighting!r}; use 'threshold' or 'membership'.")
    if statistic not in ("mean", "sum"):
        raise ValueError(f"statistic={statistic!r}; use 'mean' or 'sum'.")
    spectra, pixels, res = _phase_statistics(
        signal, threshold, weighting, statistic, show_progressbar
    )
    names = _check_names(phase_names, res["n_clusters"])
    md = signal.metadata
    map_title = md.General.title
    branch = _microscope_branch(md)
    # exspy's convention: the detector times of a map are per pixel (its sum()
    # multiplies them by the number of pixels summed); a mean spectrum keeps them,
    # a sum over n pixels has n times as much.
    times = {key: md.get_item(f"{branch}.{key}") for key in _TIME_KEYS} if branch else {}
    times = {key: float(t) for key, t in times.items() if t is not None}

    def record(out, k=None):
        for node in ("Sample", "Acquisition_instrument"):
            if node in md:
                out.metadata.set_item(node, md.get_item(node).deepcopy())
        out.metadata.set_item("Phase_spectra.weighting", weighting)
        out.metadata.set_item("Phase_spectra.statistic", statistic)
        out.metadata.set_item("Phase_spectra.threshold", float(threshold))
        for key, t in times.items():
            factor = pixels if statistic == "sum" else np.ones_like(pixels)
            if k is None and statistic == "sum":  # one time per phase: not a stack's scalar
                out.metadata.get_item(branch).Detector.EDS.__delattr__(key.rsplit(".", 1)[1])
                out.metadata.set_item(
                    f"Phase_spectra.{key.rsplit('.', 1)[1]}", (t * factor).tolist()
                )
            elif k is not None:
                out.metadata.set_item(f"{branch}.{key}", float(t * factor[k]))
        return out

    signal_axes = signal.axes_manager._get_signal_axes_dicts()
    if split:
        out = []
        for k in range(res["n_clusters"]):
            one = EDSSEMSpectrum(spectra[k], axes=signal_axes)
            one.metadata.General.title = _phase_title(k, names, map_title)
            one.metadata.set_item("Phase_spectra.cluster_index", k)
            one.metadata.set_item("Phase_spectra.number_of_pixels", float(pixels[k]))
            if names:
                one.metadata.set_item("Phase_spectra.phase_name", names[k])
            out.append(record(one, k))
        return out
    out = EDSSEMSpectrum(
        spectra,
        axes=[{"size": res["n_clusters"], "navigate": True, "name": "Cluster index"}] + signal_axes,
    )
    out.metadata.General.title = f"Phase spectra of {map_title}".strip()
    out.metadata.set_item("Phase_spectra.number_of_pixels", pixels.tolist())
    out.metadata.set_item(
        "Phase_spectra.titles", [_phase_title(k, names, map_title) for k in range(len(pixels))]
    )
    if names:
        out.metadata.set_item("Phase_spectra.phase_names", names)
    return record(out)


def export_phase_spectra(signal, folder, threshold, statistic, phase_names, extension):
    """Write one file per phase spectrum (see ``export_phase_spectra``).

    Parameters
    ----------
    signal : EDSSEMCmeansSpectrum
        A clustered map.
    folder : str or pathlib.Path
        Output folder.
    threshold : float
        Membership threshold.
    statistic : {"sum", "mean"}
        What each file holds.
    phase_names : list of str or None
        Names used in titles and file names.
    extension : str
        File extension (RosettaSciIO format).

    Returns
    -------
    list of pathlib.Path
        The written files.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    spectra = phase_spectra(signal, threshold, "threshold", statistic, phase_names, split=True)
    paths = []
    for k, spectrum in enumerate(spectra):
        name = spectrum.metadata.get_item("Phase_spectra.phase_name", "")
        safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)
        path = folder / (f"phase_{k}_{safe}" if safe else f"phase_{k}")
        path = path.with_suffix("." + extension.lstrip("."))
        spectrum.save(path, overwrite=True)
        paths.append(path)
    return paths


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
    scores = state.in_memory(signal, res["scores"])
    u = state.in_memory(signal, res["memberships"]).T
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
