"""Prompts files: drawing a fixed-seed subset of MS-COCO captions, and reading one (line s is seed s's prompt).

How the subset is drawn and recorded is documented once, with its options, in harness/stages/coco_prompts.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from harness import external
from harness.errors import HarnessError
from harness.metrics.sha import file_sha256
from harness.shards import atomic_write


def select_captions(annotations: dict, num: int, seed: int) -> list[str]:
    """``num`` captions drawn without replacement (fixed seed) from those ordered by annotation id."""
    captions = [" ".join(a["caption"].split()) for a in sorted(annotations["annotations"], key=lambda a: a["id"])]
    if len(captions) < num:
        raise HarnessError(f"the annotations hold {len(captions)} captions, fewer than the {num} requested")
    chosen = np.random.default_rng(seed).choice(len(captions), size=num, replace=False)
    return [captions[i] for i in chosen]


def write_prompts(annotations: Path, out: Path, *, num: int, seed: int = 0) -> dict:
    """`harness coco-prompts`: ``select_captions`` of the captions file ``annotations`` written to ``out``, one per
    line, and beside it (``.json``) the record of the annotations' and the prompts' sha256, seed and count."""
    annotations, out = Path(annotations), Path(out)
    if not annotations.is_file():
        raise HarnessError(external.get(external.COCO_CAPTIONS).missing(annotations, " (--annotations)"))
    prompts = select_captions(json.loads(annotations.read_text()), num, seed)
    text = "".join(p + "\n" for p in prompts).encode()
    atomic_write(out, lambda f: f.write(text))
    record = {
        "annotations": annotations.name,
        "annotations_sha256": file_sha256(annotations),
        "num": num,
        "seed": seed,
        "sha256": hashlib.sha256(text).hexdigest(),
    }
    atomic_write(out.with_suffix(".json"), lambda f: f.write((json.dumps(record, indent=1) + "\n").encode()))
    print(f"{num} prompts (seed {seed}) -> {out}, sha256 {record['sha256']}")
    return record


def read_prompts(path: Path) -> tuple[list[str], str]:
    """The prompts of a prompts file (line s for seed s) and the file's sha256."""
    data = Path(path).read_bytes()
    return data.decode().splitlines(), hashlib.sha256(data).hexdigest()
