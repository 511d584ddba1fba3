"""Bring your own model (docs/own-model.md): the starter config, mistakes caught before compute, warnings,
damaged files as one line, and no result that outlives its inputs."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image

from harness.assets import ASSETS
from harness.cli import main
from harness.errors import HarnessError
from test_workflow import ROOT, SNAKEFILE, SNAKEMAKE, offline_env

OWN_UNET = dict(sample_size=16, in_channels=3, out_channels=3, block_out_channels=(16, 32), layers_per_block=1,
                norm_num_groups=8, down_block_types=("DownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "UpBlock2D"))
IMAGES = 80  # more than the 64 features of the offline FID network


def save_dash(directory: Path, seed: int = 0, scheduler: bool = True) -> Path:
    """A diffusers UNet2DModel folder as a user saves one: save_pretrained + a DDPMScheduler config."""
    from diffusers import DDPMScheduler, UNet2DModel

    torch.manual_seed(seed)
    UNet2DModel(**OWN_UNET).save_pretrained(directory)
    if scheduler:
        DDPMScheduler(num_train_timesteps=1000).save_config(directory)
    return directory


def save_images(directory: Path, count: int = IMAGES, size: int = 16, odd: int = 0) -> Path:
    """``count`` random RGB PNGs of ``size``, the last ``odd`` of them half that size."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(count):
        side = size // 2 if i >= count - odd else size
        Image.fromarray(rng.integers(0, 256, (side, side, 3), dtype=np.uint8)).save(directory / f"{i:03d}.png")
    return directory


def project(directory: Path) -> Path:
    """The workflow's files in ``directory`` with a config that loads config/experiments/*.yaml and no default."""
    for name in ("workflows", "profiles"):
        shutil.copytree(ROOT / name, directory / name)
    shutil.copy(SNAKEFILE, directory / "Snakefile")
    (directory / "config" / "experiments").mkdir(parents=True)
    shutil.copy(ROOT / "config" / "schema.json", directory / "config" / "schema.json")
    config = {"experiment_files": ["config/experiments/*.yaml"], "default_experiments": []}
    (directory / "config" / "config.yaml").write_text(yaml.safe_dump(config))
    return directory


def snakemake(directory: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([SNAKEMAKE, *args], cwd=directory, env=offline_env(), capture_output=True, text=True,
                          timeout=timeout)


def harness(directory: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "harness", *args], cwd=directory, env=offline_env(),
                          capture_output=True, text=True, timeout=timeout)


def experiment(name: str = "mine", **changes) -> dict:
    """A small experiment on the Dash folder `dash` and the image folder `images` (N fixed: no timing)."""
    config = {
        "title": name, "dataset": {"spec": "images"}, "dash": {"source": "dash"},
        "samples": {"num": 16, "shard_size": 16, "batch_size": 16},
        "metrics": {"fid": {"reference": "images", "extractor": "digitsnet"}},
        "dots": {"dot": {"sampler": "ddim", "m": 2, "channels": [8, 16], "lora_rank": 2, "train": {"steps": 2}}},
        "series": [{"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "dot", "baseline_steps": [1, 2, 4],
                    "morse": [{"lsd": 3, "ratio": 0.5, "N": 4}]}],
        "latency": {"N": 4},
    }
    config.update(changes)
    return config


def write_experiment(directory: Path, name: str, config: dict) -> None:
    (directory / "config" / "experiments" / f"{name}.yaml").write_text(yaml.safe_dump({"experiments": {name: config}}))


def nothing_computed(directory: Path, name: str = "mine") -> bool:
    """No sample, Dot, latency or metric output exists: the run stopped before any job that computes."""
    return not (directory / "samples").exists() and not any((directory / "work" / name / d).exists()
                                                          for d in ("dot", "latency", "metrics", "fidstats"))


def one_line_error(result: subprocess.CompletedProcess) -> str:
    """The last stderr line of a failed plan; the plan fails with it and no traceback."""
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture
def own(tmp_path) -> Path:
    """A project folder holding a Dash folder `dash` and an image folder `images` of its size."""
    directory = project(tmp_path / "project")
    save_dash(directory / "dash")
    save_images(directory / "images")
    return directory


pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed (pip install -e '.[test]')")


# ---------------------------------------------------------------- mistakes caught before compute


def test_a_dash_folder_without_scheduler_config_stops_the_plan(own):
    (own / "dash" / "scheduler_config.json").unlink()
    write_experiment(own, "mine", experiment())
    line = one_line_error(snakemake(own, "-n", "reports/speedup_mine.pdf"))
    assert "has no scheduler_config.json" in line and "save_config" in line, line


