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
from harness.analysis.tuning import CURVE, TRAINED, TUNED
from harness.morse.dot_config import REFERENCE_DOTS
from harness.analysis.speedup import NOT_REACHED, UPPER_BOUND
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


HEADLINE = (TUNED, TRAINED)  # the curve the headline average is of: the tuned ratio where there is one


def headline(result: Comparison, confidence: float = 0.95) -> dict:
    """The average speedup a reader came for, pooled over its curve's points (upper bounds counted as
    their bound, N/A left out), with ``average_is_upper_bound`` and the bootstrap interval when there
    are draws: the tuned curve where there is one, else the trained Dot's points, else every point."""
    table = pooled_by_curve(result, confidence)
    for name in HEADLINE:
        if (table[CURVE] == name).any():
            return table[table[CURVE] == name].iloc[0].to_dict()
    return table.iloc[0].to_dict()


def _average(row: dict) -> str:
    name = f" ({row[CURVE]} Dot)" if row[CURVE] in REFERENCE_DOTS else f" ({row[CURVE]})" if row[CURVE] else ""
    interval = "" if math.isnan(row["ci_low"]) else \
        f" (95% interval {format_speedup(row['ci_low'])}-{format_speedup(row['ci_high'])})"
    return f"average speedup{name}: {format_speedup(row['average_speedup'], row['average_is_upper_bound'])}{interval}"


def average_line(result: Comparison) -> str:
    """One line per curve (trained, tuned, oracle, zero), the headline last."""
    first = headline(result)
    others = [row for row in pooled_by_curve(result).to_dict("records") if row[CURVE] != first[CURVE]]
    return "\n".join(_average(row) for row in [*others, first])


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
