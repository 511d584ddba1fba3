"""FID feature extractors by name: torch-fidelity's networks, with weights resolved offline-safely.

Each entry of ``EXTRACTORS`` builds an :class:`Extractor` from (weights path, offline, device):

- ``inception-v3-compat``: torch-fidelity's InceptionV3 (TF-FID-compatible), the paper's FID;
- ``digitsnet``: the digits feature network (:mod:`harness.metrics.digitsnet`), embedded default;
- ``inception-v3-untrained``: the same InceptionV3 at its random initialisation, for
  throughput measurements only (its name keeps it out of any comparison with real FIDs).

Weights are always handed to torch-fidelity as a file, so torch-fidelity never downloads by
itself, and the file's sha256 goes into every row. Inception weights come from
``--extractor-weights``, else the registered location (:mod:`harness.external`,
``data/weights/weights-inception-2015-12-05-6726825d.pth``), else torch hub's cache; otherwise they
are downloaded once into that cache, unless offline, which is an error naming the expected file and
how to supply it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable
from unittest import mock

import torch
import torch_fidelity
from torch_fidelity import feature_extractor_inceptionv3 as tf_inception
from torch_fidelity import register_feature_extractor
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY
from torch_fidelity.utils import create_feature_extractor

from harness import external
from harness.errors import HarnessError
from harness.images import resize_label
from harness.metrics import digitsnet
from harness.metrics.sha import file_sha256
from harness.registry import Registry

BACKEND = "torch-fidelity"
INCEPTION = external.get(external.INCEPTION)
INCEPTION_RESIZE = f"tf1-bilinear-{tf_inception.FeatureExtractorInceptionV3.INPUT_IMAGE_SIZE}"


@dataclass
class Extractor:
    """A torch-fidelity feature extractor ready for FID, and what identifies its features."""

    name: str
    network: FeatureExtractorBase
    layer: str
    weights_sha256: str
    resize: str  # what the network does to bring images to its input size
    device: torch.device

    @torch.no_grad()
    def features(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 (n, 3, H, W) -> float32 (n, d) features on the CPU."""
        out = self.network.convert_features_tuple_to_dict(self.network(images.to(self.device)))
        return out[self.layer].float().cpu()

    def provenance(self, image_size: int | None) -> dict:
        """What features of images resized to ``image_size`` depend on: the FID row's provenance
        columns, part of the reference-statistics key, checked when partial statistics merge."""
        return {
            "fid_feature_extractor": self.name,
            "fid_feature_layer": self.layer,
            "fid_extractor_sha256": self.weights_sha256,
            "fid_backend": BACKEND,
            "fid_backend_version": torch_fidelity.__version__,
            "fid_resize": f"{resize_label(image_size)}+{self.resize}",
        }


def build(name: str, weights: Path | None, resize: str, device: str, sha256: str | None = None) -> Extractor:
    """Create torch-fidelity's registered extractor ``name`` with its FID layer, weights from a file."""
    cls = FEATURE_EXTRACTORS_REGISTRY[name]
    layer = cls.get_default_feature_layer_for_metric("fid")
    path = None if weights is None else str(weights)
    network = create_feature_extractor(name, [layer], cuda=False, feature_extractor_weights_path=path, verbose=False)
    network = network.to(device)
    return Extractor(name, network, layer, sha256 or file_sha256(weights), resize, torch.device(device))


EXTRACTORS: Registry[Callable[..., Extractor]] = Registry("FID feature extractor")


def resolve_inception_weights(weights: Path | None, offline: bool) -> Path:
    """The InceptionV3 weights file: given, at its registered location, cached by torch hub, or downloaded there."""
    if weights is not None:
        if not Path(weights).is_file():
            raise HarnessError(INCEPTION.missing(weights, " (--extractor-weights)"))
        return Path(weights)
    cached = Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION.path.name
    for candidate in (INCEPTION.path, cached):
        if candidate.is_file():
            return candidate
    if offline:
        why = f" (and not in torch hub's cache, {cached.parent}; --offline forbids downloading)"
        raise HarnessError(INCEPTION.missing(why=why))
    cached.parent.mkdir(parents=True, exist_ok=True)
    torch.hub.download_url_to_file(external.INCEPTION_URL, str(cached))
    return cached


@EXTRACTORS.register("inception-v3-compat")
def inception(weights: Path | None = None, offline: bool = False, device: str = "cpu") -> Extractor:
    path = resolve_inception_weights(weights, offline)
    return build("inception-v3-compat", path, INCEPTION_RESIZE, device)


@EXTRACTORS.register(digitsnet.NAME)
def digits(weights: Path | None = None, offline: bool = False, device: str = "cpu") -> Extractor:
    path = Path(weights or digitsnet.DEFAULT_WEIGHTS)
    if not path.is_file():
        raise HarnessError(f"DigitsNet weights {path} do not exist; make them with `harness train-digitsnet`")
    return build(digitsnet.NAME, path, digitsnet.RESIZE, device)


class FeatureExtractorInceptionV3Untrained(tf_inception.FeatureExtractorInceptionV3):
    """torch-fidelity's InceptionV3 left at its random initialisation: same cost, meaningless features."""

    def __init__(self, name, features_list, **kwargs):
        # the parent's __init__ always loads weights (downloading them when no path is given)
        with mock.patch.object(tf_inception, "load_state_dict_from_url", lambda *a, **k: None), mock.patch.object(
            tf_inception.FeatureExtractorInceptionV3, "load_state_dict", lambda self, state: None
        ):
            super().__init__(name, features_list, **kwargs)


if "inception-v3-untrained" not in FEATURE_EXTRACTORS_REGISTRY:
    register_feature_extractor("inception-v3-untrained", FeatureExtractorInceptionV3Untrained)


@EXTRACTORS.register("inception-v3-untrained")
def inception_untrained(weights: Path | None = None, offline: bool = False, device: str = "cpu") -> Extractor:
    torch.manual_seed(0)  # one fixed random network
    return build("inception-v3-untrained", None, INCEPTION_RESIZE, device, sha256="untrained")


def make_extractor(name: str, weights: Path | None = None, offline: bool = False, device: str = "cpu") -> Extractor:
    try:
        factory = EXTRACTORS.get(name)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    return factory(weights=weights, offline=offline, device=device)
