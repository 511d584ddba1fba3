"""`harness coco-prompts`: a fixed-seed subset of MS-COCO validation captions as a prompts file.

Text-to-image evaluation (the paper's MS-COCO runs) uses 30,000 captions of the 2014 (or 2017)
validation set. They are read from a local captions file (by default the registered
``data/coco/annotations/captions_val2017.json``, :mod:`harness.external`), ordered by annotation id,
and ``--num`` of them drawn without replacement by numpy's PCG64 with ``--seed``. The file has
one caption per line (whitespace collapsed); image seed ``s`` is generated from line ``s``
(0-based). A JSON beside it records the annotations' and the prompts' sha256, seed and count.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from harness import external
from harness.errors import HarnessError
from harness.metrics.sha import file_sha256
from harness.shards import atomic_write


CAPTIONS = external.get(external.COCO_CAPTIONS)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--annotations", type=Path, default=CAPTIONS.path,
                        help=f"MS-COCO captions file, 2017 or 2014 validation (default: {CAPTIONS.location})")
    parser.add_argument("--num", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="prompts file (.txt), one caption per line")


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


def run(args: argparse.Namespace) -> int:
    if not args.annotations.is_file():
        raise HarnessError(CAPTIONS.missing(args.annotations, " (--annotations)"))
    prompts = select_captions(json.loads(args.annotations.read_text()), args.num, args.seed)
    text = "".join(p + "\n" for p in prompts).encode()
    atomic_write(args.out, lambda f: f.write(text))
    record = {
        "annotations": args.annotations.name,
        "annotations_sha256": file_sha256(args.annotations),
        "num": args.num,
        "seed": args.seed,
        "sha256": hashlib.sha256(text).hexdigest(),
    }
    atomic_write(args.out.with_suffix(".json"), lambda f: f.write((json.dumps(record, indent=1) + "\n").encode()))
    print(f"{args.num} prompts (seed {args.seed}) -> {args.out}, sha256 {record['sha256']}")
    return 0
