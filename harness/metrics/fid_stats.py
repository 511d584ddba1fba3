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
import json
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.errors import HarnessError
from harness.images import common_meta, open_images
from harness.metrics.extractors import EXTRACTORS, make_extractor
from harness.metrics.features import feature_stats
from harness.metrics.options import default_device, offline_default
from harness.metrics.rows import sample_meta
from harness.metrics.stats import FeatureStats

SUFFIX = ".fidstats"


def add_feature_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that fix the features: shared by `harness fid` and `harness fid-stats`."""
    parser.add_argument("--extractor", default="digitsnet", help=f"feature network: {', '.join(EXTRACTORS)}")
    parser.add_argument("--extractor-weights", type=Path, help="weights file of the feature network (offline machines)")
    parser.add_argument("--offline", action="store_true", default=offline_default(), help="never download weights")
    parser.add_argument("--image-size", type=int, help="resize images to this square size first (PIL bicubic)")
    parser.add_argument("--batch-size", type=int, default=250)
    parser.add_argument("--device", default=default_device())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("samples", nargs="+", help=".npz shards, or a directory of them (all their images are used)")
    parser.add_argument("--out", type=Path, required=True, help=f"statistics file to write (*{SUFFIX})")
    add_feature_arguments(parser)


def run(args: argparse.Namespace) -> int:
    if args.out.suffix != SUFFIX:
        raise HarnessError(f"--out must end in {SUFFIX} (so shard directories never mistake it for a shard)")
    samples = open_images(args.samples)
    extractor = make_extractor(args.extractor, args.extractor_weights, args.offline, args.device)
    stats = feature_stats(samples, extractor, args.batch_size, args.image_size)
    meta = {"shards": sample_meta(samples), "features": extractor.provenance(args.image_size)}
    stats.save(args.out, seeds=samples.ids, meta=np.array(json.dumps(meta)))
    print(f"{stats.count} images of {samples.name} -> {args.out}")
    return 0


def merge_partials(paths: Sequence[Path], provenance: dict, num_samples: int) -> tuple[FeatureStats, dict, np.ndarray]:
    """Merged statistics, common shard meta and seeds of ``.fidstats`` files made with ``provenance``."""
    parts, metas, seeds = [], [], []
    for path in paths:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            seeds.append(data["seeds"])
        if meta["features"] != provenance:
            raise HarnessError(f"{path} holds features {meta['features']}, not the requested {provenance}")
        parts.append(FeatureStats.load(path))
        metas.append(meta["shards"])
    all_seeds = np.sort(np.concatenate(seeds))
    if len(np.unique(all_seeds)) != len(all_seeds):
        raise HarnessError("the statistics files cover some seeds more than once")
    if len(all_seeds) != num_samples:
        raise HarnessError(f"the statistics files cover {len(all_seeds)} seeds, not the {num_samples} required")
    return sum(parts[1:], parts[0]), common_meta(metas, list(paths)), all_seeds
