"""Maps larger than memory, and the one-read pipeline, on 1024 x 1024 x 1024/2048 maps.

Run (about 30 minutes on a 2-core machine; the 4096 x 4096 x 1024 map adds about an hour)::

    python benchmarks/bench_scale.py --out /work/bench-data --results [--huge]

Steps, each in a fresh subprocess so that its peak resident memory is its own:

1. generate each map with the package's lazy synthetic generator and write it
   chunked (64 x 64 pixels x all channels) to .zspy (kept and reused with
   ``--reuse``; not committed);
2. the physical floor: read the whole file once (a sum over all values);
3. lazy end to end (``hs.load(lazy=True)``, ``fuzzy_cluster(4)`` with the
   defaults, i.e. ``subsample="auto"``: the model learned from a sample of
   chunks, one pass over the map; phase map; phase spectra at the stored
   threshold) with the accuracy against the ground truth stored in the file;
4. the same with ``subsample=None`` (the exact fit: moments, scores and sums
   passes), and the agreement of the two phase maps;
5. the sampled run on a ``dask.distributed.LocalCluster`` (2 worker
   processes; peak memory summed over the client and the workers);
6. eager 1024 x 1024 x 1024 (the map loaded into memory): ours with the
   defaults against HyperSpy's fastest route (``decomposition(output_dimension=3)``
   without Poisson weighting, then ``cluster_analysis`` with k-means);
7. with ``--huge``: a 4096 x 4096 x 1024 map (34 GB as uint16), read floor
   and the sampled run on the LocalCluster.

Results are printed as JSON lines, saved to ``<out>/scale_results.jsonl``,
and with ``--results`` written as the scale section of ``benchmarks/RESULTS.md``.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------
# memory sampling
# ----------------------------------------------------------------------------


class PeakRSS:
    """Samples the resident memory of this process and all its children."""

    def __init__(self, interval=0.05):
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._stop = threading.Event()

    def _total(self):
        import psutil

        total = 0
        for p in [self._proc, *self._proc.children(recursive=True)]:
            try:
                total += p.memory_info().rss
            except psutil.Error:
                pass
        return total

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self._total())
            time.sleep(self._interval)

    def __enter__(self):
        self.peak = self._total()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._total())


# ----------------------------------------------------------------------------
# steps (run in subprocesses)
# ----------------------------------------------------------------------------


def step_generate(path, shape, channels, chunk):
    from hyperspy_cmeans.data import synthetic_eds_map

    s = synthetic_eds_map(
        shape=shape,
        n_channels=channels,
        scale=10.24 / channels,
        offset=-0.1,
        lazy=True,
        chunks=(chunk, chunk, channels),
        random_state=0,
    )
    s.save(path, overwrite=True, chunks=(chunk, chunk, channels), show_progressbar=False)
    return {"bytes_in_memory": int(s.data.nbytes), "dtype": str(s.data.dtype)}


def step_read(path):
    import hyperspy.api as hs

    t0 = time.perf_counter()
    s = hs.load(path, lazy=True)
    total = int(s.data.sum(dtype="uint64").compute())
    return {
        "read_s": time.perf_counter() - t0,
        "total_counts": total,
        "chunks": str(s.data.chunksize),
    }


def _accuracy(s):
    import numpy as np

    from hyperspy_cmeans import _phases as phases
    from hyperspy_cmeans import evaluation
    from hyperspy_cmeans.data import ground_truth

    gt = ground_truth(s)
    fractions = gt.fractions.reshape(len(gt.phase_names), -1).T
    u = np.asarray(s.learning_results.cluster_membership).T
    return {
        "ari": evaluation.dominant_phase_ari(phases.hard_labels(u, 0.0), fractions),
        "membership_rmse": evaluation.membership_rmse(u, fractions),
    }


def _workflow(s, **kwargs):
    """fuzzy_cluster, phase map, phase spectra (at the stored threshold: no extra pass)."""
    timings = {}
    t = time.perf_counter()
    s.fuzzy_cluster(4, "gustafson_kessel", random_state=0, **kwargs)
    timings["fuzzy_cluster_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pm = s.get_phase_map()
    timings["phase_map_s"] = time.perf_counter() - t
    t = time.perf_counter()
    s.cluster_phase_spectra()
    timings["phase_spectra_s"] = time.perf_counter() - t
    params = s.learning_results.fuzzy_cluster_parameters
    info = {
        "fit": params.get("fit"),
        "sample_pixels": params.get("sample_pixels"),
        "sample_tiles": params.get("sample_tiles"),
        "full_fit_check": params.get("full_fit_check"),
        "unassigned_fraction": pm.metadata.Phase_map.unassigned_fraction,
        "memberships_type": type(s.learning_results.cluster_membership).__name__,
    }
    return timings, info, pm


def _lazy_run(path, labels_out, subsample):
    import hyperspy.api as hs
    import numpy as np

    t0 = time.perf_counter()
    s = hs.load(path, lazy=True)
    timings, info, pm = _workflow(s, subsample=subsample)
    timings["end_to_end_s"] = time.perf_counter() - t0
    if labels_out:
        np.save(labels_out, pm.data.astype(np.int8))
    return {**timings, **info, **_accuracy(s)}


def step_lazy(path, labels_out=None):
    return _lazy_run(path, labels_out, "auto")


def step_lazy_exact(path, labels_out=None):
    return _lazy_run(path, labels_out, None)


def step_distributed(path, labels_out=None):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            memory_limit="8GiB",
        ) as cluster,
        Client(cluster),
    ):
        return _lazy_run(path, labels_out, "auto")


def step_hyperspy(path):
    import hyperspy.api as hs
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    from hyperspy_cmeans.data import ground_truth

    s = hs.load(path, lazy=True)
    s.compute(show_progressbar=False)  # in memory, as an eager user has it
    t0 = time.perf_counter()
    s.change_dtype("float32")  # HyperSpy's decomposition refuses integer data
    s.decomposition(output_dimension=3, print_info=False)
    s.cluster_analysis("decomposition", n_clusters=4, preprocessing="standard", random_state=0)
    elapsed = time.perf_counter() - t0
    gt = ground_truth(s)
    labels = np.argmax(s.learning_results.cluster_labels, axis=0)
    ari = adjusted_rand_score(gt.dominant_phase.ravel(), labels)
    return {"end_to_end_s": elapsed, "ari": float(ari)}


def step_ours_eager(path):
    import hyperspy.api as hs
    import psutil

    s = hs.load(path, lazy=True)
    s.compute(show_progressbar=False)
    map_bytes = s.data.nbytes
    before = psutil.Process().memory_info().rss
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        timings, info, _ = _workflow(s)
        timings["end_to_end_s"] = time.perf_counter() - t0
    return {
        **timings,
        **info,
        **_accuracy(s),
        "map_gib": map_bytes / 2**30,
        "rss_with_map_gib": before / 2**30,
        "peak_above_map_gib": (mem.peak - before) / 2**30,
    }


STEPS = {
    "generate": step_generate,
    "read": step_read,
    "lazy": step_lazy,
    "lazy_exact": step_lazy_exact,
    "distributed": step_distributed,
    "hyperspy": step_hyperspy,
    "ours_eager": step_ours_eager,
}


def run_step(name, *args):
    """Run one step in a subprocess; return its JSON result with wall time and peak RSS."""
    cmd = [sys.executable, __file__, "--step", name, "--args", json.dumps(args)]
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t0
    if proc.returncode != 0:
        result = {"error": proc.stderr.strip().splitlines()[-5:]}
    else:
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    result.update(step=name, wall_s=round(wall, 2), peak_rss_gib=round(mem.peak / 2**30, 3))
    print(json.dumps(result), flush=True)
    return result


def machine():
    """Machine and versions for the results file."""
    import importlib.metadata as md

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    versions = {
        p: md.version(p)
        for p in (
            "hyperspy",
            "exspy",
            "rosettasciio",
            "numpy",
            "scipy",
            "scikit-learn",
            "dask",
            "distributed",
            "zarr",
        )
    }
    try:
        versions["hyperspy_cmeans"] = md.version("hyperspy_cmeans")
    except md.PackageNotFoundError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "versions": versions,
        "load_average_start": os.getloadavg(),
    }


def _fmt(x, spec=".1f"):
    return "" if x is None else format(x, spec)


def _agreement(out, a, b):
    """ARI of two saved phase maps (unassigned pixels are one more label)."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score

    pa, pb = Path(out) / a, Path(out) / b
    if not (pa.exists() and pb.exists()):
        return None
    return float(adjusted_rand_score(np.load(pa).ravel(), np.load(pb).ravel()))


