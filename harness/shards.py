"""Sample shards: one seed range of generated images, written atomically.

A shard is ``<name>.npz`` holding ``images`` (uint8, n x H x W x C), ``seeds`` (int64, n) and
``meta`` (a JSON string: the time grid, the Dash/Dot assignment, its LSD cost, the sampler and
where the models came from) and, for conditional runs, the conditions it used (``labels``, int64 n,
or ``prompts``, strings n; see :mod:`harness.conditions`), with the same ``meta`` beside it as ``<name>.json`` for people and
tools that do not open arrays. Both files are first written under a temporary name and renamed,
so a shard killed mid-write leaves nothing that looks finished (the ``.npz`` is renamed last).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from harness.damage import reading

FIELDS = ("images", "seeds", "meta")

_UMASK = os.umask(0)
os.umask(_UMASK)


@dataclass
class Shard:
    images: np.ndarray  # uint8, (n, H, W, C)
    seeds: np.ndarray  # int64, (n,)
    meta: dict
    conditions: dict = field(default_factory=dict)  # "labels" or "prompts" -> one value per image


def atomic_write(path: Path, write) -> None:
    """Call ``write(file_object)`` on a temporary file beside ``path``, then rename it to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_shard(path: Path, shard: Shard) -> None:
    path = Path(path)
    if shard.images.dtype != np.uint8 or shard.images.ndim != 4:
        raise ValueError(f"shard images must be uint8 (n, H, W, C), got {shard.images.dtype} {shard.images.shape}")
    if len(shard.seeds) != len(shard.images):
        raise ValueError("one seed per image")
    if any(len(values) != len(shard.images) for values in shard.conditions.values()):
        raise ValueError("one condition per image")
    meta_text = json.dumps(shard.meta, indent=1, sort_keys=True)
    atomic_write(path.with_suffix(".json"), lambda f: f.write(meta_text.encode()))
    atomic_write(
        path,
        lambda f: np.savez(f, images=shard.images, seeds=shard.seeds.astype(np.int64), meta=np.array(meta_text),
                           **{name: np.asarray(values) for name, values in shard.conditions.items()}),
    )


@contextlib.contextmanager
def open_shard(path: Path) -> Iterator[np.lib.npyio.NpzFile]:
    """The arrays of a shard file; a file that is not one is a one-line error naming it."""
    with reading(path):  # opening, and every array the caller reads: a damaged shard is one line
        data = np.load(path)
        with data:
            missing = [name for name in FIELDS if name not in data.files]
            if missing:
                raise ValueError(f"not a sample shard: it lacks {', '.join(missing)}")
            yield data


def read_shard(path: Path) -> Shard:
    with open_shard(path) as data:
        conditions = {name: data[name] for name in data.files if name not in FIELDS}
        return Shard(images=data["images"], seeds=data["seeds"], meta=json.loads(str(data["meta"])),
                     conditions=conditions)


def parse_seeds(spec: str) -> list[int]:
    """Seeds as in NVlabs/edm: '0-49999' or '1,2,5-10' (ranges inclusive)."""
    seeds: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            lo, hi = (int(v) for v in part.split("-", 1))
            if hi < lo:
                raise ValueError(f"seed range {part!r} runs backwards")
            seeds.extend(range(lo, hi + 1))
        elif part:
            seeds.append(int(part))
    if not seeds:
        raise ValueError(f"no seeds in {spec!r}")
    return seeds
