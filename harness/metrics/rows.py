"""Results rows (docs/CONTRACTS.md): identity columns from the shard meta, one row per CSV file."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np

from harness.shards import atomic_write

IDENTITY_COLUMNS = (
    "experiment", "method", "point", "sampler", "grid_name", "fine_steps", "dash_steps", "dot_steps",
    "guidance_scale", "dash", "dot", "trajectory_source",
    "requested_steps", "requested_lsd", "requested_ratio", "achieved_ratio",
)
SHARED = "also_serves"  # the other requests the shard's schedule answers; `harness attach-lsd` gives each a row


def identity_columns(meta: dict, seeds: np.ndarray) -> dict:
    """The contract's identity columns plus ``num_samples`` and the seed range evaluated."""
    row = {column: meta.get(column, "") for column in IDENTITY_COLUMNS}
    row["achieved_lsd"] = meta.get("lsd_cost", "")  # the schedule's cost under the planning N
    row[SHARED] = json.dumps(meta.get(SHARED) or [])
    row["num_samples"] = len(seeds)
    row["seeds"] = f"{int(seeds.min())}-{int(seeds.max())}"
    return row


def sample_meta(samples) -> dict:
    """The shard meta of a sample set (``harness.images.ImageSet``; empty for sets that are not shards)."""
    from harness.images import ShardImages  # torch; the analysis stages import this module without it

    return samples.meta() if isinstance(samples, ShardImages) else {}


def write_row(path: Path, row: dict) -> None:
    """Write a one-row CSV atomically (header + values, columns in the row's order)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    atomic_write(Path(path), lambda f: f.write(buffer.getvalue().encode()))
