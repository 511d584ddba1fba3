"""tools/gpu-check (harness/rehearsal/gpu_check.py): its steps are wired. It has never run on a GPU here; its
`--small` mode (CPU, batch 2, one timing, no rehearsal) is run by hand, its `--dry-run` by this test."""

from __future__ import annotations

import shlex
import subprocess
import sys

from harness.cli import stage_parser
from harness.rehearsal.gpu_check import TABLE5

from test_workflow import ROOT


def test_dry_run_plans_every_step_with_commands_the_harness_accepts(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "gpu-check"), "--dry-run", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    commands = [shlex.split(line[2:]) for line in result.stdout.splitlines() if line.startswith("$ ")]
    assert any(c[1:5] == ["-m", "pytest", "-q", "-m"] and "cuda" in c for c in commands)
    timings = [c[4:] for c in commands if c[1:4] == ["-m", "harness", "latency"]]
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped ")]
    assert len(timings) + len(skipped) == len(TABLE5.in_order()) and len(timings) >= 7
    for args in timings:  # each parses as `harness latency` does, at the experiment's (Table 5's) batch size
        parsed = stage_parser("latency").parse_args(args)
        assert parsed.dash.startswith("config:") and parsed.device == "cuda" and parsed.batch_size in (5, 20, 100)
        assert str(tmp_path) in str(parsed.results_dir)
    assert ["snakemake", "-j8", "reports/speedup_cifar.pdf", "--config", "rehearsal=true"] in commands
    assert not (tmp_path / "latency").exists()  # a dry run runs nothing
