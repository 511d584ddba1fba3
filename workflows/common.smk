# The experiment model lives in harness/experiments (plain, tested Python): which experiments, points,
# shards and rows a config asks for, and each job's command line (`stage_args`). These files only
# declare rules; every rule calls `python -m harness STAGE ...`.

import json
import os
import shlex
import sys

from snakemake.exceptions import WorkflowError

from harness.errors import HarnessError
from harness.experiments import Workflow
from harness.experiments.memory import available_mb
from harness import paths, rehearsal
from harness.paths import fill
from harness.provenance import CONFIG_ENV

BASE = workflow.basedir
LAUNCH = f"python {shlex.quote(os.path.join(BASE, 'workflows', 'scripts', 'launch.py'))}"


def _stop(message):
    """Stop the plan with one line on stderr and exit code 2 (a usage error), no traceback."""
    print(f"error: {message}", file=sys.stderr)
    sys.exit(2)


def _checked(call, *args):
    """A config error as one short line (key path first), not a traceback."""
    try:
        return call(*args)
    except HarnessError as err:
        _stop(err)


WORKFLOW = _checked(Workflow, config, BASE)
for _name in WORKFLOW.default_experiments:
    _checked(WORKFLOW.experiment, _name)  # the default run's experiments are checked and planned before any job
# Other experiments are checked when a target first needs them (a typo in one file does not stop the
# others); `snakemake lint` (harness check-configs) checks them all.

# Every row a job writes records the sha256 of its experiment's merged config (harness/provenance.py).
# Exported, not passed as a parameter: editing one setting must not rerun jobs it does not touch.
# (Cluster jobs parse this file again, so they export it too.)
os.environ[CONFIG_ENV] = json.dumps(WORKFLOW.config_hashes())
# Every row a rehearsal's jobs write says so (the `rehearsal` column, harness/rehearsal).
REHEARSAL = bool(config.get("rehearsal"))
os.environ[rehearsal.ENV] = str(REHEARSAL).lower()

def _alternatives(names):
    return "|".join(sorted(names, key=len, reverse=True)) or "(?!)"


# the per-shard rules (sample, fid, clip, class_accuracy) serve the experiments that are not batched
UNBATCHED = _alternatives(set(WORKFLOW.names) - set(WORKFLOW.batched))

wildcard_constraints:
    exp=_alternatives(WORKFLOW.names),  # only configured experiments
    point=r"[A-Za-z0-9_]+",
    dot=r"[A-Za-z0-9_]+",
    rep=r"\d+|pilot",  # a replicate, or the pilot set that tunes the ratio per budget
    shard=r"\d+",


def E(wildcards):
    """The experiment of a job."""
    return _checked(WORKFLOW.experiment, wildcards.exp)


def all_cores(wildcards):
    """Every core Snakemake was given, read when jobs are made; 1 when no count was given (`--unlock`,
    `--report`: no job runs then)."""
    try:
        return workflow.cores
    except WorkflowError:
        return 1


def memory(stage):
    """The input function of a rule's mem_mb: its experiment's `memory_mb` for ``stage`` (harness/experiments/memory.py)."""
    return lambda wildcards: E(wildcards).memory_mb(stage)


# Memory is a limit only where a total is given: a local run without `--resources mem_mb=N` gets the memory
# this machine has free when it starts, so `snakemake -j2` never starts jobs whose declared mem_mb add up to
# more (two SDXL jobs of 14 to 18 GB run one after the other in 24 GB). A cluster run (`--jobs` with a remote
# executor: nodes) is left alone: there a job's mem_mb is its own node's request, not a share of this machine.
if workflow.is_main_process and "mem_mb" not in workflow.global_resources and workflow.nodes is None:
    workflow.register_resource("mem_mb", available_mb())


def args(rule):
    """The input function giving a rule's command-line arguments."""
    return lambda wildcards: _checked(WORKFLOW.stage_args, rule, wildcards)
