"""DigitsNet: a small CNN classifier of the 16x16 digits, the FID feature network of the embedded default.

Inception-v3 was trained on ImageNet photographs; on 16x16 greyscale digits its features say
little and cost ~300x more. DigitsNet plays its role for the digits benchmark: a classifier
trained on the digits' train split (``harness train-digitsnet``), whose global-average-pooled
last convolution (64 values, like Inception's 2048-d pool3) is the FID feature. It is a
torch-fidelity feature extractor registered as ``digitsnet``, so ``calculate_metrics`` can use
it like any built-in one. Weights ship as ``harness/assets/digitsnet.safetensors``.
"""

from __future__ import annotations


import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import load_file
from torch_fidelity import register_feature_extractor
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.helpers import vassert
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from harness.assets import DIGITSNET_WEIGHTS

NAME = "digitsnet"
INPUT_SIZE = 16
DEFAULT_WEIGHTS = DIGITSNET_WEIGHTS
RESIZE = f"bilinear-antialias-{INPUT_SIZE}"  # what forward() does to inputs of another size


class DigitsNet(nn.Module):
    """conv 1->32 -> conv 32->64 (stride 2) -> conv 64->64 (stride 2) -> mean pool -> linear 64->10."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(1, 32, 3, padding=1),
                nn.Conv2d(32, 64, 3, stride=2, padding=1),
                nn.Conv2d(64, 64, 3, stride=2, padding=1),
            ]
        )
        self.fc = nn.Linear(64, 10)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """x: float (n, 1, 16, 16) in [-1, 1] -> pooled features (n, 64)."""
        for conv in self.convs:
            x = F.relu(conv(x))
        return x.mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x))


def to_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 (n, 1 or 3, H, W) -> float (n, 1, 16, 16) in [-1, 1]: channel mean, then resize."""
    x = x.float().mean(dim=1, keepdim=True)
    if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
        x = F.interpolate(x, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", antialias=True, align_corners=False)
    return x / 127.5 - 1.0


class FeatureExtractorDigitsNet(FeatureExtractorBase):
    """torch-fidelity feature extractor: features '64' (FID) and 'logits'."""

    def __init__(self, name, features_list, feature_extractor_weights_path=None, **kwargs):
        super().__init__(name, features_list)
        self.net = DigitsNet()
        self.net.load_state_dict(load_file(str(feature_extractor_weights_path or DEFAULT_WEIGHTS)))
        self.requires_grad_(False)
        self.eval()

    @staticmethod
    def get_provided_features_list():
        return "64", "logits"

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return {"fid": "64", "kid": "64", "prc": "64", "isc": "logits"}[metric]

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return torch.zeros(1, 3, INPUT_SIZE, INPUT_SIZE, dtype=torch.uint8)

    def forward(self, x):
        vassert(torch.is_tensor(x) and x.dtype == torch.uint8, "Expecting image as torch.Tensor with dtype=torch.uint8")
        vassert(x.dim() == 4 and x.shape[1] in (1, 3), f"Input is not Bx1xHxW or Bx3xHxW: {x.shape}")
        pooled = self.net.features(to_input(x))
        provided = {"64": pooled, "logits": self.net.fc(pooled)}
        return tuple(provided[name] for name in self.features_list)


if NAME not in FEATURE_EXTRACTORS_REGISTRY:  # importlib.reload must not register twice
    register_feature_extractor(NAME, FeatureExtractorDigitsNet)
