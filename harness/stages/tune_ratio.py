"""`harness tune-ratio`: the exchanged-steps ratio chosen per LSD budget on pilot seeds (the tuned series).

Reads the pilot rows (every ratio of a budget, trained Dot, seeds disjoint from the evaluation
replicates) and writes one row per budget: the ratio with the best metric. `harness curves --tuned`
then builds the "tuned" curve from the evaluation rows of those points.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """
  python -m harness tune-ratio work/digits/metrics/ddim_l*_k*.rpilot.fid.csv --metric fid -o work/digits/tuned_ratio.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", nargs="+", type=Path, metavar="PILOT.csv", help="metric rows of the pilot set")
    parser.add_argument("--metric", required=True, help="metric column, e.g. fid")
    parser.add_argument("--higher-is-better", action="store_true", help="for CLIP score and other scores")
    parser.add_argument("--best-over", default=None, metavar="COLUMN",
                        help="choose this column (e.g. guidance_scale, Table 1's scheme) together with the ratio")
    parser.add_argument("-o", "--out", type=Path, required=True, help="the choices (CSV, one row per budget)")


def run(args: argparse.Namespace) -> int:
    from harness.analysis.tuning import tune_ratios

    tune_ratios(args.csv, args.out, metric=args.metric, higher_is_better=args.higher_is_better, best_over=args.best_over)
    return 0
