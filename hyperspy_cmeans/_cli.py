"""Command line: ``hyperspy-cmeans demo --out DIR`` (also ``python -m hyperspy_cmeans``)."""

import argparse
import sys

_SYNTHETIC_ONLY = ("n_clusters", "shape", "counts_per_pixel")


def _parser():
    """The argument parser of ``hyperspy-cmeans``."""
    parser = argparse.ArgumentParser(
        prog="hyperspy-cmeans",
        description="Fuzzy c-means phase analysis of SEM EDS maps (HyperSpy extension).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="run the study's workflow on the study's own map (or, with --synthetic, "
        "on a synthetic map with known ground truth)",
        description=(
            "Load the SEM EDS map of the QV1.120 FIB cross-section that the original study "
            "analysed, choose the number of clusters (Xie-Beni index), cluster it with "
            "Gustafson-Kessel fuzzy c-means into 4 phases, compare the memberships with the "
            "published ones, and write membership maps, the phase map, phase spectra (PNG and "
            "one .msa per phase), data-space plots and CSV, the comparison figure and a JSON "
            "summary. With --synthetic: generate a synthetic map with known ground truth and an "
            "uncalibrated energy axis, calibrate it from the peaks, correct the pixel size for "
            "the stage tilt, and report the accuracy against the truth instead. The exit status "
            "is 0 when the summary's 'ok' is true."
        ),
    )
    demo.add_argument("--out", default="demo", help="output folder (created if needed)")
    demo.add_argument(
        "--synthetic",
        action="store_true",
        help="run on a synthetic map with known ground truth (calibration from a raw axis, "
        "tilt correction, accuracy against the truth)",
    )
    demo.add_argument("--random-state", type=int, default=0, help="seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="do not print progress")
    synthetic = demo.add_argument_group("synthetic map (with --synthetic only)")
    synthetic.add_argument("--n-clusters", type=int, help="number of clusters (default 4)")
    synthetic.add_argument("--shape", type=int, nargs=2, metavar=("NY", "NX"), help="map size")
    synthetic.add_argument("--counts-per-pixel", type=float, help="dose (default 200)")
    return parser, demo


def main(argv=None):
    """Run the ``hyperspy-cmeans`` command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        Exit status: 0 when the demo's summary is ``ok``, 1 otherwise.
    """
    parser, demo = _parser()
    args = parser.parse_args(argv)
    if args.command != "demo":  # pragma: no cover (argparse enforces a command)
        return 2
    from hyperspy_cmeans import _demo

    if args.synthetic:
        options = {name: getattr(args, name) for name in _SYNTHETIC_ONLY}
        options = {name: value for name, value in options.items() if value is not None}
        if "shape" in options:
            options["shape"] = tuple(options["shape"])
        summary = _demo.run_synthetic_demo(
            args.out, random_state=args.random_state, verbose=not args.quiet, **options
        )
    else:
        given = [name for name in _SYNTHETIC_ONLY if getattr(args, name) is not None]
        if given:
            flags = ", ".join("--" + name.replace("_", "-") for name in given)
            demo.error(f"{flags} only apply with --synthetic (the study's map has 4 phases).")
        summary = _demo.run_demo(args.out, random_state=args.random_state, verbose=not args.quiet)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
