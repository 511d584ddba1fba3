"""`harness class-accuracy`: how often the digits classifier reads each image as the class it was generated for.

The conditional digits experiment's stand-in for the CLIP score (Table 1, Fig. 8): each image is
compared with the label stored beside it in its shard (seed s's label, `harness sample
--conditions labels:K`); the classifier is DigitsNet, whose pooled features are the digits FID
feature (harness/metrics/class_accuracy.py). The first ``--num-samples`` seeds are scored (fewer is
an error). Writes a one-row CSV: identity columns from the shard meta, ``class_accuracy`` (higher
is better), the classifier that scored it and its provenance.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.assets import DIGITSNET_WEIGHTS
from harness.stages.options import add_device_argument, add_threads_argument, positive_int

EXAMPLES = """
  python -m harness class-accuracy samples/digits_cond/ddim_s8_g2.r0.s000.npz --num-samples 500 \\
      --out work/digits_cond/metrics/ddim_s8_g2.r0.class_accuracy.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("samples", nargs="+", help="the point's .npz shards (with their `labels`), or a directory of them")
    parser.add_argument(
        "--num-samples", type=positive_int, required=True, help="images to score (the first seeds); fewer is an error"
    )
    parser.add_argument("--out", type=Path, required=True, help="one-row CSV to write")
    parser.add_argument("--classifier-weights", type=Path, default=DIGITSNET_WEIGHTS, help="DigitsNet weights (safetensors)")
    parser.add_argument("--batch-size", type=positive_int, default=500, help="images per classifier batch")
    add_device_argument(parser)
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.metrics.class_accuracy import class_accuracy_row
    from harness.metrics.rows import write_row
    from harness.stages.options import command_line, resolve_device

    row = class_accuracy_row(samples=args.samples, num_samples=args.num_samples, classifier_weights=args.classifier_weights,
                             batch_size=args.batch_size, device=resolve_device(args.device), command_line=command_line(args))
    write_row(args.out, row)
    print(f"class_accuracy = {row['class_accuracy']:.4f} ({row['num_samples']} images, "
          f"{row['class_accuracy_classifier']}) -> {args.out}")
    return 0
