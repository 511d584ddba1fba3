"""Latency-metric curves from results rows: LSD cost, filters and reductions before Sec. 3.1's math.

* ``expand_shared``: one row per request. The workflow samples a schedule that several requests
  resolve to once (harness/morse/budget.py); its row lists the others in ``also_serves``, and each
  becomes a row of its own (its point name, method, requested LSD and ratio; ``sampled_as`` names
  the point whose shards were evaluated).
* ``attach_latency``: ``latency_lsd = dash_steps + dot_steps / N`` (Sec. 3.1, "LSD"), with N the
  measured Dash/Dot per-step latency ratio of the row's experiment (Table 5).
  Also ``exchanged_ratio`` = (dot_steps / N) / latency_lsd, the achieved share of the latency spent
  on Dot (the paper's k / n, Appendix "Effect of Exchanged Steps Ratio", Fig. 13), rounded to 0.01.
  Curves of Fig. 13 are drawn per *requested* ratio (``requested_ratio``), so a request keeps its
  line whatever schedule it resolved to.
* ``where``: keep rows whose column equals a value (e.g. ``guidance_scale=7.5``, Table 1 row 1).
* ``best_over``: for each latency, the best metric over a column's values (Table 1's "best scale":
  the best FID over guidance scales, Sec. 4.2), one value chosen on the replicates' mean.
* ``replicates``: metric values grouped by latency, for the bootstrap.
"""

from __future__ import annotations

import json
from typing import Callable

import numpy as np
import pandas as pd

from harness.analysis.speedup import Curve, make_curve
from harness.errors import HarnessError
from harness.metrics.rows import SHARED



def require(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    """Fail with the missing column names."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise HarnessError(f"{what} lacks column(s) {', '.join(missing)}; has {', '.join(frame.columns)}")


def expand_shared(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per request: rows whose schedule also answers other requests (``also_serves``, JSON)
    are repeated once for each, with that request's own identity; ``sampled_as`` names the sampled point."""
    if SHARED not in rows.columns:
        return rows
    records = []
    for row in rows.to_dict("records"):
        shared = json.loads(row.pop(SHARED) or "[]") if isinstance(row.get(SHARED), str) else []
        row["sampled_as"] = row.get("point")
        records += [row] + [{**row, **request} for request in shared]
    return pd.DataFrame.from_records(records)


def attach_latency(rows: pd.DataFrame, n_for: Callable[[str, str | None], tuple[float, str]]) -> pd.DataFrame:
    """Add ``N``, ``N_device``, ``latency_lsd`` and ``exchanged_ratio``; ``n_for(experiment, dot)`` gives (N, device)
    for the Morse rows of one experiment run with one Dot (their ``dot`` column; None where it is absent).

    Rows without Dot steps (baselines) cost ``dash_steps`` LSD whatever N is: they get no N.
    """
    require(rows, ["experiment", "dash_steps", "dot_steps"], "results")
    out = rows.copy()
    dot_steps = out["dot_steps"].fillna(0).astype(float)
    dots = out["dot"] if "dot" in out else pd.Series(np.nan, index=out.index)
    out["N"], out["N_device"] = np.nan, None
    for experiment, dot in dict.fromkeys(zip(out.loc[dot_steps > 0, "experiment"], dots[dot_steps > 0])):
        missing = pd.isna(dot)
        n, device = n_for(experiment, None if missing else str(dot))
        if not n > 0:
            raise HarnessError(f"N for {experiment!r}, Dot {dot!r} must be positive, got {n}")
        mask = (dot_steps > 0) & (out["experiment"] == experiment) & (dots.isna() if missing else dots == dot)
        out.loc[mask, "N"], out.loc[mask, "N_device"] = n, device
    dot_lsd = np.where(dot_steps > 0, dot_steps / out["N"], 0.0)
    out["latency_lsd"] = out["dash_steps"].astype(float) + dot_lsd
    out["exchanged_ratio"] = np.round(dot_lsd / out["latency_lsd"], 2)
    return out


def parse_where(spec: str) -> tuple[str, str]:
    """``COLUMN=VALUE`` -> (column, value)."""
    column, sep, value = spec.partition("=")
    if not sep or not column:
        raise HarnessError(f"--where takes COLUMN=VALUE, got {spec!r}")
    return column, value


def where(rows: pd.DataFrame, column: str, value: str) -> pd.DataFrame:
    """Rows whose ``column`` equals ``value`` (compared as numbers when both parse as numbers)."""
    require(rows, [column], "results")
    numeric = pd.to_numeric(rows[column], errors="coerce")
    try:
        mask = np.isclose(numeric, float(value))
    except ValueError:
        mask = rows[column].astype(str) == value
    return rows[mask]


# the columns that tell curves apart: best_over chooses within one of each
IDENTITY = ("method", "experiment", "sampler", "dash", "dot", "curve", "trajectory_source", "requested_ratio")


def best_over(rows: pd.DataFrame, column: str, metric: str, higher_is_better: bool) -> pd.DataFrame:
    """Per latency and curve (the ``IDENTITY`` columns), the rows of the ``column`` value (e.g. the guidance
    scale) whose metric is best on average over the seed-range replicates (ties: the smallest value): one
    choice per latency, so the minimum of noisy replicates is not taken replicate by replicate (which would
    flatter every curve)."""
    require(rows, [column, metric, "latency_lsd"], "results")
    keys = ["latency_lsd"] + [c for c in IDENTITY if c in rows.columns]
    rows = rows.dropna(subset=[metric])
    mean = rows.groupby(keys + [column], dropna=False)[metric].transform("mean")
    best = mean.groupby([rows[k] for k in keys], dropna=False).transform("max" if higher_is_better else "min")
    candidates = rows[mean == best]
    first = candidates[column].groupby([candidates[k] for k in keys], dropna=False).transform("min")
    return candidates[candidates[column] == first].sort_values("latency_lsd", kind="stable")


def curve(rows: pd.DataFrame, metric: str) -> Curve:
    """The latency-metric curve of ``rows`` (replicates at one latency averaged)."""
    require(rows, ["latency_lsd", metric], "results")
    rows = rows.dropna(subset=[metric])
    if rows.empty:
        raise HarnessError(f"no rows with a {metric} value")
    return make_curve(rows["latency_lsd"], rows[metric])


def replicates(rows: pd.DataFrame, metric: str) -> dict[float, np.ndarray]:
    """Metric values per latency, one per seed-range replicate row, in seed order: the bootstrap resamples
    them by position, so every stage that reads the same rows draws the same interval."""
    rows = rows.dropna(subset=[metric])
    if "seeds" in rows:
        rows = rows.iloc[np.argsort(rows["seeds"].map(_first_seed).to_numpy(), kind="stable")]
    return {float(l): g[metric].to_numpy(float) for l, g in rows.groupby("latency_lsd")}


def _first_seed(seeds) -> int:
    """``"300-599"`` -> 300 (a replicate's seed range, as shards record it)."""
    return int(str(seeds).split("-")[0])