def write_results(results, info, command, out):
    """Replace the scale section of benchmarks/RESULTS.md with these results."""
    rows = []
    for r in results:
        if r["step"] in ("generate",):
            continue
        label = r.get("label", r["step"])
        acc = ""
        if "ari" in r:
            acc = f"ARI {r['ari']:.4f}"
            if "membership_rmse" in r:
                acc += f", RMSE {r['membership_rmse']:.3f}"
        fit = r.get("fit") or ""
        if r.get("sample_pixels"):
            fit += f" ({r['sample_pixels']} px in {r['sample_tiles']} chunks"
            check = r.get("full_fit_check") or {}
            if check:
                fit += (
                    f"; full-fit check: mean change {check['mean_membership_change']:.4f}, "
                    f"labels changed {100 * check['label_change']:.2f} %"
                )
            fit += ")"
        t = r.get("end_to_end_s", r.get("read_s"))
        floor = r.get("floor_s") if r["step"] in ("lazy", "lazy_exact", "distributed") else None
        ratio = f"{t / floor:.1f}x" if (t and floor) else ""
        rows.append(
            f"| {label} | {_fmt(t)} | {ratio} | {r.get('wall_s', '')} | {r.get('peak_rss_gib', '')} "
            f"| {acc} | {fit} |"
        )
    lines = [
        "## Maps larger than memory, and the one-read pipeline (bench_scale.py)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; Python "
        f"{info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + f". Load average at start {tuple(round(x, 2) for x in info['load_average_start'])}, "
        f"at end {tuple(round(x, 2) for x in os.getloadavg())}.",
        "",
        "Maps: synthetic (`synthetic_eds_map`, its default cross-section layout of 4 phases, "
        "200 counts per pixel), uint16, written chunked (64 x 64 pixels x all channels) to "
        "compressed .zspy. Each step runs in its own process; 'time' is measured "
        "inside it (load + fuzzy_cluster(4) with the defaults + phase map + phase spectra), "
        "'process' is the whole process with Python and HyperSpy start-up; peak RSS includes "
        "all child processes (the dask workers of the distributed runs) and, for the eager "
        "runs, the map itself. 'x floor' = time / the time to read the file once (lazy runs). "
        "Accuracy: ARI of the largest-membership labels against the true dominant phase and "
        "membership RMSE, computed after the timed part (for the 4096 x 4096 map the ground "
        "truth, 0.5 GB, and the 16.8 million memberships are then held by the client, which "
        "is part of its peak RSS).",
        "",
        "| step | time (s) | x floor | process (s) | peak RSS (GiB) | accuracy | fit |",
        "|---|---:|---:|---:|---:|---|---|",
        *rows,
        "",
    ]
    for r in results:
        if r["step"] == "ours_eager" and "map_gib" in r:
            lines.append(
                f"Eager {r.get('label', '')}: the map takes {r['map_gib']:.2f} GiB; the "
                f"workflow's peak above the process with the map loaded was "
                f"{r['peak_above_map_gib']:.2f} GiB, i.e. a peak of "
                f"{1 + r['peak_above_map_gib'] / r['map_gib']:.2f}x the map."
            )
    for name, value in info.get("agreements", {}).items():
        lines.append(f"Agreement of the phase maps, {name}: ARI {value:.4f}.")
    lines += [
        "",
        "Notes. 'fit' says whether the model learned from the sample stood after the check "
        "against a fit on every pixel's scores ('sample': the map was read once after the "
        "sample) or was replaced by that fit ('sample, then all pixels': a second pass summed "
        "the phase spectra); the check's numbers are the mean of each pixel's largest "
        "membership change and the share of pixels whose label changed. The issue's targets: "
        "lazy at most 4x the read floor at 1024 x 1024 x 1024 and x 2048 with a peak under "
        "1.5 GiB; eager 1024 x 1024 x 1024 within 15 s and 1.5x the map, faster than "
        "HyperSpy's fastest route. On this shared 2-core host the same step varies by about "
        "20 % between runs (the read floor of the 1024 x 1024 x 1024 file measured 4.3, 5.5 "
        "and 5.9 s in three runs).",
        "",
    ]
    section = "\n".join(lines)
    path = HERE / "RESULTS.md"
    text = path.read_text()
    start = text.index("## Maps larger than memory")
    end = text.find("\n## ", start + 3)
    text = text[:start] + section + ("\n" + text[end + 1 :] if end >= 0 else "")
    path.write_text(text)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(HERE / "data"))
    parser.add_argument("--reuse", action="store_true", help="reuse maps already written")
    parser.add_argument("--huge", action="store_true", help="also the 4096 x 4096 x 1024 map")
    parser.add_argument(
        "--huge-only", action="store_true", help="only the huge map, added to the saved results"
    )
    parser.add_argument("--skip", nargs="*", default=[], help="steps to skip")
    parser.add_argument("--results", action="store_true", help="write benchmarks/RESULTS.md")
    parser.add_argument("--from-json", help="only write RESULTS.md from a saved run")
    parser.add_argument("--step", help=argparse.SUPPRESS)
    parser.add_argument("--args", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.step:  # inside a subprocess
        import warnings

        warnings.simplefilter("ignore")
        import hyperspy.api as hs

        hs.preferences.General.show_progressbar = False
        result = STEPS[args.step](*json.loads(args.args))
        print(json.dumps(result))
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = out / "scale_results.jsonl"
    command = "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:])
    if args.from_json:
        lines = [json.loads(x) for x in Path(args.from_json).read_text().splitlines() if x]
        write_results(lines[1:], lines[0], lines[0].get("command", command), out)
        return
    info = machine()
    info["command"] = command
    results = []
    maps = [((1024, 1024), 1024), ((1024, 1024), 2048)]
    if args.huge or args.huge_only:
        maps.append(((4096, 4096), 1024))
    if args.huge_only:  # keep the saved results of the other maps
        saved = [json.loads(x) for x in log.read_text().splitlines() if x]
        info["agreements"] = saved[0].get("agreements", {})
        info["command"] = saved[0].get("command", command) + " && " + command
        results = [r for r in saved[1:] if "4096" not in r.get("label", "")]
        maps = maps[2:]
    for shape, channels in maps:
        name = f"{shape[0]} x {shape[1]} x {channels}"
        path = str(out / f"map_{shape[0]}x{shape[1]}x{channels}.zspy")
        if not (args.reuse and Path(path).exists()):
            run_step("generate", path, list(shape), channels, 64)
        floor = run_step("read", path)
        floor["label"] = f"{name}: read the file once (floor)"
        results.append(floor)
        huge = shape[0] > 1024
        todo = ["distributed"] if huge else ["lazy", "lazy_exact", "distributed"]
        if shape == (1024, 1024) and channels == 1024:
            todo += ["ours_eager", "hyperspy"]
        for step in todo:
            if step in args.skip:
                continue
            labels = str(out / f"labels_{step}_{shape[0]}x{channels}.npy")
            extra = [labels] if step in ("lazy", "lazy_exact", "distributed") else []
            r = run_step(step, path, *extra)
            r["label"] = {
                "lazy": f"{name}: lazy, defaults (sample, then one pass)",
                "lazy_exact": f"{name}: lazy, subsample=None (exact)",
                "distributed": f"{name}: lazy on LocalCluster (2 worker processes), defaults",
                "ours_eager": f"{name}: eager (map in memory), defaults",
                "hyperspy": f"{name}: eager, HyperSpy decomposition(3) + cluster_analysis",
            }[step]
            r["floor_s"] = floor.get("read_s")
            results.append(r)
        if not huge:
            agree = _agreement(out, f"labels_lazy_{shape[0]}x{channels}.npy",
                               f"labels_lazy_exact_{shape[0]}x{channels}.npy")  # fmt: skip
            if agree is not None:
                info.setdefault("agreements", {})[f"{name}, sampled vs exact"] = agree
    with open(log, "w") as f:
        f.write(json.dumps(info) + "\n")
        for r in results:
            f.write(json.dumps(r) + "\n")
    if args.results:
        write_results(results, info, info["command"], out)


if __name__ == "__main__":
    main()
