"""`harness report` builds its figure, tables and one-page-per-section PDF from a small hand-made CSV."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from harness.analysis import figures, tables
from harness.analysis.report import SECTIONS
from harness.cli import main


def _rows() -> pd.DataFrame:
    rows = []
    for seeds in ("0-49", "50-99"):
        for lsd, fid in ((4, 40.0), (8, 24.0), (16, 16.0), (32, 12.0)):
            for scale, extra in ((2.0, 1.0), (7.5, 0.0)):
                rows.append(dict(experiment="toy", method="baseline", sampler="ddim", dash_steps=lsd, dot_steps=0,
                                 requested_ratio=0.0, guidance_scale=scale, seeds=seeds, num_samples=50, fid=fid + extra,
                                 fid_backend="torch-fidelity", clip_score=20 + scale + lsd / 8))
        for dash, dot, fid in ((2, 12, 24.0), (4, 24, 16.0), (8, 48, 12.0)):  # N = 6: 4, 8, 16 LSD; 2x
            for scale, extra in ((2.0, 1.0), (7.5, 0.0)):
                rows.append(dict(experiment="toy", method="morse", sampler="ddim", dash_steps=dash, dot_steps=dot,
                                 requested_ratio=0.5, guidance_scale=scale, seeds=seeds, num_samples=50, fid=fid + extra,
                                 fid_backend="torch-fidelity", clip_score=21 + scale + dash / 4))
    return pd.DataFrame(rows)


def _pages(pdf_bytes: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf_bytes))


@pytest.fixture()
def results_csv(tmp_path):
    raw = tmp_path / "raw.csv"
    _rows().to_csv(raw, index=False)
    out = tmp_path / "toy.csv"
    assert main(["attach-lsd", str(raw), "-o", str(out), "--N", "6", "--N-device", "hand-made"]) == 0
    return out


def _shards(folder):
    folder.mkdir()
    for method, lsd in (("baseline", 8.0), ("morse", 8.0), ("morse", 4.0)):
        name = f"{method}_{lsd:g}"
        meta = {"experiment": "toy", "method": method, "lsd_cost": lsd}
        np.savez(folder / f"{name}.npz", images=np.zeros((4, 8, 8, 1), np.uint8), seeds=np.arange(4), meta=json.dumps(meta))
        (folder / f"{name}.json").write_text(json.dumps(meta))
    return folder


def test_report_builds_one_page_per_section(results_csv, tmp_path, capsys):
    out_dir = tmp_path / "reports"
    argv = ["report", str(results_csv), "--experiment", "toy", "--metric", "fid", "--best-over", "guidance_scale",
            "--paper-ref", "table1", "--table", "table1", "--table", "table7", "--table-index", "sampler",
            "--shards", str(_shards(tmp_path / "shards")), "--out-dir", str(out_dir), "--bootstrap", "50"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "average speedup: 2.00x"
    pdf = (out_dir / "speedup_toy.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and _pages(pdf) == len(SECTIONS) == 7  # issue 10: + Dot held-out error by gap
    folder = out_dir / "toy"
    for name in ("curves.pdf", "curves.png", "speedup.md", "speedup.tex", "table1.md", "table1.tex", "table7.md"):
        assert (folder / name).stat().st_size > 0
    table1 = (folder / "table1.md").read_text()
    assert "best scale" in table1 and "scale 7.5" in table1 and "16 LSD" in table1
    assert "\\toprule" in (folder / "table1.tex").read_text()
    assert "2" in (folder / "table7.md").read_text()


def test_report_without_optional_inputs_still_has_every_section(results_csv, tmp_path):
    out_dir = tmp_path / "plain"
    assert main(["report", str(results_csv), "--experiment", "toy", "--metric", "clip_score", "--higher-is-better",
                 "--figure", "fig13", "--latency-dir", str(tmp_path / "none"), "--out-dir", str(out_dir)]) == 0
    assert _pages((out_dir / "speedup_toy.pdf").read_bytes()) == len(SECTIONS)
    assert (out_dir / "toy" / "fig13.png").exists()


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


def test_the_report_shows_each_dots_heldout_error_by_gap(tmp_path):
    from harness.analysis.report import _dot_heldout

    held = {"dot_mse": 0.01, "zero_residual_mse": 0.04, "pairs": 30,
            "by_gap": [{"gap": "1-50", "pairs": 20, "dot_mse": 0.005, "zero_residual_mse": 0.01, "dot_over_zero": 0.5},
                       {"gap": "701-1000", "pairs": 10, "dot_mse": 0.02, "zero_residual_mse": 0.1, "dot_over_zero": 0.2}]}
    (tmp_path / "ddim").mkdir()
    (tmp_path / "ddim" / "dot.json").write_text(json.dumps({"heldout": held}))
    text = _dot_heldout(tmp_path)
    assert "Dot ddim" in text and "701-1000" in text and "0.2" in text
    assert "give --dots" in _dot_heldout(None)
