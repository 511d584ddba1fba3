"""Reference statistics of a dataset, computed once and cached as ``.npz`` (mu, sigma, count).

As NVlabs/edm ships ``fid-refs/*.npz`` per dataset, the reference side of FID is computed once.
The cache file is named by a key: sha256 over the images' fingerprint (every image, in order),
the extractor's identity (name, layer, weights sha256, backend version) and the resize applied,
so a changed image list, extractor or resize can never reuse stale statistics.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.images import ImageSet
from harness.metrics.extractors import Extractor
from harness.metrics.features import feature_stats
from harness.shards import atomic_write


@dataclass
class ReferenceStats:
    mu: np.ndarray
    sigma: np.ndarray
    count: int
    key: str  # sha256 identifying images + extractor + resize
    path: Path


def reference_key(images: ImageSet, extractor: Extractor, resize: int | None) -> str:
    identity = {"images": images.fingerprint(), "features": extractor.provenance(resize)}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


def reference_stats(
    images: ImageSet, extractor: Extractor, cache_dir: Path, batch_size: int, resize: int | None = None
) -> ReferenceStats:
    """Load the cached statistics of ``images`` under ``extractor``, computing them on a miss."""
    key = reference_key(images, extractor, resize)
    path = Path(cache_dir) / f"{extractor.name}-{key[:16]}.npz"
    if path.is_file():
        with np.load(path) as data:
            if str(data["key"]) == key:
                return ReferenceStats(data["mu"], data["sigma"], int(data["count"]), key, path)
    stats = feature_stats(images, extractor, batch_size, resize)
    mu, sigma = stats.mean_cov()
    meta = json.dumps({"images": images.name, **extractor.provenance(resize)})
    atomic_write(path, lambda f: np.savez(f, mu=mu, sigma=sigma, count=stats.count, key=key, meta=meta))
    return ReferenceStats(mu, sigma, stats.count, key, path)
