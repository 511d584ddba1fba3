"""Issue 10, item 5: one definition of the Dash's scheduler settings, honoured by every sampler.

Each sampler's step is compared with diffusers' scheduler built directly from the same scheduler
config (or with the official formula), on random inputs large enough that clipping bites, with
clipping (or thresholding) on and off.
"""

from __future__ import annotations

import math

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler, LCMScheduler

from harness.samplers import SAMPLERS, make_sampler
from harness.samplers.noise import SETTINGS, NoiseSchedule, noise_settings
from harness.seeds import make_generators, per_image_randn

GRID = [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]  # ermongroup/ddim's uniform grid, 10 steps
SEEDS = [11, 12]
CLIP_OFF = {"clip_sample": False}
CLIP_ON = {"clip_sample": True, "clip_sample_range": 0.5}
THRESHOLD = {"thresholding": True, "dynamic_thresholding_ratio": 0.9, "sample_max_value": 1.5}


def config(**overrides) -> dict:
    return noise_settings({"num_train_timesteps": 1000, "beta_schedule": "linear", **overrides})


def inputs():
    torch.manual_seed(0)
    return 2 * torch.randn(2, 1, 8, 8), torch.randn(2, 1, 8, 8)  # x, z: x0 estimates far outside [-1, 1]


def test_settings_are_read_from_the_config_with_diffusers_defaults():
    sd = noise_settings({"beta_schedule": "scaled_linear", "set_alpha_to_one": False, "clip_sample": False})
    assert set(sd) == set(SETTINGS)
    assert sd["set_alpha_to_one"] is False and sd["clip_sample"] is False and sd["beta_schedule"] == "scaled_linear"
    default = noise_settings({})
    assert default["clip_sample"] == DDPMScheduler().config.clip_sample
    assert default["variance_type"] == DDPMScheduler().config.variance_type
    assert default["set_alpha_to_one"] == DDIMScheduler().config.set_alpha_to_one


@pytest.mark.parametrize("i", [4, len(GRID) - 1])
@pytest.mark.parametrize("settings", [CLIP_OFF, CLIP_ON, THRESHOLD, {**CLIP_OFF, "set_alpha_to_one": False}],
                         ids=["clip-off", "clip-on", "threshold", "alpha-bar-0-last"])
def test_ddim_step_is_diffusers_ddim_step(settings, i):
    noise = config(**settings)
    x, z = inputs()
    reference = DDIMScheduler(**{k: v for k, v in noise.items() if k != "variance_type"})
    reference.set_timesteps(len(GRID))  # "leading": 900, ..., 0, previous point t - 100, as our grid
    assert reference.timesteps.tolist() == GRID
    expected = reference.step(z, GRID[i], x, eta=0.0).prev_sample
    ours = make_sampler("ddim", noise, GRID).step(i, x, z, None)
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)


def test_ddim_clipping_and_final_alpha_change_the_step():
    x, z = inputs()
    step = lambda i, **s: make_sampler("ddim", config(**s), GRID).step(i, x, z, None)  # noqa: E731
    assert not torch.allclose(step(4, **CLIP_OFF), step(4, **CLIP_ON))
    assert not torch.allclose(step(4, **CLIP_OFF), step(4, **THRESHOLD))
    last = len(GRID) - 1
    assert not torch.allclose(step(last, **CLIP_OFF), step(last, **CLIP_OFF, set_alpha_to_one=False))


def _ermongroup_ddpm_step(noise, t, prev, x, z, eps_noise):
    """ermongroup/ddim functions/denoising.py ``ddpm_steps``: x0 clamped to [-1, 1], variance beta_t
    of the jump (DDPM's fixed_large), no noise at t = 0."""
    s = NoiseSchedule(noise)
    at, atm1 = s.alpha_bar(t), s.alpha_bar(prev)
    beta_t = 1 - at / atm1
    x0 = ((1 / at) ** 0.5 * x - (1 / at - 1) ** 0.5 * z).clamp(-1, 1)
    mean = (atm1**0.5 * beta_t * x0 + (1 - beta_t) ** 0.5 * (1 - atm1) * x) / (1 - at)
    return mean + (t > 0) * math.exp(0.5 * math.log(beta_t)) * eps_noise


@pytest.mark.parametrize("settings", [dict(CLIP_OFF, variance_type="fixed_small"),
                                      dict(CLIP_ON, variance_type="fixed_large"), THRESHOLD],
                         ids=["clip-off-small", "clip-on-large", "threshold"])
def test_ddpm_step_is_diffusers_ddpm_step_on_the_full_config(settings):
    noise = config(**settings)
    x, z = inputs()
    reference = DDPMScheduler(**{k: v for k, v in noise.items() if k != "set_alpha_to_one"})
    reference.set_timesteps(timesteps=GRID)
    expected = reference.step(z, GRID[4], x, generator=make_generators(SEEDS)).prev_sample
    ours = make_sampler("ddpm", noise, GRID).step(4, x, z, make_generators(SEEDS))
    torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)


def test_ddpm_with_clipping_and_fixed_large_is_the_ddim_repositorys_ddpm_step():
    noise = config(clip_sample=True, clip_sample_range=1.0, variance_type="fixed_large")
    x, z = inputs()
    ours = make_sampler("ddpm", noise, GRID).step(4, x, z, make_generators(SEEDS))
    eps_noise = per_image_randn(x.shape[1:], make_generators(SEEDS))
    torch.testing.assert_close(ours, _ermongroup_ddpm_step(noise, 500, 400, x, z, eps_noise), rtol=1e-4, atol=1e-4)
    unclipped = make_sampler("ddpm", config(clip_sample=False, variance_type="fixed_large"), GRID)
    assert not torch.allclose(ours, unclipped.step(4, x, z, make_generators(SEEDS)))


