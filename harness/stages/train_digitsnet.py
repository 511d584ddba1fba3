"""`harness train-digitsnet`: train the DigitsNet FID feature network on the digits' train split.

About ten seconds on one CPU thread. Writes the weights as safetensors and, beside them, a JSON record with
the exact command, the seed, the held-out accuracy and the weights' sha256.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.assets import DIGITSNET_WEIGHTS as DEFAULT_WEIGHTS
from harness.stages.options import add_threads_argument, non_negative_int, positive_float, positive_int

EXAMPLES = """
  python -m harness train-digitsnet --out harness/assets/digitsnet.safetensors --epochs 15
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, default=DEFAULT_WEIGHTS, help="weights file (.safetensors)")
    parser.add_argument("--epochs", type=positive_int, default=15, help="passes over the training digits")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per step")
    parser.add_argument("--lr", type=positive_float, default=3e-3, help="Adam learning rate")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of weights and batches")
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.metrics.train_digitsnet import train_digitsnet

    return train_digitsnet(out=args.out, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
