"""The paper experiments as the workflow reads them (config/experiments/*.yaml: templates resolved,
validated), by experiment name."""

from __future__ import annotations

from pathlib import Path

from harness.experiments.config import load

ROOT = Path(__file__).resolve().parents[1]


def offline(experiment: dict) -> bool:
    """An experiment beside the paper's that runs on data scikit-learn ships (digits_cond): it names no
    external input and, like the embedded default, uses the harness's own grid."""
    return experiment["dataset"]["spec"].startswith("digits:")


def paper_configs() -> dict[str, dict]:
    configs = load({"experiment_files": ["config/experiments/*.yaml"]}, ROOT)
    return {name: configs[name] for name in configs}
