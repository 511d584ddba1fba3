"""The command line explains itself and answers bad input with one line, never a traceback.

Each stage's help shows every option with a meaning and its default, and ends with examples. Building
every parser imports no torch, pandas or matplotlib: those imports are what made `--help` take seconds.
Usage errors exit 2, input errors 1, each with one line naming the option or file; nothing is left
half-written.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from harness.cli import STAGES, main, stage_parser

TORCH_STAGES = {"train-dash", "train-dot", "sample", "latency", "fid", "fid-stats", "clip", "class-accuracy", "train-digitsnet",
                "bench-morse", "bench-metrics"}


def run_main(argv, capsys) -> tuple[int, str]:
    """Exit code and stderr of `harness ARGV`, whether it returns or exits (argparse)."""
    try:
        code = main(argv)
    except SystemExit as done:
        code = done.code
    return code, capsys.readouterr().err


def test_building_every_parser_imports_no_torch_pandas_or_matplotlib():
    code = ("import sys; from harness.cli import STAGES, stage_parser, build_parser; build_parser(); "
            "[stage_parser(s).format_help() for s in STAGES]; "
            "print(sorted(m for m in ('torch', 'pandas', 'matplotlib', 'diffusers', 'open_clip') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("stage", list(STAGES))
def test_every_option_says_what_it_means_and_the_help_ends_with_examples(stage):
    parser = stage_parser(stage)
    for action in parser._actions:
        assert action.help, f"harness {stage} {'/'.join(action.option_strings) or action.dest}: no help text"
    text = parser.format_help()
    examples = text.split("examples:", 1)[1]
    assert f"harness {stage} " in examples, f"harness {stage} --help: no example command line"
    assert ("--threads" in parser._option_string_actions) == (stage in TORCH_STAGES)


def test_help_shows_defaults_but_not_empty_ones():
    text = stage_parser("train-dot").format_help()
    assert "(default: 1500)" in text and "(default: None)" not in text and "(default: False)" not in text


@pytest.mark.parametrize("argv, option", [
    (["sample", "--dash", "digits", "--steps", "4", "--seeds", "0-3", "--out", "x.npz", "--batch-size", "0"], "--batch-size"),
    (["fid", "s", "--ref", "digits:16:all", "--extractor", "digitsnet", "--out", "x.csv", "--num-samples", "-5"],
     "--num-samples"),
    (["sample", "--dash", "digits", "--steps", "4", "--seeds", "0-3", "--out", "x.npz", "--threads", "-1"], "--threads"),
    (["speedup", "rows.csv", "--metric", "fid", "--threads", "2"], "--threads"),
    (["fid", "s", "--ref", "digits:16:all", "--num-samples", "5", "--out", "x.csv"], "--extractor"),
])
def test_usage_errors_exit_2_with_one_line_naming_the_option(argv, option, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run_main(argv, capsys)
    lines = [line for line in err.splitlines() if line.startswith("harness")]
    assert code == 2 and "Traceback" not in err and option in lines[-1], err
    assert not any(tmp_path.iterdir()), "a refused command wrote something"


def test_unknown_stage_exits_2_and_lists_the_stages(capsys):
    code, err = run_main(["curves"], capsys)
    assert code == 2 and "invalid choice: 'curves'" in err and "attach-lsd" in err


def test_speedup_on_rows_without_the_metric_names_the_column(tmp_path, capsys):
    rows = tmp_path / "rows.csv"
    pd.DataFrame({"method": ["baseline", "morse"], "latency_lsd": [4.0, 4.0], "fid": [3.0, 2.0]}).to_csv(rows, index=False)
    code, err = run_main(["speedup", str(rows), "--metric", "clip_score"], capsys)
    assert code == 1 and "Traceback" not in err and "clip_score" in err and len(err.strip().splitlines()) == 1


def test_a_missing_or_unreadable_input_is_one_line(tmp_path, capsys):
    code, err = run_main(["speedup", str(tmp_path / "nope.csv"), "--metric", "fid"], capsys)
    assert code == 1 and "nope.csv" in err and len(err.strip().splitlines()) == 1
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "shard-0.npz").write_bytes(b"not a zip")
    code, err = run_main(["fid", str(tmp_path / "bad"), "--ref", "digits:16:all", "--extractor", "digitsnet",
                          "--num-samples", "1", "--out", str(tmp_path / "x.csv"), "--device", "cpu"], capsys)
    assert code == 1 and "shard-0.npz" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()


def test_a_bad_grid_leaves_no_shard(tmp_path, capsys):
    out = tmp_path / "x.npz"
    code, err = run_main(["sample", "--dash", "config:digits", "--grid", "nope", "--steps", "2", "--seeds", "0-1",
                          "--out", str(out), "--device", "cpu"], capsys)
    assert code == 1 and "nope" in err and not out.exists()


def test_batch_runs_stage_command_lines_in_order_and_stops_at_the_first_that_fails(tmp_path, capsys):
    from harness.cli import main

    good = tmp_path / "a.csv"
    rows = tmp_path / "rows.csv"
    rows.write_text("method,latency_lsd,fid\nbaseline,1,10\n")
    ok = f"tune-ratio {rows} --metric fid -o {good}"
    missing = f"tune-ratio {tmp_path / 'none.csv'} --metric fid -o {tmp_path / 'b.csv'}"
    assert main(["batch", missing, ok]) == 1
    assert not good.exists()  # the batch stopped at the failing command
    assert "command 1 of 2 failed (exit 1)" in capsys.readouterr().err
    assert main(["batch", "batch tune-ratio x --metric fid -o y"]) == 1


def test_a_batch_cut_off_redoes_only_its_unfinished_commands(tmp_path, capsys):
    """`batch --keep`: the outputs of finished commands survive their deletion (as Snakemake deletes an
    incomplete job's outputs) and are put back without running the command again; a changed input or
    command line runs it again; the kept folder goes once every command succeeded."""
    import os

    from harness.cli import main

    keep, first, second = tmp_path / "kept", tmp_path / "a.npz", tmp_path / "b.npz"
    rows = tmp_path / "input.txt"  # stands for a file the commands read (Dash, Dot)
    rows.write_text("v1")
    sample = "sample --dash config:digits --steps 1 --seeds 0-1 --device cpu --out {}"
    ok, fixed, broken = sample.format(first), sample.format(second), sample.format(second) + " --grid nope"
    outputs = [f"{first} {first.with_suffix('.json')}", f"{second} {second.with_suffix('.json')}"]
    batch = lambda *commands: main(["batch", "--keep", str(keep), "--inputs", str(rows), "--outputs", outputs[0],
                                    "--outputs", outputs[1], "--", *commands])
    assert batch(ok, broken) == 1 and (keep / "1.json").exists()
    made = first.stat().st_ino
    first.unlink()  # what Snakemake does to the declared outputs of an incomplete job before rerunning it
    capsys.readouterr()
    assert batch(ok, fixed) == 0
    err = capsys.readouterr().err
    assert "[1/2] kept from an earlier run" in err and "[2/2] harness sample" in err
    assert first.stat().st_ino == made and second.exists() and not keep.exists()

    assert batch(ok, broken) == 1
    os.utime(rows, (first.stat().st_mtime + 10,) * 2)  # the input changed after the kept output was made
    capsys.readouterr()
    assert batch(ok, fixed) == 0
    assert "kept from an earlier run" not in capsys.readouterr().err
    assert main(["batch", "--keep", str(keep), "--outputs", str(first), "--", ok, ok]) == 1  # one --outputs each
