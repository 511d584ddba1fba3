"""The rehearsal (harness/rehearsal, docs/rehearsal.md): its one override, its stand-in inputs in the
real formats read by the real loaders, the rows and pages it marks, and that it never makes a real run
accept a missing input. The end-to-end cifar and sd rehearsals are marked `rehearsal` (the long ones; CI runs both)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml

from harness import external
from harness.errors import HarnessError
from harness.rehearsal import settings
from harness.rehearsal import stand_ins

from test_workflow import ROOT, SNAKEMAKE, declared_memory, job_total, offline_env

COUNTS = {"images": 3, "max_sample_size": 32, "max_latent_size": 16, "dot_downsampling": 4}


def test_the_override_caps_counts_and_keeps_the_first_points_of_each_series():
    experiment = {
        "samples": {"num": 50000, "shard_size": 5000, "batch_size": 500, "repeats": 1},
        "series": [{"name": "a", "baseline_steps": [3, 5, 10, 1000], "guidance_scales": [2, 5, 7.5], "baseline_reach": 3,
                    "morse": [{"lsd": [3, 5, 10], "ratio": 0.5, "N": 6}]}],
        "dots": {"d": {"gpus": 8, "train": {"steps": 100000, "lr": 0.0002}}},
        "metrics": {"fid": {"batch_size": 500, "extractor": "inception-v3-compat"}},
        "latency": {"batch_size": 100},
    }
    out = settings.rehearsed(experiment, yaml.safe_load((ROOT / "config" / "rehearsal.yaml").read_text()))
    assert out["samples"]["num"] == 2 and out["samples"]["shard_size"] == 1  # several shards stay several
    assert out["series"][0]["baseline_steps"] == [3] and out["series"][0]["guidance_scales"] == [2]
    assert [m["lsd"] for m in out["series"][0]["morse"]] == [3]
    assert out["series"][0]["baseline_reach"] == 1  # the 2x, 3x baselines above the top budget go
    assert out["dots"]["d"]["train"] == {"steps": 2, "lr": 0.0002, "batch_size": 2, "warmup": 1, "checkpoint_every": 1}
    assert out["dots"]["d"]["gpus"] == 8  # the launch path is the real one
    assert out["metrics"]["fid"] == {"batch_size": 4, "extractor": "inception-v3-compat"}  # no key a metric lacks
    assert out["latency"] == {"batch_size": 1, "warmup": 0, "repeats": 1}  # one timed step of one image
    sweep = settings.rehearsed({"series": [
        {"name": "a", "morse": [{"ratio": [0.1, 0.5], "lsd": [3, 5]}, {"lsd": 3, "ratio": 0.7, "dot": "oracle"}]}]})
    assert sweep["series"][0]["morse"] == [{"ratio": 0.1, "lsd": 3}, {"ratio": 0.5, "lsd": 3}]  # a point per ratio
    one_shard = settings.rehearsed({"samples": {"num": 300, "shard_size": 300, "pilot": 300, "batches": 2}})
    assert one_shard["samples"]["shard_size"] == one_shard["samples"]["num"] == one_shard["samples"]["pilot"] == 2


def test_command_line_booleans_are_booleans():
    from harness.experiments.config import command_line_booleans

    config = command_line_booleans({"rehearsal": "true", "allow_download": "False", "offline": True})
    assert config == {"rehearsal": True, "allow_download": False, "offline": True}


def test_every_registered_input_names_a_stand_in_writer():
    for name in external.EXTERNALS:
        entry = external.get(name)
        assert entry.stand_in and entry.stand_in[0] in stand_ins.WRITERS, name


def test_adm_g_classifier_stand_in_is_the_registered_export_and_guides_any_batch(tmp_path):
    """ADM-G's classifier as the registered torch.export file, read as the Dash loader reads it, at the pixel
    Dash stand-ins' size; its gradient guides a batch of any size (the export's batch is dynamic)."""
    import torch

    from harness.models.denoisers import ClassifierGuidance

    entry = external.get("adm-g-imagenet64-classifier")
    path = tmp_path / "classifier.pt2"
    stand_ins.WRITERS.get(entry.stand_in[0])(path, entry.stand_in[1], COUNTS)
    classifier = torch.export.load(str(path)).module().requires_grad_(False)
    guidance = ClassifierGuidance(classifier, 1.0, torch.linspace(0.999, 0.01, 1000))
    for batch in (1, 3):
        x = torch.randn(batch, 3, 32, 32)
        assert classifier(x, torch.full((batch,), 10)).shape == (batch, 1000)
        guided = guidance(torch.zeros_like(x), x, torch.full((batch,), 500), torch.arange(batch))
        assert guided.shape == x.shape and guided.abs().sum() > 0


def test_cifar10_stand_in_is_read_by_the_real_loader(tmp_path, monkeypatch):
    from harness.images import open_images

    monkeypatch.chdir(tmp_path)
    entry = external.get("cifar10")
    assert stand_ins.write_stand_ins(dashes=[], data=["cifar10:data/cifar10:train"], files=[], clip=None,
                                     counts=COUNTS) == ["cifar10: data/cifar10"]
    train, test = open_images("cifar10:data/cifar10:train"), open_images("cifar10:data/cifar10:test")
    assert len(train) == 5 * 3 and len(test) == 3 and entry.path.is_dir()
    _, images = next(train.batches(15))
    assert np.asarray(images).shape == (15, 32, 32, 3) and np.asarray(images).std() > 0
    assert stand_ins.write_stand_ins(dashes=[], data=["cifar10:data/cifar10:train"], files=[], clip=None,
                                     counts=COUNTS) == []  # nothing is written where something is


def test_rehearsal_inputs_called_from_python_writes_the_missing_stand_ins_and_their_record(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    common = dict(experiment="c", dash="config:digits", also_dash=["digits"], data=["cifar10:data/cifar10:train"])
    written = stand_ins.rehearsal_inputs(out=tmp_path / "stand_ins.json", log=tmp_path / "log", **common)
    assert written == ["cifar10: data/cifar10"] and external.get("cifar10").path.is_dir()
    assert json.loads((tmp_path / "stand_ins.json").read_text()) == {"experiment": "c", "written": written}
    assert (tmp_path / "log").read_text() == "cifar10: data/cifar10\n"
    assert stand_ins.rehearsal_inputs(out=tmp_path / "again.json", log=tmp_path / "log", **common) == []
    assert (tmp_path / "log").read_text() == "every stand-in was already there\n"


def test_a_stand_in_folder_another_job_renamed_first_stays(tmp_path):
    """Two experiments' rehearsal_inputs jobs side by side (-j2) write the same Dash folder: the second rename
    finds the first's folder there and keeps it."""
    target = tmp_path / "snapshots" / "rev"

    def write(scratch):
        scratch.mkdir()
        (scratch / "ours.json").write_text("{}")
        target.mkdir(parents=True)  # the other job's rename, while this one wrote
        (target / "theirs.json").write_text("{}")

    stand_ins._atomic(target, write)
    assert [p.name for p in target.iterdir()] == ["theirs.json"]
    assert [p.name for p in target.parent.iterdir()] == ["rev"]  # no scratch folder left behind


