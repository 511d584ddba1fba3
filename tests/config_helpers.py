"""The paper experiments as the workflow reads them (config/experiments/*.yaml: templates resolved,
validated), by experiment name."""

from __future__ import annotations

from pathlib import Path

from harness.experiments.config import load

ROOT = Path(__file__).resolve().parents[1]


def paper_configs() -> dict[str, dict]:
    configs = load({"experiment_files": ["config/experiments/*.yaml"]}, ROOT)
    return {name: configs[name] for name in configs}
