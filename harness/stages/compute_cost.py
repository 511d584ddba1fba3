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
    import pandas as pd
    import yaml

    from harness.report.tables import render
    from harness.errors import HarnessError
    from harness.experiments import Workflow
    from harness.experiments.cost import table
    from harness.latency import results

    if not args.config.exists():
        raise HarnessError(f"--config {args.config} does not exist")
    flow = Workflow(yaml.safe_load(args.config.read_text()), args.config.parent.parent)
    latency = [results.load_all(d) for d in args.latency_dir]
    frame = pd.concat(latency, ignore_index=True) if latency else pd.DataFrame()
    names = args.experiment or flow.names
    print(render(table([flow.experiment(n) for n in names], frame), "md"))
    return 0
