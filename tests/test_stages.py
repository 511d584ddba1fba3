"""Every stage of `python -m harness` starts and writes its output on tiny inputs (random-weight digits
Dash, 16 images per point, a few training steps), so a stage that cannot start fails the suite.

STAGE_CASES has one entry per stage of harness.cli.STAGES (a test enforces it): the entry runs the
stage, through the same `main` the command line calls, and returns the file it must have written.
Stages that feed others (sample, fid, latency, ...) run once per module and are reused.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Callable

import pytest

from harness.cli import STAGES, main, stage_parser
from metrics_helpers import TINY_CLIP, tiny_clip_checkpoint

DASH = "config:digits"  # random weights of the digits architecture: no asset needed
SEEDS, BATCH = "0-15", "16"
TINY_DOT = ["--extra-blocks", "1", "--channels", "8", "--lora-rank", "2"]
POINTS = {  # a baseline curve and two Morse points, as the tiny workflow test has
    "ddim_s2": ["--steps", "2"],
    "ddim_s4": ["--steps", "4"],
    "ddim_f4_d1": ["--fine-steps", "4", "--dash-steps", "1", "--N", "2"],
    "ddim_f6_d2": ["--fine-steps", "6", "--dash-steps", "2", "--N", "2"],
}


class Workspace:
    """A folder of tiny inputs and outputs; each stage invocation runs once, whoever asks first."""

    def __init__(self, root: Path):
        self.root = root
        self._made: set[Path] = set()

    def stage(self, name: str, *args, out: Path, stdout: bool = False) -> Path:
        """Run `harness NAME [--threads 1] ARGS` (once per ``out``), require exit 0, return ``out``
        (with ``stdout``, the printed report is written there)."""
        if out not in self._made:
            out.parent.mkdir(parents=True, exist_ok=True)
            printed = io.StringIO()
            threads = ["--threads", "1"] if "--threads" in stage_parser(name)._option_string_actions else []
            with contextlib.redirect_stdout(printed):
                code = main([name, *threads, *map(str, args)])
            assert code == 0, f"harness {name} exited {code}: {printed.getvalue()[-2000:]}"
            if stdout:
                out.write_text(printed.getvalue())
            self._made.add(out)
        return out


def check(ws: Workspace) -> Path:
    out = ws.root / "inputs.json"
    return ws.stage("check", "--experiment", "tiny", "--dash", DASH, "--data", "digits:16:train", "--out", out, out=out)


def rehearsal_inputs(ws: Workspace) -> Path:  # check's command line; the bundled digits need no stand-in
    out = ws.root / "stand_ins.json"
    return ws.stage("rehearsal-inputs", "--experiment", "tiny", "--dash", DASH, "--data", "digits:16:train", "--out", out,
                    out=out)


def train_dash(ws: Workspace) -> Path:
    out = ws.root / "dash"
    ws.stage("train-dash", "--steps", "2", "--batch-size", "8", "--warmup-steps", "1", "--checkpoint-every", "1",
             "--log-every", "1", "--out", out, out=out)
    return out / "diffusion_pytorch_model.safetensors"


def new_experiment(ws: Workspace) -> Path:
    """A starter config for the tiny trained Dash and a folder of grey 16x16 images (its shape)."""
    import numpy as np
    from PIL import Image

    images = ws.root / "own_images"
    images.mkdir(exist_ok=True)
    for i in range(4):
        Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(images / f"{i}.png")
    out = ws.root / "own.yaml"
    return ws.stage("new-experiment", "--name", "own", "--dash", train_dash(ws).parent, "--data", images,
                    "--dot-steps", "2", "--out", out, out=out)


def train_dot(ws: Workspace) -> Path:
    out = ws.root / "dot"
    ws.stage("train-dot", "--dash", DASH, "--data", "digits:16:train", "--steps", "2", "--batch-size", "8",
             "--groups", "2", "--warmup", "1", *TINY_DOT, "--out", out, out=out)
    return out / "dot.safetensors"


def shard(ws: Workspace, point: str) -> Path:
    dot = ["--dot", train_dot(ws).parent] if "--fine-steps" in POINTS[point] else []
    out = ws.root / "samples" / f"{point}.r0.s000.npz"
    return ws.stage("sample", "--dash", DASH, *POINTS[point], *dot, "--seeds", SEEDS, "--batch-size", BATCH,
                    "--experiment", "tiny", "--point", point, "--device", "cpu", "--out", out, out=out)


def sample(ws: Workspace) -> Path:
    return shard(ws, "ddim_f6_d2")


def fid_row(ws: Workspace, point: str) -> Path:
    out = ws.root / "metrics" / f"{point}.r0.fid.csv"
    return ws.stage("fid", shard(ws, point), "--ref", "digits:16:heldout", "--num-samples", "16", "--extractor", "digitsnet",
                    "--batch-size", BATCH, "--refstats-dir", ws.root / "refstats", "--device", "cpu", "--out", out, out=out)


def fid(ws: Workspace) -> Path:
    return fid_row(ws, "ddim_s4")


def fid_stats(ws: Workspace) -> Path:
    out = ws.root / "fidstats" / "ddim_s2.fidstats"
    return ws.stage("fid-stats", shard(ws, "ddim_s2"), "--extractor", "digitsnet", "--batch-size", BATCH, "--device", "cpu", "--out", out, out=out)


def latency(ws: Workspace) -> Path:
    out = ws.root / "latency"
    dot = json.dumps({"m": 1, "channels": [8], "lora_rank": 2})
    ws.stage("latency", "--dash", DASH, "--experiment", "tiny", "--dot-config", dot, "--batch-size", "4", "--warmup",
             "1", "--repeats", "2", "--device", "cpu", "--results-dir", out, out=out)
    return next(out.glob("latency_*.csv"))


def attach_lsd(ws: Workspace) -> Path:
    rows = [fid_row(ws, point) for point in POINTS]
    out = ws.root / "results" / "tiny.csv"
    return ws.stage("attach-lsd", *rows, "--latency-dir", latency(ws).parent, "-o", out, out=out)


def batch(ws: Workspace) -> Path:
    """Two stage command lines in one process: both outputs, in order."""
    pilot = tune_ratio(ws).parent / "pilot" / "rows.csv"
    first, second = ws.root / "batch" / "a.csv", ws.root / "batch" / "b.csv"
    ws.stage("batch", f"tune-ratio {pilot} --metric fid -o {first}", f"tune-ratio {pilot} --metric fid -o {second}",
             out=second)
    assert first.read_text() == second.read_text()
    return second


def tune_ratio(ws: Workspace) -> Path:
    pilot = ws.root / "pilot" / "rows.csv"
    pilot.parent.mkdir(parents=True, exist_ok=True)
    pilot.write_text("experiment,method,dot,requested_lsd,requested_ratio,fid,seeds\n"
                     "tiny,morse,dot,4,0.3,9.5,900-915\ntiny,morse,dot,4,0.5,8.5,900-915\n")
    out = ws.root / "tuned_ratio.csv"
    ws.stage("tune-ratio", pilot, "--metric", "fid", "-o", out, out=out)
    assert "4,0.5,8.5" in out.read_text()  # the better pilot ratio at 4 LSD
    return out


def speedup(ws: Workspace) -> Path:
    out = ws.root / "results" / "tiny_speedup.csv"
    return ws.stage("speedup", attach_lsd(ws), "--metric", "fid", "--out", out,
                    "--summary-out", ws.root / "results" / "tiny_speedup_summary.csv", out=out)


def report(ws: Workspace) -> Path:
    out = ws.root / "reports"
    ws.stage("report", attach_lsd(ws), "--experiment", "tiny", "--metric", "fid", "--figure", "curves", "--latency-dir",
             latency(ws).parent, "--shards", sample(ws).parent, "--out-dir", out, "--note", "stage test", out=out)
    return out / "speedup_tiny.pdf"


def coco_prompts(ws: Workspace) -> Path:
    annotations = ws.root / "captions_val2017.json"
    captions = [{"id": i, "image_id": i, "caption": f"a drawing of the digit {i % 10}"} for i in range(20)]
    annotations.write_text(json.dumps({"annotations": captions}))
    out = ws.root / "prompts.txt"
    return ws.stage("coco-prompts", "--annotations", annotations, "--num", "16", "--out", out, out=out)


def clip(ws: Workspace) -> Path:
    (ws.root / "clip").mkdir(exist_ok=True)
    checkpoint = tiny_clip_checkpoint(ws.root / "clip")
    out = ws.root / "metrics" / "ddim_f6_d2.r0.clip.csv"
    return ws.stage("clip", sample(ws), "--prompts", coco_prompts(ws), "--num-samples", "16", "--model", TINY_CLIP,
                    "--clip-checkpoint", checkpoint, "--image-size", "32", "--batch-size", BATCH, "--device", "cpu",
                    "--offline", "--out", out, out=out)


def train_digitsnet(ws: Workspace) -> Path:
    out = ws.root / "digitsnet.safetensors"
    return ws.stage("train-digitsnet", "--epochs", "1", "--out", out, out=out)


def bench_morse(ws: Workspace) -> Path:
    return ws.stage("bench-morse", "--dash", DASH, "--batch-size", "4", "--fine-steps", "4", "--dash-steps", "2",
                    "--extra-blocks", "1", "--channels", "8", "--repeats", "1", out=ws.root / "bench-morse.txt", stdout=True)


def bench_metrics(ws: Workspace) -> Path:
    return ws.stage("bench-metrics", "--extractors", "digitsnet", "--images", "16", "--batch-size", BATCH,
                    "--memory-counts", "16", "--shard-size", "16", "--device", "cpu",
                    out=ws.root / "bench-metrics.txt", stdout=True)


def check_configs(ws: Workspace) -> Path:
    return ws.stage("check-configs", out=ws.root / "check-configs.txt", stdout=True)


def compute_cost(ws: Workspace) -> Path:
    return ws.stage("compute-cost", "--experiment", "digits", "--latency-dir", latency(ws).parent,
                    out=ws.root / "compute-cost.txt", stdout=True)


def class_accuracy(ws: Workspace) -> Path:
    shard = ws.root / "cond" / "ddim_s2_g2.npz"  # the shipped class-conditional Dash, guided, labels per seed
    ws.stage("sample", "--dash", "digits-cond", "--conditions", "labels:10", "--guidance-scale", "2", "--steps", "2",
             "--seeds", SEEDS, "--batch-size", BATCH, "--device", "cpu", "--out", shard, out=shard)
    out = ws.root / "metrics" / "ddim_s2_g2.class_accuracy.csv"
    return ws.stage("class-accuracy", shard, "--num-samples", "16", "--device", "cpu", "--out", out, out=out)


STAGE_CASES: dict[str, Callable[[Workspace], Path]] = {
    "check": check, "train-dash": train_dash, "train-dot": train_dot, "sample": sample, "bench-morse": bench_morse,
    "latency": latency, "attach-lsd": attach_lsd, "tune-ratio": tune_ratio, "batch": batch, "speedup": speedup, "report": report, "fid": fid, "fid-stats": fid_stats,
    "clip": clip, "coco-prompts": coco_prompts, "train-digitsnet": train_digitsnet, "bench-metrics": bench_metrics,
    "check-configs": check_configs, "new-experiment": new_experiment, "rehearsal-inputs": rehearsal_inputs, "compute-cost": compute_cost, "class-accuracy": class_accuracy,
}


def test_every_stage_has_a_case():
    assert sorted(STAGE_CASES) == sorted(STAGES), "add a case for each new stage of harness/cli.py to STAGE_CASES"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Workspace:
    return Workspace(tmp_path_factory.mktemp("stages"))


@pytest.mark.xdist_group("stages")  # under pytest-xdist one worker runs them all, so the shared inputs are made once
@pytest.mark.parametrize("stage", list(STAGES))
def test_stage_runs_on_tiny_inputs(stage, workspace):
    output = STAGE_CASES[stage](workspace)
    assert output.is_file() and output.stat().st_size > 0, f"harness {stage} wrote nothing to {output}"
