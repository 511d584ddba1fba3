"""The packaged architecture configs (`configs/<name>.json`) and the diffusers objects built from them.

Each JSON file holds `source` (the hub id, or `digits`), `description`, `parameters` (the UNet's
parameter count), `sample_shape` (C, H, W of the sampling space), `vae` (null, or how latents map
to pixels), `unet` (a diffusers UNet config dict with its `_class_name`) and `scheduler` (the
training noise schedule and sampler settings as a diffusers scheduler config, read by
`harness.samplers.noise.noise_settings`). Adding a model is adding a file.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from harness.errors import HarnessError

CONFIG_DIR = Path(__file__).parent / "configs"


def architecture_names() -> list[str]:
    """Names of the packaged configs, e.g. `ddpm-cifar10-32`."""
    return sorted(path.stem for path in CONFIG_DIR.glob("*.json"))


def load_architecture(name: str) -> dict:
    """A packaged config by name, or any JSON file of the same layout by path."""
    path = Path(name) if name.endswith(".json") else CONFIG_DIR / f"{name}.json"
    if not path.is_file():
        raise HarnessError(f"unknown architecture config {name!r}; packaged: {', '.join(architecture_names())}")
    return json.loads(path.read_text())


def architecture_for_source(source: str) -> dict | None:
    """The packaged config whose `source` is this hub id, or None."""
    for name in architecture_names():
        config = load_architecture(name)
        if config["source"] == source:
            return config
    return None


def unet_class(unet_config: dict) -> type:
    """UNet2DModel or UNet2DConditionModel, from the config's `_class_name`."""
    from diffusers import UNet2DConditionModel, UNet2DModel

    classes = {cls.__name__: cls for cls in (UNet2DModel, UNet2DConditionModel)}
    name = unet_config.get("_class_name")
    if name not in classes:
        raise HarnessError(f"unsupported UNet class {name!r}; supported: {', '.join(classes)}")
    return classes[name]


def build_unet(
    unet_config: dict, *, seed: int = 0, device: str | torch.device = "cpu", dtype: torch.dtype = torch.float32
) -> torch.nn.Module:
    """A UNet with seeded random weights, created directly on `device` (`meta` allocates nothing).

    The caller's random state is left as it was.
    """
    device = torch.device(device)
    cuda_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices), device:
        torch.manual_seed(seed)
        unet = unet_class(unet_config).from_config(unet_config)
    # nn.Module.to: diffusers' own .to(dtype) warns about fp32-pinned modules, which these UNets lack
    return torch.nn.Module.to(unet, dtype=dtype)


def sample_shape(unet: torch.nn.Module) -> tuple[int, int, int]:
    """(C, H, W) of the space the UNet denoises, from its config."""
    size = unet.config.sample_size
    height, width = (size, size) if isinstance(size, int) else size
    return (unet.config.in_channels, height, width)
