"""The one image loader behind the metrics: generated shards and reference datasets alike.

An image set is named by a spec:

- ``<scheme>:...`` for a dataset registered in ``DATASETS`` (a new dataset is one registration):
  ``digits:<size>:<split>``, scikit-learn's digits via :mod:`harness.data.digits`;
  ``cifar10:<root>:<train|test>``, torchvision's CIFAR-10 already present under ``root``;
- a directory of sample shards (``*.npz``, see :mod:`harness.shards`), one shard, or a list of shards;
- a directory of PNG/JPG files (searched recursively, in sorted path order).

A registered dataset (:mod:`harness.external`) that is missing is an error saying how to supply it.

Every set yields ``(ids, images)`` batches, ``images`` uint8 (n, H, W, C), in a fixed order: for
shards (``ids`` are the seeds) shard by shard, by smallest seed, seed order within; index order
otherwise. Shards are read one at a time, so memory does not grow with the number of images.
:meth:`ImageSet.first` keeps the first ``n`` (the ``n`` smallest seeds for shards), refusing when
there are fewer (the deterministic subset of NVlabs/edm's fid.py).
Resizing (text-to-image outputs to 256x256 as the paper does) crops non-square images to their
centre square, then resizes with PIL bicubic; :func:`resize_label` names it so rows record it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np
import torch
from PIL import Image

from harness import external, provenance
from harness.errors import HarnessError
from harness.registry import Registry
from harness.shards import open_shard

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
RESIZE_METHOD = "square-crop+pil-bicubic"


def resize_label(size: int | None) -> str:
    """How :meth:`ImageSet.batches` resizes: ``none`` or e.g. ``square-crop+pil-bicubic-256``."""
    return "none" if size is None else f"{RESIZE_METHOD}-{size}"


def to_pil(image: np.ndarray) -> Image.Image:
    """One uint8 (H, W, C) image as PIL ("L" for one channel, "RGB" for three)."""
    return Image.fromarray(image.squeeze(-1) if image.shape[-1] == 1 else image)


def resize_image(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 (H, W, C) -> (size, size, C): centre square crop (a no-op for square images), PIL bicubic."""
    height, width = image.shape[:2]
    if (height, width) == (size, size):
        return image
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    pil = to_pil(image).crop((left, top, left + side, top + side)).resize((size, size), Image.BICUBIC)
    return np.asarray(pil).reshape(size, size, image.shape[-1])


def to_rgb_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (n, H, W, C) -> uint8 (n, 3, H, W), grey repeated: torch-fidelity's extractor input."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    return x.expand(-1, 3, -1, -1).contiguous() if x.shape[1] == 1 else x


