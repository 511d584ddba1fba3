"""`harness train-dash`: train the small digits Dash, a pixel-space DDPM UNet, on CPU (resumable).

Standard DDPM training (epsilon prediction, AdamW, warm-up + cosine learning rate, EMA of the weights);
the defaults are the recipe of the shipped model, harness/assets/dash-digits/ (harness/models/train_dash.py).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.stages.options import add_threads_argument, non_negative_int, positive_float, positive_int

CHECKPOINT = "checkpoints/last.pt"  # in OUT

EXAMPLES = """
  python -m harness train-dash --out work/dash-digits --steps 2000 --batch-size 64
  python -m harness train-dash --out work/dash-digits --steps 4000 --resume   # extend a finished run
  python -m harness train-dash --out harness/assets/dash-digits-cond --steps 1000 --num-classes 10 --label-dropout 0.1
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", default="digits",
                        help="packaged architecture name or a JSON file of that layout")
    parser.add_argument("--out", required=True, type=Path,
                        help="output folder (the shipped model is harness/assets/dash-digits)")
    parser.add_argument("--steps", type=positive_int, default=2000, help="total optimizer steps")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per step")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="peak AdamW learning rate")
    parser.add_argument("--warmup-steps", type=non_negative_int, default=100, help="linear learning-rate warm-up")
    parser.add_argument("--ema-decay", type=float, default=0.999, help="largest EMA decay")
    parser.add_argument("--seed", type=non_negative_int, default=0,
                        help="seed of weights, batches, noise and timesteps")
    parser.add_argument("--image-size", type=positive_int, default=16, help="digit size in pixels, a multiple of 8")
    parser.add_argument("--checkpoint-every", type=positive_int, default=250,
                        help="steps between checkpoints")
    parser.add_argument("--log-every", type=positive_int, default=25, help="steps per loss-log row")
    parser.add_argument("--num-classes", type=non_negative_int, default=0,
                        help="K > 0: class-conditional on the digit label (num_class_embeds = K + 1, null class K)")
    parser.add_argument("--label-dropout", type=float, default=0.1,
                        help="with --num-classes: probability a label is replaced by the null class (CFG training)")
    parser.add_argument("--resume", action="store_true", help=f"continue from OUT/{CHECKPOINT}")
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.models.train_dash import TrainDashOptions, train_dash

    return train_dash(TrainDashOptions(**vars(args)))
