"""Labelled images for training a class-conditional Dot: one folder per class, as ImageNet is laid out.

``ROOT/<class>/*.png|jpg`` (torchvision's ImageFolder layout): the classes in sorted folder order are
labels 0, 1, ...; for ImageNet's WordNet-id folders (n01440764, ...) that is the standard class index
the ADM checkpoints were trained with. Images are centre-cropped and resized to the Dash's pixel size
(``harness.images.resize_image``), RGB.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from harness.errors import HarnessError
from harness.images import IMAGE_SUFFIXES, resize_image


def load_class_folders(spec: str, size: int) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """uint8 (n, size, size, 3) images, their int64 labels and the class names (label order)."""
    from torchvision.datasets import ImageFolder

    root = Path(spec)
    if not root.is_dir():
        raise HarnessError(f"labelled images {spec} are missing (a folder with one subfolder of images per class)")
    try:
        folder = ImageFolder(str(root), loader=lambda path: path, is_valid_file=_is_image)
    except (FileNotFoundError, RuntimeError) as err:  # no class folders, or a class folder without images
        raise HarnessError(f"labelled images {spec}: {err} (expected ROOT/<class>/*.png|jpg)") from None
    images = np.stack([resize_image(np.asarray(Image.open(path).convert("RGB")), size) for path, _ in folder.samples])
    return images, np.asarray(folder.targets, dtype=np.int64), list(folder.classes)


def _is_image(path: str) -> bool:
    return Path(path).suffix.lower() in IMAGE_SUFFIXES
