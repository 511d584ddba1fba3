"""Speedup math of Sec. 3.1, its N/A conventions, the reductions, and the `speedup`/`curves` stages."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from harness.analysis import curves, paper_reference
from harness.analysis.compare import compare
from harness.analysis.speedup import (NOT_REACHED, OK, UPPER_BOUND, average_speedup, baseline_latency_at,
                                      bootstrap_average, curve_average, make_curve, speedups)
from harness.cli import main
from harness.errors import HarnessError

GRID = np.arange(1.0, 201.0)


def test_inverse_latency_curves_give_two_everywhere():
    baseline = make_curve(GRID, 1.0 / GRID)
    morse_lat = np.array([2.0, 5.0, 10.0, 40.0, 100.0])
    points = speedups(baseline, make_curve(morse_lat, 1.0 / (2 * morse_lat)), higher_is_better=False)
    assert [p.status for p in points] == [OK] * 5
    assert [p.speedup for p in points] == pytest.approx([2.0] * 5)
    assert average_speedup(points) == pytest.approx(2.0)
    assert curve_average(points) == pytest.approx(2.0)


def test_higher_is_better_metric():
    baseline = make_curve(GRID, 30.0 - 10.0 / GRID)
    morse_lat = np.array([3.0, 10.0, 50.0])
    points = speedups(baseline, make_curve(morse_lat, 30.0 - 10.0 / (3 * morse_lat)), higher_is_better=True)
    assert [p.speedup for p in points] == pytest.approx([3.0, 3.0, 3.0])
    # read as lower-is-better the same curves are nonsense: Morse is "worse" than the first baseline point
    misread = speedups(baseline, make_curve(morse_lat, 30.0 - 10.0 / (3 * morse_lat)), False)
    assert all(p.status == UPPER_BOUND for p in misread)
    assert [p.speedup for p in misread] == pytest.approx([1 / 3, 1 / 10, 1 / 50])


def test_linear_interpolation_between_baseline_points():
    baseline = make_curve([10.0, 50.0], [20.0, 10.0])
    n, status = baseline_latency_at(baseline, 17.5, higher_is_better=False)
    assert (n, status) == (pytest.approx(20.0), OK)


def test_not_reached_and_upper_bounds_are_shown_but_left_out_of_the_average():
    """Issue 22: a Morse point the baseline beats at its lowest latency is not bracketed: its bound
    l_min / l is shown, and like a value the baseline never reaches (N/A) it is left out of the average."""
    baseline = make_curve([10.0, 20.0, 40.0], [30.0, 20.0, 15.0])
    morse = make_curve([5.0, 10.0, 20.0], [40.0, 20.0, 10.0])
    points = speedups(baseline, morse, higher_is_better=False)
    assert [p.status for p in points] == [UPPER_BOUND, OK, NOT_REACHED]
    assert points[0].speedup == pytest.approx(10.0 / 5.0) and points[0].baseline_latency == 10.0
    assert math.isnan(points[2].speedup)
    assert average_speedup(points) == pytest.approx(points[1].speedup)  # the bound 2.0 is not counted
    assert math.isnan(average_speedup([p for p in points if p.status == NOT_REACHED]))
    assert math.isnan(average_speedup([p for p in points if p.status == UPPER_BOUND]))


def test_a_morse_curve_worse_than_the_baseline_everywhere_has_no_average():
    baseline = make_curve([3.0, 5.0, 10.0, 20.0], [60.0, 24.0, 10.0, 5.0])
    morse = make_curve([4.0, 8.0], [70.0, 65.0])  # worse than every baseline point
    points = speedups(baseline, morse, False)
    assert [p.status for p in points] == [UPPER_BOUND, UPPER_BOUND]
    assert [p.speedup for p in points] == pytest.approx([3.0 / 4.0, 3.0 / 8.0])
    assert math.isnan(average_speedup(points)) and math.isnan(curve_average(points))


def test_a_slowdown_between_two_baseline_points_is_an_ordinary_speedup_below_one():
    baseline = make_curve([3.0, 5.0, 10.0, 20.0], [60.0, 24.0, 10.0, 5.0])
    morse = make_curve([8.0, 12.0], [42.0, 17.0])  # n = 4 (between 3 and 5), n = 7.5 (between 5 and 10)
    points = speedups(baseline, morse, False)
    assert [p.status for p in points] == [OK, OK]
    assert [p.speedup for p in points] == pytest.approx([4.0 / 8.0, 7.5 / 12.0])
    assert average_speedup(points) == pytest.approx(0.5625)


def test_non_monotone_baseline_uses_the_first_crossing():
    baseline = make_curve([10.0, 20.0, 30.0, 40.0], [12.0, 8.0, 10.0, 6.0])
    assert baseline_latency_at(baseline, 9.0, False) == (pytest.approx(17.5), OK)
    assert baseline_latency_at(baseline, 7.0, False) == (pytest.approx(37.5), OK)
    assert baseline_latency_at(baseline, 12.0, False) == (pytest.approx(10.0), OK)


def test_table1_scale_7_5_is_all_na_because_the_baseline_only_gets_worse():
    base = paper_reference.curve("table1", "baseline", "scale 7.5", "fid")
    morse = paper_reference.curve("table1", "morse", "scale 7.5", "fid")
    points = speedups(make_curve(base.latency_lsd, base.fid), make_curve(morse.latency_lsd, morse.fid), False)
    assert [p.status for p in points] == [NOT_REACHED, NOT_REACHED, NOT_REACHED, UPPER_BOUND]
    assert points[-1].speedup == pytest.approx(10 / 50)  # Morse at 50 LSD is worse than the baseline at 10


def test_table1_best_scale_reproduces_the_papers_2_29x():
    base = paper_reference.curve("table1", "baseline", "best scale", "fid")
    morse = paper_reference.curve("table1", "morse", "best scale", "fid")
    points = speedups(make_curve(base.latency_lsd, base.fid), make_curve(morse.latency_lsd, morse.fid), False)
    assert [p.status for p in points] == [OK, OK, OK, NOT_REACHED]  # 8.15 < the baseline's best 8.22
    assert [p.baseline_latency for p in points[:3]] == pytest.approx([26.25, 29.375, 45.625])
    reported = paper_reference.reported_average("table1")["value"].iloc[0]
    assert round(average_speedup(points), 2) == reported == 2.29


def test_table3_under_the_same_rules_has_no_bound_and_gives_about_the_papers_1_43x():
    """LCM-SDXL, CLIP score: the 3-LSD Morse point (30.83) is above the baseline's best (30.80), so
    N/A; the other three cross. The mean is 1.443 against the reported 1.43 (column headers of the
    extracted table were reconstructed, see the reference file)."""
    base = paper_reference.curve("table3", "baseline", "LCM-SDXL", "clip_score")
    morse = paper_reference.curve("table3", "morse", "LCM-SDXL", "clip_score")
    points = speedups(make_curve(base.latency_lsd, base.clip_score), make_curve(morse.latency_lsd, morse.clip_score),
                      higher_is_better=True)
    assert [p.status for p in points] == [OK, OK, OK, NOT_REACHED]
    reported = paper_reference.reported_average("table3")["value"].iloc[0]
    assert reported == 1.43 and average_speedup(points) == pytest.approx(reported, abs=0.015)


def test_curve_average_integrates_the_speedup_curve():
    baseline = make_curve(GRID, 1.0 / GRID)
    morse = make_curve([10.0, 20.0, 30.0], [1 / 10.0, 1 / 40.0, 1 / 90.0])  # speedups 1, 2, 3
    points = speedups(baseline, morse, False)
    assert [p.speedup for p in points] == pytest.approx([1.0, 2.0, 3.0])
    assert curve_average(points) == pytest.approx(2.0)
    morse = make_curve([10.0, 20.0, 50.0], [1 / 10.0, 1 / 40.0, 1 / 150.0])  # uneven spacing: weights differ
    assert curve_average(speedups(baseline, morse, False)) == pytest.approx((1.5 * 10 + 2.5 * 30) / 40)


def test_make_curve_sorts_and_averages_replicates():
    c = make_curve([20.0, 10.0, 20.0], [4.0, 1.0, 6.0])
    assert c.latency.tolist() == [10.0, 20.0] and c.value.tolist() == [1.0, 5.0]
    with pytest.raises(ValueError):
        make_curve([0.0], [1.0])


def test_bootstrap_interval_brackets_the_estimate_and_needs_replicates():
    rng = np.random.default_rng(1)
    base = {l: 1.0 / l + rng.normal(0, 0.002, 4) for l in (5.0, 10.0, 20.0, 40.0, 80.0)}
    morse = {l: 1.0 / (2 * l) + rng.normal(0, 0.002, 4) for l in (5.0, 10.0, 20.0)}
    lo, hi = bootstrap_average(base, morse, False, n_boot=300)
    estimate = average_speedup(speedups(make_curve(list(base), [v.mean() for v in base.values()]),
                                        make_curve(list(morse), [v.mean() for v in morse.values()]), False))
    assert lo < estimate < hi and 1.5 < lo and hi < 2.5
    single = {k: v[:1] for k, v in base.items()}
    assert all(math.isnan(x) for x in bootstrap_average(single, {5.0: [0.1]}, False))


def test_attach_latency_uses_n_only_for_morse_rows():
    rows = pd.DataFrame({"experiment": ["e", "e"], "method": ["baseline", "morse"],
                         "dash_steps": [10, 5], "dot_steps": [0, 30]})
    out = curves.attach_latency(rows, lambda experiment, dot: (6.0, "dev"))
    assert out["latency_lsd"].tolist() == [10.0, 10.0]
    baseline_only = curves.attach_latency(rows.iloc[:1], lambda experiment, dot: pytest.fail("N not needed"))
    assert baseline_only["latency_lsd"].tolist() == [10.0]


def test_best_over_guidance_scale_then_groups():
    rows = pd.DataFrame({"method": ["morse"] * 4, "sampler": ["ddim", "ddim", "ddpm", "ddpm"],
                         "latency_lsd": [10.0] * 4, "guidance_scale": [2.0, 7.5, 2.0, 7.5], "fid": [9.0, 8.0, 7.0, 7.5]})
    best = curves.best_over(rows, "guidance_scale", "fid", higher_is_better=False)
    assert sorted(best["fid"]) == [7.0, 8.0]
    baseline = pd.DataFrame({"sampler": ["ddim", "ddim", "ddpm", "ddpm"], "latency_lsd": [10.0, 30.0] * 2,
                             "fid": [10.0, 6.0, 9.0, 5.0]})
    result = compare(baseline, best, "fid", group_by=("sampler",))
    assert result.summary.set_index("sampler")["average_speedup"].to_dict() == pytest.approx({"ddim": 2.0, "ddpm": 2.0})


def _write(tmp_path, name, frame):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def test_speedup_stage_prints_table1_average(tmp_path, capsys):
    base = _write(tmp_path, "b.csv", paper_reference.curve("table1", "baseline", "best scale", "fid"))
    morse = _write(tmp_path, "m.csv", paper_reference.curve("table1", "morse", "best scale", "fid"))
    assert main(["speedup", base, morse, "--metric", "fid"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == "average speedup: 2.29x"
    assert any("N/A" in line and "not reached" in line for line in out)


def test_speedup_stage_one_file_with_best_over_and_clip(tmp_path, capsys):
    rows = pd.DataFrame({
        "method": ["baseline"] * 4 + ["morse"] * 2,
        "latency_lsd": [1, 2, 4, 4, 1, 2], "guidance_scale": [7.5, 7.5, 7.5, 3.0, 7.5, 3.0],
        "clip_score": [20.0, 25.0, 28.0, 30.0, 25.0, 29.0],
    })
    path = _write(tmp_path, "r.csv", rows)
    assert main(["speedup", path, "--metric", "clip_score", "--higher-is-better", "--best-over", "guidance_scale"]) == 0
    # baseline best: 1:20, 2:25, 4:30; Morse 25 at 1 -> n=2 (2x), 29 at 2 -> n=3.6 (1.8x)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "average speedup: 1.90x"
    assert main(["speedup", path, "--metric", "clip_score", "--higher-is-better", "--where", "guidance_scale=7.5"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "average speedup: 2.00x"


def test_speedup_stage_all_na_and_missing_latency(tmp_path, capsys):
    base = _write(tmp_path, "b.csv", pd.DataFrame({"latency_lsd": [10, 20], "fid": [10.0, 9.0]}))
    morse = _write(tmp_path, "m.csv", pd.DataFrame({"latency_lsd": [10], "fid": [5.0]}))
    assert main(["speedup", base, morse, "--metric", "fid"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "average speedup: N/A"
    bare = _write(tmp_path, "x.csv", pd.DataFrame({"dash_steps": [10], "fid": [5.0]}))
    assert main(["speedup", base, bare, "--metric", "fid"]) == 1
    assert "harness attach-lsd" in capsys.readouterr().err


def test_curves_stage_reads_n_from_latency_csvs(tmp_path):
    from harness.latency import results as latency_results

    for device, n in (("gpu-a", 6.0), ("gpu-b", 5.0)):
        latency_results.write({"experiment": "cifar", "dash": "config:x", "dot": "{}", "dtype": "float32",
                               "batch_size": 100, "device": device, "N": n}, tmp_path)
    rows = _write(tmp_path, "rows.csv", pd.DataFrame({"experiment": ["cifar"] * 2, "method": ["baseline", "morse"],
                                                      "dash_steps": [10, 4], "dot_steps": [0, 12]}))
    out = tmp_path / "out.csv"
    assert main(["attach-lsd", rows, "-o", str(out), "--latency-dir", str(tmp_path)]) == 1  # two devices: ambiguous
    assert main(["attach-lsd", rows, "-o", str(out), "--latency-dir", str(tmp_path), "--device", "gpu-a"]) == 0
    frame = pd.read_csv(out)
    assert frame["latency_lsd"].tolist() == [10.0, 6.0] and frame["N_device"].tolist()[1] == "gpu-a"


def test_speedup_stage_names_bounds_and_na_points_and_averages_only_bracketed_points(tmp_path, capsys):
    rows = pd.DataFrame({
        "method": ["baseline"] * 3 + ["morse"] * 3,
        "point": ["b_s3", "b_s5", "b_s10", "m_slow", "m_mid", "m_best"],
        "latency_lsd": [3, 5, 10, 4, 8, 9], "fid": [60.0, 24.0, 10.0, 70.0, 42.0, 5.0],
    })
    path = _write(tmp_path, "r.csv", rows)
    summary = tmp_path / "summary.csv"
    assert main(["speedup", path, "--metric", "fid", "--summary-out", str(summary)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    # m_slow: at most 3/4; m_mid: n = 4 -> 0.5; m_best: never reached
    assert out[-1] == "average speedup: 0.50x"  # m_mid alone: the bound and the N/A are left out
    assert any(line.startswith("m_slow (upper bound") and "at most 3 / 4" in line for line in out)
    assert any(line.startswith("m_best (N/A") and "never reaches 5" in line for line in out)
    assert any("<= 0.75x" in line and "m_slow" in line for line in out)
    saved = pd.read_csv(summary).iloc[0]
    assert saved["upper_bounds"] == 1 and saved["n_a"] == 1 and "average_is_upper_bound" not in saved
    assert saved["average_speedup"] == pytest.approx(0.5)


def test_curves_stage_gives_each_request_of_a_shared_schedule_its_own_row(tmp_path):
    """A schedule sampled once for two requests (fig13 at LSD 3: k/n 0.3 and 0.5) comes back as two
    rows, each with its own name and requested ratio, grouped apart by requested_ratio."""
    shared = '[{"point": "ddim_l3_k0p5", "method": "morse", "requested_lsd": 3, "requested_ratio": 0.5}]'
    rows = pd.DataFrame({"experiment": ["e"] * 2, "method": ["baseline", "morse"], "point": ["ddim_s3", "ddim_l3_k0p3"],
                         "dash_steps": [3, 2], "dot_steps": [0, 6], "requested_lsd": [3.0, 3.0],
                         "requested_ratio": [0.0, 0.3], "also_serves": ["[]", shared], "fid": [30.0, 20.0]})
    out = tmp_path / "out.csv"
    assert main(["attach-lsd", _write(tmp_path, "rows.csv", rows), "-o", str(out), "--N", "6"]) == 0
    frame = pd.read_csv(out).set_index("point")
    assert list(frame.index) == ["ddim_s3", "ddim_l3_k0p3", "ddim_l3_k0p5"] and "also_serves" not in frame
    assert frame.loc["ddim_l3_k0p5", "requested_ratio"] == 0.5 and frame.loc["ddim_l3_k0p5", "sampled_as"] == "ddim_l3_k0p3"
    assert frame.loc["ddim_l3_k0p5", "exchanged_ratio"] == frame.loc["ddim_l3_k0p3", "exchanged_ratio"] == 0.33
    result = compare(frame[frame["method"] == "baseline"], frame[frame["method"] == "morse"].reset_index(), "fid",
                     group_by=("requested_ratio",), baseline_by=())
    assert result.summary["requested_ratio"].tolist() == [0.3, 0.5] and result.summary["points"].tolist() == [1, 1]


def test_best_over_chooses_one_scale_per_latency_on_the_replicates_mean_and_replicates_come_in_seed_order():
    """Per-replicate minima would mix scales and flatter the curve; a row order must not move the bootstrap."""
    rows = pd.DataFrame({"method": "morse", "latency_lsd": 5.0, "guidance_scale": [1.0, 1.0, 2.0, 2.0],
                         "seeds": ["0-9", "10-19", "0-9", "10-19"], "fid": [10.0, 20.0, 12.0, 14.0]})
    best = curves.best_over(rows, "guidance_scale", "fid", higher_is_better=False)
    assert set(best["guidance_scale"]) == {2.0} and sorted(best["fid"]) == [12.0, 14.0]  # mean 13 beats 15
    assert [list(v) for v in curves.replicates(best.iloc[::-1], "fid").values()] == [[12.0, 14.0]]


def test_speedup_tables_called_from_python_writes_the_points_and_the_headline_last(tmp_path, capsys):
    from harness.report.speedup_tables import speedup_tables

    rows = pd.DataFrame({"method": ["baseline"] * 3 + ["morse"] * 4, "curve": ["baseline"] * 3 + ["trained"] * 4,
                         "requested_ratio": [None] * 3 + [0.3, 0.3, 0.5, 0.5],
                         "latency_lsd": [1, 2, 4, 1, 2, 1, 2], "fid": [10.0, 6.0, 4.0, 6.0, 4.0, 8.0, 6.0]})
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    points, summary = tmp_path / "points.csv", tmp_path / "summary.csv"
    result = speedup_tables([path], metric="fid", line_by=("curve", "requested_ratio"), headline_ratio=0.5, out=points,
                            summary_out=summary, command_line=["speedup", str(path)])
    # ratio 0.3: baseline reaches 6 at 2 and 4 at 4 -> 2x at both; ratio 0.5: 8 at 1.5 (1.5x), 6 at 2 (1x)
    assert pd.read_csv(points)["speedup"].tolist() == pytest.approx([2.0, 2.0, 1.5, 1.0])
    table = pd.read_csv(summary)
    assert table["headline"].tolist() == [False] * (len(table) - 1) + [True]
    assert table.iloc[-1]["requested_ratio"] == 0.5 and table.iloc[-1]["average_speedup"] == pytest.approx(1.25)
    assert "git_commit" in table.columns and len(result.points) == 4
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith("(headline: trained Dot, ratio 0.5): 1.25x")


def test_lsd_rows_called_from_python_gives_each_request_its_latency(tmp_path, capsys):
    from harness.analysis.lsd_rows import lsd_rows

    rows = pd.DataFrame({"experiment": ["x"] * 2, "method": ["baseline", "morse"], "point": ["s4", "f8_d2"],
                         "dash_steps": [4, 2], "dot_steps": [0, 6], "dot": [None, "work/dot"],
                         "also_serves": [None, '[{"point": "l3_k0.5", "requested_lsd": 3}]']})
    path = tmp_path / "rows.csv"
    rows.to_csv(path, index=False)
    table = lsd_rows([path], tmp_path / "out" / "rows.csv", n=4.0, n_device="paper")
    # the Morse schedule answers two requests: each its own row, 2 + 6/4 LSD
    assert table["latency_lsd"].tolist() == [4.0, 3.5, 3.5] and table["point"].tolist() == ["s4", "f8_d2", "l3_k0.5"]
    assert table["curve"].tolist() == ["baseline", "trained", "trained"]
    assert pd.read_csv(tmp_path / "out" / "rows.csv")["N_device"].tolist()[1:] == ["paper", "paper"]
    assert capsys.readouterr().out.strip() == f"3 rows with latency_lsd -> {tmp_path / 'out' / 'rows.csv'}"
    with pytest.raises(HarnessError, match="missing results"):
        lsd_rows([tmp_path / "absent.csv"], tmp_path / "x.csv", n=4.0)


def test_morse_curves_split_by_a_schedule_column_are_each_compared_with_the_whole_baseline(tmp_path):
    """Fig. 9 (fine_steps), 12 (trajectory_source), 13 (requested_ratio): a baseline row carries its own value of
    these columns, so a baseline matched on one is no baseline at all (the fig9 rehearsal's 'no baseline rows
    for group {fine_steps: 10}'); --line-by compares each curve with the whole baseline, --group-by is refused."""
    rows = pd.DataFrame({"experiment": "e", "method": ["baseline"] * 3 + ["morse"] * 2, "point": list("abcde"),
                         "fine_steps": [3, 6, 12, 10, 20], "latency_lsd": [3.0, 6.0, 12.0, 4.0, 8.0],
                         "fid": [60.0, 30.0, 10.0, 30.0, 10.0]})
    csv = _write(tmp_path, "rows.csv", rows)
    assert main(["speedup", csv, "--metric", "fid", "--line-by", "fine_steps", "--summary-out",
                 str(tmp_path / "summary.csv")]) == 0
    summary = pd.read_csv(tmp_path / "summary.csv")
    by_steps = summary[~summary["pooled"]].set_index("fine_steps")["average_speedup"]
    assert by_steps.to_dict() == pytest.approx({10: 1.5, 20: 1.5})
    with pytest.raises(HarnessError, match=r"fine_steps describes a Morse schedule .*line_by"):
        compare(rows[rows["method"] == "baseline"], rows[rows["method"] == "morse"], "fid", group_by=("fine_steps",))
