"""Time grids and samplers: explicit grids, the previous point always the grid's next entry."""

import math

import pytest
import torch

from harness.samplers import SAMPLERS, make_grid, make_sampler
from harness.seeds import make_generators

NOISE = dict(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, beta_schedule="linear",
             prediction_type="epsilon", clip_sample=False)


@pytest.mark.parametrize("name", ["uniform", "quadratic"])
@pytest.mark.parametrize("steps", [1, 3, 10, 50, 1000])
def test_grids_are_strictly_descending_and_start_at_T(name, steps):
    grid = make_grid(name, steps)
    assert len(grid) == steps
    assert grid[0] == 999
    assert all(a > b for a, b in zip(grid, grid[1:]))
    assert grid[-1] >= 0


def test_uniform_and_quadratic_points():
    assert make_grid("uniform", 4) == [999, 749, 499, 249]
    quad = make_grid("quadratic", 10)
    gaps = [a - b for a, b in zip(quad, quad[1:])]
    assert gaps == sorted(gaps, reverse=True)  # denser near the data end


def test_unknown_grid_and_too_many_steps():
    with pytest.raises(ValueError, match="unknown time grid"):
        make_grid("cosine-ish", 10)
    with pytest.raises(ValueError):
        make_grid("uniform", 1001)


def test_ddim_jumps_to_the_next_grid_point_on_a_quadratic_grid():
    """DDIM with eta=0 and the exact noise maps x_t to x_prev of the *grid's* next point
    (diffusers' DDIMScheduler would use t - T/n here: issues 11347, 12633)."""
    grid = make_grid("quadratic", 10)
    sampler = make_sampler("ddim", NOISE, grid)
    x0 = torch.rand(2, 1, 4, 4) * 2 - 1
    eps = torch.randn_like(x0)
    for i, t in enumerate(grid):
        a_t = sampler.schedule.alpha_bar(t)
        x_t = math.sqrt(a_t) * x0 + math.sqrt(1 - a_t) * eps
        prev = grid[i + 1] if i + 1 < len(grid) else -1
        a_p = sampler.schedule.alpha_bar(prev)
        expected = math.sqrt(a_p) * x0 + math.sqrt(1 - a_p) * eps
        # float32 arithmetic on values of order 1, about 10 operations: 1e-5 is ~100 ulps
        torch.testing.assert_close(sampler.step(i, x_t, eps, None), expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_runs_the_exact_grid(name):
    grid = make_grid("quadratic", 7)
    sampler = make_sampler(name, NOISE, grid)
    assert sampler.grid == grid
    x = torch.randn(2, 1, 4, 4)
    for i in range(len(grid)):
        x = sampler.step(i, x, torch.zeros_like(x), make_generators([0, 1]))
    assert torch.isfinite(x).all()


def test_non_descending_grid_rejected():
    with pytest.raises(ValueError, match="descending"):
        make_sampler("ddim", NOISE, [10, 500])


def test_unknown_sampler_lists_known_ones():
    with pytest.raises(ValueError, match="unknown sampler 'euler'; known: ddim"):
        make_sampler("euler", NOISE, [999])
