"""`harness speedup`: the speedup of Morse over its baseline at equal metric (Sec. 3.1), from CSVs.

Each Morse point's speedup is the baseline's latency at Morse's metric value (linear interpolation of
the baseline's latency-metric curve) over Morse's latency; the average over points is the paper's
average speedup. Points beyond the baseline's range are upper bounds (``<= X``) or N/A, listed by name.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.stages.options import command_line, add_analysis_arguments

EXAMPLES = """
  python -m harness speedup results/digits_rows.csv --metric fid --bootstrap 1000
  python -m harness speedup baseline.csv morse.csv --metric clip_score --higher-is-better --best-over guidance_scale
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", nargs="+", type=Path, metavar="CSV",
                        help="BASELINE.csv MORSE.csv, or one results CSV split by its `method` column")
    parser.add_argument("--metric", required=True, help="metric column, e.g. fid or clip_score")
    parser.add_argument("--higher-is-better", action="store_true", help="for CLIP score and other scores")
    add_analysis_arguments(parser)
    parser.add_argument("--group-by", action="append", default=[], metavar="COL",
                        help="one comparison per value of COL (repeatable), baseline rows matched on COL, e.g. sampler")
    parser.add_argument("--out", type=Path, help="write the per-point table here (CSV)")
    parser.add_argument("--summary-out", type=Path, help="write the per-group averages here (CSV)")


def run(args: argparse.Namespace) -> int:
    from harness.report.speedup_tables import speedup_tables

    speedup_tables(args.csv, metric=args.metric, higher_is_better=args.higher_is_better, where=args.where,
                   best_over=args.best_over, group_by=args.group_by, line_by=args.line_by, bootstrap=args.bootstrap,
                   confidence=args.confidence, headline_ratio=args.headline_ratio, out=args.out,
                   summary_out=args.summary_out, command_line=command_line(args))
    return 0
