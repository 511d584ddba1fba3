"""Shared fixtures: a tiny Dash (random weights) saved as a diffusers model folder; `cuda` tests skip without CUDA."""

from __future__ import annotations

import pytest
import torch

torch.set_num_threads(1)  # tiny models: one thread is fastest and never oversubscribes a shared CPU

TINY_UNET = dict(
    sample_size=16, in_channels=1, out_channels=1, block_out_channels=(16, 32), layers_per_block=1,
    norm_num_groups=8, down_block_types=("DownBlock2D", "AttnDownBlock2D"), up_block_types=("AttnUpBlock2D", "UpBlock2D"),
)


@pytest.fixture(scope="session")
def tiny_dash_dir(tmp_path_factory):
    """A diffusers UNet2DModel folder with its DDPM scheduler config, 16x16 grey, like the digits Dash."""
    from diffusers import DDPMScheduler, UNet2DModel

    directory = tmp_path_factory.mktemp("tiny_dash")
    torch.manual_seed(0)
    UNet2DModel(**TINY_UNET).save_pretrained(directory)
    DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=True).save_config(directory)
    return directory


@pytest.fixture
def tiny_dash(tiny_dash_dir):
    """A freshly loaded tiny Dash (each test may inject LoRA into its own copy)."""
    from harness.models.dash import load_dash

    return load_dash(str(tiny_dash_dir))


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA device (marker `cuda`)")
    for item in items:
        if "cuda" in item.keywords:
            item.add_marker(skip)
