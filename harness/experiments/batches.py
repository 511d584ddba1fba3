"""`harness batch` jobs: an experiment's shards and metric rows in a few processes (``samples.batches``).

On a small CPU, starting Python with torch and diffusers (7-14 s) costs more than sampling a 300-image
digits shard, so a run of 70 shards spends most of its time starting processes. A batched experiment
groups its (point, replicate) sets (``Experiment.batches``); each group is one sample job and, per
metric, one metric job, whose commands are exactly those the per-shard rules would run
(``commands.stage_args``), run in order by `harness batch`. workflows/batch.smk declares one rule per
job. Each job keeps the outputs of its finished commands under ``keep`` (harness/stages/batch.py), so
a job killed part-way redoes only the commands it had not finished.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

from harness import paths
from harness.experiments.commands import Settings, stage_args
from harness.experiments.model import Experiment
from harness.paths import fill


@dataclass(frozen=True)
class BatchJob:
    """One `harness batch` job: its rule name, what it reads, its stage command lines and what each writes."""

    rule: str  # sample, fid, clip or class_accuracy: the per-shard rule it stands for
    name: str  # the Snakemake rule name: <rule>_<experiment>_batch<k>
    inputs: list[str]
    commands: list[str]
    command_outputs: list[list[str]]  # the files each command writes, in the order of ``commands``
    keep: str  # the folder where finished commands' outputs are kept until the job ends

    @property
    def outputs(self) -> list[str]:
        return [f for files in self.command_outputs for f in files]

    @property
    def arguments(self) -> str:
        """`harness batch`'s arguments after --keep and --inputs: each command's outputs, then the commands."""
        outputs = " ".join(f"--outputs {shlex.quote(' '.join(files))}" for files in self.command_outputs)
        return f"{outputs} -- " + " ".join(shlex.quote(command) for command in self.commands)


def batch_jobs(experiment: Experiment, settings: Settings = Settings()) -> list[BatchJob]:
    """Per group of ``experiment.batch_groups()``: its sample job, then one job per metric with rows in it."""
    jobs = []
    wanted = set(experiment.metric_jobs())
    for k, group in enumerate(experiment.batch_groups()):
        suffix = f"{experiment.name}_batch{k}"
        shards = {(point, rep): experiment.shard(point, rep, 0) for point, rep in group}
        commands, inputs = [], {experiment.inputs_stamp}
        for (point, rep), shard in shards.items():
            inputs.update(experiment.sample_inputs(point))
            commands.append(f"sample {_args(experiment, 'sample', point, rep, settings)} --threads 1 --out {shard}")
        outputs = [[shard, shard.removesuffix(".npz") + ".json"] for shard in shards.values()]
        jobs.append(BatchJob("sample", f"sample_{suffix}", sorted(inputs), commands, outputs,
                             _keep(experiment, f"sample_{suffix}")))
        for metric in experiment.metrics:
            rows = [(point, rep) for point, rep in group if (point, rep, metric) in wanted]
            if not rows:
                continue
            commands = [f"{metric.replace('_', '-')} {shards[key]} {_args(experiment, metric, *key, settings)} "
                        f"--out {experiment.metric_row(*key, metric)}" for key in rows]
            inputs = [experiment.inputs_stamp, *experiment.metric_inputs(metric),
                      *(shards[key] for key in rows)]
            jobs.append(BatchJob(metric, f"{metric}_{suffix}", inputs, commands,
                                 [[experiment.metric_row(*key, metric)] for key in rows],
                                 _keep(experiment, f"{metric}_{suffix}")))
    return jobs


def _keep(experiment: Experiment, name: str) -> str:
    return fill(paths.BATCH_KEEP, exp=experiment.name, job=name)


def _args(experiment: Experiment, rule: str, point: str, rep, settings: Settings) -> str:
    return stage_args(experiment, rule, {"exp": experiment.name, "point": point, "rep": str(rep), "shard": "000"},
                      settings)
