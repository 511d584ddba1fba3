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

from harness.paths import FIDSTATS_SUFFIX
from harness.stages.options import command_line, add_feature_arguments, add_threads_argument, resolve_device, positive_int

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
    from harness.metrics.fid import fid_row
    from harness.metrics.rows import write_row

    row = fid_row(samples=args.samples, ref=args.ref, num_samples=args.num_samples, extractor=args.extractor,
                  extractor_weights=args.extractor_weights, offline=args.offline, image_size=args.image_size,
                  batch_size=args.batch_size, refstats_dir=args.refstats_dir, device=resolve_device(args.device),
                  command_line=command_line(args), where=str(args.out))
    write_row(args.out, row)
    print(f"fid_{row['fid_feature_extractor']} = {row['fid']:.4f} ({row['num_samples']} samples vs {args.ref}, "
          f"{row['fid_reference_count'] or 'uncounted'} images) -> {args.out}")
    return 0
