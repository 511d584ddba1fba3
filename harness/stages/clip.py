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
    import open_clip

    from harness import provenance
    from harness.errors import HarnessError
    from harness.images import open_images, resize_label
    from harness.metrics.clip_model import load_scorer
    from harness.metrics.prompts import read_prompts
    from harness.metrics.rows import identity_columns, sample_meta, write_row
    from harness.progress import progress

    args.device = resolve_device(args.device)
    samples = open_images(args.samples).first(args.num_samples)
    prompts, prompts_sha256 = read_prompts(args.prompts)
    if int(samples.ids.max()) >= len(prompts) or int(samples.ids.min()) < 0:
        seeds = f"{samples.ids.min()}-{samples.ids.max()}"
        raise HarnessError(f"seeds {seeds} fall outside the {len(prompts)} prompts of {args.prompts}")
    scorer = load_scorer(args.model, args.pretrained, args.clip_checkpoint, args.offline, args.device)
    resize = args.image_size or None
    total = 0.0
    with progress(desc=f"CLIP score of {samples.name}", total=len(samples), unit="img") as bar:
        for seeds, images in samples.batches(args.batch_size, resize):
            total += float(scorer.scores(images, [prompts[s] for s in seeds]).sum())
            bar.update(len(seeds))
    score = total / len(samples)
    row = {
        **identity_columns(sample_meta(samples), samples.ids),
        "clip_score": score,
        "clip_model": args.model,
        "clip_pretrained": "checkpoint" if args.clip_checkpoint else args.pretrained,
        "clip_weights_sha256": scorer.weights_sha256,
        "clip_backend": "open_clip",
        "clip_backend_version": open_clip.__version__,
        "clip_preprocess": scorer.preprocess_label,
        "clip_resize": resize_label(resize),
        "clip_prompts": str(args.prompts),
        "clip_prompts_sha256": prompts_sha256,
        **provenance.columns(command_line(args), sample_meta(samples).get("experiment"), args.device),
    }
    write_row(args.out, row)
    print(f"clip_score = {score:.4f} ({len(samples)} images, {args.model} {row['clip_pretrained']}) -> {args.out}")
    return 0
