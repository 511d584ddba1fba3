"""Morse sampling (Algorithm 2): oracle exactness, per-image seeds, LSD accounting, bad input."""

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from harness.cli import main
from harness.morse import budget
from harness.models.denoisers import DashDenoiser
from harness.morse.dot_denoisers import OracleDot, ZeroResidualDot
from harness.morse.sampling import morse_sample
from harness.morse.schedule import MorseSchedule, lsd_cost, plain, plan_from_budget, plan_from_counts, spread_dash
from harness.samplers import make_sampler
from harness.seeds import make_generators, per_image_randn
from harness.shards import read_shard

NOISE = dict(num_train_timesteps=1000, beta_schedule="linear")
ROOT = Path(__file__).resolve().parents[1]


def _run(dash, schedule, sampler, dot, seeds, source="dash"):
    generators = make_generators(seeds)
    x_T = per_image_randn(dash.sample_shape, generators)
    return morse_sample(x_T, schedule, make_sampler(sampler, dash.noise, schedule.grid), DashDenoiser(dash.unet),
                        dot, generators, source)


@pytest.mark.parametrize("sampler", ["ddim", "dpm_solver_pp", "ddpm"])
@pytest.mark.parametrize("source", ["dash", "last"])
def test_oracle_dot_reproduces_the_plain_sampler_bit_for_bit(tiny_dash, sampler, source):
    schedule = plan_from_counts("trailing", 8, 3, NOISE)
    assert schedule.dot_steps == 5
    morse = _run(tiny_dash, schedule, sampler, OracleDot(DashDenoiser(tiny_dash.unet)), [3, 4, 5], source)
    baseline = _run(tiny_dash, plain(list(schedule.grid)), sampler, None, [3, 4, 5])
    assert torch.equal(morse, baseline)


def test_zero_residual_dot_differs_from_the_oracle(tiny_dash):
    """The oracle test above could pass trivially if Dot were never called: here it matters."""
    schedule = plan_from_counts("trailing", 8, 3, NOISE)
    zero = _run(tiny_dash, schedule, "ddim", ZeroResidualDot(), [3])
    oracle = _run(tiny_dash, schedule, "ddim", OracleDot(DashDenoiser(tiny_dash.unet)), [3])
    assert not torch.equal(zero, oracle)


def test_dot_sees_the_observations_of_eq5_and_eq7(tiny_dash):
    calls = []

    def recording_dot(x_ts, x_ti, z_ts, t_s, t_i):
        calls.append((t_s, t_i))
        return z_ts

    schedule = MorseSchedule((999, 800, 600, 400, 200), (True, False, False, True, False))
    _run(tiny_dash, schedule, "ddim", recording_dot, [0])
    assert calls == [(999, 800), (999, 600), (400, 200)]  # Eq. 5: Dash's last point
    calls.clear()
    _run(tiny_dash, schedule, "ddim", recording_dot, [0], source="last")
    assert calls == [(999, 800), (800, 600), (400, 200)]  # Eq. 7: the last step of either model


def test_lsd_accounting():
    schedule = plan_from_counts("trailing", 20, 5, NOISE)
    assert (schedule.dash_steps, schedule.dot_steps) == (5, 15)
    assert schedule.lsd(6.0) == pytest.approx(5 + 15 / 6)
    assert lsd_cost(3, 0, 2.0) == 3
    assert spread_dash(6, 2) == (True, False, False, True, False, False)


@pytest.mark.parametrize("lsd,N,ratio", [(10, 6.0, 0.5), (3, 2.06, 0.3), (1.33, 3.1, 0.25), (20, 5.5, 0.0)])
def test_budget_plans_stay_within_the_budget(lsd, N, ratio):
    schedule, _ = plan_from_budget("trailing", lsd, N, ratio, NOISE)
    assert schedule.is_dash[0]
    assert schedule.lsd(N) <= lsd + 1e-9
    assert schedule.lsd(N) > lsd - 1  # spends the budget up to less than one Dash step
    if ratio == 0:
        assert schedule.dot_steps == 0


