"""The class accuracy (digits_cond's CLIP-score role): each seed scored against its own intended label."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from harness.cli import main
from harness.data.digits import load_digits_uint8
from harness.errors import HarnessError
from harness.metrics import digitsnet
from harness.metrics.class_accuracy import accuracy, load_classifier, predict
from harness.shards import Shard, write_shard
from metrics_helpers import META


def _write(path, images, seeds, labels=None):
    """A shard as `harness sample --conditions labels:K` writes it: images, seeds, meta and labels."""
    meta = {**META, "experiment": "digits_cond", "conditions": {"spec": "labels:10", "kind": "labels"},
            "seeds": [int(seeds.min()), int(seeds.max())]}
    write_shard(path, Shard(images, seeds, meta, {} if labels is None else {"labels": labels.astype(np.int64)}))
    return path


@pytest.fixture(scope="module")
def digits_and_predictions():
    images = load_digits_uint8(16, "heldout")[:40]
    classifier = load_classifier(digitsnet.DEFAULT_WEIGHTS, "cpu")
    return images, predict(classifier, images, "cpu")


def test_accuracy_is_the_share_of_matches():
    assert accuracy(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 4])) == 0.75
    with pytest.raises(ValueError):
        accuracy(np.array([1]), np.array([1, 2]))


def _score(tmp_path, name, images, seeds, labels, per_shard=15):
    folder = tmp_path / name
    folder.mkdir()
    for start in range(0, len(images), per_shard):
        part = slice(start, start + per_shard)
        _write(folder / f"s{start:03d}.npz", images[part], seeds[part], labels[part])
    out = tmp_path / f"{name}.csv"
    assert main(["class-accuracy", str(folder), "--num-samples", str(len(images)), "--device", "cpu",
                 "--batch-size", "7", "--out", str(out)]) == 0
    with open(out) as handle:
        return next(csv.DictReader(handle))


def test_the_classifier_s_own_predictions_score_one_and_a_wrong_constant_shift_zero(tmp_path, digits_and_predictions):
    images, predicted = digits_and_predictions
    seeds = np.random.default_rng(0).permutation(np.arange(100, 100 + len(images)))  # shards out of seed order
    perfect = _score(tmp_path, "perfect", images, seeds, predicted)
    assert float(perfect["class_accuracy"]) == 1.0
    assert perfect["class_accuracy_classifier"] == "digitsnet" and perfect["class_accuracy_labels"] == "labels:10"
    assert perfect["num_samples"] == str(len(images)) and perfect["seeds"] == f"100-{100 + len(images) - 1}"
    assert len(perfect["class_accuracy_classifier_sha256"]) == 64
    wrong = _score(tmp_path, "wrong", images, seeds, (predicted + 1) % 10)
    assert float(wrong["class_accuracy"]) == 0.0


def test_a_label_belongs_to_its_seed_not_to_its_position(tmp_path, digits_and_predictions):
    images, predicted = digits_and_predictions
    half = len(images) // 2
    shuffled = np.concatenate([predicted[half:], predicted[:half]])  # labels of other seeds
    row = _score(tmp_path, "shifted", images, np.arange(len(images)), shuffled)
    assert float(row["class_accuracy"]) == pytest.approx(np.mean(shuffled == predicted))
    assert float(row["class_accuracy"]) < 1.0


def test_shards_without_labels_are_refused(tmp_path, digits_and_predictions):
    images, _ = digits_and_predictions
    _write(tmp_path / "plain.npz", images, np.arange(len(images)))
    with pytest.raises(HarnessError, match="stores no `labels`"):
        from harness.images import open_images
        from harness.metrics.class_accuracy import intended_labels

        intended_labels(open_images(str(tmp_path / "plain.npz")))
    assert main(["class-accuracy", str(tmp_path / "plain.npz"), "--num-samples", "3", "--device", "cpu",
                 "--out", str(tmp_path / "x.csv")]) == 1
