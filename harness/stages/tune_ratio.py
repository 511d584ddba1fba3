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
    import pandas as pd
    from tabulate import tabulate

    from harness.analysis.curves import expand_shared
    from harness.analysis.tuning import choose_ratios
    from harness.errors import HarnessError
    from harness.shards import atomic_write

    missing = [str(p) for p in args.csv if not p.exists()]
    if missing:
        raise HarnessError(f"missing pilot rows: {', '.join(missing)}")
    pilot = expand_shared(pd.concat([pd.read_csv(p) for p in args.csv], ignore_index=True))
    choices = choose_ratios(pilot, args.metric, args.higher_is_better, args.best_over)
    atomic_write(args.out, lambda f: f.write(choices.to_csv(index=False).encode()))
    print(tabulate(choices, headers="keys", tablefmt="github", showindex=False, floatfmt=".4g"))
    return 0
