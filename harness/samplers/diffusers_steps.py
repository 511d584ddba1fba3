"""Samplers whose update rule is a diffusers scheduler's ``step``, run over an explicit grid.

The scheduler is rebuilt for every run (``reset``) with ``set_timesteps(timesteps=grid)``, and
the grid it reports is checked against ours, so a scheduler's spacing rule can never move a
step. The scheduler is built from every setting of the Dash's scheduler config that its class
accepts (``harness.samplers.noise``: clipping, thresholding, variance type, ...), so it steps as it
would in the model's own pipeline. Per-image generators are passed as a list, which diffusers'
``randn_tensor`` honours image by image. Each entry names its scheduler class, looked up in diffusers when a
sampler is built: registering does not import the scheduler's module (DPMSolverMultistepScheduler's imports
scipy.stats, 1 to 2 s of CPU in every Snakemake plan, which imports the samplers to lay out grids).
"""

from __future__ import annotations

import warnings

import diffusers

from harness.samplers.base import SAMPLERS, Sampler
from harness.samplers.noise import scheduler_kwargs


class DiffusersSampler(Sampler):
    scheduler_name: str  # a scheduler class of diffusers
    scheduler_options: dict = {}
    options_for_steps = staticmethod(lambda steps: {})  # options that depend on the grid's length (solver order)
    variance_types: tuple[str, ...] | None = None  # the Dash variance types the sampler supports (None: any)

    def __init__(self, noise, grid, **options):
        super().__init__(noise, grid, **options)
        variance = self.schedule.settings["variance_type"]
        if self.variance_types is not None and variance not in self.variance_types:
            raise ValueError(f"the Dash's variance_type {variance!r} needs the model's variance output, which Dot does "
                             f"not predict; this sampler supports {', '.join(self.variance_types)}")

    @property
    def scheduler_cls(self) -> type:
        return getattr(diffusers, self.scheduler_name)

    def reset(self) -> None:
        kwargs = {**scheduler_kwargs(self.schedule.settings, self.scheduler_cls), **self.scheduler_options,
                  **self.options_for_steps(len(self.grid)), **self.options}
        with warnings.catch_warnings():  # diffusers deprecates, but still implements, the original DPM-Solver
            warnings.simplefilter("ignore", FutureWarning)
            self.scheduler = self.scheduler_cls(**kwargs)
        self.scheduler.set_timesteps(timesteps=self.grid)
        used = [int(t) for t in self.scheduler.timesteps]
        if used != self.grid:
            raise RuntimeError(f"{self.scheduler_name} moved the time grid: {used} != {self.grid}")

    def step(self, i, x, z, generators):
        return self.scheduler.step(z, self.grid[i], x, generator=generators).prev_sample


def register(name: str, scheduler_name: str, stochastic: bool, prediction_types=("epsilon",), variance_types=None,
             options_for_steps=None, **scheduler_options):
    """Register diffusers' scheduler class ``scheduler_name`` under ``name`` with fixed options (one entry per
    sampler), and with ``options_for_steps(steps)`` those that depend on the number of model evaluations."""
    if scheduler_name not in dir(diffusers):  # diffusers lists its classes without importing their modules
        raise ValueError(f"diffusers has no scheduler {scheduler_name!r} (sampler {name!r})")
    cls = type(
        f"{scheduler_name}Sampler_{name}",
        (DiffusersSampler,),
        {
            "scheduler_name": scheduler_name,
            "scheduler_options": scheduler_options,
            "stochastic": stochastic,
            "prediction_types": prediction_types,
            "variance_types": variance_types,
            **({"options_for_steps": staticmethod(options_for_steps)} if options_for_steps else {}),
            "__doc__": f"{name}: diffusers {scheduler_name} with {scheduler_options or 'defaults'}",
        },
    )
    SAMPLERS.register(name)(cls)


# DDPM ancestral sampling (Ho et al. 2020) on a jump grid, with the config's fixed variance.
register("ddpm", "DDPMScheduler", stochastic=True, prediction_types=("epsilon", "v_prediction"),
         variance_types=("fixed_small", "fixed_small_log", "fixed_large", "fixed_large_log"))


def dpm_solver_recommended_order(steps: int) -> dict:
    """The solver order LuChengTHU/dpm-solver recommends for unconditional sampling (README at 52bc3fb,
    "Suggestions for the Detailed Settings"): the 2nd-order multistep DPM-Solver++ for steps <= 10, the
    3rd-order multistep one above (as its CIFAR-10 example, examples/ddpm_and_guided-diffusion/sample.sh)."""
    return {"solver_order": 2 if steps <= 10 else 3}


# DPM-Solver (Lu et al. 2022), the ODE solver of the paper's DPM-Solver rows (Fig. 4: on the discrete DDPM
# model and, "DPM-Solver on SDE", on the continuous score-SDE model): multistep DPM-Solver++ at the
# recommended order, lower orders at the end, solving to t_0 = 1/N (sigma_min) as the official code does.
register("dpm_solver", "DPMSolverMultistepScheduler", stochastic=False, options_for_steps=dpm_solver_recommended_order,
         algorithm_type="dpmsolver++", lower_order_final=True, final_sigmas_type="sigma_min")
# DPM-Solver++ for guided sampling (the same README: 2nd order, multistep, for every step count).
register("dpm_solver_pp", "DPMSolverMultistepScheduler", stochastic=False, prediction_types=("epsilon", "v_prediction"),
         algorithm_type="dpmsolver++", solver_order=2, lower_order_final=True, final_sigmas_type="zero")
# Latent consistency models (Luo et al. 2023): each step predicts x0 and re-noises to the next point.
register("lcm", "LCMScheduler", stochastic=True)
