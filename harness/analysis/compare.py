"""Baseline vs Morse rows -> speedup tables and averages, per group of Morse curves (Sec. 3.1).

A figure such as Fig. 4 holds one comparison per sampler; Fig. 13 one per exchanged-steps ratio
against a single baseline. ``compare`` therefore splits the Morse rows by the ``group_by`` columns
and matches each group with the baseline rows that agree on those of its columns that are also in
``baseline_by`` (default: all of them); a column the baseline lacks (or leaves empty) does not
restrict it. Columns that only describe Morse (exchanged ratio, trajectory source) belong in
``group_by`` but not in ``baseline_by``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harness.analysis import curves
from harness.analysis.speedup import (NOT_REACHED, UPPER_BOUND, average_speedup, bootstrap_average, curve_average,
                                      explain, is_upper_bound, speedups)
from harness.errors import HarnessError


@dataclass(frozen=True)
class Comparison:
    """Per-point speedups (``points``) and one summary row per group (``summary``).

    ``points`` names each Morse point (column ``point``, when the rows have one) and says in ``note``
    why a speedup is an upper bound or N/A; ``summary`` flags averages that are upper bounds.
    """

    points: pd.DataFrame
    summary: pd.DataFrame


def _baseline_for(baseline: pd.DataFrame, key: dict) -> pd.DataFrame:
    for column, value in key.items():
        if column in baseline.columns and baseline[column].notna().any():
            baseline = baseline[baseline[column].astype(str) == str(value)]
    return baseline


def _point_names(rows: pd.DataFrame, latencies: list[float]) -> list[str]:
    """The point names of the rows at each latency (several when seed-range repeats or requests share it)."""
    if "point" not in rows.columns:
        return [""] * len(latencies)
    names = rows.groupby("latency_lsd")["point"].agg(lambda s: "+".join(sorted(set(map(str, s)))))
    return [names.get(l, "") for l in latencies]


def compare(
    baseline: pd.DataFrame,
    morse: pd.DataFrame,
    metric: str,
    *,
    higher_is_better: bool = False,
    group_by: tuple[str, ...] = (),
    baseline_by: tuple[str, ...] | None = None,
    n_boot: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Speedup of every Morse point over the matching baseline curve, and the group averages."""
    curves.require(morse, [*group_by], "Morse results")
    point_frames, summaries = [], []
    groups = morse.groupby(list(group_by), dropna=False, sort=True) if group_by else [((), morse)]
    for values, rows in groups:
        key = dict(zip(group_by, values if isinstance(values, tuple) else (values,)))
        base = _baseline_for(baseline, {c: v for c, v in key.items() if baseline_by is None or c in baseline_by})
        if base.dropna(subset=[metric]).empty:
            raise HarnessError(f"no baseline rows with {metric} for group {key or 'all'}")
        base_curve = curves.curve(base, metric)
        points = speedups(base_curve, curves.curve(rows, metric), higher_is_better)
        lo, hi = (
            bootstrap_average(curves.replicates(base, metric), curves.replicates(rows, metric), higher_is_better,
                              n_boot=n_boot, confidence=confidence)
            if n_boot else (float("nan"), float("nan"))
        )
        table = pd.DataFrame(
            {
                **{c: v for c, v in key.items()},
                "point": _point_names(rows.dropna(subset=[metric]), [p.latency for p in points]),
                "latency_lsd": [p.latency for p in points],
                f"morse_{metric}": [p.value for p in points],
                "baseline_latency_lsd": [p.baseline_latency for p in points],
                "speedup": [p.speedup for p in points],
                "status": [p.status for p in points],
                "note": [explain(p, base_curve, higher_is_better) for p in points],
            }
        )
        point_frames.append(table)
        summaries.append(
            {
                **key,
                "average_speedup": average_speedup(points),
                "curve_average_speedup": curve_average(points),
                "ci_low": lo,
                "ci_high": hi,
                "average_is_upper_bound": is_upper_bound(points),
                "points": len(points),
                "upper_bounds": sum(p.status == UPPER_BOUND for p in points),
                "n_a": sum(p.status == NOT_REACHED for p in points),
            }
        )
    return Comparison(pd.concat(point_frames, ignore_index=True), pd.DataFrame(summaries))
