"""The experiment model: configs -> experiments -> points -> jobs and their command lines.

``Workflow(config, base)`` is what the Snakemake files use: ``experiment(name)`` (an
:class:`~harness.experiments.model.Experiment`), ``stage_args(rule, wildcards)`` (a job's command
line, :mod:`harness.experiments.commands`) and the default targets. Plain, tested Python: the
`.smk` files only declare rules.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from harness import paths
from harness.errors import HarnessError
from harness.experiments.commands import Settings, stage_args
from harness.experiments.config import Configs, load
from harness.experiments.model import Experiment, Point, Samples
from harness.paths import fill
from harness.provenance import config_sha256

__all__ = ["Workflow", "Experiment", "Point", "Samples", "Settings", "Configs"]


class Workflow:
    def __init__(self, config: dict, base: Path):
        self.configs = load(config, Path(base))
        self.settings = Settings(offline=config.get("offline", True), allow_download=config.get("allow_download", False),
                                 dash_digits={**Settings().dash_digits, **(config.get("dash_digits") or {})})
        self.default_experiments = list(config.get("default_experiments", []))
        self.experiment = cache(self._experiment)

    def _experiment(self, name: str) -> Experiment:
        """The validated experiment ``name``, its values checked together and its points planned."""
        experiment = Experiment(name, self.configs[name])
        experiment.check()
        return experiment

    @property
    def names(self) -> list[str]:
        return list(self.configs)

    def stage_args(self, rule: str, wildcards) -> str:
        wildcards = dict(wildcards.items()) if hasattr(wildcards, "items") else dict(wildcards)
        return stage_args(self.experiment(wildcards["exp"]), rule, wildcards, self.settings)

    @property
    def batched(self) -> list[str]:
        """Experiments whose shards and metric rows are made in `harness batch` jobs (``samples.batches``), among
        those that validate and plan: another's error stops only the targets that need it (when
        ``experiment(name)`` is asked for)."""
        return [name for name in self.names if (self._config_or_none(name).get("samples") or {}).get("batches")
                and self._plans(name)]

    def _config_or_none(self, name: str) -> dict:
        try:
            return self.configs[name]
        except HarnessError:
            return {}

    def _plans(self, name: str) -> bool:
        try:
            self.experiment(name)
            return True
        except HarnessError:
            return False

    def batch_jobs(self, name: str) -> list:
        """The `harness batch` jobs of a batched experiment (harness/experiments/batches.py)."""
        from harness.experiments.batches import batch_jobs

        return batch_jobs(self.experiment(name), self.settings)

    def default_targets(self) -> list[str]:
        return [target for name in self.default_experiments for target in self.experiment(name).targets()]

    @property
    def report_targets(self) -> list[str]:
        return [fill(paths.REPORT, exp=name) for name in sorted(self.names)]

    def unknown_target(self, target: str) -> str:
        """What to say when a target names no experiment: the known report targets (and any file not read)."""
        unread = "".join(f"; {why}" for key, why in self.configs.broken.items() if key not in self.names)
        return f"unknown target {target!r}; known report targets: {', '.join(self.report_targets) or 'none'}{unread}"

    def problems(self) -> list[str]:
        """One line per experiment that fails validation, its checks together, or its plan (the lint)."""
        found = [why for key, why in self.configs.broken.items() if key not in self.names]  # unreadable files
        for name in self.names:
            try:
                self.experiment(name)
            except HarnessError as err:
                found.append(str(err))
        return found

    def config_hashes(self) -> dict[str, str]:
        """sha256 of each experiment's config as merged (the provenance column `config_sha256`)."""
        return {name: config_sha256(self.configs.raw(name)) for name in self.configs}
