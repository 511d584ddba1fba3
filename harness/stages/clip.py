"""`harness clip`: CLIP score of one point's sample shards against the prompts that made them.

The first ``--num-samples`` seeds are scored (fewer is an error); the image of seed ``s`` is
paired with line ``s`` of the prompts file (:mod:`harness.metrics.prompts`). Text-to-image
outputs are resized to ``--image-size`` (256, as the paper does) before CLIP's own pinned
preprocessing (:mod:`harness.metrics.clip_model`). Writes a one-row CSV: identity columns from
the shard meta, ``clip_score`` and its provenance.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.external import CLIP_MODEL, CLIP_PRETRAINED
from harness.stages.options import command_line, add_device_argument, add_threads_argument, resolve_device, offline_default, positive_int

EXAMPLES = """
  python -m harness clip samples/sd/morse_l6_r0.5 --prompts work/coco_prompts.txt --num-samples 30000 \\
      --clip-checkpoint open_clip_pytorch_model.bin --out results/sd/clip/morse_l6_r0.5.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("samples", nargs="+", help="the point's .npz shards, or a directory of them")
    parser.add_argument("--prompts", type=Path, required=True, help="prompts file: line s is the prompt of seed s")
    parser.add_argument(
        "--num-samples", type=positive_int, required=True, help="images to score (the first seeds); fewer is an error"
    )
    parser.add_argument("--out", type=Path, required=True, help="one-row CSV to write")
    parser.add_argument("--model", default=CLIP_MODEL, help="open_clip architecture")
    parser.add_argument("--pretrained", default=CLIP_PRETRAINED, help="open_clip pretrained tag (none: random)")
    parser.add_argument("--clip-checkpoint", type=Path, help="local weights file, used instead of the tag's download")
    parser.add_argument("--offline", action="store_true", default=offline_default(), help="never download weights")
    parser.add_argument("--image-size", type=int, default=256, help="resize images to this square size first (0: keep)")
    parser.add_argument("--batch-size", type=positive_int, default=32, help="images per CLIP batch")
    add_device_argument(parser)
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.metrics.clip_score import clip_score_row
    from harness.metrics.rows import write_row

    row = clip_score_row(samples=args.samples, num_samples=args.num_samples, prompts_file=args.prompts, model=args.model,
                         pretrained=args.pretrained, clip_checkpoint=args.clip_checkpoint, offline=args.offline,
                         device=resolve_device(args.device), image_size=args.image_size, batch_size=args.batch_size,
                         command_line=command_line(args))
    write_row(args.out, row)
    print(f"clip_score = {row['clip_score']:.4f} ({row['num_samples']} images, {args.model} {row['clip_pretrained']}) "
          f"-> {args.out}")
    return 0
