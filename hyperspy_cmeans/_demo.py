"""The demo: the study's workflow on the study's own map, or on a synthetic map.

``hyperspy-cmeans demo --out DIR`` calls :func:`run_demo`: the SEM EDS map
of the QV1.120 FIB cross-section that the study analysed
(:func:`hyperspy_cmeans.data.qv120_cross_section`), clustered as the study
did and compared with the published memberships.
``hyperspy-cmeans demo --synthetic --out DIR`` calls
:func:`run_synthetic_demo`: a synthetic map with known ground truth, starting
from an uncalibrated energy axis and pixel size.

Both write their figures, the phase spectra (.msa), the data space (CSV)
and ``summary.json`` (with ``"ok"`` and the list of files written) to ``DIR``.
"""

import json
import re
import time
from pathlib import Path

import numpy as np

#: The study's element list for the energy calibration.
STUDY_ELEMENTS = ["O", "Mg", "Al", "Si", "Ca", "Ti", "Fe"]
#: FIB contaminants present in the synthetic map and left out of the calibration.
CONTAMINANTS = {"Pt": 0.03, "Ga": 0.02}
#: Numbers of clusters of the scan (Xie-Beni index).
SCAN_RANGE = range(2, 7)
#: Restarts per number of clusters in the scan (the final clustering keeps the default 10).
SCAN_N_INIT = 2
#: The study's map is clustered into the study's number of phases.
STUDY_N_CLUSTERS = 4
#: ``ok`` on the study's map: agreement with the published memberships at least this good.
MIN_ARI, MAX_RMSE = 0.90, 0.07
#: ``ok`` on the synthetic map: accuracy and energy calibration at least this good.
MIN_SYNTHETIC_ARI, MAX_OFFSET_ERROR_CHANNELS, MAX_SCALE_ERROR_PERCENT = 0.9, 0.5, 0.1


# ----------------------------------------------------------------------------
# shared steps
# ----------------------------------------------------------------------------


class _Progress:
    """Prints numbered progress lines and records how long each step took."""

    def __init__(self, verbose):
        self.verbose = verbose
        self.start = time.perf_counter()
        self.durations = {}
        self._current = None

    def elapsed(self):
        return time.perf_counter() - self.start

    def _close(self):
        if self._current is not None:
            name, began = self._current
            self.durations[name] = round(time.perf_counter() - began, 2)

    def step(self, name, message):
        self._close()
        self._current = (name, time.perf_counter())
        self.say(f"[{self.elapsed():5.1f} s] {message}")

    def note(self, message):
        self.say(f"         {message}")

    def say(self, message):
        if self.verbose:
            print(message, flush=True)

    def finish(self):
        self._close()
        self._current = None
        return round(self.elapsed(), 2)


def _pyplot():
    """pyplot on the non-interactive Agg backend (the demo only writes files)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(drawn, path, dpi=110):
    """Save the figure of ``drawn`` (axes or an array of axes) and close every figure."""
    plt = _pyplot()
    np.ravel(drawn)[0].figure.savefig(path, dpi=dpi)
    plt.close("all")
    return Path(path).name


def _name_clusters(drawn, names):
    """Append the phase names to the ``"cluster k"`` titles and legend entries of a figure."""
    pattern = re.compile(r"^cluster (\d+)$")

    def rename(text):
        found = pattern.match(text.get_text())
        if found and int(found.group(1)) < len(names):
            k = int(found.group(1))
            text.set_text(f"cluster {k}: {names[k]}")

    figure = np.ravel(drawn)[0].figure
    for ax in figure.axes:
        rename(ax.title)
        legend = ax.get_legend()
        for text in legend.get_texts() if legend else ():
            rename(text)
    for legend in figure.legends:
        for text in legend.get_texts():
            rename(text)
    return drawn


def _scan_number_of_clusters(s, out, random_state, progress):
    """The study's loop over the number of clusters; writes its two figures."""
    progress.step(
        "scan",
        f"choosing the number of clusters (Xie-Beni index, Gustafson-Kessel, "
        f"{SCAN_RANGE.start} to {SCAN_RANGE.stop - 1})",
    )
    scan = s.estimate_number_of_fuzzy_clusters(
        SCAN_RANGE,
        metric="xie_beni",
        algorithm="gustafson_kessel",
        n_init=SCAN_N_INIT,
        random_state=random_state,
        return_info=True,
    )
    progress.note(str(scan))
    plt = _pyplot()
    s.plot_cluster_metric()
    ax = plt.gcf().axes[0]
    ax.set_title("Xie-Beni index (lower is better; dashed: the estimate)", fontsize=10)
    files = [_save(ax, out / "cluster_metric.png")]
    files.append(_save(scan.plot_memberships(), out / "memberships_per_n.png", dpi=90))
    return scan, files


