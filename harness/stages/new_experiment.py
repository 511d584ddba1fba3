"""`harness new-experiment`: a starter experiment config for your own Dash and images (docs/own-model.md).

Reads the Dash folder (a diffusers UNet2DModel saved with `save_pretrained` beside its
`scheduler_config.json`), checks the images have its size and channels, sizes a Dot for it, probes N
with a few timed steps on this machine and writes a commented config that validates and runs as it
is (harness/experiments/starter.py). Then: `snakemake -j2 reports/speedup_NAME.pdf`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

EXAMPLES = """
  python -m harness new-experiment --name mine --dash models/mine --data data/mine
  snakemake -j2 reports/speedup_mine.pdf
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="experiment name: its report is reports/speedup_NAME.pdf")
    parser.add_argument("--dash", required=True, type=Path, help="the Dash folder (config.json + weights + scheduler_config.json)")
    parser.add_argument("--data", required=True, type=Path, help="a folder of PNG/JPG images of the Dash's size")
    parser.add_argument("--out", type=Path, default=None, help="where to write it (default: config/experiments/NAME.yaml)")
    parser.add_argument("--dot-steps", type=int, default=300, help="Dot training steps written into the config")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")


def run(args: argparse.Namespace) -> int:
    from harness.experiments.starter import write_starter

    write_starter(name=args.name, dash=args.dash, data=args.data, dot_steps=args.dot_steps, out=args.out, force=args.force)
    return 0
