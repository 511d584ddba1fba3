"""Run one workflow job on GPUs of its own: `launch.py --gpus K [--torchrun] -- ARGS...`.

ARGS are the arguments of a Python interpreter (`-m harness STAGE ...`). The job runs as
`python ARGS`, or, with --torchrun and K > 1 GPUs, as `torchrun --standalone --nproc-per-node K ARGS`.

Which GPUs: Snakemake's `gpu` resource (the local profile sets `resources: gpu=<count>`) bounds how
many GPU jobs run at once; this script picks *which* devices, by holding an exclusive lock file
per GPU (`<lock dir>/gpu<i>.lock`) for the job's lifetime and setting CUDA_VISIBLE_DEVICES.
No two jobs share a GPU, so a latency job times on a GPU of its own.

Nothing is assigned when the scheduler already chose devices (CUDA_VISIBLE_DEVICES set, as under
SLURM), when no GPU is present (the CPU run: `python ARGS` as is), or with --gpus 0.
Environment: HARNESS_GPUS lists the device ids to use (default: all that `nvidia-smi -L` lists),
HARNESS_GPU_LOCKS the lock directory (default: .snakemake/gpu-locks under the working directory).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path


def visible_gpus() -> list[str]:
    listed = os.environ.get("HARNESS_GPUS")
    if listed is not None:
        return [g.strip() for g in listed.split(",") if g.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (subprocess.SubprocessError, OSError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def acquire(gpus: list[str], count: int, lock_dir: Path) -> tuple[list[str], list]:
    """Lock `count` free GPUs (waiting while all are taken); returns their ids and open lock files."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    if count > len(gpus):
        raise SystemExit(f"launch.py: the job asks for {count} GPUs, only {len(gpus)} present ({','.join(gpus)})")
    waited = 0.0
    while True:
        held, handles = [], []
        for gpu in gpus:
            handle = open(lock_dir / f"gpu{gpu}.lock", "w")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            held.append(gpu)
            handles.append(handle)
            if len(held) == count:
                return held, handles
        for handle in handles:
            handle.close()
        if waited == 0:
            print(f"launch.py: waiting for {count} free GPU(s) of {','.join(gpus)}", file=sys.stderr)
        time.sleep(2)
        waited += 2


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: launch.py --gpus K [--torchrun] -- -m harness STAGE ...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="launch.py")
    parser.add_argument("--gpus", type=int, default=1)
    parser.add_argument("--torchrun", action="store_true", help="several GPUs: start one process per GPU")
    opts = parser.parse_args(argv[:split])
    command = argv[split + 1 :]

    env = dict(os.environ)
    handles: list = []
    count = opts.gpus
    if count > 0 and "CUDA_VISIBLE_DEVICES" not in env:
        gpus = visible_gpus()
        if gpus:
            lock_dir = Path(env.get("HARNESS_GPU_LOCKS", Path(".snakemake") / "gpu-locks"))
            chosen, handles = acquire(gpus, count, lock_dir)
            env["CUDA_VISIBLE_DEVICES"] = ",".join(chosen)
        else:
            count = 0  # a CPU machine: run as is
    elif "CUDA_VISIBLE_DEVICES" in env:
        count = len([g for g in env["CUDA_VISIBLE_DEVICES"].split(",") if g.strip()])

    if opts.torchrun and count > 1:
        full = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={count}", *command]
    else:
        full = [sys.executable, *command]
    if env.get("CUDA_VISIBLE_DEVICES") is not None:
        print(f"launch.py: CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']}", file=sys.stderr)
    child = subprocess.Popen(full, env=env)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: child.send_signal(signum))
    code = child.wait()
    for handle in handles:
        handle.close()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
