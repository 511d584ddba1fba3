"""`python -m harness check-configs`: validate every experiment a workflow config names, not only
those a run needs (the workflow checks those when it starts; this is its `lint` target).

The configs are merged in order, as Snakemake merges ``--configfile`` files over
config/config.yaml; ``--json`` is the workflow's own merged config.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml

from harness.errors import HarnessError
from harness.experiments import Workflow
from harness.experiments.config import merged

ROOT = Path(__file__).resolve().parents[2]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", nargs="*", type=Path, default=[ROOT / "config" / "config.yaml"],
                        help="workflow config files, merged in order (default: config/config.yaml)")
    parser.add_argument("--json", default=None, help="a merged workflow config as JSON (the lint rule passes its own)")
    parser.add_argument("--base", type=Path, default=ROOT, help="folder the configs' experiment_files are relative to")
    parser.epilog = "example: python -m harness check-configs config/config.yaml my_overrides.yaml"


def run(args: argparse.Namespace) -> int:
    config: dict = {}
    for path in args.config:
        if not path.exists():
            raise HarnessError(f"config file {path} does not exist")
        config = merged(config, yaml.safe_load(path.read_text()) or {})
    if args.json:
        config = merged(config, json.loads(args.json))
    flow = Workflow(config, args.base)
    problems = flow.problems()
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{len(flow.names)} experiments checked: " + (f"{len(problems)} with errors" if problems else "all valid"))
    return 1 if problems else 0
