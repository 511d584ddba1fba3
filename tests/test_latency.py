"""The latency timer and step callables on CPU, with a tiny UNet and Dot built inline."""

from __future__ import annotations

import json
import math

import time

import pandas as pd
import pytest
import torch
from diffusers import UNet2DModel

from harness.models.dash import Dash

from harness.analysis.curves import attach_latency
from harness.cli import main
from harness.errors import HarnessError
from harness.latency import device as device_info
from harness.latency import results, steps
from harness.latency.timing import time_callable

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def tiny_dash():
    torch.manual_seed(0)
    unet = UNet2DModel(sample_size=16, in_channels=1, out_channels=1, block_out_channels=(16, 32),
                       down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"),
                       norm_num_groups=8, layers_per_block=1).eval()
    return Dash(unet=unet, noise={}, sample_shape=(1, 16, 16), vae=None, source="tiny")


@pytest.fixture()
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # a shared CPU: one thread keeps the spread small
    yield
    torch.set_num_threads(before)


def test_timer_measures_a_known_duration():
    timing = time_callable(lambda: time.sleep(0.01), CPU, warmup=1, repeats=5)
    assert 0.01 <= timing.q1_s <= timing.median_s <= timing.q3_s < 0.5
    assert timing.iqr_s == pytest.approx(timing.q3_s - timing.q1_s) and timing.repeats == 5
    with pytest.raises(ValueError):
        time_callable(lambda: None, CPU, repeats=0)


def test_timer_skips_warmup_and_reports_median_and_quartiles(monkeypatch):
    """A fake clock instead of a timed test: call k takes k seconds, so the numbers are exact."""
    import harness.latency.timing as timing

    calls, clock = [], {"now": 0.0}

    def perf_counter():
        return clock["now"]

    def step():
        calls.append(1)
        clock["now"] += float(len(calls))  # the k-th call lasts k seconds

    monkeypatch.setattr(timing.time, "perf_counter", perf_counter)
    result = time_callable(step, CPU, warmup=2, repeats=5)
    assert len(calls) == 7
    assert (result.median_s, result.q1_s, result.q3_s) == (5.0, 4.0, 6.0)  # calls 3..7 timed
    assert result.iqr_s == 2.0 and (result.warmup, result.repeats) == (2, 5)


def test_dot_step_runs_the_dot_signature(tiny_dash, one_thread):
    calls = []

    def dot(x_ts, x_ti, z_ts, t_s, t_i, **cond):
        calls.append((x_ts.shape, x_ti.shape, z_ts.shape, t_s.tolist(), t_i.tolist(), cond))
        return x_ti

    time_callable(steps.dot_step(dot, tiny_dash, 3), CPU, warmup=0, repeats=1)
    assert calls == [((3, 1, 16, 16),) * 3 + ([600] * 3, [500] * 3, {})]


def test_real_dot_runs_through_the_dot_step(tiny_dash, one_thread):
    from harness.morse.dot import build_dot
    from harness.morse.dot_config import DotConfig

    dot = build_dot(tiny_dash.unet, DotConfig(m=1, channels=(8,), lora_rank=0)).eval()
    outputs = []
    step = steps.dot_step(lambda *a, **k: outputs.append(dot(*a, **k)) or outputs[-1], tiny_dash, 2)
    assert time_callable(step, CPU, warmup=0, repeats=2).median_s > 0
    assert [o.shape for o in outputs] == [(2, 1, 16, 16)] * 2


