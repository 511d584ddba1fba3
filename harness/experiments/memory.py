"""The memory a job declares (Snakemake's ``mem_mb``) and the total a local run may hand out.

An experiment's ``memory_mb`` names, per stage, the peak resident memory of one of its jobs in MB
(10^6 bytes, as Snakemake counts mem_mb); ``default`` covers the stages it does not name, and
:data:`DEFAULT_MB` the experiments that set nothing. Snakemake never starts jobs whose declared
mem_mb add up to more than its global ``mem_mb``: ``--resources mem_mb=N``, else :func:`available_mb`
when a local run starts (workflows/common.smk); a job declaring more than that total is given all of it
and runs alone. On SLURM a job's mem_mb is its ``--mem``.
"""

from __future__ import annotations

from pathlib import Path

# A job of an experiment that sets no `memory_mb`: above every pixel-space job measured on CPU (the
# rehearsals' largest, imagenet64_cond's train_dot, 2.7 GB; the digits jobs under 1.3 GB: docs/rehearsal.md).
DEFAULT_MB = 3000

# The stages whose jobs load or build a model (the keys of `memory_mb` besides `default`; config/schema.json lists
# them); rehearsal_inputs builds the rehearsal's stand-in Dash, VAE, text encoders and CLIP with random weights.
STAGES = ("sample", "train_dot", "fid_stats", "fid", "clip", "class_accuracy", "latency", "batch", "train_dash",
          "rehearsal_inputs")

CGROUP = Path("/sys/fs/cgroup")  # a container's memory.max and memory.current (cgroup v2), when it has them


def job_mb(memory: dict | None, stage: str) -> int:
    """The mem_mb a job of ``stage`` declares, from an experiment's ``memory_mb`` block."""
    memory = memory or {}
    return int(memory.get(stage, memory.get("default", DEFAULT_MB)))


def available_mb() -> int:
    """The memory this machine can give new processes now, in MB: free and reclaimable (psutil), within a
    container's limit; what other programs already hold is not handed out again."""
    import psutil  # Snakemake's own dependency; only the workflow asks

    available = psutil.virtual_memory().available
    try:
        limit, used = ((CGROUP / name).read_text().strip() for name in ("memory.max", "memory.current"))
    except OSError:
        limit, used = "max", "0"
    if limit.isdigit():
        available = min(available, int(limit) - int(used))
    return max(available, 0) // 10**6
