"""DDIM (Song et al. 2021a, Eq. 12), written out because diffusers' DDIMScheduler derives the
previous time point from the step count (diffusers issues 11347, 12633) and so jumps to the
wrong point on a non-uniform grid. Here the previous point is always the grid's next entry.
Otherwise the step is diffusers' DDIMScheduler.step on the Dash's scheduler config: x_0 clipped
or thresholded as the config says, the last step to alpha_bar = 1 or, with ``set_alpha_to_one:
false``, to alpha_bar_0 (tests/test_samplers.py compares the two)."""

from __future__ import annotations

import math


from harness.samplers.base import SAMPLERS, Sampler
from harness.seeds import per_image_randn


@SAMPLERS.register("ddim")
class DDIMSampler(Sampler):
    """Options: eta (0 = deterministic DDIM, 1 = DDPM-like ancestral noise)."""

    def __init__(self, noise, grid, eta: float = 0.0):
        self.eta = float(eta)
        self.stochastic = self.eta > 0
        super().__init__(noise, grid, eta=eta)

    def step(self, i, x, z, generators):
        t, prev = self.grid[i], self.previous(i)
        a_t = self.schedule.alpha_bar(t)
        a_prev = self.schedule.alpha_bar(prev) if prev >= 0 else self.schedule.final_alpha_bar
        x0 = self.schedule.clip_x0((x - math.sqrt(1 - a_t) * z) / math.sqrt(a_t))
        sigma = self.eta * math.sqrt((1 - a_prev) / (1 - a_t)) * math.sqrt(1 - a_t / a_prev)
        x_prev = math.sqrt(a_prev) * x0 + math.sqrt(max(1 - a_prev - sigma**2, 0.0)) * z
        if sigma > 0:
            if generators is None:
                raise ValueError("a stochastic DDIM step (eta > 0) needs per-image generators")
            x_prev = x_prev + sigma * per_image_randn(x.shape[1:], generators, x.device, x.dtype)
        return x_prev
