"""Training images for Dot (and the digits Dash) as one float tensor in [-1, 1], NCHW.

Any spec that :func:`harness.images.open_images` reads works (``digits:16:train``,
``cifar10:ROOT:train``, a folder of images). The set is held in memory, which suits the
benchmarks' small-image datasets; latent-space models encode it with their VAE first.
"""

from __future__ import annotations

import torch

from harness.images import open_images


def load_training_tensor(spec: str, limit: int | None = None) -> torch.Tensor:
    images = open_images(spec)
    if limit is not None:
        images = images.first(min(limit, len(images)))
    chunks = [torch.from_numpy(batch).permute(0, 3, 1, 2) for _, batch in images.batches(1024)]
    return torch.cat(chunks).float() / 127.5 - 1.0
