"""Reference statistics of a dataset, computed once and cached as ``.npz`` (mu, sigma, count).

As NVlabs/edm ships ``fid-refs/*.npz`` per dataset, the reference side of FID is computed once.
The cache file is named by a key: sha256 over the images' fingerprint (every image, in order),
the extractor's identity (name, layer, weights sha256, backend version) and the resize applied,
so a changed image list, extractor or resize can never reuse stale statistics.

``published_stats`` reads reference statistics someone else computed: an ``.npz`` with ``mu`` and
``sigma``, as NVlabs/edm's ``fid-refs/*.npz`` and clean-fid's ``*_clean_*.npz`` are published. Such
files record no extractor; both projects publish Inception-v3 pool3 features (2,048-d), so only
that extractor may be compared with them. A file of ours (``meta`` names its extractor) must
match the extractor exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from harness.errors import HarnessError
from harness.images import ImageSet
from harness.metrics.extractors import Extractor
from harness.metrics.features import feature_stats
from harness.metrics.sha import file_sha256
from harness.shards import atomic_write

PUBLISHED_EXTRACTOR, PUBLISHED_DIM = "inception-v3-compat", 2048  # EDM's and clean-fid's published statistics
IDENTITY = ("fid_feature_extractor", "fid_feature_layer", "fid_extractor_sha256")


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


def is_published(ref: str) -> bool:
    """Whether ``--ref`` names a statistics file rather than images."""
    return str(ref).endswith(".npz")


def published_stats(path: Path, extractor: Extractor, resize: int | None = None) -> ReferenceStats:
    """Reference statistics from an ``.npz`` with ``mu`` and ``sigma``, checked against ``extractor``."""
    path = Path(path)
    if not path.is_file():
        raise HarnessError(f"--ref {path}: no such file (reference statistics: an .npz with mu and sigma)")
    with np.load(path, allow_pickle=False) as data:
        missing = {"mu", "sigma"} - set(data.files)
        if missing:
            raise HarnessError(f"--ref {path}: no {' or '.join(sorted(missing))} in it (has {', '.join(data.files)}); "
                               "reference statistics are an .npz with mu (d,) and sigma (d, d)")
        mu, sigma = data["mu"].astype(np.float64), data["sigma"].astype(np.float64)
        meta = json.loads(str(data["meta"])) if "meta" in data.files else None
        count = int(data["count"]) if "count" in data.files else 0
    if mu.ndim != 1 or sigma.shape != (len(mu), len(mu)):
        raise HarnessError(f"--ref {path}: mu {mu.shape} and sigma {sigma.shape} do not fit (need (d,) and (d, d))")
    ours = extractor.provenance(resize)
    if meta is not None:
        differ = [f"{key} {meta.get(key)!r} (ours {ours[key]!r})" for key in IDENTITY if meta.get(key) != ours[key]]
        if differ:
            raise HarnessError(f"--ref {path}: computed with other features: {'; '.join(differ)}")
    elif extractor.name != PUBLISHED_EXTRACTOR or len(mu) != PUBLISHED_DIM:
        raise HarnessError(f"--ref {path}: published statistics ({len(mu)}-d, no extractor recorded) are Inception-v3 "
                           f"pool3 features by convention (EDM, clean-fid); use --extractor {PUBLISHED_EXTRACTOR}, "
                           f"not {extractor.name}")
    return ReferenceStats(mu, sigma, count, file_sha256(path), path)
