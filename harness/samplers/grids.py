"""Time grids for jump sampling: the official spacing rules, each registered under its owner's name.

A rule maps a step count S and the Dash's noise schedule (T training steps) to the integer time
points the owner's code visits, written as that code computes them (its integer casts and Python
rounding included). ``make_grid`` sorts them descending and drops repeated points: a step from t to
t changes nothing (DDIM and DDPM steps are the identity there) but would be counted as a step. The
sampler's last step goes from the smallest point to the clean sample.

The grid has S points for most rules and counts. Where the owner's code visits another number,
the harness runs what that code visits and counts those points: ermongroup/ddim's
``range(0, T, T // S)`` visits more than S points when S does not divide T (3 steps: 999, 666, 333,
0), its quadratic rule repeats points when S > sqrt(0.8 T) + 1. Shards store the explicit grid,
the rule's name and the step count asked for.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Callable

import numpy as np

from harness.registry import Registry
from harness.samplers.noise import NoiseSchedule

GRIDS: Registry = Registry("time grid")


def _round_half_up(values) -> np.ndarray:
    """Nearest integer, halves up (no banker's rounding), for continuous times mapped to steps; a value
    within 1e-9 of a half counts as the half (time_uniform's 499.5 comes out as 499.49999999999994)."""
    return np.floor(np.asarray(values, dtype=np.float64) + 0.5 + 1e-9).astype(np.int64)


@GRIDS.register("trailing")
def trailing(steps: int, schedule: NoiseSchedule) -> list[int]:
    """diffusers' ``timestep_spacing="trailing"`` (DDIMScheduler.set_timesteps; Lin et al. 2024, Table 2):
    round(i T / S) - 1 for i = S, ..., 1, i.e. T - 1, ..., T/S - 1; starts at the noisiest step.
    (Counted over i rather than diffusers' float ``arange(T, 0, -T / S)``, which for some S, e.g. 61,
    yields an extra point at -1.) The harness's own grid, not a paper's: the embedded default uses it."""
    T = schedule.num_train_timesteps
    return (np.round(np.arange(steps, 0, -1) * T / steps).astype(np.int64) - 1).tolist()


@GRIDS.register("ddim-uniform")
def ddim_uniform(steps: int, schedule: NoiseSchedule) -> list[int]:
    """ermongroup/ddim runners/diffusion.py, ``--skip_type uniform``: range(0, T, T // S)
    (10 steps of T = 1000: 900, 800, ..., 0)."""
    T = schedule.num_train_timesteps
    return list(range(0, T, T // steps))


@GRIDS.register("ddim-quadratic")
def ddim_quadratic(steps: int, schedule: NoiseSchedule) -> list[int]:
    """ermongroup/ddim runners/diffusion.py, ``--skip_type quad``: int(s) for s in
    linspace(0, sqrt(0.8 T), S) ** 2, ending at 0.8 T (the DDIM paper's grid for CIFAR-10)."""
    T = schedule.num_train_timesteps
    return [int(s) for s in list(np.linspace(0, np.sqrt(T * 0.8), steps) ** 2)]


@GRIDS.register("ldm-uniform")
def ldm_uniform(steps: int, schedule: NoiseSchedule) -> list[int]:
    """CompVis/stable-diffusion ldm/modules/diffusionmodules/util.py ``make_ddim_timesteps``
    ("uniform", the DDIMSampler of Stable Diffusion): range(0, T, T // S) + 1 (50 steps: 981, ..., 1)."""
    T = schedule.num_train_timesteps
    return (np.asarray(list(range(0, T, T // steps))) + 1).tolist()


@GRIDS.register("iddpm-respace")
def iddpm_respace(steps: int, schedule: NoiseSchedule) -> list[int]:
    """openai/improved-diffusion (and guided-diffusion) respace.py ``space_timesteps(T, [S])``,
    ``--timestep_respacing S``: round(i (T - 1) / (S - 1)) for i < S, with Python's round."""
    T = schedule.num_train_timesteps
    stride = 1 if steps <= 1 else (T - 1) / (steps - 1)
    taken, cur = [], 0.0
    for _ in range(steps):
        taken.append(round(cur))
        cur += stride
    return taken


def _dpm_solver_discrete(schedule: NoiseSchedule) -> tuple[np.ndarray, np.ndarray]:
    """LuChengTHU/dpm-solver ``NoiseScheduleVP('discrete')``: t_n = (n + 1) / N and log alpha_n =
    0.5 log alpha_bar_n, the array cut where the half-logSNR falls below -5.1 (numerical_clip_alpha)."""
    log_alpha = 0.5 * np.log(schedule.alphas_cumprod.numpy())
    lamb = log_alpha - 0.5 * np.log(1.0 - np.exp(2.0 * log_alpha))
    cut = int(np.searchsorted(lamb[::-1], -5.1))
    if cut > 0:
        log_alpha = log_alpha[:-cut]
    n = len(log_alpha)
    return np.linspace(0.0, 1.0, n + 1)[1:], log_alpha


def _dpm_solver_grid(times: np.ndarray, n: int) -> list[int]:
    """The first S of get_time_steps' S + 1 times (the last, t_0 = 1/N, is where the solver stops:
    ``final_sigmas_type="sigma_min"``), as discrete steps: the discrete wrapper's model time
    (t - 1/N) * 1000 for N = 1000 steps, i.e. (t - 1/N) N, rounded to the nearest step."""
    return _round_half_up((times[:-1] - 1.0 / n) * n).tolist()


@GRIDS.register("dpm-solver-logsnr")
def dpm_solver_logsnr(steps: int, schedule: NoiseSchedule) -> list[int]:
    """LuChengTHU/dpm-solver dpm_solver_pytorch.py ``get_time_steps('logSNR', t_T=1, t_0=1/N, S)``:
    uniform in the half-logSNR lambda, inverted through the discrete schedule's piecewise-linear
    log alpha (the repository's choice for low-resolution images such as CIFAR-10)."""
    t_array, log_alpha = _dpm_solver_discrete(schedule)
    n = len(t_array)

    def lambda_at(t):
        la = np.interp(t, t_array, log_alpha)
        return la - 0.5 * np.log(1.0 - np.exp(2.0 * la))

    lambdas = np.linspace(lambda_at(1.0), lambda_at(1.0 / n), steps + 1)
    la = -0.5 * np.logaddexp(0.0, -2.0 * lambdas)
    times = np.interp(la, log_alpha[::-1], t_array[::-1])  # log alpha decreases with t
    return _dpm_solver_grid(times, n)


@GRIDS.register("dpm-solver-time-uniform")
def dpm_solver_time_uniform(steps: int, schedule: NoiseSchedule) -> list[int]:
    """LuChengTHU/dpm-solver ``get_time_steps('time_uniform', 1, 1/N, S)``: linspace(1, 1/N, S + 1)
    (the repository's choice for high-resolution images)."""
    n = len(_dpm_solver_discrete(schedule)[0])
    return _dpm_solver_grid(np.linspace(1.0, 1.0 / n, steps + 1), n)


@GRIDS.register("dpm-solver-time-quadratic")
def dpm_solver_time_quadratic(steps: int, schedule: NoiseSchedule) -> list[int]:
    """LuChengTHU/dpm-solver ``get_time_steps('time_quadratic', 1, 1/N, S)``:
    linspace(1, sqrt(1/N), S + 1) ** 2."""
    n = len(_dpm_solver_discrete(schedule)[0])
    return _dpm_solver_grid(np.linspace(1.0, math.sqrt(1.0 / n), steps + 1) ** 2, n)


@GRIDS.register("score-sde-uniform")
def score_sde_uniform(steps: int, schedule: NoiseSchedule) -> list[int]:
    """yang-song/score_sde_pytorch sampling.py: linspace(T=1, eps=1e-3, S) for the VP SDE, the model's
    discrete label t (N - 1) (models/utils.py get_score_fn, VPSDE), rounded to the nearest step."""
    T = schedule.num_train_timesteps
    return _round_half_up(np.linspace(1.0, 1e-3, steps) * (T - 1)).tolist()


@GRIDS.register("lcm")
def lcm(steps: int, schedule: NoiseSchedule) -> list[int]:
    """diffusers' LCMScheduler.set_timesteps(S) (latent-consistency/lcm-sdxl's pipeline): S points
    of the 50-step distillation grid k - 1, 2k - 1, ..., T - 1 (4 steps: 999, 759, 499, 259)."""
    from diffusers import LCMScheduler

    scheduler = LCMScheduler(num_train_timesteps=schedule.num_train_timesteps)
    scheduler.set_timesteps(steps)
    return [int(t) for t in scheduler.timesteps]


def grid_points(name: str, num_steps: int, schedule: NoiseSchedule) -> list[int]:
    """The grid of rule ``name`` for ``num_steps`` steps: distinct time points, descending (see the
    module docstring for counts that differ from S)."""
    if num_steps < 1:
        raise ValueError(f"a time grid needs at least one step, got {num_steps}")
    T = schedule.num_train_timesteps
    if num_steps > T:
        raise ValueError(f"{num_steps} steps do not fit in {T} training steps")
    points = sorted({int(t) for t in GRIDS.get(name)(num_steps, schedule)}, reverse=True)
    if points[0] > T - 1 or points[-1] < 0:
        raise ValueError(f"time grid {name!r} for {num_steps} steps leaves [0, {T - 1}]: {points[0]} ... {points[-1]}")
    return points


def make_grid(name: str, num_steps: int, noise: dict) -> list[int]:
    """The grid of rule ``name`` for ``num_steps`` steps on the Dash's noise settings (``Dash.noise``)."""
    return grid_points(name, num_steps, NoiseSchedule(noise))


def grid_counter(name: str, noise: dict) -> Callable[[int], int | None]:
    """F -> how many points rule ``name`` visits for F steps; None for F beyond the training steps,
    and T + 1 (more than any budget has room for) where the rule cannot make a grid of F steps.
    Counts are remembered per rule and noise settings (planning asks for the same ones again)."""
    return _counter(name, json.dumps(noise, sort_keys=True))


@functools.lru_cache(maxsize=None)
def _counter(name: str, noise_json: str) -> Callable[[int], int | None]:
    schedule = NoiseSchedule(json.loads(noise_json))

    @functools.lru_cache(maxsize=None)
    def visited(num_steps: int) -> int | None:
        if num_steps > schedule.num_train_timesteps:
            return None
        try:
            return len(grid_points(name, num_steps, schedule))
        except ValueError:
            return schedule.num_train_timesteps + 1

    return visited