def _closest_by_brute_force(lsd, N, ratio, visited=None):
    """For each d, the largest grid request F whose points fit the budget; of those schedules, the
    closest achieved ratio, more Dash steps on a tie: (d, r, F). ``visited[F]``: points of F steps."""
    from fractions import Fraction

    visited = visited or list(range(1001))
    n, n_dot, k = Fraction(str(lsd)), Fraction(str(N)), Fraction(str(ratio))
    options = []
    for d in range(1, math.floor(n) + 1):
        room = math.floor(n_dot * (n - d))
        fitting = [f for f in range(d, len(visited)) if d <= visited[f] <= d + room]
        if fitting:
            options.append((d, visited[max(fitting)] - d, max(fitting)))
    return min(options, key=lambda o: (abs(Fraction(o[1]) / (n_dot * o[0] + o[1]) - k), -o[0]))


def test_budget_rule_closest_ratio_ties_to_more_dash_steps_and_no_bankers_rounding():
    # n = 3, N = 6: only d = 3, 2, 1 exist, achieved k/n = 0, 1/3, 2/3
    assert [(c.dash_steps, c.dot_steps) for c in (budget.resolve(3, 6.0, r) for r in (0.1, 0.3, 0.5, 0.7, 0.9))] == \
        [(3, 0), (2, 6), (2, 6), (1, 12), (1, 12)]  # 0.5 is a tie of 1/3 and 2/3: the more Dash steps
    # n = 5: achieved 0, .2, .4, .6, .8; 0.5 ties .4 and .6 -> d = 3 (Python's round(2.5) = 2 would give d = 2)
    c = budget.resolve(5, 6.0, 0.5)
    assert (c.dash_steps, c.dot_steps) == (3, 12) and c.lsd == 5.0 and c.ratio == pytest.approx(0.4)
    # decimal exactness: 0.3 is 3/10, so at n = 5 it ties .2 and .4 exactly and takes .2 (d = 4)
    assert budget.resolve(5, 6.0, 0.3).dash_steps == 4
    assert (budget.resolve(10, 6.0, 0.9).dash_steps, budget.resolve(10, 6.0, 0.9).dot_steps) == (1, 54)


@pytest.mark.parametrize("grid", ["trailing", "ddim-quadratic", "ddim-uniform"])
def test_every_fig13_request_resolves_to_the_closest_achievable_schedule(grid):
    import yaml

    from harness.experiments.product import expand_morse
    from harness.samplers.grids import grid_counter

    visited = grid_counter(grid, NOISE)
    table = [0] + [visited(f) for f in range(1, 1001)]
    config = yaml.safe_load((ROOT / "config" / "experiments" / "fig13_ratio.yaml").read_text())
    requests = [m for entry in config["experiments"]["fig13_ratio"]["series"][0]["morse"] for m in expand_morse(entry)]
    assert len(requests) == 30
    for morse in requests:
        lsd, N, ratio = morse["lsd"], morse["N"], morse["ratio"]
        c = budget.resolve(lsd, N, ratio, visited)
        assert (c.dash_steps, c.dot_steps, c.grid_steps) == _closest_by_brute_force(lsd, N, ratio, table)
        schedule, _ = plan_from_budget(grid, lsd, N, ratio, NOISE)
        assert (schedule.dash_steps, schedule.dot_steps) == (c.dash_steps, c.dot_steps)
        assert schedule.lsd(N) <= lsd + 1e-12 and c.ratio == pytest.approx((c.dot_steps / N) / c.lsd)


def test_a_grid_that_visits_more_points_than_asked_stays_within_the_budget():
    """ermongroup's range(0, 1000, 66) visits 16 points for 15: the plan asks for fewer steps."""
    schedule, counts = plan_from_budget("ddim-uniform", 100, 6.0, 0.5, NOISE)
    assert schedule.lsd(6.0) <= 100 and len(schedule.grid) == counts.dash_steps + counts.dot_steps
    assert counts.grid_steps < len(schedule.grid)  # asked for fewer steps than it visits
    assert plan_from_budget("ddim-uniform", 5, 6.0, 0.5, NOISE)[0].lsd(6.0) <= 5


def test_what_a_point_requests_and_achieves_is_one_bookkeeping():
    """budget.requested/achieved: a baseline asks for its steps and 0, a budget for itself, counts for their cost
    under N (nothing without N); the workflow's plan and `harness sample` both read them."""
    assert budget.requested(steps=7) == (7.0, 0.0)
    assert budget.requested(lsd=5, ratio=0.5) == (5.0, 0.5)
    assert budget.requested(fine_steps=10, dash_steps=4, N=3.0) == pytest.approx((6.0, 2 / 6))
    assert budget.requested(fine_steps=10, dash_steps=4) == (None, None)
    assert budget.achieved(4, 6, 3.0) == pytest.approx({"lsd_cost": 6.0, "achieved_ratio": 2 / 6})
    assert budget.achieved(4, 0, None) == {"lsd_cost": 4.0, "achieved_ratio": 0.0}
    assert budget.achieved(4, 6, None) == {"lsd_cost": None, "achieved_ratio": None}