def test_ddpm_refuses_a_learned_variance():
    with pytest.raises(ValueError, match="learned_range"):
        make_sampler("ddpm", config(variance_type="learned_range"), GRID)


@pytest.mark.parametrize("name", ["dpm_solver", "dpm_solver_pp"])
@pytest.mark.parametrize("settings", [CLIP_OFF, CLIP_ON, THRESHOLD], ids=["clip-off", "clip-on", "threshold"])
def test_dpm_solver_steps_are_diffusers_on_the_full_config(name, settings):
    noise = config(**settings)
    x, z = inputs()
    sampler = make_sampler(name, noise, GRID)
    options = {**SAMPLERS.get(name).scheduler_options, **SAMPLERS.get(name).options_for_steps(len(GRID))}
    reference = DPMSolverMultistepScheduler(**{k: v for k, v in noise.items() if k not in ("clip_sample", "clip_sample_range",
                                                                                       "set_alpha_to_one")}, **options)
    reference.set_timesteps(timesteps=GRID)
    expected = [reference.step(z, t, x, generator=make_generators(SEEDS)).prev_sample for t in GRID[:2]]
    ours = [sampler.step(i, x, z, make_generators(SEEDS)) for i in range(2)]  # first and second order steps
    for a, b in zip(ours, expected):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("steps, order", [(3, 2), (10, 2), (11, 3), (50, 3)])
def test_dpm_solver_runs_the_order_its_official_code_recommends_for_the_step_count(steps, order):
    """README of LuChengTHU/dpm-solver: 2nd order for <= 10 steps, 3rd order above (unconditional sampling);
    the ODE solver (dpmsolver++), not a stochastic one."""
    grid = [int(t) for t in torch.linspace(999, 0, steps).round()]
    sampler = make_sampler("dpm_solver", config(), grid)
    assert sampler.scheduler.config.solver_order == order and not sampler.stochastic
    assert sampler.scheduler.config.algorithm_type == "dpmsolver++"


@pytest.mark.parametrize("name", ["dpm_solver", "dpm_solver_pp"])
def test_dpm_solver_thresholds_but_never_clips(name):
    """DPM-Solver has no clip_sample (diffusers' class takes none); its clipping is thresholding."""
    x, z = inputs()
    step = lambda **s: make_sampler(name, config(**s), GRID).step(0, x, z, make_generators(SEEDS))  # noqa: E731
    torch.testing.assert_close(step(**CLIP_OFF), step(**CLIP_ON))
    assert not torch.allclose(step(**CLIP_OFF), step(**CLIP_OFF, **THRESHOLD))


@pytest.mark.parametrize("settings", [CLIP_OFF, CLIP_ON, THRESHOLD], ids=["clip-off", "clip-on", "threshold"])
def test_lcm_steps_are_diffusers_lcm_steps_on_the_full_config(settings):
    noise = config(**settings)
    grid = [999, 759, 499, 259]
    x, z = inputs()
    reference = LCMScheduler(**{k: v for k, v in noise.items() if k != "variance_type"})
    reference.set_timesteps(timesteps=grid)
    sampler = make_sampler("lcm", noise, grid)
    ours_gen, ref_gen = make_generators(SEEDS), make_generators(SEEDS)
    for i, t in enumerate(grid[:2]):  # each step draws fresh noise from the same per-image generators
        expected = reference.step(z, t, x, generator=ref_gen).prev_sample
        torch.testing.assert_close(sampler.step(i, x, z, ours_gen), expected, rtol=1e-5, atol=1e-5)


def test_lcm_clipping_changes_the_step():
    x, z = inputs()
    step = lambda **s: make_sampler("lcm", config(**s), [999, 759, 499, 259]).step(0, x, z, make_generators(SEEDS))  # noqa: E731
    assert not torch.allclose(step(**CLIP_OFF), step(**CLIP_ON))


@pytest.mark.parametrize("i", [4, len(GRID) - 1])
def test_sde_step_is_the_euler_maruyama_formula_and_never_clips(i):
    """score_sde's EulerMaruyamaPredictor on the VP SDE with beta(tau) = T beta_t, dt = grid gap / T;
    the last step returns x_mean (denoise=True). Clipping settings do not apply."""
    x, z = inputs()
    t, prev = GRID[i], GRID[i + 1] if i + 1 < len(GRID) else -1
    s = NoiseSchedule(config())
    beta = 1000 * (1 - s.alpha_bar(t) / s.alpha_bar(t - 1))
    h = (t - prev) / 1000
    mean = x + h * (0.5 * beta * x - beta * z / math.sqrt(1 - s.alpha_bar(t)))
    expected = mean if prev < 0 else mean + math.sqrt(beta * h) * per_image_randn(x.shape[1:], make_generators(SEEDS))
    for settings in (CLIP_OFF, CLIP_ON, THRESHOLD):
        ours = make_sampler("sde", config(**settings), GRID).step(i, x, z, make_generators(SEEDS))
        torch.testing.assert_close(ours, expected, rtol=1e-5, atol=1e-5)


def test_every_sampler_has_a_settings_test():
    tested = {"ddim", "ddpm", "dpm_solver", "dpm_solver_pp", "lcm", "sde"}
    assert set(SAMPLERS) == tested
