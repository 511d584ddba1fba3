"""Prompts files: drawing a fixed-seed subset of MS-COCO captions, and reading one (line s is seed s's prompt).

How the subset is drawn and recorded is documented once, with its options, in harness/stages/coco_prompts.py.
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
