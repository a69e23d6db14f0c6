"""Cost of the engine's interruptible wait (``_parallel.POLL_SECONDS``).

The calling thread waits for its worker threads in steps of ``POLL_SECONDS`` (0.1 s)
so that a Ctrl-C delivered to a worker thread still interrupts a fit. This compares
``GustafsonKessel`` and ``Probabilistic`` (n_init=10, 2 threads) with that wait and
with one long wait (the former behaviour), interleaved in one run on the same data.

Run from the repository root::

    PYTHONPATH=. python benchmarks/bench_interrupt_poll.py --out benchmarks/RESULTS.md
"""

import argparse
import platform
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_blobs

import hyperspy_cmeans
from hyperspy_cmeans.cmeans import GustafsonKessel, Probabilistic, _parallel

MARKER = "## Interruptible waits of the c-means engine (bench_interrupt_poll.py)"
SIZES = {"262k": 262_144, "1M": 1_048_576}


def fit_seconds(cls, X):
    start = time.perf_counter()
    cls(n_clusters=4, n_init=10, random_state=0, n_jobs=2).fit(X)
    return time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=None, help="RESULTS.md to update")
    args = parser.parse_args(argv)
    polled = _parallel.POLL_SECONDS
    rows = []
    for label, n in SIZES.items():
        X, _ = make_blobs(n, n_features=3, centers=4, random_state=0)
        for cls in (Probabilistic, GustafsonKessel):
            fit_seconds(cls, X[:20_000])  # compiled
            times = {"0.1 s steps": [], "one wait": []}
            for _ in range(args.repeats):  # interleaved: drifts of the machine hit both
                for mode, poll in (("0.1 s steps", polled), ("one wait", None)):
                    _parallel.POLL_SECONDS = poll
                    times[mode].append(fit_seconds(cls, X))
            _parallel.POLL_SECONDS = polled
            med = {mode: float(np.median(t)) for mode, t in times.items()}
            rows.append((label, cls.__name__, med["0.1 s steps"], med["one wait"]))
            print(rows[-1], flush=True)
    import numba
    import sklearn

    lines = [
        MARKER,
        "",
        "Command: `PYTHONPATH=. python benchmarks/bench_interrupt_poll.py --out "
        "benchmarks/RESULTS.md`",
        "",
        f"Machine: {platform.machine()}, 2 cores; Python {platform.python_version()}; "
        f"numpy {np.__version__}, numba {numba.__version__}, scikit-learn "
        f"{sklearn.__version__}, hyperspy_cmeans {hyperspy_cmeans.__version__}. "
        f"n_init=10, n_jobs=2, make_blobs (4 centres, 3 features); median of "
        f"{args.repeats}, interleaved.",
        "",
        "| samples | estimator | 0.1 s steps [s] | one wait [s] | ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for label, name, polled_s, single_s in rows:
        lines.append(
            f"| {label} | {name} | {polled_s:.2f} | {single_s:.2f} | {polled_s / single_s:.2f} |"
        )
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_low_dose import write_section

        write_section(args.out, text, MARKER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
