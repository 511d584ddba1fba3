"""`python -m harness <stage>`: one subcommand per workflow stage.

Each stage lives in its own module exposing ``add_arguments(parser)`` and ``run(args) -> int``.
Modules are imported lazily so ``--help`` does not pay for importing torch. A new stage is one
entry in ``STAGES``.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness.errors import HarnessError

# subcommand -> (module, one-line help)
STAGES: dict[str, tuple[str, str]] = {
    "check": ("harness.check", "check that all an experiment reads from outside is present (offline); list what is missing"),
    "train-dash": ("harness.models.train_dash", "train the small digits Dash (a DDPM UNet) on CPU"),
    "train-dot": ("harness.morse.train", "train a Dot model against a frozen Dash (Algorithm 1)"),
    "sample": ("harness.generate", "generate a seed-range shard, plain or with Morse (Algorithm 2)"),
    "bench-morse": ("harness.morse.bench", "benchmark: the sampling loop's overhead beside the model forwards"),
    "latency": ("harness.latency.cli", "time one step of Dash and of Dot on this device; N = Dash/Dot (Table 5)"),
    "curves": ("harness.analysis.curves_cli", "attach latency_lsd = dash_steps + dot_steps / N to results rows"),
    "speedup": ("harness.analysis.speedup_cli", "speedup of Morse over its baseline at equal metric (Sec. 3.1)"),
    "report": ("harness.analysis.report", "the paper's figures and tables, and a report PDF per experiment"),
    "fid": ("harness.metrics.fid", "FID of one point's sample shards against a dataset (torch-fidelity)"),
    "fid-stats": ("harness.metrics.fid_stats", "mergeable FID feature statistics of some shards (multi-machine FID)"),
    "clip": ("harness.metrics.clip", "CLIP score of one point's sample shards against their prompts (open_clip)"),
    "class-accuracy": ("harness.metrics.class_accuracy", "accuracy of the digits classifier on each image's intended class label"),
    "coco-prompts": ("harness.metrics.prompts", "the fixed-seed MS-COCO caption subset used as prompts"),
    "train-digitsnet": ("harness.metrics.train_digitsnet", "train the digits FID feature network on CPU"),
    "bench-metrics": ("harness.metrics.bench", "feature-extraction throughput and FID peak memory on this machine"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    for name, (module, help_text) in STAGES.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = build_parser()
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in STAGES:
        top.parse_args(argv)  # prints help or the unknown-choice error and exits
        return 2
    name, rest = argv[0], argv[1:]
    module_name, help_text = STAGES[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"harness {name}", description=help_text,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's choice; 1 on a shared CPU, where more thrash)")
    module.add_arguments(parser)
    args = parser.parse_args(rest)
    args.command_line = argv  # hashed into the rows' provenance when no workflow config names them
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        return int(module.run(args) or 0)
    except HarnessError as err:
        print(f"harness {name}: error: {err}", file=sys.stderr)
        return 1
