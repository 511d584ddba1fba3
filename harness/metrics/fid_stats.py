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
from harness.images import common_meta, open_images
from harness.metrics.extractors import make_extractor
from harness.metrics.features import feature_stats
from harness.metrics.rows import sample_meta
from harness.metrics.stats import FeatureStats
from harness.paths import FIDSTATS_SUFFIX


def fid_statistics(samples: list[str], out: Path, *, extractor: str, extractor_weights: Path | None = None,
                   offline: bool = False, image_size: int | None = None, batch_size: int = 250,
                   device: str = "cpu") -> int:
    """`harness fid-stats`: the features of every image of ``samples`` (shards or a folder of them) reduced to
    ``out`` (a ``.fidstats`` file, ``write_partial``); returns the image count."""
    if Path(out).suffix != FIDSTATS_SUFFIX:
        raise HarnessError(f"{out}: a statistics file must end in {FIDSTATS_SUFFIX} (so shard directories never "
                           "mistake it for a shard)")
    images = open_images(samples)
    count = write_partial(Path(out), images, make_extractor(extractor, extractor_weights, offline, device), batch_size,
                          image_size)
    print(f"{count} images of {images.name} -> {out}")
    return count


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
