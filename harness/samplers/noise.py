"""The Dash's noise and sampler settings: one definition, read from its diffusers scheduler config.

``SETTINGS`` are the keys of a scheduler config that change what a sampler computes: the training
noise schedule (alpha_bar_t = prod_{s<=t} (1 - beta_s)), what the model predicts, and how the
predicted x_0 is clipped or thresholded, the variance of ancestral steps and the last step's alpha.
``noise_settings`` reads them from the Dash's config, with diffusers' defaults where the config is
silent; ``Dash.noise`` is that dict and every sampler takes it. Samplers built on a diffusers
scheduler pass every setting the scheduler class accepts (``scheduler_kwargs``), so they behave as
that scheduler does on the model's own config; the harness's own DDIM applies clipping,
thresholding and ``set_alpha_to_one`` as diffusers' DDIMScheduler does (``NoiseSchedule.clip_x0``).
"""

from __future__ import annotations

import functools
import inspect
import json

import torch
from diffusers import DDIMScheduler, DDPMScheduler

SETTINGS = (
    "num_train_timesteps", "beta_start", "beta_end", "beta_schedule", "trained_betas", "rescale_betas_zero_snr",
    "prediction_type", "variance_type", "clip_sample", "clip_sample_range",
    "thresholding", "dynamic_thresholding_ratio", "sample_max_value", "set_alpha_to_one",
)


def _defaults() -> dict:
    """diffusers' defaults of SETTINGS: DDPMScheduler's, and DDIMScheduler's for ``set_alpha_to_one``."""
    found = {}
    for cls in (DDIMScheduler, DDPMScheduler):  # DDPM's take precedence where both define a key
        found.update({k: p.default for k, p in inspect.signature(cls.__init__).parameters.items() if k in SETTINGS})
    return found


def noise_settings(scheduler_config: dict) -> dict:
    """The SETTINGS of a scheduler config (diffusers' format), diffusers' defaults filling the gaps."""
    defaults = _defaults()
    return {key: scheduler_config.get(key, defaults[key]) for key in SETTINGS}


def scheduler_kwargs(noise: dict, scheduler_cls) -> dict:
    """The settings that a diffusers scheduler class accepts."""
    accepted = inspect.signature(scheduler_cls.__init__).parameters
    return {k: v for k, v in noise.items() if k in SETTINGS and k in accepted}


def dynamic_threshold(x0: torch.Tensor, ratio: float, max_value: float) -> torch.Tensor:
    """Dynamic thresholding (Saharia et al. 2022), as diffusers' ``DDIMScheduler._threshold_sample``:
    s = the ``ratio`` quantile of |x0| per image, clamped to [1, max_value]; x0 -> clamp(x0, -s, s) / s."""
    flat = x0.float().reshape(x0.shape[0], -1)
    s = torch.quantile(flat.abs(), ratio, dim=1).clamp(min=1, max=max_value).unsqueeze(1)
    return (flat.clamp(-s, s) / s).reshape(x0.shape).to(x0.dtype)


@functools.lru_cache(maxsize=32)
def _alphas_cumprod(kwargs_json: str) -> torch.Tensor:
    """alpha_bar of diffusers' DDPMScheduler on these settings (remembered: samplers are built per
    pair in Dot training). Shared between schedules: read it, never write to it."""
    return DDPMScheduler(**json.loads(kwargs_json)).alphas_cumprod.to(torch.float64)


class NoiseSchedule:
    """alpha_bar on the integer training steps (alpha_bar(-1) = 1, the empty product) and the
    settings of the Dash's scheduler config (see ``noise_settings``)."""

    def __init__(self, noise: dict):
        self.settings = {**noise_settings({}), **{k: v for k, v in noise.items() if k in SETTINGS}}
        self.alphas_cumprod = _alphas_cumprod(json.dumps(scheduler_kwargs(self.settings, DDPMScheduler), sort_keys=True))
        self.num_train_timesteps = len(self.alphas_cumprod)
        self.prediction_type = self.settings["prediction_type"]

    def alpha_bar(self, t: int) -> float:
        return 1.0 if t < 0 else float(self.alphas_cumprod[t])

    @property
    def final_alpha_bar(self) -> float:
        """alpha_bar after the last step of a DDIM-type sampler: 1, or alpha_bar_0 when the config
        sets ``set_alpha_to_one: false`` (Stable Diffusion; diffusers' ``final_alpha_cumprod``)."""
        return 1.0 if self.settings["set_alpha_to_one"] else self.alpha_bar(0)

    def clip_x0(self, x0: torch.Tensor) -> torch.Tensor:
        """The predicted x_0 thresholded or clipped as diffusers' DDIMScheduler.step does: dynamic
        thresholding when ``thresholding``, else clamping to +-``clip_sample_range`` when ``clip_sample``."""
        if self.settings["thresholding"]:
            return dynamic_threshold(x0, self.settings["dynamic_thresholding_ratio"], self.settings["sample_max_value"])
        if self.settings["clip_sample"]:
            r = self.settings["clip_sample_range"]
            return x0.clamp(-r, r)
        return x0

    def add_noise(self, x0: torch.Tensor, noise: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, with t one step index per image."""
        a = self.alphas_cumprod.to(x0.device)[t].to(x0.dtype).view(-1, *([1] * (x0.dim() - 1)))
        return a.sqrt() * x0 + (1 - a).sqrt() * noise
