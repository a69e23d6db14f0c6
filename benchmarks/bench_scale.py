"""Maps larger than memory: the lazy workflow on a 1024 x 1024 x 2048 uint16 map.

Run (about 15 minutes on a 2-core machine)::

    python benchmarks/bench_scale.py --out benchmarks/data [--shape 1024 1024 --channels 2048]

Steps, each in a fresh subprocess so that its peak resident memory is its own:

1. generate the map with the package's lazy synthetic generator and write it
   chunked to .zspy (not committed);
2. the physical floor: read the whole file once (a sum over all values);
3. the end-to-end lazy workflow: ``hs.load(lazy=True)``, PCA to 3 components,
   Gustafson–Kessel with c = 4, phase map, phase spectra; accuracy against
   the ground truth stored in the file;
4. the same on a ``dask.distributed.LocalCluster`` with 2 worker processes
   (peak memory summed over the client and the workers);
5. for comparison, HyperSpy's own ``decomposition()`` + ``cluster_analysis()``
   (k-means) and our eager ``fuzzy_cluster`` on a 512 x 512 x 1024 map, which
   fits in memory.

Results are printed as JSON lines and, with ``--results``, appended as a
section to ``benchmarks/RESULTS.md``.
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


def _workflow(s):
    timings = {}
    t = time.perf_counter()
    s.fuzzy_cluster(4, "gustafson_kessel", random_state=0)
    timings["fuzzy_cluster_s"] = time.perf_counter() - t
    t = time.perf_counter()
    pm = s.get_phase_map()
    timings["phase_map_s"] = time.perf_counter() - t
    t = time.perf_counter()
    spectra = s.cluster_phase_spectra(threshold=0.7)  # not the stored threshold: one more pass
    timings["phase_spectra_s"] = time.perf_counter() - t
    return timings, pm, spectra


def step_lazy(path):
    import hyperspy.api as hs

    t0 = time.perf_counter()
    s = hs.load(path, lazy=True)
    timings, pm, spectra = _workflow(s)
    timings["end_to_end_s"] = time.perf_counter() - t0
    return {
        **timings,
        **_accuracy(s),
        "unassigned_fraction": pm.metadata.Phase_map.unassigned_fraction,
        "gk_iterations": int(s.learning_results.fuzzy_cluster_parameters["n_iter"]),
        "explained_variance_ratio": [
            float(x)
            for x in s.learning_results.fuzzy_cluster_parameters["explained_variance_ratio"]
        ],
    }


def step_distributed(path):
    import hyperspy.api as hs
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
        t0 = time.perf_counter()
        s = hs.load(path, lazy=True)
        timings, pm, spectra = _workflow(s)
        timings["end_to_end_s"] = time.perf_counter() - t0
        return {
            **timings,
            **_accuracy(s),
            "unassigned_fraction": pm.metadata.Phase_map.unassigned_fraction,
        }


def step_small_generate(path, shape, channels):
    return step_generate(path, shape, channels, 64)


def step_hyperspy(path):
    import hyperspy.api as hs
    import numpy as np

    from hyperspy_cmeans.data import ground_truth

    s = hs.load(path)
    t0 = time.perf_counter()
    s.change_dtype("float32")  # HyperSpy's decomposition refuses integer data
    s.decomposition(output_dimension=3, print_info=False)
    s.cluster_analysis("decomposition", n_clusters=4, preprocessing="standard", random_state=0)
    elapsed = time.perf_counter() - t0
    from sklearn.metrics import adjusted_rand_score

    gt = ground_truth(s)
    labels = np.argmax(s.learning_results.cluster_labels, axis=0)
    ari = adjusted_rand_score(gt.dominant_phase.ravel(), labels)
    return {"hyperspy_decomposition_kmeans_s": elapsed, "ari": float(ari)}


def step_ours_eager(path):
    import hyperspy.api as hs

    s = hs.load(path)
    t0 = time.perf_counter()
    timings, pm, spectra = _workflow(s)
    timings["end_to_end_s"] = time.perf_counter() - t0
    return {**timings, **_accuracy(s)}


STEPS = {
    "generate": step_generate,
    "read": step_read,
    "lazy": step_lazy,
    "distributed": step_distributed,
    "small_generate": step_small_generate,
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


def write_results(results, info, command, shape, channels):
    """Append the scale section to benchmarks/RESULTS.md."""
    by = {r["step"]: r for r in results}
    read, lazy = by["read"], by["lazy"]
    dist = by.get("distributed", {})
    hsr, ours = by.get("hyperspy", {}), by.get("ours_eager", {})
    gib = by["generate"].get("bytes_in_memory", 0) / 2**30
    lines = [
        "",
        "## Maps larger than memory (bench_scale.py)",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; Python {info['python']}; "
        + ", ".join(f"{k} {v}" for k, v in info["versions"].items())
        + f". Load average at start {tuple(round(x, 2) for x in info['load_average_start'])}, "
        f"at end {tuple(round(x, 2) for x in os.getloadavg())}.",
        "",
        f"Map: {shape[0]} x {shape[1]} x {channels} uint16 ({gib:.2f} GiB in memory), synthetic, 4 phases, "
        "written chunked (64 x 64 x all channels) to .zspy. Each step runs in its own process; peak RSS "
        "includes all child processes (the dask workers for the distributed run).",
        "",
        "Times are measured inside each process (the process total, with Python and HyperSpy start-up, in brackets).",
        "",
        "| step | wall time (s) | peak RSS (GiB) | accuracy |",
        "|---|---:|---:|---|",
        f"| read the whole file once (floor) | {read['read_s']:.1f} (process {read['wall_s']}) | {read['peak_rss_gib']} | |",
        f"| lazy: load, PCA(3), GK c=4, phase map, phase spectra | {lazy.get('end_to_end_s', float('nan')):.1f} "
        f"(process {lazy['wall_s']}) | {lazy['peak_rss_gib']} | ARI {lazy.get('ari', float('nan')):.4f}, "
        f"RMSE {lazy.get('membership_rmse', float('nan')):.3f} |",
    ]
    if dist:
        lines.append(
            f"| same on LocalCluster (2 worker processes) | {dist.get('end_to_end_s', float('nan')):.1f} "
            f"(process {dist['wall_s']}) | {dist['peak_rss_gib']} | ARI {dist.get('ari', float('nan')):.4f} |"
        )
    if hsr:
        lines.append(
            f"| HyperSpy decomposition + cluster_analysis, 512 x 512 x 1024 (eager) | "
            f"{hsr.get('hyperspy_decomposition_kmeans_s', float('nan')):.1f} | {hsr['peak_rss_gib']} | "
            f"ARI {hsr.get('ari', float('nan')):.4f} |"
        )
    if ours:
        lines.append(
            f"| ours eager, same 512 x 512 x 1024 map | {ours.get('end_to_end_s', float('nan')):.1f} | "
            f"{ours['peak_rss_gib']} | ARI {ours.get('ari', float('nan')):.4f} |"
        )
    ratio = lazy.get("end_to_end_s", float("nan")) / read["read_s"]
    lines += [
        "",
        f"Lazy breakdown: fuzzy_cluster {lazy.get('fuzzy_cluster_s', float('nan')):.1f} s (two passes for the "
        f"PCA moments and scores, GK on the in-memory scores, one pass for the cluster sums), phase map "
        f"{lazy.get('phase_map_s', float('nan')):.2f} s, phase spectra at another threshold "
        f"{lazy.get('phase_spectra_s', float('nan')):.1f} s (one pass). End-to-end / read floor = {ratio:.1f}x "
        f"(target 15x); peak RSS target 3 GiB.",
        "",
    ]
    with open(HERE / "RESULTS.md", "a") as f:
        f.write("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", default=str(HERE / "data"))
    parser.add_argument("--shape", type=int, nargs=2, default=(1024, 1024))
    parser.add_argument("--channels", type=int, default=2048)
    parser.add_argument("--skip", nargs="*", default=[], help="steps to skip")
    parser.add_argument("--results", action="store_true", help="append to benchmarks/RESULTS.md")
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
    big = str(out / f"map_{args.shape[0]}x{args.shape[1]}x{args.channels}.zspy")
    small = str(out / "map_512x512x1024.zspy")
    info = machine()
    print(json.dumps(info), flush=True)
    results = [
        run_step("generate", big, list(args.shape), args.channels, 64),
        run_step("read", big),
        run_step("lazy", big),
    ]
    if "distributed" not in args.skip:
        results.append(run_step("distributed", big))
    if "small" not in args.skip:
        run_step("small_generate", small, [512, 512], 1024)
        results.append(run_step("hyperspy", small))
        results.append(run_step("ours_eager", small))
    if args.results:
        command = "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:])
        write_results(results, info, command.strip(), args.shape, args.channels)


if __name__ == "__main__":
    main()