def _cluster(s, n_clusters, random_state, progress):
    """Gustafson-Kessel fuzzy c-means with the package's defaults (the study's data space)."""
    progress.step("cluster", f"fuzzy clustering with Gustafson-Kessel, {n_clusters} clusters")
    return s.fuzzy_cluster(
        n_clusters, "gustafson_kessel", random_state=random_state, return_info=True
    )


def _legend_outside(ax):
    """Move an axes' legend to its right, outside the data (long phase names hide lines)."""
    legend = ax.get_legend()
    texts = [text.get_text() for text in legend.get_texts()]
    ax.legend(legend.legend_handles, texts, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _phase_legend(drawn, n_clusters, unassigned=True):
    """A legend of the cluster colours (and grey: unassigned) below a figure."""
    from hyperspy_cmeans import _drawing as drawing

    handles = drawing.phase_legend_handles(n_clusters)[0 if unassigned else 1 :]
    figure = np.ravel(drawn)[0].figure
    figure.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        fontsize=9,
        frameon=False,
    )
    return drawn


def _overview(s):
    """Membership maps, phase map and phase spectra; the figure legend names the phases."""
    from hyperspy_cmeans.signals import _plots

    drawn = _plots.cluster_overview(s, 0.5, title="Fuzzy c-means phases", with_spectra=True)
    drawn[-1].get_legend().remove()  # the figure's legend below says the same
    return drawn


def _write_figures(s, out, names):
    """Membership maps, phase map, phase spectra, data space and overview PNGs."""
    n = len(names)
    figures = {
        "membership_maps.png": s.plot_cluster_memberships,
        "phase_map.png": s.plot_phase_map,
        "phase_spectra.png": lambda: _legend_outside(s.plot_phase_spectra()),
        "data_space.png": lambda: _phase_legend(s.plot_data_space(), n),
        # colours blended by membership: no grey for unassigned pixels
        "data_space_memberships.png": lambda: _phase_legend(
            s.plot_data_space(color_by="membership"), n, unassigned=False
        ),
        "overview.png": lambda: _overview(s),
    }
    return [_save(_name_clusters(draw(), names), out / name) for name, draw in figures.items()]


def _write_exports(s, out, names):
    """One .msa per phase (counts summed over its members) and the data-space CSV."""
    paths = s.export_phase_spectra(out, phase_names=names)
    paths.append(s.export_data_space(out / "data_space.csv"))
    return [Path(p).name for p in paths]


def _write_results(s, out, names, progress):
    """Every figure and export of a clustered map; returns the file names."""
    progress.step("write", f"writing maps, spectra and plots to {out}")
    return _write_figures(s, out, names) + _write_exports(s, out, names)


def _phase_summary(s, names):
    """Unassigned fraction and pixels per phase (threshold 0.5)."""
    phase_map = s.get_phase_map(0.5)
    pixels = s.cluster_phase_spectra().metadata.Phase_spectra.number_of_pixels
    return {
        "unassigned_fraction": float(phase_map.metadata.Phase_map.unassigned_fraction),
        "pixels_per_phase": dict(zip(names, (int(p) for p in pixels), strict=True)),
    }


