"""The compute a workflow run cost, from the Snakemake ``benchmark:`` files of its jobs.

Every sample, FID, training and latency job writes ``benchmarks/<experiment>/<rule>/<job>.tsv``
(Snakemake's columns: ``s`` wall seconds, ``max_rss`` MB, ``cpu_time`` seconds, ...); ``by_rule``
sums them per rule for the report.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

COLUMNS = {"s": "wall_s", "cpu_time": "cpu_s", "max_rss": "max_rss_mb"}


def load(folder: Path | None) -> pd.DataFrame:
    """One row per benchmarked job under ``folder`` (rule = the first folder below it); empty if none."""
    found = sorted(Path(folder).rglob("*.tsv")) if folder is not None and Path(folder).is_dir() else []
    frames = []
    for path in found:
        table = pd.read_csv(path, sep="\t", na_values=["-", "NA"])
        table = table.rename(columns=COLUMNS).reindex(columns=list(COLUMNS.values()))
        frames.append(table.assign(rule=path.relative_to(folder).parts[0], job=path.stem))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=[*COLUMNS.values(), "rule", "job"])


def by_rule(jobs: pd.DataFrame) -> pd.DataFrame:
    """Per rule: jobs, summed wall and CPU time (hours when large), the longest job and peak memory."""
    table = jobs.groupby("rule", sort=True).agg(jobs=("job", "count"), wall_s=("wall_s", "sum"),
                                               longest_s=("wall_s", "max"), cpu_s=("cpu_s", "sum"),
                                               peak_rss_mb=("max_rss_mb", "max")).reset_index()
    total = pd.DataFrame([{"rule": "all", "jobs": table["jobs"].sum(), "wall_s": table["wall_s"].sum(),
                           "longest_s": table["longest_s"].max(), "cpu_s": table["cpu_s"].sum(),
                           "peak_rss_mb": table["peak_rss_mb"].max()}])
    return pd.concat([table, total], ignore_index=True).rename(
        columns={"wall_s": "wall (s)", "longest_s": "longest job (s)", "cpu_s": "CPU (s)", "peak_rss_mb": "peak RSS (MB)"})
