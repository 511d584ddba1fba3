"""`harness fid-stats`: the mergeable FID statistics of some shards, for evaluation spread over machines.

Each machine reduces its own shards to a ``.fidstats`` file: the float64 sums of
:class:`FeatureStats`, the seeds they cover, the shards' meta and the feature provenance
(extractor, weights sha256, resize). ``harness fid`` given only ``.fidstats`` files merges them
(:func:`merge_partials`) into the FID of the union, with no image leaving its machine. Merging
refuses files made with other features or another point, overlapping seeds, and a union that is
not exactly ``--num-samples`` seeds (sums cannot be subset afterwards).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.paths import FIDSTATS_SUFFIX
from harness.stages.options import add_feature_arguments, add_threads_argument, resolve_device

EXAMPLES = """
  python -m harness fid-stats samples/cifar/baseline_s10/shard-000.npz --extractor inception-v3-compat \\
      --extractor-weights weights-inception-2015-12-05-6726825d.pth --out work/cifar/baseline_s10.s0.fidstats
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("samples", nargs="+", help=".npz shards, or a directory of them (all their images are used)")
    parser.add_argument("--out", type=Path, required=True, help=f"statistics file to write (*{FIDSTATS_SUFFIX})")
    add_feature_arguments(parser)
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.metrics.fid_stats import fid_statistics

    fid_statistics(args.samples, args.out, extractor=args.extractor, extractor_weights=args.extractor_weights,
                   offline=args.offline, image_size=args.image_size, batch_size=args.batch_size,
                   device=resolve_device(args.device))
    return 0