def test_a_dash_folder_without_weights_stops_the_plan(own):
    (own / "dash" / "diffusion_pytorch_model.safetensors").unlink()
    write_experiment(own, "mine", experiment())
    line = one_line_error(snakemake(own, "-n", "reports/speedup_mine.pdf"))
    assert "no weights" in line and "save_pretrained" in line, line


def test_a_missing_dash_folder_stops_check_inputs_before_any_job_computes(own):
    write_experiment(own, "mine", experiment(dash={"source": "dash", "path": "models/nowhere"}))
    result = snakemake(own, "-j1", "reports/speedup_mine.pdf")
    log = (own / "logs" / "mine" / "check_inputs.log").read_text().strip()
    assert result.returncode != 0 and "Traceback" not in result.stderr + log
    assert len(log.splitlines()) == 1 and "models/nowhere does not exist" in log and "dash.path" in log, log
    assert nothing_computed(own)


def test_images_of_another_size_stop_check_inputs_naming_the_key(own):
    shutil.rmtree(own / "images")
    save_images(own / "images", odd=3)  # 77 of the Dash's 16x16, 3 at 8x8
    write_experiment(own, "mine", experiment())
    result = snakemake(own, "-j1", "reports/speedup_mine.pdf")
    log = (own / "logs" / "mine" / "check_inputs.log").read_text().strip()
    assert result.returncode != 0 and "Traceback" not in result.stderr + log and len(log.splitlines()) == 1, log
    assert "3 8x8 RGB" in log and "config key `dataset.spec`" in log, log
    assert nothing_computed(own)


def test_images_with_other_channels_are_refused_by_the_starter(own):
    grey = own / "grey"
    grey.mkdir()
    for i in range(4):
        Image.fromarray(np.zeros((16, 16), np.uint8)).save(grey / f"{i}.png")
    result = harness(own, "new-experiment", "--name", "mine", "--dash", "dash", "--data", "grey")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "16x16 grey" in result.stderr and "--data" in result.stderr


