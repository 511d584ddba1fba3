"""Caption-image pairs for training a text-conditioned Dot, as LAION subsets are shipped.

Two layouts: a folder holding ``KEY.jpg|jpeg|png`` beside ``KEY.txt`` (searched recursively), or a
webdataset-style ``.tar`` whose members ``KEY.jpg|png`` and ``KEY.txt`` share a key (the member
path up to its first dot, as webdataset groups them). Pairs come in sorted key order; images are
centre-cropped and resized to the Dash's pixel size (``harness.images.resize_image``), RGB.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image

from harness.errors import HarnessError
from harness.images import IMAGE_SUFFIXES, resize_image

CAPTION_SUFFIX = ".txt"


def _rgb(data: bytes, size: int) -> np.ndarray:
    return resize_image(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")), size)


def _folder_pairs(root: Path) -> dict[str, dict[str, bytes]]:
    pairs: dict[str, dict[str, bytes]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES + (CAPTION_SUFFIX,):
            kind = "caption" if path.suffix.lower() == CAPTION_SUFFIX else "image"
            pairs.setdefault(str(path.relative_to(root).with_suffix("")), {})[kind] = path.read_bytes()
    return pairs


def _tar_pairs(path: Path) -> dict[str, dict[str, bytes]]:
    pairs: dict[str, dict[str, bytes]] = {}
    with tarfile.open(path) as tar:
        for member in tar.getmembers():
            name = Path(member.name)
            suffix = "".join(name.suffixes).lower()
            if not member.isfile() or suffix not in IMAGE_SUFFIXES + (CAPTION_SUFFIX,):
                continue
            kind = "caption" if suffix == CAPTION_SUFFIX else "image"
            key = str(name.parent / name.name.split(".", 1)[0])
            pairs.setdefault(key, {})[kind] = tar.extractfile(member).read()
    return pairs


def load_captioned(spec: str, size: int) -> tuple[np.ndarray, list[str]]:
    """uint8 (n, size, size, 3) images and their captions from a folder or a webdataset-style tar."""
    path = Path(spec)
    if not path.exists():
        raise HarnessError(f"caption-image data {spec} is missing (a folder of KEY.jpg + KEY.txt, or a .tar of them)")
    pairs = _tar_pairs(path) if path.is_file() and tarfile.is_tarfile(path) else _folder_pairs(path)
    complete = {key: pair for key, pair in sorted(pairs.items()) if {"image", "caption"} <= set(pair)}
    if not complete:
        raise HarnessError(f"no caption-image pairs (KEY.jpg|png beside KEY.txt) in {spec}")
    images = np.stack([_rgb(pair["image"], size) for pair in complete.values()])
    captions = [" ".join(pair["caption"].decode().split()) for pair in complete.values()]
    return images, captions
