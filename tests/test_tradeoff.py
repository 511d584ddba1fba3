"""The conditional analyses on synthetic rows: Table 1's scheme (best over guidance scales, then the
speedup), Fig. 8's scheme (one metric against another over scales, per LSD) and the report page."""

from __future__ import annotations

import pandas as pd
import pytest

from harness.report import tradeoff
from harness.analysis.compare import compare
from harness.analysis.selection import select
from harness.cli import main

SCALES = (1.0, 2.0, 3.0)


def _rows() -> pd.DataFrame:
    """One FID row and one accuracy row per point, as the metric stages write them. The baseline's best
    FID is at scale 2 for every LSD; Morse's at scale 3, and equals the baseline's best of twice its LSD."""
    rows = []
    base_fid = {3: 30.0, 5: 20.0, 8: 14.0, 12: 10.0, 16: 8.0, 24: 6.0}
    penalty = {1.0: 3.0, 2.0: 0.0, 3.0: 1.0}
    for steps, fid in base_fid.items():
        for scale in SCALES:
            point = dict(experiment="toy", method="baseline", point=f"s{steps}_g{scale:g}", seeds="0-99",
                         guidance_scale=scale, latency_lsd=float(steps), requested_lsd=float(steps))
            rows += [dict(point, fid=fid + penalty[scale]), dict(point, class_accuracy=0.5 + 0.1 * scale + steps / 100)]
    morse_penalty = {1.0: 4.0, 2.0: 2.0, 3.0: 0.0}
    for lsd, measured, fid in ((5, 4.8, 10.0), (8, 7.9, 8.0), (12, 12.0, 6.0)):
        for scale in SCALES:
            point = dict(experiment="toy", method="morse", point=f"l{lsd}_g{scale:g}", seeds="0-99",
                         guidance_scale=scale, latency_lsd=measured, requested_lsd=float(lsd))
            rows += [dict(point, fid=fid + morse_penalty[scale]), dict(point, class_accuracy=0.55 + 0.1 * scale)]
    return pd.DataFrame(rows)


def test_scheme_one_takes_the_best_fid_over_scales_per_latency_then_the_speedup():
    rows = _rows()
    best = select(rows, metric="fid", higher_is_better=False, best_over="guidance_scale")
    baseline, morse = best[best["method"] == "baseline"], best[best["method"] == "morse"]
    assert set(baseline["guidance_scale"]) == {2.0} and set(morse["guidance_scale"]) == {3.0}
    assert baseline.set_index("latency_lsd")["fid"].to_dict() == {3.0: 30.0, 5.0: 20.0, 8.0: 14.0, 12.0: 10.0,
                                                                  16.0: 8.0, 24.0: 6.0}
    points = compare(baseline, morse, "fid").points.set_index("latency_lsd")
    # Morse's best 10 at 4.8 LSD is the baseline's best at 12 LSD: 12 / 4.8; 8 -> 16 / 7.9; 6 -> 24 / 12
    assert points["speedup"].to_dict() == pytest.approx({4.8: 12 / 4.8, 7.9: 16 / 7.9, 12.0: 2.0})


def test_scheme_one_with_a_score_keeps_the_highest():
    rows = _rows()
    best = select(rows, metric="class_accuracy", higher_is_better=True, best_over="guidance_scale")
    assert set(best["guidance_scale"]) == {3.0}


def test_metric_pairs_join_the_rows_of_one_point():
    pairs = tradeoff.metric_pairs(_rows(), "class_accuracy", "fid")
    assert len(pairs) == 6 * 3 + 3 * 3 and pairs[["fid", "class_accuracy"]].notna().all().all()
    one = pairs[pairs["point"] == "l5_g2"].iloc[0]
    assert (one["fid"], one["class_accuracy"], one["curve_lsd"]) == (12.0, pytest.approx(0.75), 5.0)


def test_scheme_two_has_one_curve_per_lsd_and_method_over_scales_in_order():
    table = tradeoff.tradeoff_curves(_rows(), "class_accuracy", "fid")
    morse5 = table[(table["curve_lsd"] == 5.0) & (table["method"] == "morse")]
    assert morse5["guidance_scale"].tolist() == list(SCALES) and morse5["fid"].tolist() == [14.0, 12.0, 10.0]
    assert morse5["latency_lsd"].tolist() == [4.8] * 3  # the measured latency, drawn in the legend
    base5 = table[(table["curve_lsd"] == 5.0) & (table["method"] == "baseline")]
    assert base5["fid"].tolist() == [23.0, 20.0, 21.0]
    assert sorted(table["curve_lsd"].unique()) == [3.0, 5.0, 8.0, 12.0, 16.0, 24.0]


def test_scheme_two_figure_has_a_panel_per_lsd_with_both_methods():
    fig = tradeoff.tradeoff_figure(_rows(), "class_accuracy", "fid")
    panels = {ax.get_title(): ax for ax in fig.axes}
    assert set(panels) == {"3 LSD", "5 LSD", "8 LSD", "12 LSD", "16 LSD", "24 LSD"}
    labels = [line.get_label() for line in panels["5 LSD"].get_lines()]
    assert labels == ["baseline (5 LSD)", "morse (4.8 LSD)"]
    assert panels["5 LSD"].get_xlabel() == "class_accuracy" and panels["5 LSD"].get_ylabel() == "fid"


def test_the_report_adds_the_tradeoff_page(tmp_path, capsys):
    raw = tmp_path / "raw.csv"
    rows = _rows().drop(columns=["latency_lsd"]).assign(
        dash_steps=lambda r: r["requested_lsd"], dot_steps=0)
    rows.to_csv(raw, index=False)
    results = tmp_path / "toy.csv"
    assert main(["attach-lsd", str(raw), "-o", str(results), "--N", "6"]) == 0
    out_dir = tmp_path / "reports"
    assert main(["report", str(results), "--experiment", "toy", "--metric", "fid", "--best-over", "guidance_scale",
                 "--tradeoff", "class_accuracy", "--out-dir", str(out_dir)]) == 0
    assert "trade-off over guidance scales" in capsys.readouterr().out  # the report lists the pages it wrote
    assert (out_dir / "speedup_toy.pdf").is_file()
    assert (out_dir / "toy" / "fig8.pdf").is_file()
