"""How many images a metric can be computed on: refused below what defines it, warned below what supports it.

FID fits a Gaussian to d-dimensional features (Heusel et al. 2017). Its covariance needs at least 2
images: with fewer, FID is undefined, so the stage refuses (as EDM's fid.py refuses to compute on fewer
images than it was asked for) instead of writing a number. With n <= d images the covariance has rank
at most n - 1 < d: FID is finite but dominated by its estimation bias (which grows like d / n), so it is
comparable only between points with the same n. Every point of an experiment is evaluated on the same
count, so the run goes on, with a warning naming the count that lifts it (``samples.num`` > d).
"""

from __future__ import annotations

import sys

from harness.errors import HarnessError

MIN_FOR_COVARIANCE = 2


def check_fid_counts(*, samples: int, reference: int | None, dims: int, where: str) -> list[str]:
    """Refuse fewer than 2 samples or reference images; return (and print to stderr) one warning line for each
    set that holds no more images than the features have dimensions."""
    for what, count in (("samples", samples), ("reference images", reference)):
        if count is not None and count < MIN_FOR_COVARIANCE:
            raise HarnessError(f"{where}: FID on {count} {what} is undefined (a covariance needs at least "
                               f"{MIN_FOR_COVARIANCE}); raise samples.num (or give a larger metrics.fid.reference)")
    warnings = []
    if samples <= dims:
        warnings.append(f"warning: {where}: FID on {samples} samples with {dims} features: the covariance has rank "
                        f"{samples - 1} < {dims}, so the FID mostly measures the count; compare it only at equal "
                        f"counts, or set samples.num >= {dims + 1}")
    if reference and reference <= dims:
        warnings.append(f"warning: {where}: the FID reference holds {reference} images for {dims} features: its "
                        f"covariance is rank-deficient; give metrics.fid.reference more than {dims} images")
    for line in warnings:
        print(line, file=sys.stderr)
    return warnings
