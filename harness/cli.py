"""`python -m harness <stage>`: one subcommand per workflow stage.

Each stage is one module, ``harness/stages/<stage name with _>.py``, holding its options
(``add_arguments``), its help (the module docstring and ``EXAMPLES``) and ``run(args) -> int``, which
imports the library it calls only when it runs: help never pays for importing torch. A new stage is one
module and one entry in ``STAGES``.

Exit codes: 0 success; 1 an error in the input or environment (one line, ``harness STAGE: error: ...``);
2 a usage error (a bad option or value, as argparse reports it); 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from harness.errors import HarnessError

# stage -> one-line help (the module is harness.stages.<stage with "-" as "_">)
STAGES: dict[str, str] = {
    "check": "check that all an experiment reads from outside is present (offline); list what is missing",
    "new-experiment": "a commented starter experiment config for your own Dash folder and images (docs/own-model.md)",
    "rehearsal-inputs": "write a rehearsal's stand-in inputs (real formats, random weights) where `check` looks",
    "check-configs": "validate every experiment of the workflow configs, not only those a run needs (the `lint` target)",
    "train-dash": "train the small digits Dash (a DDPM UNet) on CPU",
    "train-dot": "train a Dot model against a frozen Dash (Algorithm 1)",
    "sample": "generate a seed-range shard, plain or with Morse (Algorithm 2)",
    "latency": "time one step of Dash and of Dot on this device; N = Dash/Dot (Table 5)",
    "fid": "FID of one point's sample shards against a dataset (torch-fidelity)",
    "fid-stats": "mergeable FID feature statistics of some shards (multi-machine FID)",
    "clip": "CLIP score of one point's sample shards against their prompts (open_clip)",
    "class-accuracy": "accuracy of the digits classifier on each image's intended class label (class-conditional runs)",
    "coco-prompts": "the fixed-seed MS-COCO caption subset used as prompts",
    "attach-lsd": "attach latency_lsd = dash_steps + dot_steps / N to results rows",
    "tune-ratio": "choose the exchanged-steps ratio per LSD budget on pilot seeds (the tuned series)",
    "speedup": "speedup of Morse over its baseline at equal metric (Sec. 3.1)",
    "report": "the paper's figures and tables, and a report PDF per experiment",
    "compute-cost": "images, Dash and Dot steps and hours each experiment costs, from its plan and latency CSVs",
    "train-digitsnet": "train the digits FID feature network on CPU",
    "batch": "run several stage command lines in one process (small CPU runs: one Python and torch start-up)",
    "bench-morse": "benchmark: the sampling loop's overhead beside the model forwards",
    "bench-metrics": "benchmark: feature-extraction throughput and FID peak memory on this machine",
}


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """Docstrings and examples keep their line breaks; every option with a default shows it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.default is None or action.default is False or action.default == []:
            return action.help  # no default to show: required, optional without one, or a flag
        return super()._get_help_string(action)


def stage_module(name: str):
    return importlib.import_module(f"harness.stages.{name.replace('-', '_')}")


def stage_parser(name: str) -> argparse.ArgumentParser:
    """The parser of one stage: its docstring as description, its EXAMPLES as epilog."""
    module = stage_module(name)
    parser = argparse.ArgumentParser(prog=f"harness {name}", description=module.__doc__,
                                     epilog="examples:" + module.EXAMPLES, formatter_class=HelpFormatter)
    module.add_arguments(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0],
                                     epilog="`harness STAGE --help` describes a stage's options, with examples.")
    sub = parser.add_subparsers(dest="stage", metavar="STAGE", required=True)
    for name, help_text in STAGES.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in STAGES:
        build_parser().parse_args(argv)  # prints help (exit 0) or the unknown-stage error (exit 2)
        return 2
    name = argv[0]
    args = stage_parser(name).parse_args(argv[1:])  # a bad option or value exits 2 with one line
    args.command_line = argv  # hashed into the rows' provenance when no workflow config names them
    if getattr(args, "threads", None):
        import torch

        torch.set_num_threads(args.threads)
    try:
        return int(stage_module(name).run(args) or 0)
    except HarnessError as err:
        print(f"harness {name}: error: {err}", file=sys.stderr)
        return 1
    except OSError as err:  # a missing, unreadable or unwritable file named on the command line
        print(f"harness {name}: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"harness {name}: interrupted", file=sys.stderr)
        return 130