def test_coco_captions_stand_in_has_the_real_counts(tmp_path):
    path = tmp_path / "captions_val2017.json"
    stand_ins.WRITERS.get("coco-captions")(path, external.get(external.COCO_CAPTIONS).stand_in[1], COUNTS)
    data = json.loads(path.read_text())
    assert len(data["images"]) == 5000 and len(data["annotations"]) == 25014
    assert {a["image_id"] for a in data["annotations"]} == {i["id"] for i in data["images"]}


def test_imagenet_stand_in_has_a_folder_per_wordnet_id(tmp_path):
    stand_ins.WRITERS.get("imagenet-classes")(tmp_path / "in64", {"size": 64}, COUNTS)
    folders = sorted(p.name for p in (tmp_path / "in64").iterdir())
    assert len(folders) == 1000 and folders[0] == "n01440764" and all(f.startswith("n") for f in folders)
    assert all(any(p.iterdir()) for p in (tmp_path / "in64").iterdir())


@pytest.mark.parametrize("name", ["celebahq256", "lsun_church256", "celeba64", "imagenet64"])
def test_a_dash_training_set_stand_in_fits_the_capped_dash_in_the_real_check(tmp_path, name):
    """The 64 and 256 px sets a pixel-space Dash trains on are written at the Dash stand-in's capped size: the real
    check (harness check's training_shape_problem) passes them, and still refuses a set of another size."""
    from harness.data.shapes import training_shape_problem

    writer, options = external.get(name).stand_in
    stand_ins.WRITERS.get(writer)(tmp_path / name, options, {**COUNTS, "images": 2})
    assert training_shape_problem(str(tmp_path / name), (3, 32, 32), "dataset.spec") is None
    assert "64x64" in training_shape_problem(str(tmp_path / name), (3, 64, 64), "dataset.spec")


