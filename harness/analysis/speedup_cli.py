"""`python -m harness speedup`: the speedup table of Morse over its baseline (Sec. 3.1) from CSVs."""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd
from tabulate import tabulate

from harness import provenance
from harness.analysis import curves
from harness.analysis.compare import Comparison, compare, pooled_by_curve
from harness.analysis.references import oracle_behind
from harness.analysis.tuning import TRAINED
from harness.analysis.speedup import DEFINED, NOT_REACHED, UPPER_BOUND
from harness.errors import HarnessError


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


def add_analysis_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared with `harness report`: row filters, the reduction, and the bootstrap CI."""
    parser.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                        help="keep rows with COL == VALUE (repeatable), e.g. guidance_scale=7.5")
    parser.add_argument("--best-over", metavar="COL",
                        help="per latency, keep the best metric over COL (Table 1: guidance_scale)")
    parser.add_argument("--bootstrap", type=int, default=0, metavar="B",
                        help="bootstrap draws over repeated seed ranges (column `seeds`) for a CI; 0: none")
    parser.add_argument("--confidence", type=float, default=0.95)


def read_rows(paths: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(baseline rows, Morse rows) from two CSVs, or one CSV split by its `method` column."""
    for path in paths:
        if not path.exists():
            raise HarnessError(f"{path} does not exist")
    if len(paths) == 2:
        return pd.read_csv(paths[0]), pd.read_csv(paths[1])
    if len(paths) == 1:
        rows = pd.read_csv(paths[0])
        curves.require(rows, ["method"], str(paths[0]))
        return rows[rows["method"] == "baseline"], rows[rows["method"] == "morse"]
    raise HarnessError("give BASELINE.csv MORSE.csv, or one results CSV with a `method` column")


def select(rows: pd.DataFrame, args: argparse.Namespace, metric: str, higher_is_better: bool) -> pd.DataFrame:
    """Apply --where filters and the --best-over reduction."""
    if "latency_lsd" not in rows.columns:
        raise HarnessError("rows lack `latency_lsd`; add it with `python -m harness curves` (N from `harness latency`)")
    for spec in args.where:
        rows = curves.where(rows, *curves.parse_where(spec))
    if args.best_over:
        rows = curves.best_over(rows, args.best_over, metric, higher_is_better)
    return rows


def overall_average(result: Comparison) -> tuple[float, bool]:
    """The headline: the mean of every defined speedup of the trained Dot's groups pooled (all groups
    when the rows name no curve; upper bounds counted as their bound, N/A left out), and whether it
    is an upper bound."""
    first = pooled_by_curve(result).iloc[0]
    return float(first["average_speedup"]), bool(first["average_is_upper_bound"])


def only_experiment(*frames: pd.DataFrame) -> str | None:
    """The one experiment the rows belong to, or None (rows of several, or none named)."""
    names = {name for frame in frames if "experiment" in frame for name in frame["experiment"].dropna().unique()}
    return names.pop() if len(names) == 1 else None


def format_speedup(value: float, upper_bound: bool = False) -> str:
    """``1.62x``, ``<= 1.62x`` for an upper bound, ``N/A`` for nan."""
    if math.isnan(value):
        return "N/A"
    return f"{'<= ' if upper_bound else ''}{value:.2f}x"


def format_points(points: pd.DataFrame) -> pd.DataFrame:
    """The per-point table with speedups written out (bounds as ``<= 0.62x``)."""
    text = [format_speedup(v, s == UPPER_BOUND) for v, s in zip(points["speedup"], points["status"])]
    return points.assign(speedup=text)


def exceptions(result: Comparison) -> list[str]:
    """One line per upper bound and per N/A point, by name, with the reason."""
    lines = []
    for status, what in ((UPPER_BOUND, "upper bound, counted in the average as l_min / l"),
                         (NOT_REACHED, "N/A, left out of the average")):
        for _, p in result.points[result.points["status"] == status].iterrows():
            name = p.get("point") or f"Morse at {p['latency_lsd']:.4g} LSD"
            lines.append(f"{name} ({what}): {p['note']}")
    return lines


def average_line(result: Comparison) -> str:
    """The headline average with its bootstrap interval, then one such line per other curve (tuned, oracle, zero)."""
    lines = []
    for _, row in pooled_by_curve(result).iterrows():
        name = f", {row['curve']}" if row["curve"] and row["curve"] != TRAINED else ""
        interval = ("" if math.isnan(row["ci_low"]) else
                    f" (95% interval {format_speedup(row['ci_low'])}-{format_speedup(row['ci_high'])})")
        lines.append(f"average speedup{name}: {format_speedup(row['average_speedup'], row['average_is_upper_bound'])}"
                     f"{interval}")
    return "\n".join(lines)


def oracle_lines(morse: pd.DataFrame, metric: str, higher_is_better: bool) -> list[str]:
    """A warning per schedule where the oracle Dot is behind the trained Dot by more than the noise."""
    return [f"check: at {r['requested_lsd']:g} LSD, ratio {r['requested_ratio']:g} the oracle Dot's {metric} "
            f"{r[f'oracle_{metric}']:.4g} is behind the trained Dot's {r[f'trained_{metric}']:.4g} by more than "
            f"2 standard errors ({r['standard_error']:.2g}): a bug, or a metric too noisy at this sample count"
            for _, r in oracle_behind(morse, metric, higher_is_better).iterrows()]


def run(args: argparse.Namespace) -> int:
    baseline, morse = read_rows(args.csv)
    baseline = select(baseline, args, args.metric, args.higher_is_better)
    morse = select(morse, args, args.metric, args.higher_is_better)
    result = compare(baseline, morse, args.metric, higher_is_better=args.higher_is_better,
                     group_by=tuple(args.group_by + args.line_by), baseline_by=tuple(args.group_by), n_boot=args.bootstrap, confidence=args.confidence)
    print(tabulate(format_points(result.points), headers="keys", tablefmt="github", showindex=False, floatfmt=".4g"))
    print()
    print(tabulate(result.summary, headers="keys", tablefmt="github", showindex=False, floatfmt=".3f"))
    made_by = provenance.columns(args, only_experiment(baseline, morse))
    if args.out:
        result.points.assign(**made_by).to_csv(args.out, index=False)
    if args.summary_out:
        pooled_rows = pooled_by_curve(result, args.confidence).assign(pooled=True)
        summary = pd.concat([result.summary.assign(pooled=False), pooled_rows], ignore_index=True)
        summary.assign(**made_by).to_csv(args.summary_out, index=False)
    for line in exceptions(result) + oracle_lines(morse, args.metric, args.higher_is_better):
        print(line)
    print(average_line(result))
    return 0
