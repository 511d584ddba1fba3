"""Which rows the speedups are computed on: reading results CSVs, the --where/--best-over selection, and
which points make the headline (Sec. 3.1). Shared by `harness speedup` and `harness report`; their printed
form is harness/report/text.py.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from harness.analysis import curves
from harness.analysis.compare import Comparison, group_keys, pooled, pooled_by_curve
from harness.analysis.tuning import CURVE, TRAINED
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


def summary_table(result: Comparison, ratio: float | None = None, confidence: float = 0.95) -> pd.DataFrame:
    """The groups' averages, each curve's pooled average, then the headline (the paper's protocol, Sec. 3.1);
    columns ``pooled`` and ``headline`` say which row is which."""
    curves_pooled = pooled_by_curve(result, confidence).assign(pooled=True)
    top = pd.DataFrame([headline(result, ratio, confidence)]).assign(pooled=True)
    table = pd.concat([result.summary.assign(pooled=False), curves_pooled, top], ignore_index=True)
    table["headline"] = table.index == len(table) - 1
    return table
