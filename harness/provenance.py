"""Provenance columns: which code, which packages, which device and machine, when and which config made a row.

Every row the harness writes for results (a shard's meta, FID and CLIP rows, latency rows, speedup
rows) carries ``COLUMNS`` (docs/provenance.md), so a number in ``results/*.csv`` can be traced to
the commit and environment that produced it. Nothing here imports torch unless a CUDA device asks.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
import os
import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from harness import rehearsal

# column -> the distribution whose installed version it records
PACKAGES = {
    "harness_version": "morse-harness",
    "torch_version": "torch",
    "diffusers_version": "diffusers",
    "torch_fidelity_version": "torch-fidelity",
    "open_clip_version": "open_clip_torch",
}
# where the row was made: the executor (local, or slurm inside a SLURM job), the host, the SLURM job id
# and the GPUs the process was given (CUDA_VISIBLE_DEVICES; set by launch.py or SLURM)
PLACE = ("executor", "host", "slurm_job_id", "visible_devices")
COLUMNS = ("git_commit", "git_dirty", *PACKAGES, "device_name", *PLACE, "created_utc", "config_sha256", "rehearsal")

# The workflow exports the sha256 of each experiment's merged config here, as JSON {experiment: sha256}
# (workflows/common.smk); an environment variable rather than a job parameter, so that editing a
# config does not rerun the jobs whose own settings did not change.
CONFIG_ENV = "HARNESS_CONFIG_SHA256"

REPO = Path(__file__).resolve().parents[1]


def config_sha256(config: dict) -> str:
    """sha256 of a config's canonical JSON (sorted keys, no whitespace)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@functools.cache
def git_state() -> tuple[str, str]:
    """(commit, dirty) of the checkout the harness runs from; ("unknown", "unknown") outside git."""
    if not (REPO / ".git").exists():
        return "unknown", "unknown"
    try:
        def git(*args: str) -> str:
            return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True,
                                  timeout=30).stdout

        return git("rev-parse", "HEAD").strip(), str(bool(git("status", "--porcelain").strip()))
    except (OSError, subprocess.SubprocessError):
        return "unknown", "unknown"


@functools.cache
def _installed_versions() -> dict[str, str]:
    found = {}
    for column, dist in PACKAGES.items():
        try:
            found[column] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[column] = "not installed"
    return found


def versions() -> dict[str, str]:
    """Installed versions of PACKAGES; torch's as torch reports it once imported (with its CUDA label, e.g. +cu130)."""
    found = dict(_installed_versions())
    if "torch" in sys.modules:
        found["torch_version"] = sys.modules["torch"].__version__
    return found


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what the platform module reports."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def device_name(device=None) -> str:
    """The GPU's name for a CUDA device, else the CPU model."""
    if device is not None and str(device).startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(torch.device(device))
    return cpu_model()


def place() -> dict[str, str]:
    """PLACE of this process: a SLURM job is known by SLURM_JOB_ID (set in every job and job step);
    visible_devices is CUDA_VISIBLE_DEVICES as given, ``unset`` (every device visible) or ``none`` (empty)."""
    job = os.environ.get("SLURM_JOB_ID")
    devices = os.environ.get("CUDA_VISIBLE_DEVICES")
    return {"executor": "slurm" if job else "local", "host": socket.gethostname(), "slurm_job_id": job or "none",
            "visible_devices": "unset" if devices is None else devices or "none"}


def experiment_config_sha256(experiment: str | None, command_line: list[str]) -> str:
    """The workflow's hash of ``experiment``'s config; for a stage run by hand, of its command line."""
    known = json.loads(os.environ.get(CONFIG_ENV) or "{}")
    if experiment in known:
        return known[experiment]
    return hashlib.sha256(json.dumps(command_line).encode()).hexdigest()


def columns(command_line: list[str], experiment: str | None, device=None) -> dict:
    """The provenance columns of a row that the stage run with ``command_line`` (its arguments after
    `python -m harness`) makes now, on ``device``, for ``experiment``."""
    commit, dirty = git_state()
    return {
        "git_commit": commit,
        "git_dirty": dirty,
        **versions(),
        "device_name": device_name(device),
        **place(),
        "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "config_sha256": experiment_config_sha256(experiment, command_line),
        "rehearsal": rehearsal.active(),  # True: random weights and stand-in inputs, never a result (harness/rehearsal)
    }