def test_a_shipped_dot_trained_for_another_dash_stops_check_inputs(tmp_path, capsys):

    code = main(["check", "--experiment", "x", "--dash", "digits-cond", "--shipped-dot", str(ASSETS / "dot-digits" / "ddim"),
                 "--out", str(tmp_path / "inputs.json")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "was trained for another Dash" in err, err
    assert "dots.<name>.path" in err and not (tmp_path / "inputs.json").exists()


def test_a_budget_with_no_dot_step_stops_the_plan(own):
    write_experiment(own, "mine", experiment(series=[{"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "dot",
                                                      "baseline_steps": [1, 2], "morse": [{"lsd": 1, "ratio": 0.5, "N": 4}]}]))
    line = one_line_error(snakemake(own, "-n", "reports/speedup_mine.pdf"))
    assert "holds no Dot step" in line and "lsd >= 1.25" in line and "series 'ddim'" in line, line


def test_an_error_in_one_experiment_file_never_stops_another_experiments_target(own):
    write_experiment(own, "mine", experiment())
    bad = experiment(samples={"num": 16, "shard_size": 16, "batch_size": 16, "batches": 1},
                     series=[{"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "dot",
                              "baseline_steps": [1], "morse": [{"lsd": 1, "ratio": 0.5, "N": 4}]}])
    write_experiment(own, "impossible", bad)  # batched: its jobs are made when the workflow is parsed
    (own / "config" / "experiments" / "typo.yaml").write_text("experiments:\n  typo: {title: [unclosed\n")
    assert snakemake(own, "-n", "reports/speedup_mine.pdf").returncode == 0
    assert "holds no Dot step" in one_line_error(snakemake(own, "-n", "reports/speedup_impossible.pdf"))
    line = one_line_error(snakemake(own, "-n", "reports/speedup_typo.pdf"))
    assert "typo.yaml (line 3) is not valid YAML" in line, line


# ---------------------------------------------------------------- warnings with teeth


def test_a_measured_n_at_or_below_one_and_points_off_budget_are_warned(tmp_path, capsys):
    rows = pd.DataFrame([
        {"experiment": "mine", "method": "morse", "point": "ddim_l3_k0p5", "dash_steps": 1, "dot_steps": 4,
         "achieved_lsd": 3.0, "requested_lsd": 3.0, "requested_ratio": 0.5, "dot": "work/mine/dot/dot"},
        {"experiment": "mine", "method": "baseline", "point": "ddim_s2", "dash_steps": 2, "dot_steps": 0,
         "achieved_lsd": 2.0, "requested_lsd": 2.0, "requested_ratio": 0.0, "dot": ""},
    ])
    rows.to_csv(tmp_path / "rows.csv", index=False)
    latency = tmp_path / "latency"
    latency.mkdir()
    pd.DataFrame([{"experiment": "mine", "device": "cpu", "serves": "work/mine/dot/dot;oracle;zero",
                   "N": 0.79, "dash_s_per_step": 0.079, "dot_s_per_step": 0.1}]).to_csv(latency / "latency_cpu.csv", index=False)
    code = main(["attach-lsd", str(tmp_path / "rows.csv"), "--latency-dir", str(latency), "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err
    assert code == 0, err
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert any("measured N = 0.79" in w and "cannot save time" in w for w in warnings), err
    assert any("planned with N = 2" in w and "N: 0.79" in w for w in warnings), err
    assert any("ddim_l3_k0p5 3 -> 6.06" in w for w in warnings), err


def test_fid_on_fewer_samples_than_features_warns_and_on_one_refuses(capsys):
    from harness.metrics.support import check_fid_counts

    warnings = check_fid_counts(samples=16, reference=1797, dims=64, where="x.csv")
    assert len(warnings) == 1 and "16 samples with 64 features" in warnings[0] and "samples.num >= 65" in warnings[0]
    assert check_fid_counts(samples=65, reference=1797, dims=64, where="x.csv") == []
    with pytest.raises(HarnessError, match="FID on 1 samples is undefined"):
        check_fid_counts(samples=1, reference=1797, dims=64, where="x.csv")


def test_run_warnings_are_repeated_at_the_end_from_the_logs(tmp_path, capsys):
    from harness.warnings_digest import run_warnings

    (tmp_path / "logs" / "mine").mkdir(parents=True)
    (tmp_path / "logs" / "mine" / "attach_lsd.log").write_text("1 rows\nwarning: measured N = 0.79\r\n")
    run_warnings(since=0, logs=tmp_path / "logs")
    err = capsys.readouterr().err
    assert "1 warning(s)" in err and "warning: measured N = 0.79" in err and "attach_lsd.log" in err


# ---------------------------------------------------------------- damaged files: one line with the remake command


def _shard(tmp_path: Path) -> Path:
    from harness.shards import Shard, write_shard

    path = tmp_path / "samples" / "mine" / "ddim_s2.r0.s000.npz"
    path.parent.mkdir(parents=True)
    meta = {"experiment": "mine", "method": "baseline", "point": "ddim_s2"}
    write_shard(path, Shard(images=np.zeros((4, 16, 16, 3), np.uint8), seeds=np.arange(4), meta=meta))
    return path


DAMAGE = {
    "garbage": lambda data: b"not a zip file at all",
    "truncated": lambda data: data[: len(data) // 2],
    "empty": lambda data: b"",
    "flipped": lambda data: data[:200] + bytes(b ^ 0xFF for b in data[200:400]) + data[400:],
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_shard_is_one_line_naming_it_and_the_remake_command(tmp_path, monkeypatch, capsys, damage):
    monkeypatch.chdir(tmp_path)
    path = _shard(tmp_path).relative_to(tmp_path)
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    code = main(["fid", str(path), "--ref", "digits:16:all", "--extractor", "digitsnet", "--num-samples", "4",
                 "--refstats-dir", "refstats", "--out", "row.csv"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert f"{path} is damaged" in err and f"snakemake -j1 -f {path}" in err, err


@pytest.mark.parametrize("damage", ["empty", "garbage", "no rows"])
def test_a_damaged_metric_row_is_one_line(tmp_path, capsys, damage):
    row = tmp_path / "mine.r0.fid.csv"
    row.write_bytes({"empty": b"", "garbage": b"\x00\xff\x00,\n\"unclosed", "no rows": b"point,method\n"}[damage])
    code = main(["attach-lsd", str(row), "--N", "4", "-o", str(tmp_path / "out.csv")])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and f"{row} is damaged" in err and "snakemake -j1 -f" in err, err


@pytest.mark.parametrize("name", ["dot.json", "dot.safetensors"])
def test_a_damaged_dot_checkpoint_is_one_line(tmp_path, name):
    from harness.models.dash import load_dash
    from harness.morse.checkpoint import load_dot

    dot = tmp_path / "dot"
    shutil.copytree(ASSETS / "dot-digits" / "ddim", dot)
    (dot / name).write_bytes((dot / name).read_bytes()[:40])
    with pytest.raises(HarnessError, match=rf"{dot / name} is damaged .*snakemake -j1 -f {dot / name}"):
        load_dot(dot, load_dash("digits"))


# ---------------------------------------------------------------- no result outlives its inputs


def test_the_content_stamp_follows_bytes_not_timestamps(own, monkeypatch):
    from harness.experiments.content import content_stamp
    from harness.experiments.model import Experiment

    monkeypatch.chdir(own)
    mine = Experiment("mine", experiment())
    first = content_stamp(mine)
    weights = own / "dash" / "diffusion_pytorch_model.safetensors"
    os.utime(weights, (1, 1))  # an old timestamp, the same bytes
    assert content_stamp(mine) == first
    save_dash(own / "dash", seed=1)  # new weights in place
    second = content_stamp(mine)
    assert second != first
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(own / "images" / "000.png")  # one image edited
    assert content_stamp(mine) not in (first, second)


# ---------------------------------------------------------------- the guide's path, end to end


@pytest.mark.slow
def test_own_model_from_starter_config_to_report_and_a_changed_dash_reruns_everything(own):
    """The guide: a diffusers folder and an image folder -> `harness new-experiment` -> `snakemake -j2
    reports/speedup_mine.pdf`; then the Dash's weights replaced in place -> the plan redoes the Dot, the
    samples and everything downstream."""
    made = harness(own, "new-experiment", "--name", "mine", "--dash", "dash", "--data", "images", "--dot-steps", "50")
    assert made.returncode == 0, made.stderr[-3000:]
    config = yaml.safe_load((own / "config" / "experiments" / "mine.yaml").read_text())["experiments"]["mine"]
    assert config["dots"]["dot"]["m"] == 2 and config["samples"]["num"] > 64
    morse = config["series"][0]["morse"][0]
    assert morse["N"] > 0 and morse["ratio"] == 0.5
    run = snakemake(own, "-j2", "reports/speedup_mine.pdf", timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert (own / "reports" / "speedup_mine.pdf").stat().st_size > 0
    rows = pd.read_csv(own / "results" / "mine.csv")
    assert set(rows["method"]) == {"baseline", "morse"} and rows["fid"].notna().all()
    assert "Nothing to be done" in snakemake(own, "-n", "reports/speedup_mine.pdf").stdout

    save_dash(own / "dash", seed=1)  # the weights replaced in place
    plan = snakemake(own, "-n", "reports/speedup_mine.pdf")
    assert plan.returncode == 0, plan.stderr[-3000:]
    for rule in ("check_inputs", "train_dot", "latency", "sample_mine_batch0", "fid_mine_batch0", "attach_lsd", "report"):
        assert re.search(rf"^{rule}\s+1$", plan.stdout, re.MULTILINE), (rule, plan.stdout[-3000:])  # the job-stats table
    assert json.loads((own / "work" / "mine" / "inputs.json").read_text())["experiment"] == "mine"


def test_check_and_record_called_from_python_writes_the_record_or_one_error_with_its_log(tmp_path):
    from harness.input_check import check_and_record

    found = check_and_record(experiment="x", out=tmp_path / "inputs.json", log=tmp_path / "check.log", dash="digits",
                             data=["digits:16:train"])
    assert json.loads((tmp_path / "inputs.json").read_text()) == found and found["data"]["digits:16:train"] > 0
    assert json.loads((tmp_path / "check.log").read_text()) == found
    with pytest.raises(HarnessError, match="cannot run: .*absent.pth") as error:
        check_and_record(experiment="x", out=tmp_path / "other.json", log=tmp_path / "check.log", dash="digits",
                         files=[str(tmp_path / "absent.pth")])
    assert "\n" not in str(error.value) and not (tmp_path / "other.json").exists()
    assert (tmp_path / "check.log").read_text().startswith("harness check: error: experiment 'x' cannot run:")


def test_write_starter_called_from_python_writes_a_config_once_unless_forced(tmp_path, monkeypatch):
    from harness.experiments.starter import write_starter

    save_dash(tmp_path / "dash")
    save_images(tmp_path / "images")
    monkeypatch.chdir(tmp_path)
    out = write_starter(name="mine", dash=tmp_path / "dash", data=tmp_path / "images", dot_steps=7)
    assert out == Path("config/experiments/mine.yaml")
    config = yaml.safe_load(out.read_text())["experiments"]["mine"]
    assert config["dash"]["source"] == "dash" and config["dots"]["dot"]["train"]["steps"] == 7
    with pytest.raises(HarnessError, match="exists: pass --force"):
        write_starter(name="mine", dash=tmp_path / "dash", data=tmp_path / "images")
    assert write_starter(name="mine", dash=tmp_path / "dash", data=tmp_path / "images", force=True) == out
    assert yaml.safe_load(out.read_text())["experiments"]["mine"]["dots"]["dot"]["train"]["steps"] == 300
