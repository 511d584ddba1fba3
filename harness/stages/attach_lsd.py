"""`harness attach-lsd`: results rows + measured N -> one row per request with ``latency_lsd`` (Sec. 3.1).

A point's latency in LSD is dash_steps + dot_steps / N, with N = Dash/Dot per-step latency measured by
`harness latency` on this experiment's device (or given with --N): where an experiment timed several Dot
costs, each Morse row takes the N of the timing that serves its Dot. A schedule sampled once for several
requests (``also_serves``) becomes one row per request.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.stages.options import positive_float

EXAMPLES = """
  python -m harness attach-lsd results/digits/fid/*.csv --latency-dir results -o results/digits_rows.csv
  python -m harness attach-lsd results/cifar/fid/*.csv --N 7.3 --N-device "paper RTX 3090" -o rows.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", nargs="+", type=Path, metavar="RESULTS.csv", help="results rows (concatenated)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output CSV")
    parser.add_argument("--latency-dir", type=Path, action="append", default=[],
                        help="a folder of latency_<device>.csv files (all are merged); repeatable, one per timing "
                             "of the experiment (default: results)")
    parser.add_argument("--device", help="device slug whose N to use when several devices measured one experiment")
    parser.add_argument("--N", type=positive_float, dest="n", help="use this N for every experiment instead of measuring")
    parser.add_argument("--N-device", dest="n_device", default="given",
                        help="label recorded in N_device with --N (e.g. 'paper RTX 3090')")
    parser.add_argument("--tuned", type=Path, help="ratio choices of `harness tune-ratio`: add the tuned curve's rows")


def run(args: argparse.Namespace) -> int:
    from harness.analysis.lsd_rows import lsd_rows

    lsd_rows(args.csv, args.out, latency_dirs=args.latency_dir, device=args.device, n=args.n, n_device=args.n_device,
             tuned=args.tuned)
    return 0
