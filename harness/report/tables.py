"""The paper's Tables 1, 3, 4, 5, 6 and 7 from our rows, as Markdown and LaTeX (tabulate).

* Tables 1, 3, 4, 6: the metric with methods/variants as rows and latencies (LSD) as columns
  (``metric_table``); Table 1 stacks the guidance-7.5 rows over the best-scale rows (``table1``).
* Table 5: per-step latency of Dash and Dot and N per experiment and device (``latency_table``).
* Table 7: average speedup (Sec. 3.1) per Dot variant (``speedup_table``).

``PAPER_TABLES`` registers each table by its paper name (`harness report --table NAME`): a builder from
:class:`TableInputs` to a DataFrame. A new table is one registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
from tabulate import tabulate

from harness.analysis import curves
from harness.analysis.compare import compare
from harness.errors import HarnessError
from harness.registry import Registry

FORMATS = {"md": "github", "tex": "latex_booktabs"}


def metric_table(rows: pd.DataFrame, metric: str, index: list[str]) -> pd.DataFrame:
    """Mean metric per ``index`` row and latency column ("10 LSD", ...): the requested budget as the paper's
    tables label it (Dots timed apart land at different measured latencies), else the measured latency."""
    column = "requested_lsd" if "requested_lsd" in rows and rows["requested_lsd"].notna().all() else "latency_lsd"
    curves.require(rows, [*index, column, metric], "results")
    table = rows.pivot_table(index=index, columns=column, values=metric, aggfunc="mean")
    table.columns = [f"{c:g} LSD" for c in table.columns]
    return table.reset_index()


def table1(rows: pd.DataFrame, metric: str = "fid", scale: float = 7.5) -> pd.DataFrame:
    """Table 1: the metric at guidance ``scale`` and at the best scale per latency, per method."""
    fixed = curves.where(rows, "guidance_scale", str(scale)).assign(guidance=f"scale {scale:g}")
    best = curves.best_over(rows, "guidance_scale", metric, higher_is_better=False).assign(guidance="best scale")
    return metric_table(pd.concat([fixed, best]), metric, ["method", "guidance"])


def latency_table(latency: pd.DataFrame) -> pd.DataFrame:
    """Table 5: Dash and Dot seconds per step and N, one row per experiment, columns per device."""
    table = latency.pivot_table(index=["experiment", "batch_size"], columns="device",
                                values=["dash_median_s", "dot_median_s", "N"], aggfunc="first")
    table = table.swaplevel(0, 1, axis=1).sort_index(axis=1, level=0, sort_remaining=False)
    order = {"dash_median_s": 0, "dot_median_s": 1, "N": 2}
    table = table[sorted(table.columns, key=lambda c: (c[0], order[c[1]]))]
    table.columns = [f"{device} {name.replace('_median_s', ' (s)')}" for device, name in table.columns]
    return table.reset_index()


def speedup_table(baseline: pd.DataFrame, morse: pd.DataFrame, metric: str, by: str,
                  higher_is_better: bool = False) -> pd.DataFrame:
    """Table 7: the average speedup of each Morse variant (column ``by``) over one baseline."""
    summary = compare(baseline, morse, metric, higher_is_better=higher_is_better, group_by=(by,)).summary
    return summary[[by, "average_speedup", "curve_average_speedup", "upper_bounds", "n_a"]]


def render(table: pd.DataFrame, fmt: str) -> str:
    """Markdown (``md``) or LaTeX (``tex``) text of ``table``; missing cells print as "-"."""
    table = table.astype(object).where(table.notna(), None)
    return tabulate(table, headers="keys", tablefmt=FORMATS[fmt], showindex=False, floatfmt=".3g", missingval="-")


@dataclass(frozen=True)
class TableInputs:
    """What a paper table is built from: one experiment's rows and the report's options."""

    rows: pd.DataFrame
    baseline: pd.DataFrame
    morse: pd.DataFrame
    metric: str
    higher_is_better: bool
    index: tuple[str, ...]  # --table-index: row columns besides `method`; Table 7's variant column
    latency_dir: list[Path]


PAPER_TABLES: Registry[Callable[[TableInputs], pd.DataFrame]] = Registry("paper table")
PAPER_TABLES.register("table1")(lambda i: table1(i.rows, i.metric))
for _name in ("table3", "table4", "table6"):
    PAPER_TABLES.register(_name)(lambda i: metric_table(i.rows, i.metric, ["method", *i.index]))


@PAPER_TABLES.register("table5")
def _table5(inputs: TableInputs) -> pd.DataFrame:
    from harness.latency import results as latency_results  # every experiment and device found, as in the paper

    return latency_table(latency_results.load_all(inputs.latency_dir))


@PAPER_TABLES.register("table7")
def _table7(inputs: TableInputs) -> pd.DataFrame:
    if not inputs.index:
        raise HarnessError("table7 needs --table-index VARIANT_COLUMN (e.g. dot)")
    return speedup_table(inputs.baseline, inputs.morse, inputs.metric, inputs.index[0], inputs.higher_is_better)