def test_a_dash_stand_in_keeps_the_size_its_dots_run_on(tmp_path):
    """Capped at 32, but a 5-level 64 px UNet stays 64 and a 6-level 256 px one 128: Dot runs Dash's UNet at 1/4
    (m = 2), where its downsamplings need room (at 32 px DDIM's CelebA Dash failed in train_dot); the training
    images of that Dash are written at its size."""
    from harness.data.shapes import training_shape_problem
    from harness.models.architectures import load_architecture

    sizes = {name: stand_ins.stand_in_size(load_architecture(name)["unet"], COUNTS)
             for name in ("ddpm-cifar10-32", "iddpm-imagenet64", "ddim-celeba64", "ddpm-celebahq-256", "sd-v1-4-unet")}
    assert sizes == {"ddpm-cifar10-32": 32, "iddpm-imagenet64": 32, "ddim-celeba64": 64, "ddpm-celebahq-256": 128,
                     "sd-v1-4-unet": 32}
    # a latent Dash at the latent cap: SD's UNet2DConditionModel passes its up-sampling sizes, so its Dot
    # runs at 16 / 4 = 4 latent pixels although its 3 downsamplings would want 8 (train-dot accepts it)
    assert stand_ins.stand_in_size(load_architecture("sd-v1-4-unet")["unet"], COUNTS, latent=True) == 16
    writer, options = external.get("celebahq256").stand_in
    stand_ins.WRITERS.get(writer)(tmp_path / "hq", options, {**COUNTS, "images": 1, "dash_size": 128})
    assert training_shape_problem(str(tmp_path / "hq"), (3, 128, 128), "dataset.spec") is None


def test_laion_stand_in_is_img2dataset_files_output(tmp_path):
    stand_ins.WRITERS.get("img2dataset-files")(tmp_path / "laion", {"size": 64}, COUNTS)
    jpgs = sorted((tmp_path / "laion").rglob("*.jpg"))
    assert len(jpgs) == 3 and all(p.with_suffix(".txt").read_text() for p in jpgs)


def test_inception_stand_in_loads_as_torch_fidelity_weights(tmp_path):
    from harness.metrics.extractors import inception

    path = tmp_path / "inception.pth"
    stand_ins.WRITERS.get("inception")(path, {}, COUNTS)
    extractor = inception(weights=path, offline=True)
    import torch

    images = torch.stack([torch.zeros(3, 32, 32), torch.full((3, 32, 32), 255.0)]).to(torch.uint8)
    features = extractor.features(images)
    assert features.shape == (2, 2048) and (features[0] - features[1]).abs().mean() > 1e-3  # FIDs that differ


