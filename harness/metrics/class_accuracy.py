"""Class accuracy (`harness class-accuracy`): how often a classifier reads each image as the class it was generated for.

The conditional digits experiment's stand-in for the CLIP score (Table 1, Fig. 8): the CLIP score
asks whether an image matches its prompt, this asks whether the digits classifier (DigitsNet, the
same network whose pooled features are the digits FID feature, :mod:`harness.metrics.digitsnet`)
predicts the label the image was conditioned on. The intended labels are the shards' own
``labels`` array (seed s's label, :mod:`harness.conditions`). The first ``--num-samples`` seeds are
scored (fewer is an error). ``class_accuracy_row`` is the results row: identity columns from the
shard meta, ``class_accuracy`` (higher is better), the classifier that scored it and its provenance.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from harness import provenance
from harness.conditions import LABELS  # the shard array of intended class labels, one per seed
from harness.errors import HarnessError
from harness.images import ShardImages, open_images
from harness.metrics import digitsnet
from harness.metrics.rows import identity_columns, sample_meta
from harness.metrics.sha import file_sha256
from harness.shards import open_shard

COLUMN = "class_accuracy"


def intended_labels(samples: ShardImages) -> dict[int, int]:
    """Seed -> the label its image was generated for, from the shards' ``labels`` arrays."""
    labels: dict[int, int] = {}
    for path in samples.paths:
        with open_shard(path) as data:
            if LABELS not in data.files:
                raise HarnessError(f"{path} stores no `{LABELS}`: it was not sampled with class labels "
                                   "(`harness sample --conditions labels:K`)")
            labels.update(zip(data["seeds"].tolist(), data[LABELS].tolist()))
    return labels


def accuracy(predicted: np.ndarray, intended: np.ndarray) -> float:
    """The share of images whose predicted class is their intended one."""
    if len(predicted) != len(intended) or not len(predicted):
        raise ValueError("accuracy needs one prediction per intended label, at least one")
    return float(np.mean(np.asarray(predicted) == np.asarray(intended)))


@torch.no_grad()
def predict(classifier: torch.nn.Module, images: np.ndarray, device: str) -> np.ndarray:
    """uint8 (n, H, W, C) -> the classifier's class per image."""
    x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).to(device)
    return classifier(digitsnet.to_input(x)).argmax(dim=1).cpu().numpy()


def load_classifier(weights: Path, device: str) -> torch.nn.Module:
    from safetensors.torch import load_file

    if not Path(weights).is_file():
        raise HarnessError(f"classifier weights {weights} are missing (the shipped ones are {digitsnet.DEFAULT_WEIGHTS})")
    net = digitsnet.DigitsNet()
    net.load_state_dict(load_file(str(weights)))
    return net.to(device).eval().requires_grad_(False)


def class_accuracy_row(*, samples: list[str], num_samples: int, classifier_weights: Path, batch_size: int, device: str,
                       command_line: list[str] = ()) -> dict:
    """The accuracy row of the first ``num_samples`` images of ``samples`` (shards with their labels), with the
    provenance of the stage run by ``command_line``."""
    samples = open_images(samples).first(num_samples)
    if not isinstance(samples, ShardImages):
        raise HarnessError("class-accuracy scores sample shards (.npz with `labels`), not an image folder")
    labels = intended_labels(samples)
    classifier = load_classifier(classifier_weights, device)
    predicted, intended = [], []
    for seeds, images in samples.batches(batch_size):
        predicted.append(predict(classifier, images, device))
        intended.append(np.array([labels[int(s)] for s in seeds]))
    score = accuracy(np.concatenate(predicted), np.concatenate(intended))
    meta = sample_meta(samples)
    row = {
        **identity_columns(meta, samples.ids),
        COLUMN: score,
        "class_accuracy_classifier": digitsnet.NAME,
        "class_accuracy_classifier_sha256": file_sha256(classifier_weights),
        "class_accuracy_resize": digitsnet.RESIZE,
        "class_accuracy_labels": (meta.get("conditions") or {}).get("spec", ""),  # the shard's condition source
        **provenance.columns(list(command_line), meta.get("experiment"), device),
    }
    return row
