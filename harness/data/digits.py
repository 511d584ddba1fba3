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
    images = torch.from_numpy(raw[_split_mask(len(raw), split)])[:, None]
    if size != 8:
        images = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    images = (images.clamp(0, 1) * 255).round().to(torch.uint8)
    return images.permute(0, 2, 3, 1).numpy()


def _split_mask(count: int, split: str) -> np.ndarray:
    """Which of the `count` images belong to `split` ("train", "heldout" or "all")."""
    index = np.arange(count)
    keep = {"all": index >= 0, "train": index % HELD_OUT_EVERY != 0, "heldout": index % HELD_OUT_EVERY == 0}
    if split not in keep:
        raise ValueError(f"unknown digits split {split!r}; known: {', '.join(keep)}")
    return keep[split]


def load_digits_labels(split: str = "train") -> torch.Tensor:
    """The digit (0-9) of each image of `split`, in the order of `load_digits_uint8`."""
    from sklearn.datasets import load_digits

    target = load_digits().target
    return torch.from_numpy(target[_split_mask(len(target), split)]).long()


def load_digits_tensor(size: int = 16, split: str = "train") -> torch.Tensor:
    """Digits as float32 NCHW in [-1, 1], the range the Dash model is trained on."""
    images = torch.from_numpy(load_digits_uint8(size, split)).permute(0, 3, 1, 2)
    return images.float() / 127.5 - 1.0
