"""The speedup table's rows: reading results CSVs, --where/--best-over selection, and the printed form.

Shared by `harness speedup` and `harness report` (harness/stages/).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from harness.analysis import curves
from harness.analysis.compare import Comparison, pooled_by_curve
from harness.analysis.references import gap_closed, oracle_behind
from harness.analysis.tuning import TRAINED
from harness.analysis.speedup import DEFINED, NOT_REACHED, UPPER_BOUND
from harness.errors import HarnessError


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
        raise HarnessError("rows lack `latency_lsd`; add it with `python -m harness attach-lsd` (N from `harness latency`)")
    if metric not in rows.columns:
        known = ", ".join(c for c in ("fid", "clip_score", "accuracy") if c in rows.columns) or "none"
        raise HarnessError(f"the rows have no column {metric!r} (--metric); metric columns present: {known}")
    for spec in args.where:
        rows = curves.where(rows, *curves.parse_where(spec))
    if args.best_over:
        rows = curves.best_over(rows, args.best_over, metric, higher_is_better)
    return rows


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
    """Per schedule with the reference Dots: the share of the floor-to-ideal gap the trained Dot closes, and
    a warning where the oracle Dot is behind the trained Dot by more than the noise."""
    closed = [f"floor to ideal: at {r['requested_lsd']:g} LSD, ratio {r['requested_ratio']:g} the trained Dot closes "
              f"{r['gap_closed']:.0%} of the way from the zero Dot's {metric} {r['zero']:.4g} to the oracle's {r['oracle']:.4g}"
              f" (trained: {r['trained']:.4g})" for _, r in gap_closed(morse, metric).iterrows()]
    return closed + [f"check: at {r['requested_lsd']:g} LSD, ratio {r['requested_ratio']:g} the oracle Dot's {metric} "
            f"{r[f'oracle_{metric}']:.4g} is behind the trained Dot's {r[f'trained_{metric}']:.4g} by more than "
            f"2 standard errors ({r['standard_error']:.2g}): a bug, or a metric too noisy at this sample count"
            for _, r in oracle_behind(morse, metric, higher_is_better).iterrows()]
