"""Mergeable feature statistics and the Frechet distance, against numpy and torch-fidelity itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch_fidelity

from harness.images import ArrayImages, open_images
from harness.metrics.extractors import make_extractor
from harness.metrics.features import feature_stats
from harness.metrics.stats import FeatureStats, frechet_distance
from metrics_helpers import random_digitsnet


def test_stats_give_numpy_mean_and_covariance():
    x = np.random.default_rng(0).normal(size=(500, 6)).astype(np.float32) + 3.0
    mu, sigma = FeatureStats.of(x).mean_cov()
    np.testing.assert_allclose(mu, x.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(sigma, np.cov(x.astype(np.float64), rowvar=False), rtol=1e-9, atol=1e-12)


def test_merged_shard_stats_equal_one_pass_and_survive_save_load(tmp_path):
    x = np.random.default_rng(1).normal(size=(1000, 8))
    y = np.random.default_rng(2).normal(size=(700, 8)) * 1.3 + 0.2
    parts = [FeatureStats.of(part) for part in np.array_split(x, 7)]
    parts[3].save(tmp_path / "part3.npz")
    parts[3] = FeatureStats.load(tmp_path / "part3.npz")
    merged = sum(parts[1:], parts[0])
    whole = FeatureStats.of(x)
    assert merged.count == whole.count == 1000
    ref = FeatureStats.of(y).mean_cov()
    one_pass = frechet_distance(*whole.mean_cov(), *ref)
    assert frechet_distance(*merged.mean_cov(), *ref) == pytest.approx(one_pass, rel=1e-10)
    with pytest.raises(ValueError):
        merged + FeatureStats.empty(3)


def test_frechet_distance_of_shifted_gaussians_is_the_squared_shift():
    sigma = np.diag([1.0, 2.0, 3.0])
    assert frechet_distance(np.zeros(3), sigma, np.array([1.0, 2.0, 0.0]), sigma) == pytest.approx(5.0, abs=1e-9)
    # 1-D: (s1 - s2)^2 for standard deviations s1, s2
    assert frechet_distance(np.zeros(1), np.eye(1) * 4.0, np.zeros(1), np.eye(1)) == pytest.approx(1.0, abs=1e-9)


@pytest.fixture(scope="module")
def random_extractor(tmp_path_factory):
    return make_extractor("digitsnet", random_digitsnet(tmp_path_factory.mktemp("w") / "digitsnet-random.safetensors"))


def test_fid_of_a_set_against_itself_is_zero(random_extractor):
    digits = open_images("digits:16:all")
    stats = feature_stats(digits, random_extractor, batch_size=256)
    mu, sigma = stats.mean_cov()
    assert abs(frechet_distance(mu, sigma, mu, sigma)) < 1e-6
    # and the batch size does not change the statistics
    other = feature_stats(digits, random_extractor, batch_size=100)
    assert abs(frechet_distance(*other.mean_cov(), mu, sigma)) < 1e-6


class _Uint8Dataset(torch.utils.data.Dataset):
    """(n, H, W, C) uint8 images as torch-fidelity inputs: uint8 (3, H, W) tensors."""

    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return torch.from_numpy(self.images[i]).permute(2, 0, 1).expand(3, -1, -1).contiguous()


def test_harness_fid_equals_torch_fidelity_calculate_metrics(tmp_path, random_extractor):
    weights = random_digitsnet(tmp_path / "w.safetensors")
    real = open_images("digits:16:train").images
    fake = real[::16]  # a small subset: its FID is all covariance, sensitive to its normalisation
    theirs = torch_fidelity.calculate_metrics(
        input1=_Uint8Dataset(fake), input2=_Uint8Dataset(real), fid=True, feature_extractor="digitsnet",
        feature_extractor_weights_path=str(weights), cuda=False, cache=False, verbose=False, save_cpu_ram=True,
        batch_size=128,
    )["frechet_inception_distance"]
    extractor = make_extractor("digitsnet", weights)
    ours = frechet_distance(
        *feature_stats(ArrayImages("fake", fake), extractor, 128).mean_cov(),
        *feature_stats(ArrayImages("real", real), extractor, 128).mean_cov(),
    )
    assert theirs > 1e-6  # the sets differ, so equality below is not 0 == 0
    # same features; we accumulate the covariance in float64, torch-fidelity in its own order, and the
    # matrix square root of both goes through scipy: 1e-4 relative covers the sqrtm's sensitivity
    assert ours == pytest.approx(theirs, rel=1e-4)