def _scan_summary(scan):
    return {
        "estimated_number_of_clusters": int(scan.estimate),
        "xie_beni": {str(n): float(v) for n, v in zip(scan.n_clusters, scan.values, strict=True)},
    }


def _write_summary(out, summary, files, progress):
    """Finish the timing, list the files and write ``summary.json``."""
    summary["seconds"] = progress.finish()
    summary["step_seconds"] = dict(progress.durations)
    summary["files"] = sorted([*files, "summary.json"])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


# ----------------------------------------------------------------------------
# the study's map
# ----------------------------------------------------------------------------


def _load_study_map(progress):
    progress.step("load", "loading the study's map (QV1.120 FIB cross-section, ROI 2)")
    from hyperspy_cmeans.data import qv120_cross_section, qv120_published_result

    s = qv120_cross_section()
    energy = s.axes_manager.signal_axes[0]
    x, y = s.axes_manager.navigation_axes
    progress.note(
        f"{x.size} x {y.size} pixels of {x.scale:.4g} x {y.scale:.4g} nm (tilt-corrected), "
        f"{energy.size} channels of {1000 * energy.scale:.4g} eV from {energy.offset:.4f} keV, "
        "as published"
    )
    return s, qv120_published_result()


def published_agreement(memberships, published_memberships):
    """Agreement of memberships with the published ones, clusters matched by overlap.

    Parameters
    ----------
    memberships : numpy.ndarray
        ``(n_pixels, n_clusters)`` our memberships.
    published_memberships : numpy.ndarray
        ``(n_pixels, n_published)`` the published memberships.

    Returns
    -------
    dict
        ``published_cluster`` (the published cluster each of ours is matched
        to, Hungarian assignment on the membership overlap; -1 if none),
        ``adjusted_rand_index`` (of the largest-membership labels),
        ``membership_rmse`` (over pixels and matched clusters),
        ``membership_rmse_per_cluster``, ``same_dominant_phase_fraction``
        (pixels whose largest membership is in matched clusters),
        ``unassigned_fraction`` and ``published_unassigned_fraction`` (no
        membership above 0.5).
    """
    from hyperspy_cmeans import evaluation

    u = np.asarray(memberships, dtype=float)
    p = np.asarray(published_memberships, dtype=float)
    match = evaluation.match_clusters(u, p)
    ours_dominant = match[np.argmax(u, axis=1)]
    per_cluster = [
        float(np.sqrt(np.mean((u[:, k] - p[:, j]) ** 2))) if j >= 0 else None
        for k, j in enumerate(match)
    ]
    return {
        "published_cluster": [int(j) for j in match],
        "adjusted_rand_index": evaluation.dominant_phase_ari(np.argmax(u, axis=1), p),
        "membership_rmse": evaluation.membership_rmse(u, p, match),
        "membership_rmse_per_cluster": per_cluster,
        "same_dominant_phase_fraction": float(np.mean(ours_dominant == np.argmax(p, axis=1))),
        "unassigned_fraction": float(np.mean(evaluation.hard_labels(u, 0.5) < 0)),
        "published_unassigned_fraction": float(np.mean(evaluation.hard_labels(p, 0.5) < 0)),
    }


def _compare_with_published(s, published, progress):
    """Match our clusters to the published ones; name ours after them."""
    progress.step("compare", "comparing with the published memberships (clusters matched)")
    n_published = published.memberships.axes_manager.navigation_shape[0]
    p = published.memberships.data.reshape(n_published, -1).T
    agreement = published_agreement(s.learning_results.cluster_membership.T, p)
    names = [
        published.phase_names[j] if j >= 0 else f"unmatched {k}"
        for k, j in enumerate(agreement["published_cluster"])
    ]
    progress.note(
        f"ARI {agreement['adjusted_rand_index']:.3f}, membership RMSE "
        f"{agreement['membership_rmse']:.3f}, unassigned "
        f"{100 * agreement['unassigned_fraction']:.1f} % (published "
        f"{100 * agreement['published_unassigned_fraction']:.1f} %); our clusters are {names}"
    )
    return agreement, names


