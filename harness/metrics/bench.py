"""Feature-extraction throughput and FID peak memory (`harness bench-metrics`, harness/stages/bench_metrics.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from harness.metrics.extractors import make_extractor
from harness.shards import Shard, write_shard

# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over exec from the parent process
CHILD = (
    "import sys\n"
    "from harness.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM:')))\n"
    "sys.exit(code)\n"
)


def throughput(name: str, num_images: int, batch_size: int, device: str) -> float:
    """Images per second through the extractor, after one warm-up batch."""
    extractor = make_extractor(name, device=device)
    generator = torch.Generator().manual_seed(0)
    batch = torch.randint(0, 256, (batch_size, 3, 32, 32), dtype=torch.uint8, generator=generator)
    extractor.features(batch)
    done, start = 0, time.perf_counter()
    while done < num_images:
        extractor.features(batch[: min(batch_size, num_images - done)])
        done += min(batch_size, num_images - done)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return done / (time.perf_counter() - start)


def write_synthetic_shards(directory: Path, count: int, shard_size: int) -> None:
    """``count`` random 32x32 RGB images as shards, generated shard by shard."""
    rng = np.random.default_rng(0)
    for start in range(0, count, shard_size):
        seeds = np.arange(start, min(start + shard_size, count), dtype=np.int64)
        images = rng.integers(0, 256, (len(seeds), 32, 32, 3), dtype=np.uint8)
        meta = {"experiment": "bench", "method": "baseline", "point": "synthetic"}
        meta["seeds"] = [int(seeds[0]), int(seeds[-1])]
        write_shard(directory / f"shard-{start:06d}.npz", Shard(images, seeds, meta))


def fid_peak_memory(count: int, *, shard_size: int, extractor: str, device: str, threads: int, work: Path) -> tuple[float, float]:
    """(peak RSS in MiB, seconds) of one `harness fid` process over ``count`` synthetic images."""
    shards = work / f"shards-{count}"
    write_synthetic_shards(shards, count, shard_size)
    command = [sys.executable, "-c", CHILD, "fid", str(shards), "--ref", "digits:16:all", "--num-samples", str(count)]
    command += ["--out", str(work / f"fid-{count}.csv"), "--extractor", extractor]
    command += ["--refstats-dir", str(work / "refstats"), "--device", device]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    seconds = time.perf_counter() - start
    kib = int(next(line.split()[1] for line in out.splitlines() if line.startswith("VmHWM:")))
    return kib / 1024, seconds


def bench_metrics(*, extractors: list[str], images: list[int], batch_size: int, memory_counts: list[int],
                  memory_extractor: str, shard_size: int, device: str, threads: int | None = None) -> int:
    """Feature-extraction throughput of each of ``extractors`` over ``images`` images, and the peak memory of
    `harness fid` over each of ``memory_counts`` synthetic images, on ``threads`` threads (default one: on a
    shared machine more threads thrash, docs/metrics.md)."""
    threads = threads or 1
    torch.set_num_threads(threads)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"torch {torch.__version__}, {threads} threads on {os.cpu_count()} cores (load {load}), {device}")
    for name, num_images in zip(extractors, images):
        rate = throughput(name, num_images, batch_size, device)
        print(f"throughput {name}: {rate:.1f} images/s ({num_images} images, batch {batch_size}, 32x32 RGB in)")
    with tempfile.TemporaryDirectory() as tmp:
        for count in memory_counts:
            mib, seconds = fid_peak_memory(count, shard_size=shard_size, extractor=memory_extractor, device=device,
                                           threads=threads, work=Path(tmp))
            print(f"fid peak RSS ({memory_extractor}, {count} images 32x32): {mib:.0f} MiB, {seconds:.1f} s")
    return 0
