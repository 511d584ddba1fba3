"""Per-image seeds (as in NVlabs/edm generate.py): an image depends on its seed only, never on
the batch it was drawn in or the shard layout. Each image owns a torch.Generator that supplies
its initial noise x_T and then every stochastic step's noise, in order."""

from __future__ import annotations

from typing import Sequence

import torch


def make_generators(seeds: Sequence[int], device: str | torch.device = "cpu") -> list[torch.Generator]:
    return [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]


def per_image_randn(shape: Sequence[int], generators: Sequence[torch.Generator], device="cpu", dtype=torch.float32):
    """One standard normal draw of ``shape`` (C, H, W) per image generator, stacked into a batch."""
    return torch.stack([torch.randn(tuple(shape), generator=g, device=device, dtype=dtype) for g in generators])
