"""DigitsNet: the shipped weights match their record, it classifies held-out digits, it is a
torch-fidelity feature extractor, and its training is reproducible."""

from __future__ import annotations

import json

import pytest
import torch
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from harness.metrics.digitsnet import DEFAULT_WEIGHTS, NAME, DigitsNet, FeatureExtractorDigitsNet
from harness.metrics.sha import file_sha256
from harness.metrics.train_digitsnet import load_split, train


def test_shipped_weights_match_their_record_and_classify_heldout_digits():
    record = json.loads(DEFAULT_WEIGHTS.with_suffix(".json").read_text())
    assert file_sha256(DEFAULT_WEIGHTS) == record["sha256"]
    assert record["command"].startswith("python -m harness train-digitsnet ")
    net = FeatureExtractorDigitsNet(NAME, ["logits"])
    x, y = load_split("heldout")
    images = ((x + 1) * 127.5).round().to(torch.uint8)
    accuracy = (net(images)[0].argmax(1) == y).float().mean().item()
    assert accuracy > 0.9 and accuracy == pytest.approx(record["heldout_accuracy"], abs=0.02)


def test_registered_in_torch_fidelity_with_grey_rgb_and_resize_handled():
    assert FEATURE_EXTRACTORS_REGISTRY[NAME] is FeatureExtractorDigitsNet
    net = FeatureExtractorDigitsNet(NAME, ["64", "logits"])
    grey = torch.randint(0, 256, (4, 1, 16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    feats, logits = net(grey)
    assert feats.shape == (4, 64) and logits.shape == (4, 10)
    torch.testing.assert_close(net(grey.expand(-1, 3, -1, -1))[0], feats)  # repeated grey == grey
    big = torch.nn.functional.interpolate(grey.float(), scale_factor=2, mode="nearest").to(torch.uint8)
    assert net(big)[0].shape == (4, 64)  # 32x32 is resized to 16x16
    with pytest.raises(ValueError, match="uint8"):
        net(grey.float())


def test_training_is_reproducible():
    a, _ = train(epochs=1, batch_size=64, lr=3e-3, seed=5)
    b, _ = train(epochs=1, batch_size=64, lr=3e-3, seed=5)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(pa, pb), name
    assert not torch.equal(a.fc.weight, DigitsNet().fc.weight)
