"""Helpers for the metrics tests: sample shards and a random-weight DigitsNet file, made on the spot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from harness.metrics.digitsnet import DigitsNet
from harness.shards import Shard, write_shard

META = {
    "experiment": "digits", "method": "baseline", "point": "ddim-10", "sampler": "ddim", "fine_steps": 10,
    "dash_steps": 10, "dot_steps": 0, "guidance_scale": None,
}


def write_shards(directory: Path, images: np.ndarray, seeds: np.ndarray, per_shard: int, meta: dict | None = None):
    """Split images (with their seeds) into shards of ``per_shard`` images; returns the paths."""
    paths = []
    for start in range(0, len(images), per_shard):
        s = slice(start, start + per_shard)
        path = Path(directory) / f"shard-{start:06d}.npz"
        part_seeds = np.asarray(seeds[s], dtype=np.int64)
        seed_range = [int(part_seeds.min()), int(part_seeds.max())]
        write_shard(path, Shard(images[s], part_seeds, {**META, **(meta or {}), "seeds": seed_range}))
        paths.append(path)
    return paths


def random_digitsnet(path: Path, seed: int = 0) -> Path:
    """A DigitsNet with its random initialisation (seeded), saved as safetensors."""
    torch.manual_seed(seed)
    save_file(DigitsNet().state_dict(), str(path))
    return path
