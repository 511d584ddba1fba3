"""scikit-learn's bundled handwritten digits (1,797 real 8x8 scans), the embedded default dataset.

The images ship inside scikit-learn, so nothing is downloaded. They are upsampled to 16x16 or
32x32 (bilinear) and split deterministically into a training and a held-out part.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

HELD_OUT_EVERY = 10  # every 10th image is held out (180 images), the rest (1,617) train


def load_digits_uint8(size: int = 16, split: str = "all") -> np.ndarray:
    """Digits as uint8 images of shape (n, size, size, 1); split is "train", "heldout" or "all"."""
    from sklearn.datasets import load_digits

    if size % 8 != 0:
        raise ValueError(f"digits size must be a multiple of 8, got {size}")
    raw = load_digits().images.astype(np.float32) / 16.0  # (1797, 8, 8) in [0, 1]
    index = np.arange(len(raw))
    keep = {
        "all": np.ones(len(raw), dtype=bool),
        "train": index % HELD_OUT_EVERY != 0,
        "heldout": index % HELD_OUT_EVERY == 0,
    }
    if split not in keep:
        raise ValueError(f"unknown digits split {split!r}; known: {', '.join(keep)}")
    images = torch.from_numpy(raw[keep[split]])[:, None]
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).numpy()


def load_digits_tensor(size: int = 16, split: str = "train") -> torch.Tensor:
    """Digits as float32 NCHW in [-1, 1], the range the Dash model is trained on."""
    images = torch.from_numpy(load_digits_uint8(size, split)).permute(0, 3, 1, 2)
    return images.float() / 127.5 - 1.0
