"""`harness fid`: FID of one point's sample shards against a reference dataset.

Follows NVlabs/edm's fid.py: the reference statistics are computed once and cached
(:mod:`harness.metrics.reference`), the samples are the first ``--num-samples`` seeds and the
run refuses fewer, features are streamed into float64 sums (:mod:`harness.metrics.stats`).
Feature networks come from torch-fidelity's registry (:mod:`harness.metrics.extractors`).
The reference is a dataset or published statistics (``--ref x.npz`` with ``mu`` and ``sigma``, as
EDM and clean-fid publish them, checked against the extractor). Instead of shards, the ``.fidstats`` files of :mod:`harness.metrics.fid_stats` (statistics
computed on several machines) may be given; they are merged. Writes a one-row CSV: identity
columns from the shard meta, ``fid`` and its provenance.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.stages.options import command_line, FIDSTATS_SUFFIX, add_feature_arguments, add_threads_argument, resolve_device, positive_int

EXAMPLES = """
  python -m harness fid samples/digits/baseline_s8 --ref digits:16:all --num-samples 1000 --extractor digitsnet \\
      --out results/digits/fid/baseline_s8.csv
  python -m harness fid part-*.fidstats --ref cifar10:data/cifar10:train --num-samples 50000 \\
      --extractor inception-v3-compat --extractor-weights weights-inception-2015-12-05-6726825d.pth --out fid.csv
  python -m harness fid samples/cifar/ddim_s10.r0.s000.npz --ref fid-refs/cifar10-32x32.npz --num-samples 50000 \
      --extractor inception-v3-compat --out fid.csv
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("samples", nargs="+", help=f"the point's .npz shards, a directory of them, or {FIDSTATS_SUFFIX} files")
    parser.add_argument("--ref", required=True,
                        help="reference images (digits:16:all, cifar10:ROOT:train, a directory) or published statistics "
                             "(an .npz with mu and sigma, as EDM's fid-refs and clean-fid publish; Inception features)")
    parser.add_argument(
        "--num-samples", type=positive_int, required=True, help="images to evaluate (the first seeds); fewer is an error"
    )
    parser.add_argument("--out", type=Path, required=True, help="one-row CSV to write")
    parser.add_argument("--refstats-dir", type=Path, default=Path("work/refstats"), help="reference statistics cache")
    add_feature_arguments(parser)
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness import provenance
    from harness.images import open_images
    from harness.metrics.extractors import make_extractor
    from harness.metrics.features import feature_stats
    from harness.metrics.fid_stats import merge_partials
    from harness.metrics.reference import is_published, published_stats, reference_stats
    from harness.metrics.rows import identity_columns, sample_meta, write_row
    from harness.metrics.stats import frechet_distance
    from harness.metrics.support import check_fid_counts

    args.device = resolve_device(args.device)
    partials = all(Path(p).suffix == FIDSTATS_SUFFIX for p in args.samples)
    samples = None if partials else open_images(args.samples).first(args.num_samples)  # refuse early
    extractor = make_extractor(args.extractor, args.extractor_weights, args.offline, args.device)
    features = extractor.provenance(args.image_size)
    if partials:
        stats, meta, seeds = merge_partials([Path(p) for p in args.samples], features, args.num_samples)
    else:
        stats = feature_stats(samples, extractor, args.batch_size, args.image_size)
        meta, seeds = sample_meta(samples), samples.ids
    if is_published(args.ref):
        ref = published_stats(Path(args.ref), extractor, args.image_size)
    else:
        ref = reference_stats(open_images(args.ref), extractor, args.refstats_dir, args.batch_size, args.image_size)
    check_fid_counts(samples=stats.count, reference=ref.count or None, dims=len(stats.total), where=str(args.out))
    fid = frechet_distance(*stats.mean_cov(), ref.mu, ref.sigma)
    row = {
        **identity_columns(meta, seeds),
        "fid": fid,
        **features,
        "fid_reference": args.ref,
        "fid_reference_count": ref.count or "",  # published statistics may not say
        "fid_reference_sha256": ref.key,
        **provenance.columns(command_line(args), meta.get("experiment"), args.device),
    }
    write_row(args.out, row)
    print(f"fid_{extractor.name} = {fid:.4f} ({len(seeds)} samples vs {args.ref}, {ref.count} images) -> {args.out}")
    return 0
