"""`harness bench-metrics`: feature-extraction throughput and FID peak memory on this machine.

Prints, never asserts (timings belong to a benchmark, not a test):

- images/s of each named extractor on uint8 batches (32x32 RGB, the extractor resizes them);
  Inception is torch-fidelity's architecture at random initialisation (``inception-v3-untrained``),
  which costs the same as the trained network and needs no download;
- peak resident memory (VmHWM) of a whole ``harness fid`` run (a fresh process each) over synthetic
  32x32 sample shards, at several sample counts, to show it is flat in the count.
"""

from __future__ import annotations

import argparse

from harness.stages.options import add_threads_argument, positive_int

EXAMPLES = """
  python -m harness bench-metrics --threads 1
  python -m harness bench-metrics --extractors inception-v3-compat --images 512 --device cuda
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--extractors", nargs="+", default=["digitsnet", "inception-v3-untrained"], help="feature networks timed")
    parser.add_argument("--images", type=positive_int, nargs="+", default=[8192, 64], help="images timed, per extractor")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per batch")
    parser.add_argument("--memory-counts", type=positive_int, nargs="*", default=[10000, 50000], help="FID sample counts")
    parser.add_argument("--memory-extractor", default="digitsnet", help="feature network of the memory runs")
    parser.add_argument("--shard-size", type=positive_int, default=1000, help="images per synthetic shard")
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.metrics.bench import bench_metrics

    return bench_metrics(extractors=args.extractors, images=args.images, batch_size=args.batch_size,
                         memory_counts=args.memory_counts, memory_extractor=args.memory_extractor,
                         shard_size=args.shard_size, device=args.device, threads=args.threads)
