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
    parser.add_argument("--line-by", action="append", default=[], metavar="COL",
                        help="one Morse curve per value of COL against the same baseline, e.g. requested_ratio")
    parser.add_argument("--out", type=Path, help="write the per-point table here (CSV)")
    parser.add_argument("--summary-out", type=Path, help="write the per-group averages here (CSV)")


def run(args: argparse.Namespace) -> int:
    from tabulate import tabulate

    from harness import provenance
    import pandas as pd

    from harness.analysis.compare import compare, pooled_by_curve
    from harness.analysis.selection import headline, only_experiment, read_rows, select
    from harness.report.text import average_line, exceptions, format_points, oracle_lines

    baseline, morse = read_rows(args.csv)
    chosen = dict(metric=args.metric, higher_is_better=args.higher_is_better, where=args.where, best_over=args.best_over)
    baseline, morse = select(baseline, **chosen), select(morse, **chosen)
    result = compare(baseline, morse, args.metric, higher_is_better=args.higher_is_better,
                     group_by=tuple(args.group_by + args.line_by), baseline_by=tuple(args.group_by), n_boot=args.bootstrap, confidence=args.confidence)
    print(tabulate(format_points(result.points), headers="keys", tablefmt="github", showindex=False, floatfmt=".4g"))
    print()
    print(tabulate(result.summary, headers="keys", tablefmt="github", showindex=False, floatfmt=".3f"))
    made_by = provenance.columns(command_line(args), only_experiment(baseline, morse))
    if args.out:
        result.points.assign(**made_by).to_csv(args.out, index=False)
    if args.summary_out:  # the groups, each curve's pooled average, then the headline (the paper's protocol)
        pooled = pooled_by_curve(result, args.confidence).assign(pooled=True)
        top = pd.DataFrame([headline(result, args.headline_ratio, args.confidence)]).assign(pooled=True)
        summary = pd.concat([result.summary.assign(pooled=False), pooled, top], ignore_index=True)
        summary["headline"] = summary.index == len(summary) - 1
        summary.assign(**made_by).to_csv(args.summary_out, index=False)
    for line in exceptions(result) + oracle_lines(morse, args.metric, args.higher_is_better):
        print(line)
    print(average_line(result, args.headline_ratio))
    return 0
