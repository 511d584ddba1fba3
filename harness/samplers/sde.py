"""Reverse-time VP SDE with the Euler-Maruyama predictor (Song et al. 2021b, "reverse diffusion").

The discrete training schedule defines the continuous one: tau = (t + 1) / T and
beta(tau) = T * beta_t, so the SDE dx = -1/2 beta x dtau + sqrt(beta) dw runs backwards as
x_{tau - h} = x + h (beta x / 2 + beta * score) + sqrt(beta h) noise, score = -z / sqrt(1 - alpha_bar).
The last step returns the denoised mean (Tweedie), as score_sde's ``denoise=True``.
"""

from __future__ import annotations

import math

import torch

from harness.samplers.base import SAMPLERS, Sampler
from harness.seeds import per_image_randn


@SAMPLERS.register("sde")
class VPSDESampler(Sampler):
    stochastic = True

    def step(self, i, x, z, generators):
        t, prev = self.grid[i], self.previous(i)
        a_t = self.schedule.alpha_bar(t)
        if prev < 0:
            x0 = (x - math.sqrt(1 - a_t) * z) / math.sqrt(a_t)
            return x0.clamp(-1, 1) if self.schedule.clip_sample else x0
        if generators is None:
            raise ValueError("the SDE sampler needs per-image generators")
        T = self.schedule.num_train_timesteps
        beta = T * (1 - a_t / self.schedule.alpha_bar(t - 1))  # beta_t = 1 - alpha_t, scaled to tau
        h = (t - prev) / T
        score = -z / math.sqrt(1 - a_t)
        noise = per_image_randn(x.shape[1:], generators, x.device, x.dtype)
        return x + h * (0.5 * beta * x + beta * score) + math.sqrt(beta * h) * noise
