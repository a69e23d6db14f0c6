"""The whole workflow of the original study on a built-in synthetic map.

``hyperspy-cmeans demo --out DIR`` calls :func:`run_demo`.
"""

import json
import time
from pathlib import Path

import numpy as np

#: The study's element list for the energy calibration.
STUDY_ELEMENTS = ["O", "Mg", "Al", "Si", "Ca", "Ti", "Fe"]
#: FIB contaminants present in the map and left out of the calibration.
CONTAMINANTS = {"Pt": 0.03, "Ga": 0.02}


def run_demo(
    out, n_clusters=4, shape=(156, 152), counts_per_pixel=200.0, random_state=0, verbose=True
):
    """Run the study's workflow on a synthetic map and write its results.

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
        the energy calibration is within half a channel.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from hyperspy_cmeans import _phases as phases
    from hyperspy_cmeans import evaluation
    from hyperspy_cmeans.data import ground_truth, synthetic_eds_map
    from hyperspy_cmeans.signals import _plots

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    timings = {}

    def step(name, message):
        timings[name] = time.perf_counter()
        if verbose:
            print(f"[{time.perf_counter() - start:5.1f} s] {message}", flush=True)

    step(
        "generate",
        f"generating a {shape[0]} x {shape[1]} x 1024 synthetic EDS map (4 phases + Pt, Ga)",
    )
    s = synthetic_eds_map(
        shape=shape,
        counts_per_pixel=counts_per_pixel,
        contaminants=CONTAMINANTS,
        random_state=random_state,
    )
    energy_axis = s.axes_manager.signal_axes[0]
    true_scale, true_offset = energy_axis.scale, energy_axis.offset
    true_x_scale = s.axes_manager.navigation_axes[0].scale
    field_width = true_x_scale * s.axes_manager.navigation_axes[0].size
    # As exported from the instrument: energy axis in channels, pixels uncalibrated.
    energy_axis.scale, energy_axis.offset, energy_axis.units = 1.0, 0.0, "channel"
    for ax in s.axes_manager.navigation_axes:
        ax.scale, ax.offset, ax.units = 1.0, 0.0, "px"

    step(
        "calibrate",
        f"calibrating the energy axis from peaks ({', '.join(STUDY_ELEMENTS)}; excluding Pt, Ga)",
    )
    calibration = s.calibrate_energy_from_peaks(
        elements=STUDY_ELEMENTS, exclude=list(CONTAMINANTS), return_info=True
    )
    calibration.plot()
    plt.gcf().savefig(out / "energy_calibration.png", dpi=110)
    plt.close("all")
    scale_error_pct = 100 * (energy_axis.scale - true_scale) / true_scale
    offset_error_channels = (energy_axis.offset - true_offset) / true_scale
    if verbose:
        print(
            f"         scale {energy_axis.scale * 1000:.4f} eV/channel (error {scale_error_pct:+.4f} %), "
            f"offset {energy_axis.offset:.4f} keV (error {offset_error_channels:+.3f} channel), "
            f"{len(calibration.matches)} lines matched"
        )

    step(
        "tilt",
        f"correcting the pixel size for the 52 deg stage tilt (field width {field_width / 1000:.3f} um)",
    )
    s.tilt_correct_scale(stage_tilt=52, field_width=field_width)

    step("scan", "choosing the number of clusters (Xie-Beni index, Gustafson-Kessel, 2 to 6)")
    scan = s.estimate_number_of_fuzzy_clusters(
        range(2, 7),
        metric="xie_beni",
        algorithm="gustafson_kessel",
        n_init=2,
        random_state=random_state,
        return_info=True,
    )
    if verbose:
        print(f"         {scan}")
    s.plot_cluster_metric()
    plt.gcf().savefig(out / "cluster_metric.png", dpi=110)
    scan.plot_memberships().flat[0].figure.savefig(out / "memberships_per_n.png", dpi=90)
    plt.close("all")

    step("cluster", f"fuzzy clustering with Gustafson-Kessel, {n_clusters} clusters")
    estimator = s.fuzzy_cluster(
        n_clusters, "gustafson_kessel", random_state=random_state, return_info=True
    )

    step("write", f"writing maps, spectra and plots to {out}")
    figures = {
        "membership_maps.png": s.plot_cluster_memberships,
        "phase_map.png": s.plot_phase_map,
        "phase_spectra.png": s.plot_phase_spectra,
        "data_space.png": s.plot_data_space,
        "data_space_memberships.png": lambda: s.plot_data_space(color_by="membership"),
        "overview.png": lambda: _plots.cluster_overview(
            s, 0.5, title="Fuzzy c-means phases", with_spectra=True
        ),
    }
    for name, draw in figures.items():
        drawn = np.ravel(draw())[0]
        drawn.figure.savefig(out / name, dpi=110)
        plt.close("all")
    spectra = s.cluster_phase_spectra()
    for k in range(n_clusters):
        spectra.inav[k].save(out / f"phase_spectra_{k}.msa", overwrite=True)
    s.export_data_space(out / "data_space.csv")

    truth = ground_truth(s)
    fractions = truth.fractions.reshape(len(truth.phase_names), -1).T
    u = s.learning_results.cluster_membership.T
    match = evaluation.match_clusters(u, fractions)
    phase_map = s.get_phase_map(0.5)
    summary = {
        "n_clusters": n_clusters,
        "estimated_number_of_clusters": scan.estimate,
        "xie_beni": dict(zip(map(str, scan.n_clusters), scan.values, strict=True)),
        "adjusted_rand_index": evaluation.dominant_phase_ari(phases.hard_labels(u, 0.0), fractions),
        "membership_rmse": evaluation.membership_rmse(u, fractions, match),
        "unassigned_fraction": phase_map.metadata.Phase_map.unassigned_fraction,
        "cluster_phases": [truth.phase_names[p] if p >= 0 else None for p in match],
        "pixels_per_phase": spectra.metadata.Phase_spectra.number_of_pixels,
        "energy_scale_error_percent": scale_error_pct,
        "energy_offset_error_channels": offset_error_channels,
        "matched_lines": [m.line for m in calibration.matches],
        "pixel_size_nm": [ax.scale for ax in s.axes_manager.navigation_axes],
        "gk_iterations": int(np.max(estimator.n_iter_)),
        "seconds": round(time.perf_counter() - start, 2),
    }
    summary["ok"] = bool(
        summary["adjusted_rand_index"] >= 0.9
        and abs(offset_error_channels) < 0.5
        and abs(scale_error_pct) < 0.1
    )
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    if verbose:
        print(
            f"[{summary['seconds']:5.1f} s] done: ARI {summary['adjusted_rand_index']:.3f}, membership RMSE "
            f"{summary['membership_rmse']:.3f}, unassigned {100 * summary['unassigned_fraction']:.1f} %, "
            f"phases {summary['cluster_phases']} -> {out / 'summary.json'}"
        )
    return summary