def test_a_hub_dash_stand_in_resolves_through_the_cache_like_a_download(tmp_path, monkeypatch):
    """google/ddpm-cifar10-32 written as an HF cache snapshot of its real architecture: the same hub-id
    lookup and folder loader a user's download goes through."""
    from huggingface_hub import constants

    from harness.models.architectures import load_architecture
    from harness.models.dash import load_dash, resolve_directory

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    with pytest.raises(HarnessError, match="not in the local Hugging Face cache"):
        resolve_directory("google/ddpm-cifar10-32")
    written = stand_ins.write_stand_ins(dashes=[("google/ddpm-cifar10-32", None)], data=[], files=[], clip=None,
                                        counts=COUNTS)
    assert written and "models--google--ddpm-cifar10-32" in written[0]
    dash = load_dash("google/ddpm-cifar10-32")
    real = load_architecture("ddpm-cifar10-32")
    assert sum(p.numel() for p in dash.unet.parameters()) == real["parameters"]
    assert dash.sample_shape == tuple(real["sample_shape"])


@pytest.mark.parametrize("architecture, encoders", [("tiny-sd", 1), ("tiny-sdxl", 2)])
def test_a_text_to_image_dash_stand_in_is_a_pipeline_folder_the_loader_reads(tmp_path, architecture, encoders):
    """unet/, vae/, scheduler/ and each text encoder with its tokenizer (written one part at a time), read back by
    load_dash as a user's pipeline folder: the latent cap, the VAE and the text encoders SDXL's conditioning needs."""
    from harness.models.dash import load_dash

    stand_ins.write_dash(tmp_path / "pipe", architecture, COUNTS)
    dash = load_dash(str(tmp_path / "pipe"))
    assert len(dash.text_encoders) == encoders and dash.text_missing is None and dash.vae is not None
    assert dash.sample_shape[1:] == (16, 16)


def test_a_registered_dash_folder_gets_its_architecture_by_name(tmp_path, monkeypatch):
    """A registered models/<name> Dash: its stand-in is its packaged architecture (by `source`, or the one
    config named `<name>-<size>`), so a new registration needs no special case."""
    monkeypatch.chdir(tmp_path)
    assert stand_ins.dash_architecture("models/lcm-sdxl-pipeline", external.get("lcm-sdxl-pipeline")) == "lcm-sdxl-unet"
    assert stand_ins.dash_architecture("google/ddpm-celebahq-256", None) == "ddpm-celebahq-256"
    for adm in ("adm-imagenet64-cond", "adm-g-imagenet64"):  # one UNet, two Dashes (ADM-G adds its classifier)
        assert stand_ins.dash_architecture(f"models/{adm}", external.get(adm)) == "adm-imagenet64-cond-64"
    with pytest.raises(HarnessError, match="no packaged architecture"):
        stand_ins.write_stand_ins(dashes=[("someone/unknown", None)], data=[], files=[], clip=None, counts=COUNTS)


@pytest.mark.parametrize("name", ["ddim-celeba64", "iddpm-imagenet64", "score-sde-cifar10"])
def test_a_registered_dash_has_a_packaged_architecture(name):
    """A registered models/<name> Dash needs its architecture config, or its experiment's rehearsal stops in
    rehearsal_inputs (ddim_celeba64 and ddim_imagenet64 did); the config builds to its recorded parameter count."""
    from harness.models import architectures

    entry = external.get(name)
    architecture = stand_ins.dash_architecture(entry.location, entry)
    assert architecture is not None
    config = architectures.load_architecture(architecture)
    unet = architectures.build_unet(config["unet"], device="meta")
    assert sum(p.numel() for p in unet.parameters()) == config["parameters"]


def test_rows_and_pages_say_rehearsal(monkeypatch):
    import pandas as pd

    from harness import provenance, rehearsal
    from harness.report.pdf import is_rehearsal

    args = ["x"]
    monkeypatch.delenv(rehearsal.ENV, raising=False)
    assert provenance.columns(args, None)["rehearsal"] is False
    monkeypatch.setenv(rehearsal.ENV, "true")
    assert provenance.columns(args, None)["rehearsal"] is True
    assert is_rehearsal(pd.DataFrame({"rehearsal": [False, True]}))
    assert not is_rehearsal(pd.DataFrame({"rehearsal": [False]})) and not is_rehearsal(pd.DataFrame({"x": [1]}))


