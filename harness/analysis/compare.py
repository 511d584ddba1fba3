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
from typing import Callable

import pandas as pd

from harness.analysis import curves
from harness.analysis.speedup import (COUNTED, NOT_REACHED, UPPER_BOUND, average_speedup, bootstrap_speedups,
                                      curve_average, draw_averages, explain, has_replicates, percentile_interval,
                                      speedups)
from harness.analysis.tuning import CURVE, TRAINED, TUNED
from harness.errors import HarnessError
from harness.morse.dot_config import REFERENCE_DOTS

CURVE_ORDER = (TRAINED, TUNED, *REFERENCE_DOTS)  # the trained Dot (the headline's curve) first
# Columns of a Morse schedule: a baseline row carries its own value (its steps, ratio 0, source `dash`), so a
# baseline matched on one of them is never the one the Morse curve is compared with (Fig. 9, 12, 13: line_by).
MORSE_SCHEDULE = ("fine_steps", "dash_steps", "dot_steps", "trajectory_source", "requested_steps", "requested_lsd",
                  "requested_ratio", "achieved_ratio", "achieved_lsd", "exchanged_ratio", "latency_lsd", CURVE)


@dataclass(frozen=True)
class Comparison:
    """Per-point speedups (``points``) and one summary row per group (``summary``).

    ``points`` names each Morse point (column ``point``, when the rows have one) and says in ``note``
    why a speedup is an upper bound or N/A (both left out of the averages); ``summary`` counts them. With
    bootstrap draws, ``points`` and ``summary`` carry 95% intervals (``ci_low``, ``ci_high``) and
    ``draws`` holds each group's draws (key, array of draws x points) for pooled intervals.
    """

    points: pd.DataFrame
    summary: pd.DataFrame
    draws: tuple = ()


def check_baseline_by(columns, where: str) -> None:
    """Stop on a baseline matched on a Morse schedule's column (``MORSE_SCHEDULE``): one line naming the fix."""
    bad = [c for c in columns if c in MORSE_SCHEDULE]
    if bad:
        raise HarnessError(f"{where}: {', '.join(bad)} describes a Morse schedule (a baseline row carries its own value, "
                           "so no baseline would match the Morse curves): split the curves with line_by (--line-by) instead")


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
    """Speedup of every Morse point over the matching baseline curve, the group averages, and with
    ``n_boot`` bootstrap intervals over the seed-range replicates (points, groups)."""
    curves.require(morse, [*group_by], "Morse results")
    check_baseline_by(group_by if baseline_by is None else baseline_by, "baselines matched on (--group-by)")
    groups = list(morse.groupby(list(group_by), dropna=False, sort=True)) if group_by else [((), morse)]
    plans, base_reps = [], {}
    for values, rows in groups:
        key = dict(zip(group_by, values if isinstance(values, tuple) else (values,)))
        base = _baseline_for(baseline, {c: v for c, v in key.items() if baseline_by is None or c in baseline_by})
        if base.dropna(subset=[metric]).empty:
            raise HarnessError(f"no baseline rows with {metric} for group {key or 'all'}")
        reps = base_reps.setdefault(tuple(base.index), curves.replicates(base, metric))  # shared baselines: one dict
        plans.append((key, base, rows, reps, curves.replicates(rows, metric)))
    pairs = [(reps, morse_reps) for *_, reps, morse_reps in plans]
    draws = bootstrap_speedups(pairs, higher_is_better, n_boot=n_boot) if n_boot and has_replicates(pairs) else None
    point_frames, summaries = [], []
    for g, (key, base, rows, _, _) in enumerate(plans):
        base_curve = curves.curve(base, metric)
        points = speedups(base_curve, curves.curve(rows, metric), higher_is_better)
        point_ci = [percentile_interval(draws[g][:, i], confidence) if draws else (float("nan"),) * 2
                    for i in range(len(points))]
        lo, hi = percentile_interval(draw_averages([draws[g]]), confidence) if draws else (float("nan"),) * 2
        table = pd.DataFrame(
            {
                **{c: v for c, v in key.items()},
                "point": _point_names(rows.dropna(subset=[metric]), [p.latency for p in points]),
                "latency_lsd": [p.latency for p in points],
                f"morse_{metric}": [p.value for p in points],
                "baseline_latency_lsd": [p.baseline_latency for p in points],
                "speedup": [p.speedup for p in points],
                "ci_low": [c[0] for c in point_ci],
                "ci_high": [c[1] for c in point_ci],
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
                "points": len(points),
                "upper_bounds": sum(p.status == UPPER_BOUND for p in points),
                "n_a": sum(p.status == NOT_REACHED for p in points),
            }
        )
    return Comparison(pd.concat(point_frames, ignore_index=True), pd.DataFrame(summaries),
                      tuple((plan[0], draws[g]) for g, plan in enumerate(plans)) if draws else ())


def pooled(result: Comparison, keep: Callable[[dict], bool] = lambda key: True,
           confidence: float = 0.95) -> dict:
    """The mean of every counted speedup of the groups ``keep`` accepts (upper bounds and N/A left out)
    and its bootstrap interval when there are draws."""
    points = result.points
    if len(result.summary):
        keys = result.summary.drop(columns=[c for c in SUMMARY_COLUMNS if c in result.summary.columns])
        kept = [i for i, key in enumerate(keys.to_dict("records")) if keep(key)]
        columns = list(keys.columns)
        mask = pd.Series(False, index=points.index)
        for i in kept:
            match = pd.Series(True, index=points.index)
            for column in columns:
                value = keys.iloc[i][column]
                match &= points[column].isna() if pd.isna(value) else points[column] == value
            mask |= match
        points = points[mask]
    counted = points[points["status"].isin(COUNTED)]
    value = float(counted["speedup"].mean()) if len(counted) else float("nan")
    lo, hi = float("nan"), float("nan")
    if result.draws:
        chosen = [draw for key, draw in result.draws if keep(key)]
        if chosen:
            lo, hi = percentile_interval(draw_averages(chosen), confidence)
    return {"average_speedup": value, "ci_low": lo, "ci_high": hi, "points": len(points)}


SUMMARY_COLUMNS = ("average_speedup", "curve_average_speedup", "ci_low", "ci_high",
                   "points", "upper_bounds", "n_a")


def group_keys(result: Comparison) -> list[dict]:
    """Each group's key (its ``group_by`` values), in group order."""
    return [key for key, _ in result.draws] or result.summary.drop(
        columns=[c for c in SUMMARY_COLUMNS if c in result.summary.columns]).to_dict("records")


def pooled_by_curve(result: Comparison, confidence: float = 0.95) -> pd.DataFrame:
    """One pooled row per Morse curve (column ``curve``: trained first, then tuned and the reference Dots),
    or one row for all groups when the rows name no curve."""
    keys = group_keys(result)
    names = list(dict.fromkeys(key.get(CURVE) for key in keys)) if any(CURVE in key for key in keys) else [None]
    names.sort(key=lambda name: CURVE_ORDER.index(name) if name in CURVE_ORDER else len(CURVE_ORDER))
    rows = []
    for name in names:
        row = pooled(result, (lambda key, name=name: key.get(CURVE) == name) if name else (lambda key: True), confidence)
        rows.append({CURVE: name or "", **row})
    return pd.DataFrame(rows)
