"""Time grids and samplers: explicit grids, the previous point always the grid's next entry."""

import math

import pytest
import torch

from harness.samplers import GRIDS, SAMPLERS, make_grid, make_sampler
from harness.seeds import make_generators

NOISE = dict(num_train_timesteps=1000, beta_start=1e-4, beta_end=0.02, beta_schedule="linear",
             prediction_type="epsilon", clip_sample=False)


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("steps", [1, 3, 10, 50])
def test_grids_are_strictly_descending_and_in_range(name, steps):
    try:
        grid = make_grid(name, steps, NOISE)
    except ValueError as err:  # CompVis' rule reaches T for S > T / 2 or 3 steps (1, 334, 667, 1000)
        assert name == "ldm-uniform" and "leaves [0, 999]" in str(err)
        return
    assert all(a > b for a, b in zip(grid, grid[1:]))
    assert 0 <= grid[-1] and grid[0] <= 999


@pytest.mark.parametrize("steps", [1, 3, 10, 50, 61, 1000])
def test_trailing_grid_has_every_step_and_starts_at_T(steps):
    grid = make_grid("trailing", steps, NOISE)
    assert len(grid) == steps and grid[0] == 999
    assert make_grid("trailing", 4, NOISE) == [999, 749, 499, 249]


# Values worked out from the owners' code (ermongroup/ddim e8df66c runners/diffusion.py,
# CompVis/stable-diffusion make_ddim_timesteps, openai/improved-diffusion 1bc7bbb respace.py,
# LuChengTHU/dpm-solver 52bc3fb get_time_steps in float64 on betas linspace(1e-4, 0.02, 1000),
# yang-song/score_sde_pytorch sampling.py + models/utils.py, diffusers LCMScheduler).
OFFICIAL = {
    ("ddim-uniform", 10): [900, 800, 700, 600, 500, 400, 300, 200, 100, 0],
    ("ddim-uniform", 3): [999, 666, 333, 0],  # range(0, 1000, 333): the official code visits 4 points
    ("ddim-uniform", 8): [875, 750, 625, 500, 375, 250, 125, 0],
    ("ddim-quadratic", 3): [800, 200, 0],
    ("ddim-quadratic", 10): [800, 632, 483, 355, 246, 158, 88, 39, 9, 0],  # int(800 i^2 / 81)
    ("ldm-uniform", 10): [901, 801, 701, 601, 501, 401, 301, 201, 101, 1],
    ("ldm-uniform", 15): [991 - 66 * i for i in range(16)],  # range(0, 1000, 66) + 1: 16 points
    ("iddpm-respace", 3): [999, 500, 0],  # round(499.5) = 500 (Python rounds halves to even)
    ("iddpm-respace", 4): [999, 666, 333, 0],
    ("iddpm-respace", 10): [999, 888, 777, 666, 555, 444, 333, 222, 111, 0],
    ("dpm-solver-logsnr", 3): [999, 603, 73],  # 999.0, 602.765, 72.796 (and the end, 0)
    ("dpm-solver-logsnr", 5): [999, 785, 492, 138, 17],  # 784.817, 492.114, 138.04, 16.803
    ("dpm-solver-time-uniform", 5): [999, 799, 599, 400, 200],  # 799.2, 599.4, 399.6, 199.8
    ("dpm-solver-time-uniform", 10): [999, 899, 799, 699, 599, 500, 400, 300, 200, 100],  # 499.5 -> 500
    ("dpm-solver-time-quadratic", 5): [999, 649, 374, 175, 50],  # 649.159, 374.339, 174.539, 49.759
    ("score-sde-uniform", 3): [999, 500, 1],  # linspace(1, 1e-3, 3) * 999 = 999, 499.9995, 0.999
    ("lcm", 4): [999, 759, 499, 259],
    ("lcm", 2): [999, 499],
}


@pytest.mark.parametrize("name,steps", sorted(OFFICIAL))
def test_official_grids_match_their_owners_code(name, steps):
    assert make_grid(name, steps, NOISE) == OFFICIAL[name, steps]


def test_repeated_points_are_dropped_and_bad_grids_refused():
    quad = make_grid("ddim-quadratic", 100, NOISE)  # int(0.0816 i^2) repeats 0, 2, ... near the data end
    assert len(quad) < 100 and quad[0] == 800 and len(set(quad)) == len(quad)
    with pytest.raises(ValueError, match="leaves"):
        make_grid("ldm-uniform", 3, NOISE)  # range(0, 1000, 333) + 1 reaches 1000
    assert make_grid("ddim-uniform", 20, dict(NOISE, num_train_timesteps=4000))[:2] == [3800, 3600]


def test_unknown_grid_and_too_many_steps():
    with pytest.raises(ValueError, match="unknown time grid"):
        make_grid("cosine-ish", 10, NOISE)
    with pytest.raises(ValueError):
        make_grid("trailing", 1001, NOISE)


def test_ddim_jumps_to_the_next_grid_point_on_a_quadratic_grid():
    """DDIM with eta=0 and the exact noise maps x_t to x_prev of the *grid's* next point
    (diffusers' DDIMScheduler would use t - T/n here: issues 11347, 12633)."""
    grid = make_grid("ddim-quadratic", 10, NOISE)
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
    grid = make_grid("ddim-quadratic", 7, NOISE)
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


PAPER_GRIDS = {  # sampler -> the grids of its official code (the owners named in harness/samplers/grids.py)
    "ddim": {"ddim-uniform", "ddim-quadratic", "ldm-uniform", "iddpm-respace"},
    "ddpm": {"ddim-uniform", "ddim-quadratic", "iddpm-respace"},
    "dpm_solver": {"dpm-solver-logsnr", "dpm-solver-time-uniform", "dpm-solver-time-quadratic"},
    "sde": {"score-sde-uniform"},
    "lcm": {"lcm"},
}


def test_every_paper_config_names_an_official_grid_of_its_sampler_and_the_schema_knows_every_grid():
    import json
    from pathlib import Path

    from config_helpers import offline, paper_configs

    root = Path(__file__).resolve().parents[1]
    for name, experiment in paper_configs().items():
        for series in experiment["series"] if not offline(experiment) else []:
            assert series["grid"] in PAPER_GRIDS[series["sampler"]], (name, series["name"], series["grid"])
    schema = json.loads((root / "config" / "schema.json").read_text())
    assert set(schema["$defs"]["series"]["properties"]["grid"]["enum"]) == set(GRIDS)
