"""Samplers whose update rule is a diffusers scheduler's ``step``, run over an explicit grid.

The scheduler is rebuilt for every run (``reset``) with ``set_timesteps(timesteps=grid)``, and
the grid it reports is checked against ours, so a scheduler's spacing rule can never move a
step. The scheduler is built from every setting of the Dash's scheduler config that its class
accepts (``harness.samplers.noise``: clipping, thresholding, variance type, ...), so it steps as it
would in the model's own pipeline. Per-image generators are passed as a list, which diffusers'
``randn_tensor`` honours image by image.
"""

from __future__ import annotations

import warnings

from diffusers import DDPMScheduler, DPMSolverMultistepScheduler, LCMScheduler

from harness.samplers.base import SAMPLERS, Sampler
from harness.samplers.noise import scheduler_kwargs


class DiffusersSampler(Sampler):
    scheduler_cls: type
    scheduler_options: dict = {}
    variance_types: tuple[str, ...] | None = None  # the Dash variance types the sampler supports (None: any)

    def __init__(self, noise, grid, **options):
        super().__init__(noise, grid, **options)
        variance = self.schedule.settings["variance_type"]
        if self.variance_types is not None and variance not in self.variance_types:
            raise ValueError(f"the Dash's variance_type {variance!r} needs the model's variance output, which Dot does "
                             f"not predict; this sampler supports {', '.join(self.variance_types)}")

    def reset(self) -> None:
        kwargs = {**scheduler_kwargs(self.schedule.settings, self.scheduler_cls), **self.scheduler_options, **self.options}
        with warnings.catch_warnings():  # diffusers deprecates, but still implements, the original DPM-Solver
            warnings.simplefilter("ignore", FutureWarning)
            self.scheduler = self.scheduler_cls(**kwargs)
        self.scheduler.set_timesteps(timesteps=self.grid)
        used = [int(t) for t in self.scheduler.timesteps]
        if used != self.grid:
            raise RuntimeError(f"{self.scheduler_cls.__name__} moved the time grid: {used} != {self.grid}")

    def step(self, i, x, z, generators):
        return self.scheduler.step(z, self.grid[i], x, generator=generators).prev_sample


def register(name: str, scheduler_cls: type, stochastic: bool, prediction_types=("epsilon",), variance_types=None,
             **scheduler_options):
    """Register a diffusers scheduler under ``name`` with fixed options (one entry per sampler)."""
    cls = type(
        f"{scheduler_cls.__name__}Sampler_{name}",
        (DiffusersSampler,),
        {
            "scheduler_cls": scheduler_cls,
            "scheduler_options": scheduler_options,
            "stochastic": stochastic,
            "prediction_types": prediction_types,
            "variance_types": variance_types,
            "__doc__": f"{name}: diffusers {scheduler_cls.__name__} with {scheduler_options or 'defaults'}",
        },
    )
    SAMPLERS.register(name)(cls)


# DDPM ancestral sampling (Ho et al. 2020) on a jump grid, with the config's fixed variance.
register("ddpm", DDPMScheduler, stochastic=True, prediction_types=("epsilon", "v_prediction"),
         variance_types=("fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log"))
# DPM-Solver (Lu et al. 2022) and DPM-Solver++ multistep, second order, first order at the end.
# The original DPM-Solver ends at sigma_min (diffusers supports "zero" only for the ++ variants).
register("dpm_solver", DPMSolverMultistepScheduler, stochastic=False,
         algorithm_type="dpmsolver", solver_order=2, lower_order_final=True, final_sigmas_type="sigma_min")
register("dpm_solver_pp", DPMSolverMultistepScheduler, stochastic=False, prediction_types=("epsilon", "v_prediction"),
         algorithm_type="dpmsolver++", solver_order=2, lower_order_final=True, final_sigmas_type="zero")
# DPM-Solver on the SDE: the stochastic second-order SDE-DPM-Solver++.
register("dpm_solver_sde", DPMSolverMultistepScheduler, stochastic=True,
         algorithm_type="sde-dpmsolver++", solver_order=2, lower_order_final=True, final_sigmas_type="zero")
# Latent consistency models (Luo et al. 2023): each step predicts x0 and re-noises to the next point.
register("lcm", LCMScheduler, stochastic=True)
