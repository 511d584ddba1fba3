"""Run a Snakemake command on a SLURM cluster and stop it when the cluster stops answering.

    python workflows/scripts/watch_cluster.py [--silence 120] [--every 10] [--grace 30] -- \
        snakemake --profile profiles/slurm ...

snakemake-executor-plugin-slurm (2.8) treats a status query that fails as "no news": with the controller
down, every `squeue`/`sacct` fails, each job stays "running" and Snakemake waits forever (it also ignored
SIGTERM in that state). This wrapper asks the controller (`scontrol ping`) every EVERY seconds; once it has
not answered for SILENCE seconds, it sends Snakemake SIGINT (Snakemake cancels what it can and exits),
then SIGKILL to its process group after GRACE seconds, and exits 75 (EX_TEMPFAIL) with one line saying
so. So the run ends within about SILENCE + EVERY + GRACE seconds of the controller's last answer.
Afterwards: `snakemake --unlock`, then the same command again (finished jobs are not redone).
Otherwise the exit code is Snakemake's.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time

TEMPFAIL = 75


def controller_answers(timeout: float) -> bool:
    try:
        return subprocess.run(["scontrol", "ping"], capture_output=True, timeout=timeout).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def stop(process: subprocess.Popen, grace: float) -> None:
    """SIGINT to Snakemake; SIGKILL to its process group (Snakemake and its jobs) after ``grace`` seconds."""
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def main(argv: list[str]) -> int:
    if "--" not in argv:
        raise SystemExit("usage: watch_cluster.py [--silence S] [--every S] [--grace S] -- snakemake ...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="watch_cluster.py")
    parser.add_argument("--silence", type=float, default=120, help="seconds without an answer before stopping the run")
    parser.add_argument("--every", type=float, default=10, help="seconds between two `scontrol ping`")
    parser.add_argument("--grace", type=float, default=30, help="seconds Snakemake has to exit after SIGINT")
    opts = parser.parse_args(argv[:split])
    process = subprocess.Popen(argv[split + 1:], start_new_session=True)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, frame: process.send_signal(signum))
    last_answer = time.monotonic()
    while process.poll() is None:
        try:
            process.wait(timeout=opts.every)
            break
        except subprocess.TimeoutExpired:
            pass
        if controller_answers(timeout=opts.every):
            last_answer = time.monotonic()
        elif time.monotonic() - last_answer >= opts.silence:
            stop(process, opts.grace)
            print(f"watch_cluster.py: the SLURM controller has not answered `scontrol ping` for {opts.silence:.0f} s: "
                  "stopped the run; once it is back: snakemake --unlock, then the same command", file=sys.stderr)
            return TEMPFAIL
    return process.returncode if process.returncode >= 0 else 128 - process.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
