"""Stream an image set through a feature extractor into mergeable statistics.

Batches are read, resized (optionally), made 3-channel uint8 as torch-fidelity's extractors
expect, and reduced to :class:`FeatureStats` at once; nothing of size n is ever held, so memory
does not depend on the number of images.
"""

from __future__ import annotations

from harness.images import ImageSet, to_rgb_tensor
from harness.metrics.extractors import Extractor
from harness.metrics.stats import FeatureStats
from harness.progress import progress


def feature_stats(images: ImageSet, extractor: Extractor, batch_size: int, resize: int | None = None) -> FeatureStats:
    """Statistics of the extractor's FID features over every image of the set."""
    stats = None
    with progress(desc=f"{extractor.name} features of {images.name}", total=len(images), unit="img") as bar:
        for _, batch in images.batches(batch_size, resize):
            part = FeatureStats.of(extractor.features(to_rgb_tensor(batch)))
            stats = part if stats is None else stats + part
            bar.update(len(batch))
    if stats is None:
        raise ValueError(f"{images.name} holds no images")
    return stats