class ImageSet:
    """An ordered set of uint8 images read in batches; subclasses supply ``ids`` and ``_read``, which
    yields ``(ids, images)`` with images an array or a list of (H, W, C) arrays."""

    def __init__(self, name: str, ids: np.ndarray):
        self.name = name
        self.ids = np.asarray(ids, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.ids)

    def first(self, n: int) -> "ImageSet":
        """The first ``n`` images in this set's order; fewer than ``n`` available is an error."""
        if len(self) < n:
            raise HarnessError(f"{self.name} holds {len(self)} images, fewer than the {n} required")
        return self._subset(np.arange(n))

    def batches(self, batch_size: int, resize: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """``(ids, images)`` with images uint8 (n, H, W, C), each resized first when ``resize`` is given."""
        for ids, images in self._read(batch_size):
            if resize is not None:
                images = [resize_image(img, resize) for img in images]
            if len({img.shape for img in images}) > 1:
                raise HarnessError(f"images in {self.name} differ in size or channels: convert them to one size "
                                  "and mode (metric stages can resize instead: --image-size, config key "
                                  "metrics.fid.image_size; Dot training cannot)")
            yield ids, np.stack(images)

    def fingerprint(self) -> str:
        """sha256 over the images (and their ids) in order: changes when any image changes."""
        digest = hashlib.sha256()
        for ids, images in self._read(256):
            digest.update(ids.tobytes())
            for image in images:
                digest.update(str(image.shape).encode())
                digest.update(np.ascontiguousarray(image).tobytes())
        return digest.hexdigest()

    def _subset(self, rows: np.ndarray) -> "ImageSet":
        raise NotImplementedError

    def _read(self, batch_size: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        raise NotImplementedError


class ArrayImages(ImageSet):
    """Images already in memory (the digits, CIFAR-10)."""

    def __init__(self, name: str, images: np.ndarray, ids: np.ndarray | None = None):
        super().__init__(name, np.arange(len(images)) if ids is None else ids)
        self.images = images

    def _subset(self, rows):
        return ArrayImages(self.name, self.images[rows], self.ids[rows])

    def _read(self, batch_size):
        for start in range(0, len(self), batch_size):
            yield self.ids[start : start + batch_size], self.images[start : start + batch_size]


class FileImages(ImageSet):
    """PNG/JPG files decoded batch by batch; greyscale files stay one channel, others become RGB."""

    def __init__(self, name: str, files: Sequence[Path]):
        super().__init__(name, np.arange(len(files)))
        self.files = list(files)

    def _subset(self, rows):
        return FileImages(self.name, [self.files[i] for i in rows])

    def _read(self, batch_size):
        for start in range(0, len(self.files), batch_size):
            chunk = slice(start, start + batch_size)
            yield self.ids[chunk], [_decode(path) for path in self.files[chunk]]

    def fingerprint(self) -> str:
        """sha256 over the file names (relative to the set) and bytes, without decoding."""
        digest = hashlib.sha256()
        root = Path(self.name)
        for path in self.files:
            digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        return digest.hexdigest()


def _decode(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        img = img.convert("L" if img.mode in ("L", "I;16", "1") else "RGB")
        array = np.asarray(img)
    return array[..., None] if array.ndim == 2 else array


class ShardImages(ImageSet):
    """Sample shards in seed order: ``entries`` are (seed, shard index, row) sorted by seed."""

    def __init__(self, name: str, paths: Sequence[Path], entries: np.ndarray | None = None):
        self.paths = [Path(p) for p in paths]
        if entries is None:
            entries = _shard_entries(self.paths)
        super().__init__(name, entries[:, 0])
        self.entries = entries

    def _subset(self, rows):
        return ShardImages(self.name, self.paths, self.entries[rows])

    def _read(self, batch_size):
        _, first = np.unique(self.entries[:, 1], return_index=True)
        for shard in self.entries[np.sort(first), 1]:
            mine = self.entries[self.entries[:, 1] == shard]
            with open_shard(self.paths[shard]) as data:
                images = data["images"][mine[:, 2]]
            for start in range(0, len(mine), batch_size):
                yield mine[start : start + batch_size, 0], images[start : start + batch_size]

    def meta(self) -> dict:
        """The shards' common meta, ``seeds`` replaced by the selected [first, last]; shards of
        different points (any other key differing) are refused."""
        metas = []
        for path in self.paths:
            with open_shard(path) as data:
                metas.append(json.loads(str(data["meta"])))
        return {**common_meta(metas, self.paths), "seeds": [int(self.ids.min()), int(self.ids.max())]}


def common_meta(metas: Sequence[dict], sources: Sequence) -> dict:
    """The meta shared by shards of one point, else an error. ``seeds`` and the provenance columns
    (the shards may come from other machines, times or commits) are not part of a point's identity
    and are left out."""
    ignored = {"seeds", *provenance.COLUMNS}
    common = {k: v for k, v in metas[0].items() if k not in ignored}
    for source, meta in zip(sources, metas):
        differing = sorted(k for k in set(common) | set(meta) if k not in ignored and meta.get(k) != common.get(k))
        if differing:
            raise HarnessError(f"{source} belongs to another point than {sources[0]} (keys {differing})")
    return common


def _shard_entries(paths: Sequence[Path]) -> np.ndarray:
    """(seed, shard, row) for every image of every shard, sorted by seed; duplicate seeds refused."""
    parts = []
    for index, path in enumerate(paths):
        with open_shard(path) as data:
            seeds = data["seeds"].astype(np.int64)
        parts.append(np.stack([seeds, np.full_like(seeds, index), np.arange(len(seeds))], axis=1))
    entries = np.concatenate(parts) if parts else np.zeros((0, 3), dtype=np.int64)
    entries = entries[np.argsort(entries[:, 0], kind="stable")]
    repeated = entries[1:, 0][entries[1:, 0] == entries[:-1, 0]]
    if len(repeated):
        raise HarnessError(f"seed {int(repeated[0])} appears in more than one shard image")
    return entries


DATASETS: Registry = Registry("dataset scheme")  # scheme -> opener(spec) -> ImageSet


@DATASETS.register("digits")
def _digits(spec: str) -> ImageSet:
    from harness.data.digits import load_digits_uint8

    try:
        _, size, split = spec.split(":")
        return ArrayImages(spec, load_digits_uint8(int(size), split))
    except ValueError as err:
        raise HarnessError(f"bad digits spec {spec!r} (want digits:<size>:<split>): {err}") from None


@DATASETS.register("cifar10")
def _cifar10(spec: str) -> ImageSet:
    """torchvision's cifar-10-batches-py read as its format is documented (the batch files torchvision
    lists, each a pickled dict whose ``data`` is uint8 (n, 3072) in CHW order), not through torchvision's
    CIFAR10 class, whose md5 check accepts only the official bytes (a rehearsal's stand-in in the same
    format included)."""
    import pickle

    from torchvision.datasets import CIFAR10

    root, _, split = spec[len("cifar10:") :].rpartition(":")
    if split not in ("train", "test") or not root:
        raise HarnessError(f"bad CIFAR-10 spec {spec!r}; want cifar10:<root>:<train|test>")
    folder = Path(root) / CIFAR10.base_folder
    names = [name for name, _md5 in (CIFAR10.train_list if split == "train" else CIFAR10.test_list)]
    missing = [name for name in names if not (folder / name).is_file()]
    if missing:
        raise _not_found(spec, f"CIFAR-10 not found under {root!r} (no {', '.join(missing)} in {folder}); "
                               "put cifar-10-batches-py there")
    batches = []
    for name in names:
        try:
            with open(folder / name, "rb") as handle:
                batches.append(np.asarray(pickle.load(handle, encoding="latin1")["data"], dtype=np.uint8))
        except (pickle.UnpicklingError, EOFError, KeyError, TypeError) as err:
            raise HarnessError(f"{folder / name} is not a cifar-10-batches-py batch ({err!r})") from None
    data = np.concatenate(batches).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return ArrayImages(spec, np.ascontiguousarray(data))


def open_images(spec: str | Sequence[str]) -> ImageSet:
    """Open an image set named by a spec (see the module doc) or by a list of shard paths."""
    if not isinstance(spec, str):
        if len(spec) == 1:
            return open_images(spec[0])
        paths = [Path(p) for p in spec]
        missing = [str(p) for p in paths if p.suffix != ".npz" or not p.is_file()]
        if missing:
            raise HarnessError(f"a list of inputs must be existing .npz shards; not: {', '.join(missing)}")
        return ShardImages(" ".join(spec), paths)
    scheme, colon, _ = spec.partition(":")
    if colon and scheme in DATASETS:
        return DATASETS.get(scheme)(spec)
    path = Path(spec)
    if path.is_file() and path.suffix == ".npz":
        return ShardImages(spec, [path])
    if path.is_dir():
        shards = sorted(path.glob("*.npz"))
        if shards:
            return ShardImages(spec, shards)
        files = sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        if files:
            return FileImages(spec, files)
        raise _not_found(spec, f"{spec} holds neither .npz shards nor PNG/JPG images")
    schemes = ", ".join(f"{scheme}:..." for scheme in DATASETS)
    raise _not_found(spec, f"no image set {spec!r}: not a dataset spec ({schemes}), a shard or a directory")


def _not_found(spec: str, reason: str) -> HarnessError:
    """The error for an image set that is not there; for a registered dataset it says how to supply it."""
    registered = external.at(spec)
    if registered is None:
        return HarnessError(reason)
    return HarnessError(registered.missing(spec, f" ({reason})" if registered.path.exists() else ""))
