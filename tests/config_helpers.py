"""The paper experiments as the workflow reads them: config/experiments/*.yaml, by experiment name."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def paper_configs() -> dict[str, dict]:
    experiments = {}
    for path in sorted((ROOT / "config" / "experiments").glob("*.yaml")):
        experiments.update(yaml.safe_load(path.read_text())["experiments"])
    return experiments
