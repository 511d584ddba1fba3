"""`harness compute-cost`: what each experiment costs to sample, from its plan and measured latencies.

Per experiment: sampled points and images (samples x repeats), image-steps of Dash and of Dot, and,
for every device with a `harness latency` row of that experiment, LSD-images (d + r/N per image)
and hours = (Dash image-steps x Dash s/step + Dot image-steps x Dot s/step) / batch size. Printed
as Markdown (the table of docs/costs.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = """
  python -m harness compute-cost --latency-dir work/cifar/latency --experiment cifar
  python -m harness compute-cost --latency-dir docs/example --experiment digits
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--latency-dir", type=Path, action="append", default=[],
                        help="folder of latency_<device>.csv files (repeatable); experiments without a row: not measured")
    parser.add_argument("--experiment", action="append", default=[], help="experiment to price (repeatable; default: all)")
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "config.yaml", help="the workflow config")


def run(args: argparse.Namespace) -> int:
    from harness.experiments.cost import cost_table

    print(cost_table(args.config, latency_dirs=args.latency_dir, experiments=args.experiment))
    return 0
