"""The speedup table's rows: reading results CSVs, --where/--best-over selection, and the printed form.

Shared by `harness speedup` and `harness report` (harness/stages/).
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.analysis import curves
from harness.analysis.compare import Comparison, group_keys, pooled, pooled_by_curve
from harness.analysis.references import gap_closed, oracle_behind
from harness.analysis.tuning import CURVE, TRAINED, curve_name
from harness.analysis.speedup import NOT_REACHED, UPPER_BOUND
from harness.errors import HarnessError

RATIO = "requested_ratio"  # the Morse column of the exchanged-steps ratio k/n a point asked for


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


def select(rows: pd.DataFrame, *, metric: str, higher_is_better: bool, where: tuple[str, ...] = (),
           best_over: str | None = None) -> pd.DataFrame:
    """The rows kept by the ``where`` filters (``COL=VALUE``), reduced to the best ``metric`` over ``best_over``."""
    if "latency_lsd" not in rows.columns:
        raise HarnessError("rows lack `latency_lsd`; add it with `python -m harness attach-lsd` (N from `harness latency`)")
    if metric not in rows.columns:
        known = ", ".join(c for c in ("fid", "clip_score", "accuracy") if c in rows.columns) or "none"
        raise HarnessError(f"the rows have no column {metric!r} (--metric); metric columns present: {known}")
    for spec in where:
        rows = curves.where(rows, *curves.parse_where(spec))
    if best_over:
        rows = curves.best_over(rows, best_over, metric, higher_is_better)
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
    for status, what in ((UPPER_BOUND, "upper bound: not bracketed by the baseline, left out of the average"),
                         (NOT_REACHED, "N/A, left out of the average")):
        for _, p in result.points[result.points["status"] == status].iterrows():
            name = p.get("point") or f"Morse at {p['latency_lsd']:.4g} LSD"
            lines.append(f"{name} ({what}): {p['note']}")
    return lines


def headline(result: Comparison, ratio: float | None = None, confidence: float = 0.95) -> dict:
    """The paper's protocol (Sec. 3.1): the average speedup of the trained Dot's points at the configured
    exchanged-steps ratio ``ratio`` (every trained point when None), pooled over its groups (upper bounds
    and N/A points left out), with the bootstrap interval when there are draws. Rows that name no curve
    pool every point. The tuned curve and the reference Dots are extras, never the headline."""
    table = pooled_by_curve(result, confidence)
    if not (table[CURVE] == TRAINED).any():
        return {**pooled(result, confidence=confidence), CURVE: "", RATIO: ratio}
    if ratio is not None and not any(RATIO in key for key in group_keys(result)):
        raise HarnessError(f"a headline ratio ({ratio:g}) needs the Morse curves split by {RATIO} "
                           f"(--line-by {RATIO}, config key analysis.line_by)")

    def keep(key: dict) -> bool:
        return key.get(CURVE) == TRAINED and (ratio is None or math.isclose(float(key[RATIO]), ratio))

    row = pooled(result, keep, confidence)
    if not row["points"]:
        raise HarnessError(f"no trained-Dot Morse point at ratio {ratio:g} (the headline ratio, config key "
                           "analysis.headline_ratio)")
    return {**row, CURVE: TRAINED, RATIO: ratio}


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
