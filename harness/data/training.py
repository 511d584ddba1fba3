"""Training images for Dot (and the digits Dash) as one float tensor in [-1, 1], NCHW.

Any spec that :func:`harness.images.open_images` reads works (``digits:16:train``,
``cifar10:ROOT:train``, a folder of images). The set is held in memory, which suits the
benchmarks' small-image datasets; latent-space models encode it with their VAE first.

A conditional Dot trains on images with their conditions (``load_conditioned``): the digits with
their labels, a folder per class (``harness.data.labelled``, ImageNet's layout), or caption-image
pairs (``harness.data.captions``: a folder or a webdataset-style tar).
"""

from __future__ import annotations

import torch

from harness.conditions import LABELS, PROMPTS
from harness.errors import HarnessError
from harness.images import open_images


def load_training_tensor(spec: str, limit: int | None = None) -> torch.Tensor:
    images = open_images(spec)
    if limit is not None:
        images = images.first(min(limit, len(images)))
    chunks = [torch.from_numpy(batch).permute(0, 3, 1, 2) for _, batch in images.batches(1024)]
    return torch.cat(chunks).float() / 127.5 - 1.0


def load_conditioned(spec: str, kind: str, pixels: int) -> tuple[torch.Tensor, object]:
    """Images (float, [-1, 1], NCHW) and one condition each, of ``kind`` (labels: an int64 array, prompts: a
    list): ``digits:<size>:<split>`` with their digit labels, or caption-image pairs resized to ``pixels``."""
    if kind == LABELS and spec.startswith("digits:"):
        from harness.data.digits import load_digits_labels

        split = spec.split(":")[2]
        return load_training_tensor(spec), load_digits_labels(split).numpy()
    if kind == LABELS:
        from harness.data.labelled import load_class_folders

        images, labels, _ = load_class_folders(spec, pixels)
        return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0, labels
    if kind == PROMPTS:
        from harness.data.captions import load_captioned

        images, captions = load_captioned(spec, pixels)
        return torch.from_numpy(images).permute(0, 3, 1, 2).float() / 127.5 - 1.0, captions
    raise HarnessError(f"training data {spec!r} carries no {kind}: labelled images are digits:<size>:<split> or a "
                       "folder per class, captioned ones a folder or webdataset-style tar of KEY.jpg + KEY.txt")
