"""`harness check-configs`: validate every experiment of the workflow configs, not only those a run needs.

A workflow run checks the experiments its targets need when it starts (a typo in another file does
not stop it); this checks them all, each against config/schema.json, its values together, and its
plan. The config files are merged in order, as Snakemake merges ``--configfile`` files over
config/config.yaml. `snakemake lint` runs it on the workflow's own merged config (``--json``).
Exit code 1 when any experiment is broken (one line each on stderr).
"""

from __future__ import annotations

import argparse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = """
  python -m harness check-configs
  python -m harness check-configs config/config.yaml my_overrides.yaml
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="*", type=Path, default=[ROOT / "config" / "config.yaml"],
                        help="workflow config files, merged in order")
    parser.add_argument("--json", default=None, help="a merged workflow config as JSON (the lint rule passes its own)")
    parser.add_argument("--base", type=Path, default=ROOT, help="folder the configs' experiment_files are relative to")


def run(args: argparse.Namespace) -> int:
    from harness.experiments.lint import check_configs

    return check_configs(args.config, args.json, args.base)
