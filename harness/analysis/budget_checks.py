"""Warnings on a run's measured N (Sec. 3.1): a Dot no faster than its Dash, an N far from the one the
points were planned with, and Morse points whose measured latency lands far from their LSD budget.

A Morse point's schedule is fixed at plan time with the config's N (harness/morse/budget.py); its latency
is dash_steps + dot_steps / N with the N measured on this device. When the two N differ, the points land
elsewhere than asked (planned with 2.0, measured 0.79: "3 LSD" costs 4.5), and the fix is to plan with
the measured N. These are warnings, not errors: the speedups at equal metric stay correct, measured at
the latencies the points did reach.
"""

from __future__ import annotations

import math

import pandas as pd

N_FACTOR = 1.5  # a measured N this factor or more from the planning N
BUDGET_TOLERANCE = 0.25  # a point costing this share more or less than its budget


def latency_warnings(rows: pd.DataFrame) -> list[str]:
    """One ``warning: ...`` line per problem found in rows carrying ``latency_lsd`` and the measured ``N``."""
    needed = {"experiment", "method", "point", "N", "N_device", "dot", "dash_steps", "dot_steps", "achieved_lsd",
              "requested_lsd", "requested_ratio", "latency_lsd"}
    if not needed <= set(rows.columns):  # rows of another origin (tests, hand-made): nothing to compare
        return []
    morse = rows[(rows["method"] == "morse") & rows["N"].notna() & (rows["dot_steps"] > 0)]
    found = []
    for (experiment, device, n), group in morse.groupby(["experiment", "N_device", "N"], sort=True):
        dots = ", ".join(sorted(group["dot"].astype(str).unique()))
        if n <= 1:
            found.append(f"warning: experiment {experiment}: measured N = {n:.2f} on {device} (Dots {dots}): a Dot step "
                         "costs as much as a Dash step or more, so Morse cannot save time; make the Dot smaller "
                         "(dots.<name>.m up, dots.<name>.channels down)")
        planned = (group["dot_steps"] / (group["achieved_lsd"] - group["dash_steps"])).dropna()
        planned = sorted({round(float(p), 3) for p in planned if math.isfinite(p) and p > 0})
        far = [p for p in planned if max(p / n, n / p) >= N_FACTOR]
        if far:
            found.append(f"warning: experiment {experiment}: the points were planned with N = "
                         f"{', '.join(f'{p:g}' for p in far)} but N = {n:.2f} was measured on {device}: set `N: {n:.2f}` "
                         "in the series' `morse` entries so the points land on their budgets")
    budgets = morse[morse["requested_lsd"].notna() & morse["requested_ratio"].notna()]
    for experiment, group in budgets.drop_duplicates(["experiment", "point"]).groupby("experiment", sort=True):
        off = [f"{row.point} {row.requested_lsd:g} -> {row.latency_lsd:.2f}" for row in group.itertuples()
               if abs(row.latency_lsd / row.requested_lsd - 1) > BUDGET_TOLERANCE]
        if off:
            found.append(f"warning: experiment {experiment}: {len(off)} Morse point(s) cost more than "
                         f"{BUDGET_TOLERANCE:.0%} off their LSD budget under the measured N: {'; '.join(off)}")
    return found