def _map_extent(s):
    """``imshow`` extent of the map in readable length units, and the units."""
    from hyperspy_cmeans import _drawing as drawing

    x, y = s.axes_manager.navigation_axes
    extent = drawing.image_extent([(x.offset, x.scale, x.size), (y.offset, y.scale, y.size)])
    return drawing.readable_extent(extent, x.units)


def _comparison_rows(s, published, agreement):
    """Our and the published memberships and phase maps, in the published cluster order."""
    from hyperspy_cmeans import evaluation

    match = np.asarray(agreement["published_cluster"])
    n = len(match)
    ny, nx = s.data.shape[:2]
    ours = s.learning_results.cluster_membership.reshape(n, ny, nx)
    theirs = published.memberships.data.astype(float)
    ours_of = {int(j): k for k, j in enumerate(match) if j >= 0}  # published j -> our k
    columns = [j for j in range(len(theirs)) if j in ours_of]
    # phase maps in our cluster numbering, so that a phase has one colour in both rows
    our_labels = evaluation.hard_labels(ours.reshape(n, -1).T, 0.5).reshape(ny, nx)
    their_labels = evaluation.hard_labels(theirs.reshape(len(theirs), -1).T, 0.5)
    their_labels = np.array([ours_of.get(j, -1) if j >= 0 else -1 for j in their_labels])
    return ours, theirs, ours_of, columns, our_labels, their_labels.reshape(ny, nx)


def _draw_comparison_column(axs, ours_k, theirs_j, k, n, extent, titles):
    """One phase: our membership map, the published one, and their difference."""
    from hyperspy_cmeans import _drawing as drawing

    image = drawing.draw_membership(axs[0], ours_k, k, n, extent, title=titles[0])
    drawing.draw_membership(axs[1], theirs_j, k, n, extent, title=titles[1])
    difference = axs[2].imshow(
        ours_k - theirs_j, cmap="RdBu_r", vmin=-0.5, vmax=0.5, extent=extent,
        interpolation="nearest",
    )  # fmt: skip
    axs[2].set_title(titles[2], fontsize=10)
    return image, difference


def _draw_comparison_phase_maps(axs, our_labels, their_labels, n, extent, agreement):
    """The two phase maps and the pixels whose phase (or unassigned) differs."""
    from hyperspy_cmeans import _drawing as drawing

    ours_pct = 100 * agreement["unassigned_fraction"]
    theirs_pct = 100 * agreement["published_unassigned_fraction"]
    drawing.plot_phase_map(our_labels, n, extent, ax=axs[0], legend=False)
    axs[0].set_title(f"our phase map\n{ours_pct:.1f} % unassigned", fontsize=10)
    drawing.plot_phase_map(their_labels, n, extent, ax=axs[1], legend=False)
    axs[1].set_title(f"published phase map\n{theirs_pct:.1f} % unassigned", fontsize=10)
    differ = our_labels != their_labels
    axs[2].imshow(differ, cmap="Greys", vmin=0, vmax=1.25, extent=extent, interpolation="nearest")
    axs[2].set_title(f"phase differs\n{100 * differ.mean():.1f} % of pixels", fontsize=10)


