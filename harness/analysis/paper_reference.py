"""The paper's reported numbers (``paper_reference.csv``), for display beside our measurements only.

Transcribed from the paper's Tables 1, 3-7 and the averages quoted in its text (Li, Fan, Yao,
ICML 2025; PMLR 267:34312-34332). Every row carries
``label = "paper (reported)"``; figures and tables must show that label wherever a row is drawn.
Long format: ``ref`` (table1 ... table7, fig4, fig12), ``method`` (baseline|morse), ``variant``,
``metric`` (fid, clip_score, average_speedup, dash_latency_s, dot_latency_s, N, params_m),
``latency_lsd``, ``value``, ``device``, ``note``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness.errors import HarnessError

PATH = Path(__file__).with_name("paper_reference.csv")
LABEL = "paper (reported)"


def load() -> pd.DataFrame:
    """All transcribed rows."""
    return pd.read_csv(PATH, dtype={"variant": str, "device": str, "note": str}, keep_default_na=False,
                       na_values={"latency_lsd": [""], "value": [""]})


def rows(ref: str, metric: str | None = None) -> pd.DataFrame:
    """The rows of one table/figure (``ref``), optionally of one metric; an unknown ref is an error."""
    table = load()
    known = sorted(table["ref"].unique())
    if ref not in known:
        raise HarnessError(f"no paper reference {ref!r}; known: {', '.join(known)}")
    table = table[table["ref"] == ref]
    return table if metric is None else table[table["metric"] == metric]


def curve(ref: str, method: str, variant: str, metric: str) -> pd.DataFrame:
    """One reported latency-metric curve as columns ``latency_lsd`` and ``metric``."""
    table = rows(ref, metric)
    table = table[(table["method"] == method) & (table["variant"] == variant)]
    return table[["latency_lsd", "value"]].rename(columns={"value": metric}).reset_index(drop=True)


def reported_average(ref: str) -> pd.DataFrame:
    """The average speedups the paper quotes for ``ref`` (variant, value), possibly empty."""
    table = rows(ref)
    return table[table["metric"] == "average_speedup"][["variant", "value"]].reset_index(drop=True)
