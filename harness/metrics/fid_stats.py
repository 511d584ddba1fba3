"""Mergeable FID statistics (``.fidstats``): writing one machine's part, merging the parts.

What a file holds and what merging refuses is documented once, with the options, in
harness/stages/fid_stats.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.damage import reading
from harness.errors import HarnessError
from harness.images import common_meta
from harness.metrics.features import feature_stats
from harness.metrics.rows import sample_meta
from harness.metrics.stats import FeatureStats


def write_partial(path: Path, samples, extractor, batch_size: int, image_size: int | None) -> int:
    """Reduce ``samples`` to their feature sums in ``path``, with seeds, shard meta and feature provenance."""
    stats = feature_stats(samples, extractor, batch_size, image_size)
    meta = {"shards": sample_meta(samples), "features": extractor.provenance(image_size)}
    stats.save(path, seeds=samples.ids, meta=np.array(json.dumps(meta)))
    return stats.count


def merge_partials(paths: Sequence[Path], provenance: dict, num_samples: int) -> tuple[FeatureStats, dict, np.ndarray]:
    """Merged statistics, common shard meta and seeds of ``.fidstats`` files made with ``provenance``."""
    parts, metas, seeds = [], [], []
    for path in paths:
        with reading(path), np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            seeds.append(data["seeds"])
            parts.append(FeatureStats.load(path))
        if meta["features"] != provenance:
            raise HarnessError(f"{path} holds features {meta['features']}, not the requested {provenance}")
        metas.append(meta["shards"])
    all_seeds = np.sort(np.concatenate(seeds))
    if len(np.unique(all_seeds)) != len(all_seeds):
        raise HarnessError("the statistics files cover some seeds more than once")
    if len(all_seeds) != num_samples:
        raise HarnessError(f"the statistics files cover {len(all_seeds)} seeds, not the {num_samples} required")
    return sum(parts[1:], parts[0]), common_meta(metas, list(paths)), all_seeds
