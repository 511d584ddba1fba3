"""`harness report` builds its figures, tables and A4 report PDF (one page per registered page) from a small hand-made CSV."""

from __future__ import annotations

import json
import re
import subprocess

import numpy as np
import pandas as pd
import pytest

from harness.report import figures, tables
from harness.report import pages
from harness.cli import main


def _rows() -> pd.DataFrame:
    rows = []
    for seeds in ("0-49", "50-99"):
        for lsd, fid in ((4, 40.0), (8, 24.0), (16, 16.0), (32, 12.0)):
            for scale, extra in ((2.0, 1.0), (7.5, 0.0)):
                rows.append(dict(experiment="toy", method="baseline", point=f"ddim_s{lsd}", sampler="ddim",
                                 dash_steps=lsd, dot_steps=0, requested_lsd=lsd,
                                 requested_ratio=0.0, guidance_scale=scale, seeds=seeds, num_samples=50, fid=fid + extra,
                                 fid_backend="torch-fidelity", fid_feature_extractor="digitsnet", clip_score=20 + scale + lsd / 8))
        for dash, dot, fid in ((2, 12, 24.0), (4, 24, 16.0), (8, 48, 12.0)):  # N = 6: 4, 8, 16 LSD; 2x
            for scale, extra in ((2.0, 1.0), (7.5, 0.0)):
                rows.append(dict(experiment="toy", method="morse", point=f"ddim_f{dash + dot}_d{dash}", sampler="ddim",
                                 dash_steps=dash, dot_steps=dot, requested_lsd=dash + dot / 6,
                                 requested_ratio=0.5, guidance_scale=scale, seeds=seeds, num_samples=50, fid=fid + extra,
                                 fid_backend="torch-fidelity", fid_feature_extractor="digitsnet", clip_score=21 + scale + dash / 4))
    return pd.DataFrame(rows)


def _pages(pdf_bytes: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf_bytes))


def _sizes(pdf_bytes: bytes) -> set[bytes]:
    return set(re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf_bytes))


