"""Mergeable feature statistics and the Frechet distance between two Gaussians (FID).

Statistics are kept as sums in float64, as NVlabs/edm's fid.py accumulates them: the count, the
sum of the features and the sum of their outer products. Sums of disjoint parts add up to the
sums of the whole, so shards evaluated anywhere merge into one FID without gathering images,
and memory is one (d, d) matrix whatever the number of images. The mean and the (unbiased)
covariance are formed at the end; the distance itself is torch-fidelity's
``fid_statistics_to_metric`` (after TTUR's fid.py), the function ``calculate_metrics`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch_fidelity.metric_fid import KEY_METRIC_FID, fid_statistics_to_metric

from harness.shards import atomic_write


@dataclass
class FeatureStats:
    """Count, sum and sum of outer products (float64) of a set of feature vectors."""

    count: int
    total: np.ndarray  # (d,)
    outer: np.ndarray  # (d, d)

    @classmethod
    def empty(cls, dim: int) -> "FeatureStats":
        return cls(0, np.zeros(dim, dtype=np.float64), np.zeros((dim, dim), dtype=np.float64))

    @classmethod
    def of(cls, features: np.ndarray | torch.Tensor) -> "FeatureStats":
        """Statistics of an (n, d) array of features."""
        x = torch.as_tensor(features).detach().to("cpu", torch.float64).numpy()
        return cls(len(x), x.sum(axis=0), x.T @ x)

    def __add__(self, other: "FeatureStats") -> "FeatureStats":
        if self.total.shape != other.total.shape:
            raise ValueError(f"cannot merge statistics of {self.total.shape} and {other.total.shape} features")
        return FeatureStats(self.count + other.count, self.total + other.total, self.outer + other.outer)

    def mean_cov(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and unbiased covariance (``np.cov``'s normalisation, as torch-fidelity uses)."""
        if self.count < 2:
            raise ValueError(f"a covariance needs at least 2 feature vectors, have {self.count}")
        mu = self.total / self.count
        sigma = (self.outer - self.count * np.outer(mu, mu)) / (self.count - 1)
        return mu, sigma

    def save(self, path: Path, **extra: np.ndarray) -> None:
        """Write as ``.npz`` (count, total, outer, plus any ``extra`` arrays), atomically."""
        atomic_write(Path(path), lambda f: np.savez(f, count=self.count, total=self.total, outer=self.outer, **extra))

    @classmethod
    def load(cls, path: Path) -> "FeatureStats":
        with np.load(path) as data:
            return cls(int(data["count"]), data["total"], data["outer"])


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)), by torch-fidelity (float64 inputs)."""
    stat = lambda mu, sigma: {"mu": np.asarray(mu, np.float64), "sigma": np.asarray(sigma, np.float64)}
    return float(fid_statistics_to_metric(stat(mu1, sigma1), stat(mu2, sigma2), verbose=False)[KEY_METRIC_FID])
