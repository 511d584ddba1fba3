"""Reverse-time VP SDE with the Euler-Maruyama predictor (Song et al. 2021b, "reverse diffusion").

The discrete training schedule defines the continuous one: tau = (t + 1) / T and
beta(tau) = T * beta_t, so the SDE dx = -1/2 beta x dtau + sqrt(beta) dw runs backwards as
x_{tau - h} = x + h (beta x / 2 + beta * score) + sqrt(beta h) noise, score = -z / sqrt(1 - alpha_bar).
The last step, from the last grid point to tau = 0, returns its mean without the noise: score_sde's
``pc_sampler(..., denoise=True)`` returns ``x_mean`` of its last predictor step
(yang-song/score_sde_pytorch, sampling.py). As there, x_0 is never clipped or thresholded: the
scheduler config's ``clip_sample`` and ``thresholding`` do not apply to this sampler.
"""

from __future__ import annotations

import math


from harness.samplers.base import SAMPLERS, Sampler
from harness.seeds import per_image_randn


@SAMPLERS.register("sde")
class VPSDESampler(Sampler):
    stochastic = True

    def step(self, i, x, z, generators):
        t, prev = self.grid[i], self.previous(i)
        T = self.schedule.num_train_timesteps
        a_t = self.schedule.alpha_bar(t)
        beta = T * (1 - a_t / self.schedule.alpha_bar(t - 1))  # beta_t = 1 - alpha_t, scaled to tau
        h = (t - prev) / T
        score = -z / math.sqrt(1 - a_t)
        mean = x + h * (0.5 * beta * x + beta * score)
        if prev < 0:
            return mean  # denoise=True: the last step without its noise
        if generators is None:
            raise ValueError("the SDE sampler needs per-image generators")
        return mean + math.sqrt(beta * h) * per_image_randn(x.shape[1:], generators, x.device, x.dtype)
