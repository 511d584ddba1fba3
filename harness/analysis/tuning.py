"""Beyond the paper: the exchanged-steps ratio k/n chosen per LSD budget on pilot seeds (the tuned series).

Fig. 13 shows that the best ratio depends on the budget. ``choose_ratios`` picks, for every requested
LSD, the ratio whose trained-Dot Morse point has the best metric on the pilot seed range (disjoint from
every evaluation replicate, harness/experiments/model.py ``Samples.seed_range``), and ``tuned_rows``
builds the "tuned" curve from the evaluation rows of the chosen points: the choice never sees the
seeds it is judged on.

Every results row also names the curve it belongs to (column ``curve``): ``baseline``, ``trained``
(Morse with a trained Dot), the reference Dots ``oracle`` (Dash at every point: the ideal Dot) and
``zero`` (z_ts reused: the floor), and ``tuned``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from harness.analysis.curves import expand_shared, require
from harness.errors import HarnessError
from harness.shards import atomic_write
from harness.morse.dot_config import REFERENCE_DOTS

CURVE = "curve"
BASELINE, TRAINED, TUNED = "baseline", "trained", "tuned"
TUNED_RATIO = "tuned_ratio"  # the ratio a tuned row was chosen with (its requested_ratio is left empty)
# how the `curve` values are named: (in a legend, in an average's line); any other value is "<value> Dot"
CURVE_NAMES = {TUNED: ("trained Dot, tuned ratio", "tuned, an extra: trained Dot, ratio per budget chosen on the pilot seeds"),
               TRAINED: ("trained Dot", "trained Dot, every ratio")}
# what a choice is made within: one budget of one sampler, grid, trajectory source, guidance scale and Dot
BUDGET = ("experiment", "sampler", "grid_name", "trajectory_source", "guidance_scale", "dot", "requested_lsd")


def curve_name(value: str, headline: bool = False) -> str:
    """The name of a `curve` value in a legend, or (``headline``) beside its average."""
    return CURVE_NAMES.get(value, (f"{value} Dot",) * 2)[headline]


def label_curves(rows: pd.DataFrame) -> pd.DataFrame:
    """Add ``curve``: baseline, a reference Dot's name, or trained."""
    require(rows, ["method"], "results")
    dot = rows["dot"].astype(str) if "dot" in rows.columns else pd.Series("", index=rows.index)
    curve = np.where(rows["method"] == "baseline", BASELINE, np.where(dot.isin(REFERENCE_DOTS), dot, TRAINED))
    return rows.assign(**{CURVE: curve})


def _budgets(rows: pd.DataFrame) -> list[str]:
    return [c for c in BUDGET if c in rows.columns]


def choose_ratios(pilot: pd.DataFrame, metric: str, higher_is_better: bool = False,
                  best_over: str | None = None) -> pd.DataFrame:
    """Per budget, the requested ratio with the best pilot metric (a tie: the smaller ratio). One row per
    budget: its identity, ``requested_ratio``, ``pilot_<metric>`` and the pilot ``seeds``. With ``best_over``
    (the guidance scale, Table 1's scheme), that column is chosen with the ratio: one (ratio, scale) per budget."""
    require(pilot, ["requested_lsd", "requested_ratio", metric, "seeds"] + ([best_over] if best_over else []), "pilot rows")
    trained = label_curves(pilot)
    trained = trained[(trained[CURVE] == TRAINED) & trained["requested_ratio"].notna() & trained[metric].notna()]
    if trained.empty:
        raise HarnessError(f"no trained-Dot Morse pilot rows with a {metric} value and a requested ratio")
    within = [c for c in _budgets(trained) if c != best_over]
    ordered = trained.sort_values([metric, "requested_ratio"] + ([best_over] if best_over else []),
                                  ascending=[not higher_is_better, True] + ([True] if best_over else []), kind="stable")
    best = ordered.groupby(within, dropna=False, sort=True).head(1)
    keep = _budgets(trained) + ["requested_ratio", metric, "seeds"]
    return best[keep].rename(columns={metric: f"pilot_{metric}", "seeds": "pilot_seeds"}).reset_index(drop=True)


def tune_ratios(pilot_csv: list[Path], out: Path, *, metric: str, higher_is_better: bool = False,
                best_over: str | None = None) -> pd.DataFrame:
    """`harness tune-ratio`: ``choose_ratios`` over the pilot rows of ``pilot_csv`` (one row per request), written to
    ``out`` and printed."""
    missing = [str(p) for p in pilot_csv if not Path(p).exists()]
    if missing:
        raise HarnessError(f"missing pilot rows: {', '.join(missing)}")
    pilot = expand_shared(pd.concat([pd.read_csv(p) for p in pilot_csv], ignore_index=True))
    choices = choose_ratios(pilot, metric, higher_is_better, best_over)
    atomic_write(out, lambda f: f.write(choices.to_csv(index=False).encode()))
    print(tabulate(choices, headers="keys", tablefmt="github", showindex=False, floatfmt=".4g"))
    return choices


def tuned_rows(rows: pd.DataFrame, choices: pd.DataFrame) -> pd.DataFrame:
    """The evaluation rows of the chosen points, as the ``tuned`` curve (every replicate of each)."""
    rows = label_curves(rows) if CURVE not in rows.columns else rows
    keys = [c for c in _budgets(choices) if c in rows.columns] + ["requested_ratio"]
    if "pilot_seeds" in choices.columns and "seeds" in rows.columns:
        overlap = _seed_sets(choices["pilot_seeds"]) & _seed_sets(rows.loc[rows[CURVE] == TRAINED, "seeds"])
        if overlap:
            raise HarnessError(f"the pilot seeds overlap the evaluation seeds ({len(overlap)} shared): "
                               "the tuned ratio would be judged on the seeds it was chosen with")
    trained = rows[rows[CURVE] == TRAINED]
    chosen = trained[_identity(trained, keys).isin(set(_identity(choices, keys)))]
    return chosen.assign(**{CURVE: TUNED, TUNED_RATIO: chosen["requested_ratio"], "requested_ratio": np.nan})


def _identity(frame: pd.DataFrame, keys: list[str]) -> pd.Series:
    """Each row's values of ``keys`` as one string (numbers as %g, NaN as "nan"), to match rows across files."""
    text = lambda v: f"{float(v):g}" if isinstance(v, (int, float, np.number)) else str(v)  # noqa: E731
    return frame[keys].apply(lambda column: column.map(text)).agg("|".join, axis=1)


def _seed_sets(ranges: pd.Series) -> set[int]:
    seeds: set[int] = set()
    for text in ranges.dropna().astype(str).unique():
        low, _, high = text.partition("-")
        seeds.update(range(int(low), int(high or low) + 1))
    return seeds
