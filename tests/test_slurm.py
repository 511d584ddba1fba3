"""The tiny digits workflow on a real single-node SLURM cluster (.ci/slurm-up), through `--profile
profiles/slurm`, in its batched form (tests/test_workflow.py's tiny_batched: 7 points' shards in 2
`harness batch` jobs, so 6 sbatch jobs: Dot, latency, 2 sample and 2 FID jobs): every cluster job is its own sbatch job, known by the SLURM job id in its rows'
provenance; GPU rules get a (fake) GPU from SLURM; a job cancelled with scancel is reported failed and
the rerun finishes it; a run whose controller stops answering ends by itself (workflows/scripts/watch_cluster.py).

Skipped only where `sbatch` is absent; CI sets HARNESS_REQUIRE_SLURM=1 (.ci/run), which turns that skip
into a failure. Starting and stopping the controller needs root, as in CI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from test_workflow import SNAKEMAKE, offline_env, project_copy, tiny_batched

ROOT = Path(__file__).resolve().parents[1]
WATCH = ROOT / "workflows" / "scripts" / "watch_cluster.py"
REQUIRED = os.environ.get("HARNESS_REQUIRE_SLURM") == "1"

# One SLURM cluster for the whole run: under pytest-xdist these tests share one worker, one at a time
# (`--dist loadgroup`), as one stops its controller and both find their jobs in squeue's cluster-wide list.
pytestmark = [pytest.mark.skipif(shutil.which("sbatch") is None and not REQUIRED,
                                 reason="no SLURM here (sbatch absent; CI starts one with .ci/slurm-up)"),
              pytest.mark.xdist_group("slurm")]

# What a 2-CPU test node needs beyond profiles/slurm (see its comments): the partition, jobs that fit its
# memory and cores (these replace the profile's per-rule sizes), squeue for status (no accounting
# database) polled from the first second, and no automatic retry, so that a cancelled job stays failed.
SMALL_CLUSTER = ["--jobs", "2", "--retries", "0",
                 "--default-resources", "slurm_partition=debug", "mem_mb=1000", "runtime=10", "cpus_per_task=1",
                 "--set-resources", "latency:cpus_per_task=1", "--set-threads", "train_dot=1", "latency=1",
                 "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", "1"]


@pytest.fixture(scope="module")
def cluster():
    assert shutil.which("sbatch"), "HARNESS_REQUIRE_SLURM=1 but sbatch is absent: run .ci/slurm-up first"
    answered = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=60)
    assert answered.returncode == 0 and answered.stdout.split(), f"the SLURM cluster does not answer: {answered.stderr}"


def start(cwd: Path, *targets: str, silence: float = 120) -> subprocess.Popen:
    command = [sys.executable, str(WATCH), "--silence", str(silence), "--every", "2", "--grace", "20", "--",
               SNAKEMAKE, "--profile", "profiles/slurm", *SMALL_CLUSTER, *targets]
    return subprocess.Popen(command, cwd=cwd, env=offline_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    return process.returncode, output


def submitted(output: str) -> dict[str, str]:
    """SLURM job id -> rule, from Snakemake's "submitted with SLURM jobid N (log: .../rule_R/...)" lines."""
    return dict(re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/", output))


def running(comment: str) -> str | None:
    """The id of a running job whose comment (the plugin's rule_<rule>_wildcards_...) starts so."""
    listing = subprocess.run(["squeue", "-h", "-t", "RUNNING", "-o", "%i|%k"], capture_output=True, text=True,
                             timeout=60).stdout
    return next((job for job, note in (line.split("|", 1) for line in listing.splitlines()) if note.startswith(comment)),
                None)


def test_the_tiny_workflow_runs_job_by_job_through_slurm(cluster, tmp_path):
    project_copy(tmp_path, tiny_batched(batches=2))
    began = time.monotonic()
    process = start(tmp_path)
    cancelled = None
    while cancelled is None:
        assert process.poll() is None, "the run ended before its latency job ran"
        cancelled = running("rule_latency_")
        time.sleep(0.5)
    subprocess.run(["scancel", cancelled], check=True, timeout=60)
    code, first = finish(process)
    assert code != 0 and f"SLURM-job '{cancelled}' failed, SLURM status is: 'CANCELLED'" in first, first[-4000:]
    rerun_began = time.monotonic()
    code, second = finish(start(tmp_path))
    done = time.monotonic()
    assert code == 0, second[-4000:]
    jobs = {**submitted(first), **submitted(second)}
    print(f"\nthrough SLURM: {done - began:.0f} s, {len(jobs)} sbatch jobs; the rerun after the scancel "
          f"{done - rerun_began:.0f} s, {len(submitted(second))} jobs ({sorted(set(submitted(second).values()))})")
    assert set(submitted(second).values()) == {"latency"}  # nothing else was redone
    assert (tmp_path / "reports" / "speedup_tiny.pdf").stat().st_size > 0

    # every row a cluster job made names its own sbatch job and the GPU SLURM gave it
    shards = [json.loads(path.read_text()) for path in sorted((tmp_path / "samples" / "tiny").glob("*.json"))]
    made = {"sample_tiny_batch": pd.DataFrame(shards),
            "fid_tiny_batch": pd.read_csv(tmp_path / "results" / "tiny.csv", dtype=str),
            "latency": pd.concat(pd.read_csv(p, dtype=str) for p in (tmp_path / "work" / "tiny" / "latency").rglob("*.csv"))}
    for rule, rows in made.items():
        assert set(rows["executor"]) == {"slurm"} and set(rows["host"]) == {socket.gethostname()}, rule
        assert all(jobs.get(str(job), "").startswith(rule) for job in rows["slurm_job_id"]), (rule, rows["slurm_job_id"], jobs)
        assert set(rows["visible_devices"].astype(str)) <= {"0", "1"}, rule  # SLURM set CUDA_VISIBLE_DEVICES
    assert made["sample_tiny_batch"]["slurm_job_id"].nunique() == 2  # one sbatch job per batch job
    assert str(made["latency"]["slurm_job_id"].iloc[0]) != cancelled
    latency_job = next(job for job, rule in submitted(second).items() if rule == "latency")
    shown = subprocess.run(["scontrol", "show", "job", latency_job], capture_output=True, text=True, timeout=60).stdout
    assert "TresPerJob=gres:gpu:1" in shown, shown
    summary = pd.read_csv(tmp_path / "results" / "tiny_speedup_summary.csv", dtype=str)  # a local rule: no GPU asked
    assert set(summary["executor"]) == {"local"} and set(summary["visible_devices"]) == {"unset"}


def controller_pid() -> int:
    config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, timeout=60).stdout
    return int(Path(re.search(r"^SlurmctldPidFile\s*=\s*(\S+)", config, re.MULTILINE).group(1)).read_text())


def test_a_run_whose_controller_stops_answering_ends_by_itself(cluster, tmp_path):
    """slurmctld killed while a job runs: the plugin's failing status queries alone would wait forever;
    the run ends within --silence + --every + --grace (and the probe's seconds) and says why."""
    project_copy(tmp_path, tiny_batched())
    silence, every, grace = 15, 2, 20
    pid = controller_pid()
    process = start(tmp_path, "sample_tiny_batch0", silence=silence)
    try:
        while running("rule_") is None:
            assert process.poll() is None, "the run ended before its job ran"
            time.sleep(0.5)
        os.kill(pid, signal.SIGTERM)
        stopped = time.monotonic()
        code, output = finish(process, timeout=silence + 2 * every + grace + 30)
        print(f"\nthe run ended {time.monotonic() - stopped:.0f} s after the controller stopped")
    finally:
        subprocess.run([str(ROOT / ".ci" / "slurm-up")], check=True, timeout=120)  # the controller back
        left = running("rule_")  # the killed run's job, still on the node
        if left:
            subprocess.run(["scancel", left], timeout=60)
    assert code == 75 and "has not answered `scontrol ping`" in output, output[-3000:]
