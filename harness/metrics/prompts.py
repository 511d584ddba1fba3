"""Prompts files: a fixed-seed subset of MS-COCO validation captions (`harness coco-prompts`), and reading one.

Text-to-image evaluation (the paper's MS-COCO runs) uses 30,000 captions of the 2014 (or 2017)
validation set. They are read from a local captions file (by default the registered
``data/coco/annotations/captions_val2017.json``, :mod:`harness.external`), ordered by annotation id,
and ``--num`` of them drawn without replacement by numpy's PCG64 with ``--seed``. The file has
one caption per line (whitespace collapsed); image seed ``s`` is generated from line ``s``
(0-based). A JSON beside it records the annotations' and the prompts' sha256, seed and count.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from harness.errors import HarnessError


def select_captions(annotations: dict, num: int, seed: int) -> list[str]:
    """``num`` captions drawn without replacement (fixed seed) from those ordered by annotation id."""
    captions = [" ".join(a["caption"].split()) for a in sorted(annotations["annotations"], key=lambda a: a["id"])]
    if len(captions) < num:
        raise HarnessError(f"the annotations hold {len(captions)} captions, fewer than the {num} requested")
    chosen = np.random.default_rng(seed).choice(len(captions), size=num, replace=False)
    return [captions[i] for i in chosen]


def read_prompts(path: Path) -> tuple[list[str], str]:
    """The prompts of a prompts file (line s for seed s) and the file's sha256."""
    data = Path(path).read_bytes()
    return data.decode().splitlines(), hashlib.sha256(data).hexdigest()
