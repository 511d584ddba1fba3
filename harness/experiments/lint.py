"""Every experiment of the workflow configs validated (`harness check-configs`, the `lint` target)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import yaml

from harness.errors import HarnessError
from harness.experiments import Workflow
from harness.experiments.config import merged


def check_configs(paths: list[Path], extra_json: str | None, base: Path) -> int:
    """Merge the config files (then ``extra_json``), check every experiment; 1 when any is broken."""
    config: dict = {}
    for path in paths:
        if not path.exists():
            raise HarnessError(f"config file {path} does not exist")
        config = merged(config, yaml.safe_load(path.read_text()) or {})
    if extra_json:
        config = merged(config, json.loads(extra_json))
    flow = Workflow(config, base)
    problems = flow.problems()
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{len(flow.names)} experiments checked: " + (f"{len(problems)} with errors" if problems else "all valid"))
    return 1 if problems else 0
