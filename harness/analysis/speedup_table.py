"""The speedup table's rows: reading results CSVs, --where/--best-over selection, and the printed form.

Shared by `harness speedup` and `harness report` (harness/stages/).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import pandas as pd

from harness.analysis import curves
from harness.analysis.compare import Comparison
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


def overall_average(result: Comparison) -> tuple[float, bool]:
    """Mean of every defined speedup, all groups pooled (upper bounds counted as their bound, N/A
    left out), and whether it is an upper bound."""
    counted = result.points[result.points["status"].isin(DEFINED)]
    value = float(counted["speedup"].mean()) if len(counted) else float("nan")
    return value, bool((counted["status"] == UPPER_BOUND).any())


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
    return f"average speedup: {format_speedup(*overall_average(result))}"