def plot_published_comparison(s, published, agreement, names):
    """Our memberships (top), the published ones (middle) and their difference (bottom).

    Parameters
    ----------
    s : EDSSEMCmeansSpectrum
        The study's map after ``fuzzy_cluster``.
    published : hyperspy_cmeans.data.QV120PublishedResult
        The published result.
    agreement : dict
        From :func:`published_agreement`.
    names : list of str
        The phase name of each of our clusters.

    Returns
    -------
    numpy.ndarray of matplotlib.axes.Axes
        ``(3, n_matched + 1)`` axes: one column per published cluster (in the
        published order) with a matched cluster of ours, then the phase maps.
    """
    plt = _pyplot()
    ours, theirs, ours_of, columns, our_labels, their_labels = _comparison_rows(
        s, published, agreement
    )
    n = len(ours)
    extent, units = _map_extent(s)
    fig, axs = plt.subplots(
        3, len(columns) + 1, figsize=(2.45 * len(columns) + 3.4, 10.2), layout="constrained",
        squeeze=False,
    )  # fmt: skip
    rmse = agreement["membership_rmse_per_cluster"]
    for c, j in enumerate(columns):
        k = ours_of[j]
        titles = (
            f"ours: cluster {k}\n{names[k]}",
            f"published: cluster {j}\n{published.phase_names[j]}",
            f"ours \u2212 published\nRMSE {rmse[k]:.3f}",
        )
        image, difference = _draw_comparison_column(
            axs[:, c], ours[k], theirs[j], k, n, extent, titles
        )
    _draw_comparison_phase_maps(axs[:, -1], our_labels, their_labels, n, extent, agreement)
    for ax in axs.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    for r, label in enumerate(("this package", "published\n(Tominaga et al. 2021)", "difference")):
        axs[r, 0].set_ylabel(label, fontsize=10)
    _name_clusters(_phase_legend(axs, n), names)
    fig.colorbar(image, ax=axs[:2, :-1], shrink=0.8, label="membership")
    fig.colorbar(
        difference, ax=axs[2, :-1], shrink=0.8, label="membership difference", extend="both"
    )
    field = f"{extent[1] - extent[0]:.2f} x {extent[2] - extent[3]:.2f} {units}"
    fig.suptitle(
        f"Gustafson-Kessel c = {n} on the study's map ({field}) against the published result: "
        f"ARI {agreement['adjusted_rand_index']:.3f}, membership RMSE "
        f"{agreement['membership_rmse']:.3f}, unassigned {100 * agreement['unassigned_fraction']:.1f} % "
        f"(published {100 * agreement['published_unassigned_fraction']:.1f} %)",
        fontsize=10,
        wrap=True,
    )
    return axs