def _snakemake(cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Snakemake in ``cwd``, as a user runs it there (no --directory: Snakemake would ignore `workdir:`)."""
    return subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), *args], cwd=cwd,
                          env=offline_env(), capture_output=True, text=True, timeout=timeout)


def test_rehearse_all_collects_every_experiment_of_every_config_file():
    """`snakemake -j2 rehearse_all --config rehearsal=true` asks for the report of each experiment the config files
    define (the fifteen paper experiments and the three digits ones beside the paper)."""
    from harness.experiments import Workflow

    defined = {name for path in (ROOT / "config" / "experiments").glob("*.yaml")
               for name in (yaml.safe_load(path.read_text()).get("experiments") or {})}
    workflow = Workflow(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), str(ROOT))
    assert len(defined) >= 16 and {f"reports/speedup_{name}.pdf" for name in defined} <= set(workflow.report_targets)


def test_a_rehearsal_under_directory_stops_before_touching_the_real_tree(tmp_path):
    """--directory makes Snakemake ignore `workdir:`: a rehearsal there would write beside real results."""
    result = subprocess.run([SNAKEMAKE, "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "-n",
                             "reports/speedup_cifar.pdf", "--config", "rehearsal=true"], cwd=tmp_path,
                            env=offline_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode != 0 and "without --directory" in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "work").exists()


def _rules(output: str) -> set[str]:
    """The rule names of Snakemake's job-stats table."""
    table = output.split("Job stats:", 1)[1].split("total", 1)[0]
    return {line.split()[0] for line in table.splitlines()[3:] if line.strip()}


@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_a_rehearsal_never_makes_a_real_run_accept_a_missing_input(tmp_path):
    """After a rehearsal wrote its stand-ins, the real run beside it still stops in check_inputs."""
    (tmp_path / "rehearsal" / "data").mkdir(parents=True)
    real = _snakemake(tmp_path, "-n", "reports/speedup_cifar.pdf", "--quiet", "rules")
    assert real.returncode == 0 and "rehearsal_inputs" not in _rules(real.stdout)
    refused = _snakemake(tmp_path, "-j1", "work/cifar/stand_ins.json")
    assert refused.returncode != 0 and "only in a rehearsal" in refused.stdout + refused.stderr
    result = _snakemake(tmp_path, "-j1", "work/cifar/inputs.json")
    log = (tmp_path / "logs" / "cifar" / "check_inputs.log").read_text()
    assert result.returncode != 0 and "cannot run:" in log and "data/cifar10" in log
    assert not (tmp_path / "data").exists() and not (tmp_path / "work" / "cifar" / "inputs.json").exists()


@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_the_lcm_sdxl_rehearsal_plan_declares_the_memory_of_its_heavy_jobs(tmp_path):
    """Each job that loads SDXL's pipeline or CLIP ViT-g/14 declares lcm_sdxl's `memory_mb` for its stage, so
    `-j2` on 24 GB never starts a job holding the pipeline (sample, train_dot) beside another heavy one."""
    from harness.experiments import Workflow

    # a total above every declaration: the plan shows them as declared (a run caps a job at the total it has)
    plan = _snakemake(tmp_path, "-n", "reports/speedup_lcm_sdxl.pdf", "--config", "rehearsal=true",
                      "--resources", "mem_mb=1000000")
    assert plan.returncode == 0, plan.stderr[-3000:]
    lcm = Workflow(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), str(ROOT)).experiment("lcm_sdxl")
    memory = declared_memory(plan.stdout)
    heavy = ("sample", "train_dot", "clip", "latency")
    assert {rule: memory.get(rule) for rule in heavy} == {rule: {lcm.memory_mb(rule)} for rule in heavy}
    pipeline, others = memory["sample"] | memory["train_dot"], memory["sample"] | memory["clip"] | memory["latency"]
    assert min(pipeline) + min(others) > 24_000  # a job holding the pipeline beside any other heavy job


