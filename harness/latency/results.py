"""The latency CSVs, ``results/latency_<device>.csv``: one file per device, merged on reading.

One row per (experiment, dash, dot, serves, dtype, batch_size) measured on that device; ``serves`` lists
(";"-separated) the Dots whose Morse rows take its N. Columns are listed
in ``COLUMNS`` and described in docs/analysis.md; ``N`` = ``dash_median_s / dot_median_s``
(the paper's Table 5). A guided step of a Dot that takes w is timed both ways, ``N_one_branch`` and
``N_two_branches``; ``guided_dot_cost`` says which one is ``N``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harness import provenance
from harness.damage import read_csv
from harness.errors import HarnessError
from harness.shards import atomic_write

KEY = ["experiment", "dash", "dot", "serves", "dtype", "batch_size"]
COLUMNS = [
    *KEY,
    "device", "device_kind", "device_name", "driver", "memory_total_mib", "sm_clock_max_mhz",
    "mem_clock_max_mhz", "cpu_model", "cpu_threads", "tf32_matmul", "tf32_cudnn",
    "cudnn_benchmark", "cudnn_deterministic",
    "warmup", "repeats", "guidance_scale", "classifier_scale", "dash_branches", "dot_branches",
    "dash_median_s", "dash_q1_s", "dash_q3_s", "dash_iqr_s",
    "dot_median_s", "dot_q1_s", "dot_q3_s", "dot_iqr_s", "dot_merged_params",
    "N", "dot_two_branches_median_s", "N_one_branch", "N_two_branches", "guided_dot_cost", "pipeline_steps", "pipeline_s_per_image", "pipeline_includes",
    *(c for c in provenance.COLUMNS if c != "device_name"),
]


def path_for(results_dir: Path, device: str) -> Path:
    """Where the rows of one device live."""
    return Path(results_dir) / f"latency_{device}.csv"


def write(row: dict, results_dir: Path) -> Path:
    """Add ``row`` to its device's CSV, replacing an earlier measurement with the same key."""
    path = path_for(results_dir, row["device"])
    new = pd.DataFrame([row], columns=COLUMNS)
    if path.exists():
        old = pd.read_csv(path).reindex(columns=COLUMNS)  # a file from an older version may lack columns
        same = (_key_text(old) == _key_text(new).iloc[0]).all(axis=1)
        new = pd.concat([old[~same], new], ignore_index=True)
    atomic_write(path, lambda f: f.write(new.to_csv(index=False).encode()))
    return path


def _key_text(rows: pd.DataFrame) -> pd.DataFrame:
    """The KEY columns as text, a missing value as "" (so that two missing values are equal)."""
    return rows[KEY].astype(object).where(rows[KEY].notna(), "").astype(str)


def load_all(results_dirs: Path | list[Path]) -> pd.DataFrame:
    """Every device's latency rows in the given folders (an experiment's timings: work/<experiment>/latency/<dot>),
    concatenated."""
    folders = [results_dirs] if isinstance(results_dirs, (str, Path)) else list(results_dirs)
    paths = sorted(path for folder in folders for path in Path(folder).glob("latency_*.csv"))
    if not paths:
        raise HarnessError(f"no latency_<device>.csv under {', '.join(map(str, folders))}; run `python -m harness latency` first")
    return pd.concat([read_csv(p, ("N",)) for p in paths], ignore_index=True)


def lookup_n(table: pd.DataFrame, experiment: str, device: str | None = None, dot: str | None = None) -> tuple[float, str]:
    """N and the device it was measured on for the Morse rows of ``experiment`` run with Dot ``dot`` (a folder,
    or a reference Dot): the row that ``serves`` it where the experiment timed several Dot costs (ADM-G beside
    ADM, Fig. 6; the independent Dot beside the shared one, Table 7), else the experiment's one row.
    Ambiguous or missing rows are errors."""
    rows = table[table["experiment"] == experiment]
    if device is not None:
        rows = rows[rows["device"] == device]
    if dot is not None and "serves" in rows:
        serving = rows[rows["serves"].fillna("").astype(str).str.split(";").map(lambda dots: dot in dots)]
        rows = serving if not serving.empty else rows
    if rows.empty:
        where = f" on device {device!r}" if device else ""
        raise HarnessError(f"no latency row for experiment {experiment!r}{where}; measure it with `harness latency`")
    if len(rows) > 1:
        found = "; ".join(f"{d}: serves {s!r}" for d, s in zip(rows["device"], rows.get("serves", rows["dash"])))
        fix = " choose a device with --device" if rows["device"].nunique() > 1 else " the row serving it is missing"
        raise HarnessError(f"several latency rows for {experiment!r}, Dot {dot!r} ({found}):{fix}")
    row = rows.iloc[0]
    return float(row["N"]), str(row["device"])