def run_demo(out, random_state=0, verbose=True):
    """Run the study's workflow on the study's own map and compare with the published result.

    Steps: load the QV1.120 cross-section map (calibrated and tilt-corrected
    as published); scan the number of clusters with the Xie–Beni index;
    cluster with Gustafson–Kessel fuzzy c-means into the study's 4 phases;
    match the clusters to the published ones (named by their chemistry:
    chlorite, rutile, titanite, Fe-rich phase) and measure the agreement;
    write the figures, one .msa per phase, the data space (CSV), a
    side-by-side figure of our and the published memberships, and a JSON
    summary.

    Parameters
    ----------
    out : str or pathlib.Path
        Output folder (created if needed).
    random_state : int
        Seed of the clustering.
    verbose : bool
        Print progress.

    Returns
    -------
    dict
        The summary also written to ``summary.json``; ``summary["ok"]`` is
        True when the memberships agree with the published ones (adjusted
        Rand index >= 0.90 and membership RMSE <= 0.07).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress = _Progress(verbose)
    s, published = _load_study_map(progress)
    scan, files = _scan_number_of_clusters(s, out, random_state, progress)
    estimator = _cluster(s, STUDY_N_CLUSTERS, random_state, progress)
    agreement, names = _compare_with_published(s, published, progress)
    files += _write_results(s, out, names, progress)
    axs = plot_published_comparison(s, published, agreement, names)
    files.append(_save(axs, out / "published_comparison.png", dpi=100))
    summary = {
        "map": s.metadata.General.title,
        "citation": published.citation,
        "n_clusters": STUDY_N_CLUSTERS,
        **_scan_summary(scan),
        "phase_names": names,
        **agreement,
        **_phase_summary(s, names),
        "gk_iterations": int(np.max(estimator.n_iter_)),
        "ok_if": f"adjusted_rand_index >= {MIN_ARI} and membership_rmse <= {MAX_RMSE}",
        "ok": bool(
            agreement["adjusted_rand_index"] >= MIN_ARI and agreement["membership_rmse"] <= MAX_RMSE
        ),
    }
    _write_summary(out, summary, files, progress)
    progress.say(
        f"[{summary['seconds']:5.1f} s] done: ARI {summary['adjusted_rand_index']:.3f}, "
        f"membership RMSE {summary['membership_rmse']:.3f}, unassigned "
        f"{100 * summary['unassigned_fraction']:.1f} %, ok {summary['ok']} -> {out / 'summary.json'}"
    )
    return summary


# ----------------------------------------------------------------------------
# the synthetic map
# ----------------------------------------------------------------------------


def _raw_synthetic_map(shape, counts_per_pixel, random_state, progress):
    """A synthetic map as exported: energy axis in channels, pixels uncalibrated."""
    progress.step(
        "generate",
        f"generating a {shape[0]} x {shape[1]} x 1024 synthetic EDS map (4 phases + Pt, Ga)",
    )
    from hyperspy_cmeans.data import synthetic_eds_map

    s = synthetic_eds_map(
        shape=shape,
        counts_per_pixel=counts_per_pixel,
        contaminants=CONTAMINANTS,
        random_state=random_state,
    )
    energy = s.axes_manager.signal_axes[0]
    x = s.axes_manager.navigation_axes[0]
    truth = {"scale": energy.scale, "offset": energy.offset, "field_width": x.scale * x.size}
    energy.scale, energy.offset, energy.units = 1.0, 0.0, "channel"
    for axis in s.axes_manager.navigation_axes:
        axis.scale, axis.offset, axis.units = 1.0, 0.0, "px"
    return s, truth


def _calibrate_energy(s, truth, out, progress):
    """Energy calibration from the peaks, and its error against the true axis."""
    progress.step(
        "calibrate",
        f"calibrating the energy axis from peaks ({', '.join(STUDY_ELEMENTS)}; excluding Pt, Ga)",
    )
    calibration = s.calibrate_energy_from_peaks(
        elements=STUDY_ELEMENTS, exclude=list(CONTAMINANTS), return_info=True
    )
    plt = _pyplot()
    calibration.plot()
    files = [_save(plt.gcf().axes, out / "energy_calibration.png")]
    energy = s.axes_manager.signal_axes[0]
    errors = {
        "energy_scale_error_percent": 100 * (energy.scale - truth["scale"]) / truth["scale"],
        "energy_offset_error_channels": (energy.offset - truth["offset"]) / truth["scale"],
        "matched_lines": [m.line for m in calibration.matches],
    }
    progress.note(
        f"scale {energy.scale * 1000:.4f} eV/channel "
        f"(error {errors['energy_scale_error_percent']:+.4f} %), offset {energy.offset:.4f} keV "
        f"(error {errors['energy_offset_error_channels']:+.3f} channel), "
        f"{len(calibration.matches)} lines matched"
    )
    return errors, files


def _correct_tilt(s, field_width, progress):
    progress.step(
        "tilt",
        f"correcting the pixel size for the 52 deg stage tilt "
        f"(field width {field_width / 1000:.3f} um)",
    )
    s.tilt_correct_scale(stage_tilt=52, field_width=field_width)
    return {"pixel_size_nm": [axis.scale for axis in s.axes_manager.navigation_axes]}


def _accuracy_against_truth(s):
    """Clusters matched to the true phases; ARI and membership RMSE against the truth."""
    from hyperspy_cmeans import evaluation
    from hyperspy_cmeans.data import ground_truth

    truth = ground_truth(s)
    fractions = truth.fractions.reshape(len(truth.phase_names), -1).T
    u = s.learning_results.cluster_membership.T
    match = evaluation.match_clusters(u, fractions)
    names = [truth.phase_names[p] if p >= 0 else f"unmatched {k}" for k, p in enumerate(match)]
    accuracy = {
        "adjusted_rand_index": evaluation.dominant_phase_ari(
            evaluation.hard_labels(u, 0.0), fractions
        ),
        "membership_rmse": evaluation.membership_rmse(u, fractions, match),
        "cluster_phases": names,
    }
    return accuracy, names


def run_synthetic_demo(
    out, n_clusters=4, shape=(156, 152), counts_per_pixel=200.0, random_state=0, verbose=True
):
    """Run the study's workflow on a synthetic map with known ground truth.

    Steps: generate a map with known truth (four phases, FIB contaminants,
    uncalibrated energy axis and pixel size, as the raw file of the study);
    calibrate the energy axis from peaks; correct the pixel size for the 52°
    stage tilt; scan the number of clusters with the Xie–Beni index; cluster
    with Gustafson–Kessel fuzzy c-means; write membership maps, phase map,
    phase spectra (.png and .msa), data-space plots and CSV, and a JSON
    summary with the accuracy against the ground truth.

    Parameters
    ----------
    out : str or pathlib.Path
        Output folder (created if needed).
    n_clusters : int
        Number of clusters for the final clustering.
    shape : tuple of int
        Map size ``(ny, nx)``.
    counts_per_pixel : float
        Dose of the synthetic map.
    random_state : int
        Seed of the map and of the clustering.
    verbose : bool
        Print progress.

    Returns
    -------
    dict
        The summary also written to ``summary.json``; ``summary["ok"]`` is
        True when the phases were recovered (adjusted Rand index >= 0.9) and
        the energy calibration is within half a channel and 0.1 % in scale.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    progress = _Progress(verbose)
    s, truth = _raw_synthetic_map(shape, counts_per_pixel, random_state, progress)
    calibration, files = _calibrate_energy(s, truth, out, progress)
    pixel_size = _correct_tilt(s, truth["field_width"], progress)
    scan, scan_files = _scan_number_of_clusters(s, out, random_state, progress)
    estimator = _cluster(s, n_clusters, random_state, progress)
    accuracy, names = _accuracy_against_truth(s)
    files += scan_files + _write_results(s, out, names, progress)
    summary = {
        "map": f"synthetic, {shape[0]} x {shape[1]} pixels, {counts_per_pixel:g} counts per pixel",
        "n_clusters": n_clusters,
        **_scan_summary(scan),
        **accuracy,
        **_phase_summary(s, names),
        **calibration,
        **pixel_size,
        "gk_iterations": int(np.max(estimator.n_iter_)),
        "ok_if": (
            f"adjusted_rand_index >= {MIN_SYNTHETIC_ARI}, |energy offset error| < "
            f"{MAX_OFFSET_ERROR_CHANNELS} channel, |energy scale error| < "
            f"{MAX_SCALE_ERROR_PERCENT} %"
        ),
        "ok": bool(
            accuracy["adjusted_rand_index"] >= MIN_SYNTHETIC_ARI
            and abs(calibration["energy_offset_error_channels"]) < MAX_OFFSET_ERROR_CHANNELS
            and abs(calibration["energy_scale_error_percent"]) < MAX_SCALE_ERROR_PERCENT
        ),
    }
    _write_summary(out, summary, files, progress)
    progress.say(
        f"[{summary['seconds']:5.1f} s] done: ARI {summary['adjusted_rand_index']:.3f}, membership "
        f"RMSE {summary['membership_rmse']:.3f}, unassigned "
        f"{100 * summary['unassigned_fraction']:.1f} %, phases {names}, ok {summary['ok']} "
        f"-> {out / 'summary.json'}"
    )
    return summary
