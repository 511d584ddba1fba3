"""A local Dash folder read without its weights: what it holds, or one line saying what is missing.

A diffusers model folder is `config.json` + weights (`diffusion_pytorch_model*.safetensors` or `.bin`,
what `save_pretrained` writes) + `scheduler_config.json` (what `scheduler.save_config` writes); a
pipeline folder holds the same under `unet/` and `scheduler/`. The plan, `harness check` and
`harness new-experiment` read a folder through :func:`inspect_folder`, so a folder that is missing,
incomplete or without its noise schedule stops before any job with the same message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError

WEIGHT_PATTERNS = ("diffusion_pytorch_model*.safetensors", "diffusion_pytorch_model*.bin")
SAVE_HINT = "`unet.save_pretrained(DIR)` writes config.json and the weights, `scheduler.save_config(DIR)` the schedule"


def config_sample_shape(unet_config: dict) -> tuple[int, int, int]:
    """(C, H, W) a UNet of this config denoises, with diffusers' defaults (sample_size 64, in_channels 4)."""
    size = unet_config.get("sample_size", 64)
    height, width = (size, size) if isinstance(size, int) else size
    return int(unet_config.get("in_channels", 4)), int(height), int(width)


@dataclass(frozen=True)
class DashFolder:
    """What a Dash folder holds: its UNet's config and folder, its scheduler config (None: the source's
    packaged one applies) and weight files."""

    directory: Path
    unet_dir: Path
    unet_config: dict
    scheduler: dict | None
    weights: tuple[Path, ...]

    @property
    def sample_shape(self) -> tuple[int, int, int]:
        """(C, H, W) the UNet denoises (a latent Dash: its latent space)."""
        return config_sample_shape(self.unet_config)

    @property
    def latent(self) -> bool:
        return (self.directory / "vae" / "config.json").is_file()

    @property
    def files(self) -> list[Path]:
        """What sampling reads from the folder: the UNet's config and weights, the scheduler config."""
        schedulers = [self.directory / "scheduler_config.json", self.directory / "scheduler" / "scheduler_config.json"]
        return [self.unet_dir / "config.json", *self.weights, *(p for p in schedulers if p.is_file())]


def inspect_folder(directory: str | Path, *, source: str | None = None, need_scheduler: bool = True) -> DashFolder:
    """The Dash folder ``directory`` (of Dash ``source``, for messages), or a HarnessError naming what is
    missing and how to supply it; ``need_scheduler=False`` when a packaged config supplies the schedule."""
    directory = Path(directory)
    name = f"Dash {source!r} folder {directory}" if source and source != str(directory) else f"Dash folder {directory}"
    if not directory.is_dir():
        raise HarnessError(f"{name} does not exist: point config key `dash.path` (or `dash.source`) at a diffusers "
                           "model folder (config.json + weights + scheduler_config.json)")
    pipeline = (directory / "unet" / "config.json").is_file()
    unet_dir = directory / "unet" if pipeline else directory
    if not (unet_dir / "config.json").is_file():
        raise HarnessError(f"{name} holds no config.json (nor unet/config.json): it is not a diffusers model folder; "
                           f"{SAVE_HINT}")
    try:
        unet_config = json.loads((unet_dir / "config.json").read_text())
    except (OSError, ValueError) as err:
        raise HarnessError(f"{unet_dir / 'config.json'} is damaged ({err}); write it again with "
                           "`unet.save_pretrained(DIR)`") from None
    weights = tuple(sorted(p for pattern in WEIGHT_PATTERNS for p in unet_dir.glob(pattern)))
    if not weights:
        raise HarnessError(f"{name} has config.json but no weights (diffusion_pytorch_model.safetensors or .bin); "
                           f"{SAVE_HINT}")
    scheduler_file = directory / "scheduler" / "scheduler_config.json" if pipeline else directory / "scheduler_config.json"
    scheduler = None
    if scheduler_file.is_file():
        try:
            scheduler = json.loads(scheduler_file.read_text())
        except ValueError as err:
            raise HarnessError(f"{scheduler_file} is damaged ({err}); write it again with "
                               "`scheduler.save_config(DIR)`") from None
    elif need_scheduler:
        raise HarnessError(f"{name} has no {scheduler_file.relative_to(directory)} (the noise schedule every sampler "
                           "needs): save the scheduler the model was trained with, e.g. "
                           f"`DDPMScheduler(num_train_timesteps=1000).save_config({str(scheduler_file.parent)!r})`")
    return DashFolder(directory, unet_dir, unet_config, scheduler, weights)