def test_latency_stage_writes_a_row_for_the_digits_pair(tmp_path, capsys):
    argv = ["latency", "--dash", "config:digits", "--experiment", "digits", "--batch-size", "2", "--device", "cpu",
            "--warmup", "1", "--repeats", "3", "--threads", "1", "--pipeline-steps", "2", "--pipeline-repeats", "1",
            "--results-dir", str(tmp_path)]
    assert main(argv) == 0
    assert "N = " in capsys.readouterr().out
    row = results.load_all(tmp_path).iloc[0]
    assert row["N"] == pytest.approx(row["dash_median_s"] / row["dot_median_s"])
    assert row["cpu_threads"] == 1 and row["batch_size"] == 2 and row["pipeline_s_per_image"] > 0
    assert row["torch_version"] == torch.__version__ and '"m": 2' in row["dot"]
    assert main([*argv[:-2], "--dot-config", '{"nonsense": 1}', "--results-dir", str(tmp_path)]) == 1
    assert "DotConfig fields" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:  # not JSON: a usage error before anything runs
        main([*argv[:-2], "--dot-config", '{"m": 1', "--results-dir", str(tmp_path)])
    assert usage.value.code == 2 and "is not JSON" in capsys.readouterr().err


def test_measure_n_called_from_python_writes_and_returns_the_row(tmp_path, capsys, one_thread):
    from harness.latency.measure import measure_n

    row = measure_n(dash="config:digits", experiment="digits", dot={"m": 1, "channels": [8], "lora_rank": 2},
                    serves=["work/digits/dot/ddim", "oracle"], batch_size=2, warmup=0, repeats=2, results_dir=tmp_path)
    assert row["N"] == pytest.approx(row["dash_median_s"] / row["dot_median_s"])
    saved = results.load_all(tmp_path).iloc[0]
    assert saved["N"] == pytest.approx(row["N"]) and saved["serves"] == "work/digits/dot/ddim;oracle"
    assert json.loads(saved["dot"])["channels"] == [8] and saved["repeats"] == 2
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith(f"N = {row['N']:.2f}")
    with pytest.raises(HarnessError, match="DotConfig fields"):
        measure_n(dash="config:digits", experiment="digits", dot={"m": 1}, results_dir=tmp_path)  # no channel widths
    with pytest.raises(HarnessError, match="unknown dtype 'float64'"):
        measure_n(dash="config:digits", experiment="digits", dot={}, dtype="float64", results_dir=tmp_path)


def test_device_identity_and_merged_csvs(tmp_path):
    info = device_info.identify(CPU)
    assert info["device"].startswith("cpu-") and info["device_kind"] == "cpu"
    assert device_info.slug("NVIDIA GeForce RTX 3090") == "nvidia-geforce-rtx-3090"
    key = {"experiment": "e", "dash": "config:x", "dot": "{}", "dtype": "float32", "batch_size": 4}
    results.write({**key, "device": "a", "N": 5.0}, tmp_path)
    results.write({**key, "device": "a", "N": 6.0}, tmp_path)  # same key: replaces
    results.write({**key, "device": "b", "N": 7.0}, tmp_path)
    merged = results.load_all(tmp_path)
    assert sorted(merged["N"]) == [6.0, 7.0]
    assert results.lookup_n(merged, "e", "a") == (6.0, "a")
    assert list(pd.read_csv(tmp_path / "latency_a.csv").columns) == results.COLUMNS
    older = tmp_path / "older"  # a file written before a column existed still takes new rows
    older.mkdir()
    pd.DataFrame([{**key, "device": "a", "N": 5.0}]).to_csv(older / "latency_a.csv", index=False)
    results.write({**key, "device": "a", "serves": "dot/x", "N": 6.0}, older)
    assert results.load_all(older)["N"].tolist() == [5.0, 6.0]


def test_a_guided_step_runs_both_branches_for_dash_and_for_a_dot_without_the_scale_input(one_thread):
    """CFG doubles the batch of every model call; a Dot trained over guidance scales takes w in one branch."""
    from harness.models.dash import load_dash
    from harness.morse.dot import build_dot
    from harness.morse.dot_config import DotConfig

    dash = load_dash("config:tiny-sd")
    seen = []
    dash.unet.register_forward_hook(lambda module, args, kwargs, out: seen.append(args[0].shape[0]), with_kwargs=True)
    steps.dash_step(dash, 3, 7.5)()
    steps.dash_step(dash, 3)()
    assert seen == [6, 3]
    mixing = build_dot(load_dash("config:tiny-sd").unet, DotConfig(m=1, channels=(16,), lora_rank=0,
                                                                    conditions="prompts"))
    taking_w = build_dot(load_dash("config:tiny-sd").unet, DotConfig(m=1, channels=(16,), lora_rank=0,
                                                                      conditions="prompts", guidance_scales=(2, 10)))
    for dot, branches in ((mixing, 2), (taking_w, 1)):
        calls = []
        dot.register_forward_hook(lambda module, args, kwargs, out: calls.append(args[1].shape[0]), with_kwargs=True)
        steps.dot_step(dot, dash, 3, 7.5)()
        assert calls == [3 * branches] and steps.dot_branches(dot, 7.5) == branches


