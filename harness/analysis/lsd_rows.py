"""`harness attach-lsd`'s work as one call: results rows -> one row per request with its latency in LSD,
``latency_lsd = dash_steps + dot_steps / N`` (Sec. 3.1), N measured by `harness latency` or given."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import pandas as pd

from harness.analysis.budget_checks import latency_warnings
from harness.analysis.curves import attach_latency, expand_shared
from harness.analysis.tuning import label_curves, tuned_rows
from harness.damage import read_csv
from harness.errors import HarnessError
from harness.latency import results as latency_results


def lsd_rows(csv: list[Path], out: Path, *, latency_dirs: list[Path] = (), device: str | None = None,
             n: float | None = None, n_device: str = "given", tuned: Path | None = None) -> pd.DataFrame:
    """The rows of ``csv`` (concatenated), one per request (``expand_shared``), with ``latency_lsd`` and their curve,
    written to ``out``. N is ``n`` for every experiment (recorded as ``n_device``), else the measured N of the
    row's experiment and Dot in ``latency_dirs`` (default: results/), on ``device`` where several measured it.
    With ``tuned`` (`harness tune-ratio`'s choices) the tuned curve's rows are added. Prints the latency warnings."""
    missing = [str(p) for p in csv if not Path(p).exists()]
    if missing:
        raise HarnessError(f"missing results file(s): {', '.join(missing)}")
    rows = expand_shared(pd.concat([read_csv(p, ("method",)) for p in csv], ignore_index=True))
    if n is not None:
        table = attach_latency(rows, lambda experiment, dot: (n, n_device))
    else:
        measured = functools.cache(lambda: latency_results.load_all(list(latency_dirs) or [Path("results")]))  # if needed
        table = attach_latency(rows, lambda experiment, dot: latency_results.lookup_n(measured(), experiment, device, dot))
    table = label_curves(table)
    for line in latency_warnings(table):
        print(line, file=sys.stderr)
    if tuned:
        table = pd.concat([table, tuned_rows(table, pd.read_csv(tuned))], ignore_index=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    print(f"{len(table)} rows with latency_lsd -> {out}")
    return table