def _text(pdf, page: int) -> str:
    return subprocess.run(["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture()
def results_csv(tmp_path):
    raw = tmp_path / "raw.csv"
    _rows().to_csv(raw, index=False)
    out = tmp_path / "toy.csv"
    assert main(["attach-lsd", str(raw), "-o", str(out), "--N", "6", "--N-device", "hand-made"]) == 0
    return out


def _shards(folder):
    folder.mkdir()
    for name in ("ddim_s8", "ddim_f14_d2", "ddim_f28_d4"):  # baseline 8 LSD; Morse at 4 and 8 LSD
        meta = {"experiment": "toy", "point": name}
        np.savez(folder / f"{name}.npz", images=np.zeros((4, 8, 8, 1), np.uint8), seeds=np.arange(4), meta=json.dumps(meta))
        (folder / f"{name}.json").write_text(json.dumps(meta))
    return folder


def test_report_pages_share_one_size_and_page_one_states_the_facts(results_csv, tmp_path, capsys):
    out_dir = tmp_path / "reports"
    argv = ["report", str(results_csv), "--experiment", "toy", "--metric", "fid", "--best-over", "guidance_scale",
            "--paper-ref", "table1", "--table", "table1", "--table", "table7", "--table-index", "sampler",
            "--shards", str(_shards(tmp_path / "shards")), "--out-dir", str(out_dir), "--bootstrap", "50"]
    assert main(argv) == 0
    # the bootstrap over the two seed ranges gives the headline its interval (the toy rows agree exactly)
    assert capsys.readouterr().out.strip().splitlines()[-1] == "average speedup: 2.00x (95% interval 2.00x-2.00x)"
    path = out_dir / "speedup_toy.pdf"
    pdf = path.read_bytes()
    # every page that has something to say: here all but the compute, Dot and trade-off pages (no
    # benchmarks, no --dots, no --tradeoff)
    assert pdf.startswith(b"%PDF") and _pages(pdf) == len(pages.PAGES.in_order()) - 3
    assert len(_sizes(pdf)) == 1  # one page size
    first = " ".join(_text(path, 1).split())
    for fact in ("Average speedup 2.00x", "95% bootstrap interval", "N (Dash / Dot seconds per step) 6",
                 "N measured on hand-made", "Fréchet distance (FID)", "DigitsNet features", "samples per point 50",
                 "paper (reported) average speedup (table1) best scale: 2.29x"):
        assert fact in first, fact
    assert "None" not in " ".join(_text(path, p) for p in range(1, _pages(pdf) + 1))
    folder = out_dir / "toy"
    for name in ("curves.pdf", "curves.png", "curves.svg", "samples.svg", "paper.png", "speedup.md", "speedup.tex",
                 "table1.md", "table1.tex", "table7.md"):
        assert (folder / name).stat().st_size > 0
    table1 = (folder / "table1.md").read_text()
    assert "best scale" in table1 and "scale 7.5" in table1 and "16 LSD" in table1
    assert "\\toprule" in (folder / "table1.tex").read_text()
    assert "2" in (folder / "table7.md").read_text()


def test_the_sample_page_pairs_morse_with_the_baseline_at_its_lsd(results_csv):
    rows = pd.read_csv(results_csv)
    pairs = pages.sample_pairs(_shards(results_csv.parent / "shards"), "toy", rows)
    assert [(b.lsd, m.lsd) for b, m in pairs] == [(8.0, 4.0), (8.0, 8.0)]
    assert [b.method for b, _ in pairs] == ["baseline (nearest)", "baseline"]  # no 4-LSD baseline shard
    assert pairs[1][1].label == "Morse, 8 LSD\n4 Dash + 24 Dot steps; seeds 0-3"


def test_the_paper_page_says_not_run_where_we_have_no_row(results_csv, tmp_path):
    out_dir = tmp_path / "reports"
    assert main(["report", str(results_csv), "--experiment", "toy", "--paper-ref", "table1", "--best-over",
                 "guidance_scale", "--out-dir", str(out_dir)]) == 0
    text = " ".join(_text(out_dir / "speedup_toy.pdf", 5).split())  # summary, speedups, N, samples, paper
    assert "paper (reported) morse best scale 8.6 8.55 8.29 8.15" in text
    assert "ours morse toy" in text and "not run" in text


def test_report_without_optional_inputs_leaves_out_the_pages_with_nothing_to_say(results_csv, tmp_path):
    out_dir = tmp_path / "plain"
    assert main(["report", str(results_csv), "--experiment", "toy", "--metric", "clip_score", "--higher-is-better",
                 "--figure", "fig13", "--latency-dir", str(tmp_path / "none"), "--out-dir", str(out_dir)]) == 0
    pdf = (out_dir / "speedup_toy.pdf").read_bytes()
    assert _pages(pdf) == 5 and len(_sizes(pdf)) == 1  # summary, speedups, N, samples (none found), provenance
    assert (out_dir / "toy" / "curves.png").exists()


def test_the_compute_page_sums_snakemake_benchmarks_per_rule(tmp_path):
    from harness.report import job_costs

    header = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"
    for rule, job, seconds, rss in (("sample", "a", 10.0, 300.0), ("sample", "b", 20.0, 500.0), ("fid", "a", 5.0, "-")):
        (tmp_path / rule).mkdir(exist_ok=True)
        (tmp_path / rule / f"{job}.tsv").write_text(header + f"{seconds}\t0:00:10\t{rss}\t1\t1\t1\t0\t0\t90\t{seconds / 2}\n")
    table = job_costs.by_rule(job_costs.load(tmp_path)).set_index("rule")
    assert table.loc["sample", "jobs"] == 2 and table.loc["sample", "wall (s)"] == 30.0
    assert table.loc["sample", "peak RSS (MB)"] == 500.0 and table.loc["all", "CPU (s)"] == 17.5
    assert job_costs.load(tmp_path / "none").empty


def test_report_rejects_unknown_experiment_and_figure(results_csv, tmp_path, capsys):
    assert main(["report", str(results_csv), "--experiment", "nope", "--out-dir", str(tmp_path)]) == 1
    assert main(["report", str(results_csv), "--experiment", "toy", "--figure", "fig99", "--out-dir", str(tmp_path)]) == 1
    assert "known:" in capsys.readouterr().err


def test_latency_table_has_one_column_group_per_device():
    latency = pd.DataFrame({"experiment": ["cifar"] * 2, "batch_size": [100] * 2, "device": ["rtx-3090", "v100"],
                            "dash_median_s": [0.072, 0.082], "dot_median_s": [0.012, 0.015], "N": [6.0, 5.5]})
    table = tables.latency_table(latency)
    assert list(table.columns) == ["experiment", "batch_size", "rtx-3090 dash (s)", "rtx-3090 dot (s)", "rtx-3090 N",
                                   "v100 dash (s)", "v100 dot (s)", "v100 N"]
    assert "| cifar" in tables.render(table, "md")


def test_every_paper_figure_form_is_registered():
    assert {"fig4", "fig5", "fig6", "fig7", "fig9", "fig12", "fig13"} <= set(figures.FIGURES)


def test_the_report_shows_each_dots_heldout_error_by_gap(results_csv, tmp_path):
    held = {"dot_mse": 0.01, "zero_residual_mse": 0.04, "pairs": 30,
            "by_gap": [{"gap": "1-50", "pairs": 20, "dot_mse": 0.005, "zero_residual_mse": 0.01, "dot_over_zero": 0.5},
                       {"gap": "701-1000", "pairs": 10, "dot_mse": 0.02, "zero_residual_mse": 0.1, "dot_over_zero": 0.2}]}
    (tmp_path / "dots" / "ddim").mkdir(parents=True)
    (tmp_path / "dots" / "ddim" / "dot.json").write_text(json.dumps({"heldout": held, "steps_done": 1500,
                                                                    "wall_time_s": 2520.0}))
    out_dir = tmp_path / "reports"
    assert main(["report", str(results_csv), "--experiment", "toy", "--dots", str(tmp_path / "dots"),
                 "--out-dir", str(out_dir)]) == 0
    text = " ".join(_text(out_dir / "speedup_toy.pdf", 4).split())  # summary, speedups, N, then the Dot page
    assert text.startswith("Dot's held-out error")
    assert "Dot ddim" in text and "701-1000" in text and "0.2" in text
    assert "trained 1500 steps in 42.0 min" in text  # the study's training cost beside its error


def test_page_one_names_each_dot_s_recipe_and_where_it_departs_from_algorithm_1(results_csv, tmp_path):
    """Issue 22: the recipe behind a number is on its page (the embedded default's Dot: x0 weight, gap scale)."""
    dots = tmp_path / "dots"
    for name, training in (("plain", {"steps": 100, "loss_weight": "none", "gap_scale": 0.0, "max_gap": None}),
                           ("recipe", {"steps": 3500, "loss_weight": "x0", "gap_scale": 1000.0, "max_gap": None})):
        (dots / name).mkdir(parents=True)
        (dots / name / "dot.json").write_text(json.dumps({"training": training}))
    out_dir = tmp_path / "reports"
    assert main(["report", str(results_csv), "--experiment", "toy", "--metric", "fid", "--best-over", "guidance_scale",
                 "--dots", str(dots), "--out-dir", str(out_dir)]) == 0
    first = " ".join(_text(out_dir / "speedup_toy.pdf", 1).split())
    assert "Dot plain trained 100 steps, by Algorithm 1" in first
    assert "Dot recipe trained 3500 steps, departs from Algorithm 1: loss_weight x0, gap_scale 1000" in first


def test_the_report_draws_and_averages_one_morse_curve_per_value_of_line_by(tmp_path):
    """The Dot study's shape (analysis.line_by: [dot]): without --line-by the report pooled every candidate into one
    curve; with it, each Dot is its own curve and its own average, as in `harness speedup`."""
    rows = _rows()
    rows = rows[rows["guidance_scale"] == 7.5]
    morse = rows[rows["method"] == "morse"]
    level = morse.assign(dot="b", fid=morse["requested_lsd"].map({4: 40.0, 8: 24.0, 16: 16.0}))  # the baseline's: 1x
    raw, csv = tmp_path / "raw.csv", tmp_path / "toy.csv"
    pd.concat([rows.assign(dot=np.where(rows["method"] == "morse", "a", "")), level]).to_csv(raw, index=False)
    assert main(["attach-lsd", str(raw), "-o", str(csv), "--N", "6", "--N-device", "hand-made"]) == 0
    out_dir = tmp_path / "reports"
    assert main(["report", str(csv), "--experiment", "toy", "--metric", "fid", "--line-by", "dot",
                 "--out-dir", str(out_dir)]) == 0
    summary = (out_dir / "toy" / "speedup_summary.md").read_text()
    averages = {line.split("|")[1].strip(): line.split("|")[2].strip() for line in summary.splitlines()[2:]}
    assert averages == {"a": "2", "b": "1"}, summary
    assert figures.line_label(("curve", "requested_ratio"), ("tuned", float("nan"))) == "trained Dot, tuned ratio"
    assert figures.line_label(("dot",), ("a",)) == "Morse (dot = a)"
    assert figures.with_lines(figures.FIGURES.get("dots"), ("curve", "requested_ratio")).line_by == ("curve",)
