"""The training noise schedule of a Dash model: alpha_bar_t = prod_{s<=t} (1 - beta_s)."""

from __future__ import annotations

import inspect

import torch
from diffusers import DDPMScheduler

NOISE_KEYS = ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "prediction_type", "clip_sample")


def scheduler_kwargs(noise: dict, scheduler_cls) -> dict:
    """The noise-schedule entries that a diffusers scheduler class accepts."""
    accepted = inspect.signature(scheduler_cls.__init__).parameters
    return {k: v for k, v in noise.items() if k in NOISE_KEYS and k in accepted}


class NoiseSchedule:
    """alpha_bar on the integer training steps, with alpha_bar(-1) = 1 for the final step to data."""

    def __init__(self, noise: dict):
        scheduler = DDPMScheduler(**scheduler_kwargs(noise, DDPMScheduler))
        self.alphas_cumprod = scheduler.alphas_cumprod.to(torch.float64)
        self.num_train_timesteps = int(scheduler.config.num_train_timesteps)
        self.prediction_type = scheduler.config.prediction_type
        self.clip_sample = bool(noise.get("clip_sample", False))

    def alpha_bar(self, t: int) -> float:
        return 1.0 if t < 0 else float(self.alphas_cumprod[t])

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, with t one step index per image."""
        a = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype).view(-1, *([1] * (x0.dim() - 1)))
        return a.sqrt() * x0 + (1 - a).sqrt() * noise
