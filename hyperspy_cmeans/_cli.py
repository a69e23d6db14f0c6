"""Command line: ``hyperspy-cmeans demo --out DIR`` (also ``python -m hyperspy_cmeans``)."""

import argparse
import sys


def main(argv=None):
    """Run the ``hyperspy-cmeans`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status.
    """
    parser = argparse.ArgumentParser(
        prog="hyperspy-cmeans",
        description="Fuzzy c-means phase analysis of SEM EDS maps (HyperSpy extension).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the whole workflow of the original study on a built-in synthetic map",
        description=(
            "Generate a synthetic 4-phase EDS map with known ground truth, calibrate its "
            "energy axis from peaks, correct the pixel size for the stage tilt, choose the "
            "number of clusters, cluster it with Gustafson-Kessel fuzzy c-means, and write "
            "membership maps, the phase map, phase spectra (PNG and .msa), data-space plots "
            "and a JSON summary with the accuracy against ground truth."
        ),
    )
    demo.add_argument("--out", default="demo", help="output folder (created if needed)")
    demo.add_argument("--n-clusters", type=int, default=4, help="number of clusters (default 4)")
    demo.add_argument("--shape", type=int, nargs=2, default=(156, 152), metavar=("NY", "NX"))
    demo.add_argument("--counts-per-pixel", type=float, default=200.0)
    demo.add_argument("--random-state", type=int, default=0)
    demo.add_argument("--quiet", action="store_true", help="do not print progress")
    args = parser.parse_args(argv)

    if args.command == "demo":
        from hyperspy_cmeans._demo import run_demo

        summary = run_demo(
            args.out,
            n_clusters=args.n_clusters,
            shape=tuple(args.shape),
            counts_per_pixel=args.counts_per_pixel,
            random_state=args.random_state,
            verbose=not args.quiet,
        )
        return 0 if summary["ok"] else 1
    return 2  # pragma: no cover (argparse enforces a command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
