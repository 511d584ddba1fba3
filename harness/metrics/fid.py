"""The FID of one point's images against a reference (Fréchet distance of feature statistics, as NVlabs/edm's
fid.py computes it), as its results row."""

from __future__ import annotations

from pathlib import Path

from harness import provenance
from harness.images import open_images
from harness.metrics.extractors import make_extractor
from harness.metrics.features import feature_stats
from harness.metrics.fid_stats import merge_partials
from harness.metrics.reference import is_published, published_stats, reference_stats
from harness.metrics.rows import identity_columns, sample_meta
from harness.metrics.stats import frechet_distance
from harness.metrics.support import check_fid_counts
from harness.paths import FIDSTATS_SUFFIX


def fid_row(*, samples: list[str], ref: str, num_samples: int, extractor: str, extractor_weights: Path | None = None,
            offline: bool = False, image_size: int | None = None, batch_size: int = 250,
            refstats_dir: Path = Path("work/refstats"), device: str = "cpu", command_line: list[str] = (),
            where: str = "FID") -> dict:
    """The FID of the first ``num_samples`` images of ``samples`` (shards, a folder of them, or only
    ``.fidstats`` files, merged) against ``ref`` (a dataset spec, whose statistics are cached in ``refstats_dir``,
    or published statistics), with features of ``extractor``; its columns: docs/metrics.md, with the provenance
    of the stage run by ``command_line``. ``where`` names the row in the count checks' messages."""
    partials = all(Path(p).suffix == FIDSTATS_SUFFIX for p in samples)
    images = None if partials else open_images(samples).first(num_samples)  # refuse early
    network = make_extractor(extractor, extractor_weights, offline, device)
    features = network.provenance(image_size)
    if partials:
        stats, meta, seeds = merge_partials([Path(p) for p in samples], features, num_samples)
    else:
        stats = feature_stats(images, network, batch_size, image_size)
        meta, seeds = sample_meta(images), images.ids
    if is_published(ref):
        reference = published_stats(Path(ref), network, image_size)
    else:
        reference = reference_stats(open_images(ref), network, refstats_dir, batch_size, image_size)
    check_fid_counts(samples=stats.count, reference=reference.count or None, dims=len(stats.total), where=where)
    return {
        **identity_columns(meta, seeds),
        "fid": frechet_distance(*stats.mean_cov(), reference.mu, reference.sigma),
        **features,
        "fid_reference": ref,
        "fid_reference_count": reference.count or "",  # published statistics may not say
        "fid_reference_sha256": reference.key,
        **provenance.columns(list(command_line), meta.get("experiment"), device),
    }