def _rehearses_end_to_end(tmp_path: Path, experiment: str) -> Path:
    """`snakemake -j2 reports/speedup_<experiment>.pdf --config rehearsal=true` in ``tmp_path``: its plan holds
    every rule of the real plan, it runs every job of that plan, writes the report with the banner on every
    page and marks every row, and leaves the real results/ and reports/ untouched; the rehearsal's tree."""
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / f"{experiment}.csv").write_text("a real result\n")
    target = f"reports/speedup_{experiment}.pdf"
    real = _snakemake(tmp_path, "-n", target, "--quiet", "rules")  # the job-stats table only
    plan = _snakemake(tmp_path, "-n", target, "--config", "rehearsal=true", "--quiet", "rules")
    assert plan.returncode == 0 and _rules(real.stdout) <= _rules(plan.stdout)
    run = _snakemake(tmp_path, "-j2", target, "--config", "rehearsal=true", timeout=1800)
    assert run.returncode == 0, run.stderr[-4000:]
    assert job_total(run.stderr + run.stdout) == job_total(plan.stdout)
    tree = tmp_path / "rehearsal"
    assert (tree / target).is_file()
    assert (tmp_path / "results" / f"{experiment}.csv").read_text() == "a real result\n"
    assert not (tmp_path / "reports").exists()
    import pandas as pd

    for csv in (f"{experiment}.csv", f"{experiment}_speedup.csv"):
        rows = pd.read_csv(tree / "results" / csv)
        assert len(rows) and rows["rehearsal"].astype(str).eq("True").all(), csv
    rows = pd.read_csv(tree / "results" / f"{experiment}.csv")
    if "fid" in rows:  # one row per point and metric: a CLIP row has no extractor
        assert set(rows.dropna(subset=["fid"])["fid_feature_extractor"]) == {"inception-v3-compat"}
    assert _banner_on_every_page(tree / target)
    return tree


@pytest.mark.rehearsal
@pytest.mark.xdist_group("rehearsal")  # one rehearsal at a time under pytest-xdist: sd's peak is 11.5 GB
@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_cifar_rehearses_end_to_end(tmp_path):
    _rehearses_end_to_end(tmp_path, "cifar")


@pytest.mark.rehearsal
@pytest.mark.xdist_group("rehearsal")  # one rehearsal at a time under pytest-xdist: sd's peak is 11.5 GB
@pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")
def test_sd_rehearses_end_to_end(tmp_path):
    """The text-to-image rehearsal (CI's one): SD v1.4's pipeline parts as a hub snapshot, MS-COCO captions, CLIP
    ViT-g/14; every point has its FID row and its CLIP row (docs/rehearsal.md: its cost and memory)."""
    tree = _rehearses_end_to_end(tmp_path, "sd")
    import pandas as pd

    rows = pd.read_csv(tree / "results" / "sd.csv")
    scored = rows.dropna(subset=["clip_score"])
    assert len(scored) and set(scored["point"]) == set(rows.dropna(subset=["fid"])["point"]) == set(rows["point"])
    assert scored["clip_score"].gt(0).all() and rows["guidance_scale"].nunique() == 1


def _banner_on_every_page(pdf: Path) -> bool:
    from test_report import _pages, _text

    from harness.rehearsal import BANNER

    count = _pages(pdf.read_bytes())
    return count > 1 and all(BANNER in " ".join(_text(pdf, page).split()) for page in range(1, count + 1))


def test_every_report_page_of_rehearsal_rows_carries_the_banner(tmp_path):
    from test_report import _rows

    from harness.cli import main

    for rehearsed in (True, False):
        raw, out = tmp_path / f"raw{rehearsed}.csv", tmp_path / f"toy{rehearsed}.csv"
        _rows().assign(rehearsal=rehearsed).to_csv(raw, index=False)
        assert main(["attach-lsd", str(raw), "-o", str(out), "--N", "6", "--N-device", "hand-made"]) == 0
        assert main(["report", str(out), "--experiment", "toy", "--out-dir", str(tmp_path / str(rehearsed))]) == 0
        assert _banner_on_every_page(tmp_path / str(rehearsed) / "speedup_toy.pdf") is rehearsed