def test_a_budget_shard_stores_requested_and_achieved(tiny_dash_dir, tmp_path):
    out = tmp_path / "b.npz"
    assert main(["sample", "--dash", str(tiny_dash_dir), "--lsd", "3", "--ratio", "0.5", "--N", "6", "--dot", "zero",
                 "--seeds", "0-1", "--point", "m_l3_k0p5", "--out", str(out),
                 "--also-serves", '{"point": "m_l3_k0p3", "method": "morse", "requested_lsd": 3, "requested_ratio": 0.3}']) == 0
    meta = read_shard(out).meta
    assert (meta["requested_lsd"], meta["requested_ratio"], meta["requested_steps"]) == (3.0, 0.5, 8)
    assert (meta["dash_steps"], meta["dot_steps"]) == (2, 6)
    assert meta["lsd_cost"] == pytest.approx(3.0) and meta["achieved_ratio"] == pytest.approx(1 / 3)
    assert meta["also_serves"][0]["point"] == "m_l3_k0p3" and meta["method"] == "morse"


def test_budget_below_one_dash_step_is_an_error():
    with pytest.raises(ValueError, match="below one Dash step"):
        plan_from_budget("trailing", 0.5, 6.0, 0.5, NOISE)


def _sample(tiny_dash_dir, out, seeds, batch, extra=()):
    args = ["sample", "--dash", str(tiny_dash_dir), "--sampler", "ddpm", "--fine-steps", "6", "--dash-steps", "2",
            "--dot", "zero", "--seeds", seeds, "--batch-size", str(batch), "--out", str(out), *extra]
    assert main(args) == 0
    return read_shard(out)


def test_an_image_depends_on_its_seed_only(tiny_dash_dir, tmp_path):
    """Stochastic sampler, Morse schedule: batch size and shard layout do not change any image."""
    whole = _sample(tiny_dash_dir, tmp_path / "all.npz", "0-5", 6)
    split_a = _sample(tiny_dash_dir, tmp_path / "a.npz", "0-1", 1)
    split_b = _sample(tiny_dash_dir, tmp_path / "b.npz", "2-5", 3)
    assert np.array_equal(np.concatenate([split_a.images, split_b.images]), whole.images)
    assert whole.seeds.tolist() == list(range(6))
    assert whole.meta["is_dash"] == [True, False, False, True, False, False]
    assert whole.meta["method"] == "morse" and whole.meta["dot_steps"] == 4
    assert not np.array_equal(whole.images[0], whole.images[1])


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--sampler", "euler"], "unknown sampler 'euler'"),
        (["--lsd", "0.5", "--ratio", "0.5", "--N", "4"], "below one Dash step"),
        (["--steps", "4", "--fine-steps", "8"], "exactly one of"),
        (["--fine-steps", "8", "--dash-steps", "2"], "pass --dot"),
    ],
)
def test_bad_sample_input_fails_clearly_and_writes_nothing(tiny_dash_dir, tmp_path, capsys, extra, message):
    base = ["sample", "--dash", str(tiny_dash_dir), "--seeds", "0-3", "--out", str(tmp_path / "x.npz")]
    if not any(flag in extra for flag in ("--steps", "--fine-steps", "--lsd")):
        base += ["--steps", "4"]
    assert main(base + extra) == 1
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_sample_records_the_official_ddim_grid(tiny_dash_dir, tmp_path):
    """Issue 10: `harness sample --steps 10 --grid ddim-uniform` on a 1000-step Dash runs and records
    ermongroup/ddim's grid 900, 800, ..., 0."""
    out = tmp_path / "s.npz"
    assert main(["sample", "--dash", str(tiny_dash_dir), "--sampler", "ddim", "--steps", "10", "--grid", "ddim-uniform",
                 "--seeds", "0-1", "--out", str(out)]) == 0
    meta = read_shard(out).meta
    assert meta["grid_name"] == "ddim-uniform" and meta["grid"] == list(range(900, -1, -100))
    assert meta["dash_steps"] == 10 and meta["is_dash"] == [True] * 10
