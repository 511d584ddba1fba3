"""The packaged architecture configs (`configs/<name>.json`) and the diffusers objects built from them.

Each JSON file holds `source` (the hub id, or `digits`), `description`, `parameters` (the UNet's
parameter count), `sample_shape` (C, H, W of the sampling space), `vae` (null, or how latents map
to pixels; a test config's is an AutoencoderKL config with its `_class_name`, built with random
weights), `unet` (a diffusers UNet config dict with its `_class_name`) and `scheduler` (the
training noise schedule and sampler settings as a diffusers scheduler config, read by
`harness.samplers.noise.noise_settings`). Text-conditioned test Dashes (`tiny-sd`, `tiny-sdxl`) add
`text_encoders`: one transformers CLIP text config per encoder (its `_class_name`, CLIPTextModel or
CLIPTextModelWithProjection), tokenized with the BPE vocabulary open_clip ships (so nothing is
downloaded). A hub pipeline's config may add `pipeline`: its VAE and text encoders as the same kind of
configs, which only the rehearsal's stand-in writer reads (harness/rehearsal/stand_ins.py). Adding a
model is adding a file.
"""

from __future__ import annotations

import functools
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


def side_divisor(unet_config: dict) -> int:
    """What a UNet's input sides must be divisible by: 2 per downsampling for UNet2DModel, 1 for
    UNet2DConditionModel, which passes its up-sampling sizes down (diffusers' forward_upsample_size)."""
    if unet_config.get("_class_name") == "UNet2DConditionModel":
        return 1
    return 2 ** (len(unet_config["block_out_channels"]) - 1)


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


@functools.lru_cache(maxsize=1)
def open_clip_tokenizer(max_length: int = 77):
    """A transformers CLIPTokenizer over the BPE vocabulary and merges that open_clip ships (CLIP's own)."""
    from open_clip.tokenizer import SimpleTokenizer
    from transformers import CLIPTokenizer

    bpe = SimpleTokenizer()
    merges = [pair for pair, _ in sorted(bpe.bpe_ranks.items(), key=lambda item: item[1])]
    special = {"bos_token": "<start_of_text>", "eos_token": "<end_of_text>", "pad_token": "<end_of_text>",
               "unk_token": "<end_of_text>"}
    return CLIPTokenizer(vocab=dict(bpe.encoder), merges=merges, model_max_length=max_length, **special)


def build_text_encoders(config: dict, *, seed: int = 0, dtype: torch.dtype = torch.float32) -> list:
    """The config's `text_encoders` with seeded random weights, each with open_clip's tokenizer ([] if none)."""
    return [build_text_encoder(config, k, seed=seed, dtype=dtype) for k in range(len(config.get("text_encoders") or []))]


def build_text_encoder(config: dict, index: int, *, seed: int = 0, dtype: torch.dtype = torch.float32):
    """The config's text encoder ``index`` (seeded by its position) with open_clip's tokenizer, None past the last."""
    import transformers

    from harness.models.conditioning import TextEncoder

    specs = config.get("text_encoders") or []
    if index >= len(specs):
        return None
    fields = {key: value for key, value in specs[index].items() if key != "_class_name"}
    cls = getattr(transformers, specs[index]["_class_name"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed + 1 + index)
        model = cls(transformers.CLIPTextConfig(**fields))
    return TextEncoder(open_clip_tokenizer(fields.get("max_position_embeddings", 77)), model.to(dtype))


def build_vae(config: dict, *, seed: int = 0, dtype: torch.dtype = torch.float32) -> torch.nn.Module | None:
    """The config's AutoencoderKL with seeded random weights, when its `vae` is a model config (else None)."""
    spec = config.get("vae") or {}
    if spec.get("_class_name") != "AutoencoderKL":
        return None
    from diffusers import AutoencoderKL

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        vae = AutoencoderKL.from_config(spec)
    return torch.nn.Module.to(vae, dtype=dtype)
