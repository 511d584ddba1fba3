"""Issue 12: the ratio chosen per LSD budget on pilot seeds (the tuned curve), the curve labels, and the
speedup's bootstrap interval pooled over a curve's groups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from harness.analysis.compare import compare, pooled_by_curve
from harness.analysis.tuning import CURVE, TUNED, TUNED_RATIO, choose_ratios, label_curves, tune_ratios, tuned_rows
from harness.errors import HarnessError


def _row(lsd, ratio, fid, seeds, dot="work/d/dot/ddim", method="morse"):
    return {"experiment": "x", "method": method, "sampler": "ddim", "grid_name": "trailing", "trajectory_source": "dash",
            "guidance_scale": np.nan, "dot": dot, "requested_lsd": lsd, "requested_ratio": ratio, "fid": fid,
            "seeds": seeds, "point": f"p_l{lsd}_k{ratio}", "latency_lsd": lsd}


def test_curves_are_labelled_baseline_trained_oracle_zero():
    rows = pd.DataFrame([_row(3, 0.0, 9, "0-9", dot="", method="baseline"), _row(3, 0.5, 5, "0-9"),
                         _row(3, 0.5, 2, "0-9", dot="oracle"), _row(3, 0.5, 20, "0-9", dot="zero")])
    assert list(label_curves(rows)[CURVE]) == ["baseline", "trained", "oracle", "zero"]


def test_the_ratio_is_chosen_per_budget_on_the_pilot_and_judged_on_the_evaluation_seeds():
    pilot = pd.DataFrame([_row(3, 0.3, 10, "900-999"), _row(3, 0.5, 8, "900-999"), _row(3, 0.7, 30, "900-999"),
                          _row(5, 0.3, 4, "900-999"), _row(5, 0.5, 6, "900-999"),
                          _row(5, 0.5, 1, "900-999", dot="oracle")])  # a reference Dot never competes
    choices = choose_ratios(pilot, "fid")
    assert dict(zip(choices["requested_lsd"], choices["requested_ratio"])) == {3: 0.5, 5: 0.3}
    assert set(choices["pilot_seeds"]) == {"900-999"}
    evaluation = pd.DataFrame([_row(l, k, f, s) for l, k, f in ((3, 0.3, 11), (3, 0.5, 12), (5, 0.3, 7), (5, 0.5, 3))
                               for s in ("0-99", "100-199")])
    tuned = tuned_rows(evaluation, choices)
    assert len(tuned) == 4 and set(tuned[CURVE]) == {TUNED} and tuned["requested_ratio"].isna().all()
    # the evaluation metric of the chosen ratio, even where another ratio did better on these seeds (5 LSD)
    assert sorted(zip(tuned["requested_lsd"], tuned[TUNED_RATIO], tuned["fid"])) == [
        (3, 0.5, 12), (3, 0.5, 12), (5, 0.3, 7), (5, 0.3, 7)]


def test_under_best_over_the_guidance_scale_is_chosen_with_the_ratio():
    """Table 1's scheme (digits_cond): one (ratio, scale) per budget, the best pilot point over both; without
    best_over, one ratio per budget and scale."""
    pilot = pd.DataFrame([{**_row(5, k, f, "900-999"), "guidance_scale": w}
                          for k, w, f in ((0.3, 1, 9), (0.3, 2, 7), (0.5, 1, 6), (0.5, 2, 8))])
    joint = choose_ratios(pilot, "fid", best_over="guidance_scale")
    assert list(zip(joint["requested_ratio"], joint["guidance_scale"])) == [(0.5, 1)]
    per_scale = choose_ratios(pilot, "fid")
    assert sorted(zip(per_scale["guidance_scale"], per_scale["requested_ratio"])) == [(1, 0.5), (2, 0.3)]
    evaluation = pd.DataFrame([{**_row(5, k, f, "0-99"), "guidance_scale": w}
                               for k, w, f in ((0.3, 1, 9), (0.3, 2, 7), (0.5, 1, 6), (0.5, 2, 8))])
    tuned = tuned_rows(evaluation, joint)
    assert list(zip(tuned[TUNED_RATIO], tuned["guidance_scale"], tuned["fid"])) == [(0.5, 1, 6)]


def test_tune_ratios_called_from_python_reads_every_request_of_the_pilot_files_and_writes_the_choices(tmp_path, capsys):
    import json

    shared = _row(3, 0.5, 8, "900-999") | {"also_serves": json.dumps([{"point": "p_l3_k0.2", "requested_ratio": 0.2}])}
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    pd.DataFrame([_row(3, 0.3, 10, "900-999"), shared]).to_csv(first, index=False)
    pd.DataFrame([_row(5, 0.3, 4, "900-999"), _row(5, 0.5, 6, "900-999")]).to_csv(second, index=False)
    choices = tune_ratios([first, second], tmp_path / "tuned.csv", metric="fid")
    # 0.2 exists only as a request the 0.5 schedule also serves: it ties at FID 8 and is the smaller ratio
    assert dict(zip(choices["requested_lsd"], choices["requested_ratio"])) == {3: 0.2, 5: 0.3}
    written = pd.read_csv(tmp_path / "tuned.csv")
    assert dict(zip(written["requested_lsd"], written["requested_ratio"])) == {3: 0.2, 5: 0.3}
    assert "pilot_fid" in capsys.readouterr().out
    with pytest.raises(HarnessError, match="missing pilot rows"):
        tune_ratios([tmp_path / "absent.csv"], tmp_path / "x.csv", metric="fid")


def test_a_tuned_curve_refuses_pilot_seeds_that_overlap_the_evaluation():
    choices = choose_ratios(pd.DataFrame([_row(3, 0.3, 10, "0-99"), _row(3, 0.5, 8, "0-99")]), "fid")
    with pytest.raises(HarnessError, match="overlap"):
        tuned_rows(pd.DataFrame([_row(3, 0.5, 12, "50-149")]), choices)


def test_the_headline_pools_the_trained_groups_with_one_bootstrap_interval():
    rng = np.random.default_rng(0)
    base = pd.DataFrame([{**_row(s, 0.0, 60 / s + rng.normal(0, 0.2), f"{r}", dot="", method="baseline")}
                         for s in (2, 3, 4, 6, 9) for r in range(3)])
    morse = pd.DataFrame([{**_row(l, k, 60 / (l * 1.5) + rng.normal(0, 0.2), f"{r}"), "latency_lsd": l}
                          for l in (3, 5) for k in (0.3, 0.5) for r in range(3)]
                         + [{**_row(l, 0.5, 60 / (l * 2.5), f"{r}", dot="oracle"), "latency_lsd": l}
                            for l in (3, 5) for r in range(3)])
    morse = label_curves(morse)
    result = compare(label_curves(base), morse, "fid", group_by=("curve", "requested_ratio"), baseline_by=(), n_boot=200)
    assert {"ci_low", "ci_high"} <= set(result.points.columns)
    pooled = pooled_by_curve(result)
    assert list(pooled[CURVE]) == ["trained", "oracle"]
    trained = pooled.iloc[0]
    assert trained["points"] == 4
    assert trained["ci_low"] <= trained["average_speedup"] <= trained["ci_high"]
    assert 1.2 < trained["average_speedup"] < 1.8 and pooled.iloc[1]["average_speedup"] > trained["ci_high"]


def test_an_oracle_behind_the_trained_dot_beyond_the_noise_is_found_and_within_it_is_not():
    from harness.analysis.references import oracle_behind

    def rows(oracle_fids, trained_fids):
        return pd.DataFrame([_row(5, 0.5, f, f"{i}", dot="oracle") for i, f in enumerate(oracle_fids)]
                            + [_row(5, 0.5, f, f"{i}") for i, f in enumerate(trained_fids)])

    assert oracle_behind(rows([3.0, 3.2, 2.9], [6.0, 6.3, 5.8]), "fid").empty  # the usual order
    assert oracle_behind(rows([6.0, 3.0, 9.0], [5.0, 5.5, 4.5]), "fid").empty  # behind, but within the noise
    behind = oracle_behind(rows([6.0, 6.1, 5.9], [3.0, 3.1, 2.9]), "fid")
    assert len(behind) == 1 and behind.iloc[0]["gap"] == pytest.approx(3.0)


def test_the_share_of_the_floor_to_ideal_gap_the_trained_dot_closes():
    from harness.analysis.references import gap_closed

    rows = pd.DataFrame([_row(5, 0.5, 30, "0"), _row(5, 0.5, 40, "0", dot="zero"), _row(5, 0.5, 10, "0", dot="oracle"),
                         _row(3, 0.3, 12, "0")])  # no references at 3 LSD: not judged
    closed = gap_closed(rows, "fid")
    assert len(closed) == 1 and closed.iloc[0]["gap_closed"] == pytest.approx(1 / 3)



def test_the_headline_is_the_trained_dot_at_the_configured_ratio_never_the_tuned_curve():
    """Issue 22: the paper's protocol is the headline (one definition: selection.headline), even where a
    tuned curve or another ratio does better."""
    from harness.analysis.selection import headline
    from harness.report.text import average_line

    fid = lambda latency: 100 - 5 * latency  # noqa: E731  (a baseline linear in latency: n = gain x l exactly)
    base = pd.DataFrame([_row(s, 0.0, fid(s), "0", dot="", method="baseline") for s in (1, 2, 4, 8, 16)])
    trained = [_row(l, k, fid(l * gain), "0") for l in (3, 5) for k, gain in ((0.3, 2.0), (0.5, 1.5))]
    tuned = [{**_row(l, np.nan, fid(l * 2.5), "0"), CURVE: TUNED} for l in (3, 5)]
    morse = pd.concat([label_curves(pd.DataFrame(trained)), pd.DataFrame(tuned)], ignore_index=True)
    result = compare(label_curves(base), morse, "fid", group_by=("curve", "requested_ratio"), baseline_by=())
    at_half, every = headline(result, 0.5), headline(result)
    assert at_half["average_speedup"] == pytest.approx(1.5) and at_half["points"] == 2
    assert every["average_speedup"] == pytest.approx(1.75) and every["points"] == 4
    last = average_line(result, 0.5).splitlines()[-1]
    assert last == "average speedup (headline: trained Dot, ratio 0.5): 1.50x"
    assert any("tuned" in line and "2.50x" in line for line in average_line(result, 0.5).splitlines()[:-1])
    with pytest.raises(HarnessError, match="no trained-Dot Morse point at ratio 0.7"):
        headline(result, 0.7)
    by_curve_only = compare(label_curves(base), morse, "fid", group_by=("curve",), baseline_by=())
    with pytest.raises(HarnessError, match="line-by requested_ratio"):
        headline(by_curve_only, 0.5)
