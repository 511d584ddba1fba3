"""Several processes and devices: Dot training under torchrun (gloo on CPU) trains the same Dot as one
process with the same global batch and seed, and resumes; the GPU launcher hands concurrent jobs
distinct devices (a fake device list, HARNESS_GPUS), and sample jobs on different devices write the
images one job writes. All on the shipped digits Dash (harness/assets), in seconds per process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
LAUNCH = ROOT / "workflows" / "scripts" / "launch.py"
TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
TRAIN = ["-m", "harness", "train-dot", "--dash", "digits", "--data", "digits:16:train", "--steps", "8", "--warmup", "1",
         "--extra-blocks", "1", "--channels", "8", "--lora-rank", "2", "--loss-weight", "x0", "--threads", "1",
         "--checkpoint-every", "2"]
# 1 and 2 processes compute the same sums in another order (the batch split in two, gloo's all-reduce):
# float32 rounding, ~1e-7 relative per operation, measured at 1.2e-6 on the weights after 8 steps.
# Each AdamW step moves a weight by up to the learning rate (1e-3), so a real difference (another batch,
# a gradient not averaged, a wrong slice) moves weights by ~1e-3 per step; 1e-5 is 1% of one step.
WEIGHT_TOLERANCE = 1e-5


def env(**extra: str) -> dict:
    variables = {k: v for k, v in os.environ.items() if k != "CUDA_VISIBLE_DEVICES"}
    variables.update(PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
                     OMP_NUM_THREADS="1", HF_HUB_OFFLINE="1", HARNESS_OFFLINE="1", **extra)
    return variables


def train(command: list[str], out: Path, batch_size: int, *extra: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*command, *TRAIN, "--batch-size", str(batch_size), "--out", str(out), *extra],
                            env=env(), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def weights(out: Path) -> dict:
    from safetensors.torch import load_file

    return load_file(str(out / "dot.safetensors"))


def largest_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max((a[k] - b[k]).abs().max().item() for k in a)


def losses(out: Path) -> np.ndarray:
    return np.loadtxt(out / "loss.csv", delimiter=",", skiprows=1, usecols=(0, 1, 2))


@pytest.mark.slow
def test_two_processes_train_the_dot_one_process_trains_and_resume(tmp_path):
    """torchrun --nproc-per-node 2 with batch 4 each = 1 process with batch 8 (same seed), to
    WEIGHT_TOLERANCE; a 2-process run killed after a checkpoint and resumed ends where the unbroken one does."""
    one, two, broken = tmp_path / "one", tmp_path / "two", tmp_path / "broken"
    train([sys.executable], one, 8)
    train(TORCHRUN, two, 4)
    assert json.loads((two / "dot.json").read_text())["world_size"] == 2
    assert largest_difference(weights(one), weights(two)) <= WEIGHT_TOLERANCE
    np.testing.assert_allclose(losses(one), losses(two), rtol=1e-4)  # the logged loss: the whole batch's
    half = tmp_path / "half"  # what the test tells apart: 1 process with another batch is a different Dot
    train([sys.executable], half, 4)
    assert largest_difference(weights(one), weights(half)) > 100 * WEIGHT_TOLERANCE

    process = subprocess.Popen([*TORCHRUN, *TRAIN, "--batch-size", "4", "--out", str(broken)], env=env(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        while not (broken / "checkpoints" / "last.pt").exists():
            assert process.poll() is None, "the run ended before its first checkpoint"
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert not (broken / "dot.safetensors").exists(), "the run finished before the kill"
    resumed = train(TORCHRUN, broken, 4, "--resume")
    assert "resuming from step" in resumed.stderr
    assert largest_difference(weights(two), weights(broken)) <= WEIGHT_TOLERANCE


def launch(*args: str, gpus: str, locks: Path, **popen) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(LAUNCH), *args], env=env(HARNESS_GPUS=gpus, HARNESS_GPU_LOCKS=str(locks)),
                            cwd=ROOT, text=True, **popen)


def test_the_launcher_gives_concurrent_jobs_distinct_devices(tmp_path):
    """Three 1-GPU jobs on two (fake) devices: no two jobs hold a device at once; the third, started while the
    first two hold both, waits for one. Each job holds its device until the test releases it (no sleep: the
    order does not depend on how fast a loaded machine starts Python)."""
    release = tmp_path / "release"
    record = ("import os, pathlib, sys, time; t0 = time.time(); out = pathlib.Path(sys.argv[1]); "
              "out.with_suffix('.started').touch(); release = pathlib.Path(sys.argv[2])\n"
              "while not release.exists(): time.sleep(0.05)\n"
              "out.write_text(f\"{os.environ['CUDA_VISIBLE_DEVICES']} {t0} {time.time()}\")")
    hold = lambda i: launch("--gpus", "1", "--", "-c", record, str(tmp_path / f"job{i}"), str(release), gpus="0,1",
                            locks=tmp_path / "locks", stderr=subprocess.PIPE)
    jobs = [hold(0), hold(1)]
    try:
        deadline = time.monotonic() + 120
        while not all((tmp_path / f"job{i}.started").exists() for i in range(2)):
            assert all(job.poll() is None for job in jobs) and time.monotonic() < deadline, "a holder never started"
            time.sleep(0.05)
        jobs.append(hold(2))
        waiting = jobs[2].stderr.readline()  # its first line: it found both devices held
    finally:
        release.touch()
    errors = [job.communicate(timeout=120)[1] for job in jobs]
    assert "waiting for 1 free GPU(s) of 0,1" in waiting, waiting + errors[2]
    assert [job.returncode for job in jobs] == [0, 0, 0], errors
    held = [(device, float(start), float(end)) for device, start, end in
            (tuple((tmp_path / f"job{i}").read_text().split()) for i in range(3))]
    assert {device for device, _, _ in held} == {"0", "1"}
    for i, (device, start, end) in enumerate(held):
        for other, other_start, other_end in held[i + 1:]:
            assert device != other or end <= other_start or other_end <= start, held  # never two at once
    assert not any("waiting" in err for err in errors)  # the two holders found a free device at once
    too_many = launch("--gpus", "3", "--", "-c", "pass", gpus="0,1", locks=tmp_path / "locks", stderr=subprocess.PIPE)
    assert too_many.wait(timeout=60) != 0 and "asks for 3 GPUs, only 2 present" in too_many.stderr.read()


def test_concurrent_sample_jobs_on_different_devices_write_the_images_of_one_job(tmp_path):
    """Two Morse sample jobs at once, given devices 0 and 1 by the launcher, write the shard one job
    writes alone; each shard records the device it was given."""
    from harness.shards import read_shard

    sample = ["-m", "harness", "sample", "--dash", "digits", "--dot", str(ROOT / "harness/assets/dot-digits/ddim"),
              "--lsd", "3", "--N", "4.6", "--ratio", "0.5", "--seeds", "0-15", "--threads", "1"]
    alone = subprocess.run([sys.executable, *sample, "--out", str(tmp_path / "alone.npz")], env=env(), cwd=ROOT,
                           capture_output=True, text=True, timeout=300)
    assert alone.returncode == 0, alone.stderr[-2000:]
    jobs = [launch("--gpus", "1", "--", *sample, "--out", str(tmp_path / f"{name}.npz"), gpus="0,1",
                   locks=tmp_path / "locks", stderr=subprocess.PIPE) for name in ("a", "b")]
    errors = [job.communicate(timeout=300)[1] for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0], errors
    reference = read_shard(tmp_path / "alone.npz")
    devices = set()
    for name in ("a", "b"):
        shard = read_shard(tmp_path / f"{name}.npz")
        np.testing.assert_array_equal(shard.images, reference.images)
        np.testing.assert_array_equal(shard.seeds, reference.seeds)
        devices.add(shard.meta["visible_devices"])
    assert devices == {"0", "1"} and reference.meta["visible_devices"] == "unset"