@pytest.mark.parametrize("cost", ["one_branch", "two_branches"])
def test_a_dot_that_takes_w_is_timed_both_ways_and_n_is_the_configured_one(tmp_path, capsys, cost):
    """Issue 22: a guided step of a Dot taking w costs one branch or, counted like Dash's CFG, two; both N are
    recorded, and --guided-dot-cost (config key latency.guided_dot_cost) says which one the latencies use."""
    import json

    dot = json.dumps({"m": 1, "channels": [16], "lora_rank": 0, "conditions": "prompts", "guidance_scales": [2, 10]})
    argv = ["latency", "--dash", "config:tiny-sd", "--experiment", "t", "--batch-size", "2", "--device", "cpu",
            "--warmup", "0", "--repeats", "2", "--threads", "1", "--guidance-scale", "7.5", "--dot-config", dot,
            "--guided-dot-cost", cost, "--results-dir", str(tmp_path)]
    assert main(argv) == 0
    row = results.load_all(tmp_path).iloc[0]
    assert row["N_one_branch"] == pytest.approx(row["dash_median_s"] / row["dot_median_s"])
    assert row["N_two_branches"] == pytest.approx(row["dash_median_s"] / row["dot_two_branches_median_s"])
    chosen = {"one_branch": ("N_one_branch", 1), "two_branches": ("N_two_branches", 2)}[cost]
    assert row["N"] == row[chosen[0]] and row["dot_branches"] == chosen[1] and row["guided_dot_cost"] == cost
    assert f"the latencies use {cost}" in capsys.readouterr().out


def test_each_dot_s_morse_rows_get_the_n_of_the_timing_that_serves_it(tmp_path):
    """Fig. 6 times ADM and ADM-G, Table 7 the independent and the shared Dot of one Dash: a folder per timing,
    each serving some Dots (the `latency.dot` timing also the reference Dots); a lone row serves every Dot."""
    key = {"experiment": "e", "dot": "{}", "dtype": "float32", "batch_size": 4, "device": "a"}
    for timing, serves, n in (("cond", "dot/cond;oracle;zero", 6.5), ("guided", "dot/guided", 10.5),
                              ("independent", "dot/independent", 4.0)):
        results.write({**key, "dash": timing, "serves": serves, "N": n}, tmp_path / timing)
    results.write({**key, "dash": "stale", "N": 1.0}, tmp_path)  # an old file beside the timings is not read
    table = results.load_all([tmp_path / name for name in ("cond", "guided", "independent")])
    assert len(table) == 3
    rows = pd.DataFrame({"experiment": "e", "dot": ["dot/cond", "dot/guided", "oracle", "dot/independent", None],
                         "dash_steps": 2, "dot_steps": [13, 21, 13, 8, 0]})
    out = attach_latency(rows, lambda experiment, dot: results.lookup_n(table, experiment, None, dot))
    assert out["N"].tolist()[:4] == [6.5, 10.5, 6.5, 4.0] and math.isnan(out["N"].iloc[4])
    assert out["latency_lsd"].tolist() == [4.0, 4.0, 4.0, 4.0, 2.0]
    with pytest.raises(HarnessError, match="Dot 'dot/other'.*the row serving it is missing"):
        results.lookup_n(table, "e", None, "dot/other")
    lone = table[table["dash"] == "cond"].assign(serves=None)
    assert results.lookup_n(lone, "e", None, "dot/anything") == (6.5, "a")  # the experiment's one row
