"""The speedup table and its averages as text: speedups written out, the points left out of the averages, the
average per curve with the headline last, and the reference Dots' checks. Printed by `harness speedup`, drawn
on the report's pages."""

from __future__ import annotations

import math

import pandas as pd

from harness.analysis.compare import Comparison, pooled_by_curve
from harness.analysis.references import gap_closed, oracle_behind
from harness.analysis.selection import RATIO, headline
from harness.analysis.speedup import NOT_REACHED, UPPER_BOUND
from harness.analysis.tuning import CURVE, curve_name


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
    for status, what in ((UPPER_BOUND, "upper bound: not bracketed by the baseline, left out of the average"),
                         (NOT_REACHED, "N/A, left out of the average")):
        for _, p in result.points[result.points["status"] == status].iterrows():
            name = p.get("point") or f"Morse at {p['latency_lsd']:.4g} LSD"
            lines.append(f"{name} ({what}): {p['note']}")
    return lines


def headline_name(row: dict) -> str:
    """What the headline average is of, e.g. ``trained Dot, ratio 0.5``."""
    if not row[CURVE]:
        return ""
    return curve_name(row[CURVE]) + ("" if row[RATIO] is None else f", ratio {row[RATIO]:g}")


def _average(row: dict, name: str) -> str:
    interval = "" if math.isnan(row["ci_low"]) else \
        f" (95% interval {format_speedup(row['ci_low'])}-{format_speedup(row['ci_high'])})"
    return f"average speedup{f' ({name})' if name else ''}: " \
           f"{format_speedup(row['average_speedup'])}{interval}"


def average_line(result: Comparison, ratio: float | None = None) -> str:
    """One line per curve (trained at every ratio, tuned, oracle, zero), then the headline (the paper's
    protocol, ``headline``) last; rows that name no curve give the one average."""
    first = headline(result, ratio)
    if not first[CURVE]:
        return _average(first, "")
    rows = [_average(row, curve_name(row[CURVE], headline=True)) for row in pooled_by_curve(result).to_dict("records")]
    return "\n".join([*rows, _average(first, f"headline: {headline_name(first)}")])


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
