"""The reference Dots as a check on the trained one: the oracle (Dash at every point) bounds what any Dot
can reach at a schedule, so a trained Dot that beats it by more than the metric's noise points at a
bug (or at a metric too noisy at this sample count) rather than at a good Dot.

Noise: the replicates (disjoint seed ranges) of each point give a standard error of its mean metric;
the oracle is "worse" only when its mean is behind the trained Dot's by more than ``sigmas`` standard
errors of the difference. A point with one replicate has no noise estimate and is not judged.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.analysis.tuning import CURVE, TRAINED, label_curves
from harness.morse.dot_config import ORACLE, ZERO

SCHEDULE = ("requested_lsd", "requested_ratio", "fine_steps", "dash_steps")


def oracle_behind(rows: pd.DataFrame, metric: str, higher_is_better: bool = False, sigmas: float = 2.0) -> pd.DataFrame:
    """One row per schedule where the oracle Dot's mean metric is behind the trained Dot's by more than
    ``sigmas`` standard errors (columns: the schedule, both means, the gap and its standard error)."""
    keys = [c for c in SCHEDULE if c in rows.columns]
    if not keys or metric not in rows.columns or not {"method", "dot"} <= set(rows.columns):
        return pd.DataFrame()  # rows that cannot hold reference Dots
    rows = label_curves(rows) if CURVE not in rows.columns else rows
    stats = (rows[rows[CURVE].isin([ORACLE, TRAINED])].dropna(subset=[metric])
             .groupby(keys + [CURVE])[metric].agg(["mean", "std", "count"]).reset_index())
    found = []
    for schedule, group in stats.groupby(keys):
        by = group.set_index(CURVE)
        if not {ORACLE, TRAINED} <= set(by.index) or (by["count"] < 2).any():
            continue
        sign = -1.0 if higher_is_better else 1.0  # positive gap: the oracle is behind
        gap = sign * (by.loc[ORACLE, "mean"] - by.loc[TRAINED, "mean"])
        error = float(np.sqrt(sum(by.loc[c, "std"] ** 2 / by.loc[c, "count"] for c in (ORACLE, TRAINED))))
        if gap > sigmas * error:
            found.append({**dict(zip(keys, schedule)), f"oracle_{metric}": by.loc[ORACLE, "mean"],
                          f"trained_{metric}": by.loc[TRAINED, "mean"], "gap": gap, "standard_error": error})
    return pd.DataFrame(found)


def gap_closed(rows: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Per schedule with all three curves: how much of the way from the floor (zero Dot) to the ideal
    (oracle Dot) the trained Dot goes, on the mean metric: (zero - trained) / (zero - oracle); 1 is the
    ideal, 0 no better than reusing z_ts, below 0 worse."""
    keys = [c for c in SCHEDULE if c in rows.columns]
    if not keys or metric not in rows.columns or not {"method", "dot"} <= set(rows.columns):
        return pd.DataFrame()  # rows that cannot hold reference Dots
    rows = label_curves(rows) if CURVE not in rows.columns else rows
    means = rows[rows[CURVE].isin([ORACLE, TRAINED, ZERO])].dropna(subset=[metric]).pivot_table(
        index=keys, columns=CURVE, values=metric, aggfunc="mean")
    if not {ORACLE, TRAINED, ZERO} <= set(means.columns):
        return pd.DataFrame()
    means = means.dropna(subset=[ORACLE, TRAINED, ZERO])
    closed = (means[ZERO] - means[TRAINED]) / (means[ZERO] - means[ORACLE])
    return means.assign(gap_closed=closed).reset_index()
