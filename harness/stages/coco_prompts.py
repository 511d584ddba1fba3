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
from pathlib import Path

from harness import external
from harness.stages.options import non_negative_int, positive_int

CAPTIONS = external.get(external.COCO_CAPTIONS)
EXAMPLES = """
  python -m harness coco-prompts --num 30000 --seed 0 --out work/coco_prompts.txt
  python -m harness coco-prompts --annotations ~/coco/annotations/captions_val2014.json --out work/coco2014.txt
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--annotations", type=Path, default=CAPTIONS.path,
                        help=f"MS-COCO captions file, 2017 or 2014 validation (default: {CAPTIONS.location})")
    parser.add_argument("--num", type=positive_int, default=30000, help="captions to draw")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="numpy PCG64 seed of the draw")
    parser.add_argument("--out", type=Path, required=True, help="prompts file (.txt), one caption per line")


def run(args: argparse.Namespace) -> int:
    from harness.metrics.prompts import write_prompts

    write_prompts(args.annotations, args.out, num=args.num, seed=args.seed)
    return 0
