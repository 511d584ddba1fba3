"""Helpers for the metrics tests: sample shards, a random-weight DigitsNet file and a tiny open_clip model."""

from __future__ import annotations

import json
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


TINY_CLIP = "tiny-clip-test"
TINY_CLIP_CONFIG = {
    "embed_dim": 16,
    "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "head_width": 16, "patch_size": 8},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1},
}


def tiny_clip_checkpoint(directory: Path) -> Path:
    """Register the tiny open_clip architecture TINY_CLIP (random weights) and save one instance in ``directory``."""
    import open_clip

    (directory / f"{TINY_CLIP}.json").write_text(json.dumps(TINY_CLIP_CONFIG))
    open_clip.add_model_config(directory / f"{TINY_CLIP}.json")
    torch.manual_seed(0)
    checkpoint = directory / "tiny.pt"
    torch.save(open_clip.create_model(TINY_CLIP).state_dict(), checkpoint)
    return checkpoint
