"""The Snakemake workflow: every paper target plans offline in seconds, the schema names a wrong
key, and a tiny digits experiment runs end to end (a few images, two LSD points per method)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from config_helpers import paper_configs
from harness.experiments import Workflow

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "Snakefile"
SNAKEMAKE = shutil.which("snakemake")

pytestmark = pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed (pip install -e '.[test]')")


def offline_env() -> dict:
    env = dict(os.environ)
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", HARNESS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    # a proxy that refuses every connection: anything that tried the network would fail loudly
    env.update(http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9")
    return env


def snakemake(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    command = [SNAKEMAKE, "-s", str(SNAKEFILE), "--directory", str(cwd), *args]
    return subprocess.run(command, cwd=cwd, env=offline_env(), capture_output=True, text=True, timeout=timeout)


def paper_experiments() -> list[str]:
    return list(paper_configs())


def test_every_paper_experiment_has_a_config():
    names = set(paper_experiments())
    assert {"cifar", "sd", "lcm_sdxl", "imagenet64_cond", "table4_inputs", "fig9_steps", "fig12_trajectory",
            "fig13_ratio", "table6_dot_variants", "table7_dot_arch"} <= names
    assert {"ddim_cifar10", "ddim_celeba64", "ddim_imagenet64", "ddim_celebahq256", "ddim_church256"} <= names


def test_dry_run_plans_every_paper_target_offline(tmp_path):
    targets = [f"reports/speedup_{name}.pdf" for name in paper_experiments()]
    result = snakemake(*targets, "-n", "--quiet", "rules", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    for rule in ("check_inputs", "train_dot", "sample", "fid", "clip", "latency", "attach_lsd", "speedup", "report"):
        assert rule in result.stdout, f"rule {rule} missing from the plan:\n{result.stdout[-2000:]}"
    assert not (tmp_path / "samples").exists(), "a dry run must not create outputs"


def test_the_plan_reports_requests_sharing_a_schedule_and_samples_it_once(tmp_path):
    """Fig. 13 at LSD 3 with N = 6 has three schedules for five ratios (harness/morse/budget.py)."""
    result = snakemake("reports/speedup_fig13_ratio.pdf", "-n", "-p", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "ddim_l3_k0p5 resolves to the schedule of ddim_l3_k0p3 (2 Dash + 6 Dot steps)" in result.stderr
    assert "ddim_l3_k0p1 resolves to the schedule of ddim_s3" in result.stderr
    assert "samples/fig13_ratio/ddim_l3_k0p3.r0.s000.npz" in result.stdout
    assert "samples/fig13_ratio/ddim_l3_k0p5." not in result.stdout
    assert '"point": "ddim_l3_k0p5"' in result.stdout  # the shared shard records the other request


def test_default_target_is_the_digits_report(tmp_path):
    result = snakemake("-n", cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "reports/speedup_digits.pdf" in result.stdout
    # the Dot is shipped: its remake shows here only because the plan runs in an empty directory
    assert "sample_digits_batch0" in result.stdout and "fid_digits_batch1" in result.stdout and "latency" in result.stdout


def test_slurm_profile_plans_a_paper_target(tmp_path):
    """The cluster path: `snakemake --profile profiles/slurm -n reports/speedup_cifar.pdf` plans."""
    pytest.importorskip("snakemake_executor_plugin_slurm",
                        reason="snakemake-executor-plugin-slurm is not installed (pip install -e '.[test]')")
    result = snakemake("--profile", str(ROOT / "profiles" / "slurm"), "-n", "reports/speedup_cifar.pdf",
                       cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "rule sample:" in result.stdout and "reports/speedup_cifar.pdf" in result.stdout
    # a cluster job's mem_mb is its node's request: the profile's (above this machine's memory) is not capped by
    # the local limit, and a rule the profile leaves out asks for its experiment's `memory_mb`
    memory = declared_memory(result.stdout)
    assert memory["train_dot"] == {128000} and memory["sample"] == {32000}
    assert memory["fid_stats"] == {Workflow(yaml.safe_load((ROOT / "config" / "config.yaml").read_text()), ROOT)
                                   .experiment("cifar").memory_mb("fid_stats")}


def declared_memory(output: str) -> dict[str, set[int]]:
    """Rule -> the mem_mb its jobs declare, from Snakemake's job listing (a dry run's or a run's)."""
    found: dict[str, set[int]] = {}
    for rule, block in re.findall(r"^(?:local)?rule (\w+):\n(.*?)(?=\n\n|\Z)", output, re.MULTILINE | re.DOTALL):
        mem = re.search(r"\bmem_mb=(\d+)", block)
        if mem:
            found.setdefault(rule, set()).add(int(mem.group(1)))
    return found


def most_at_once(output: str, rule: str) -> int:
    """The most jobs of ``rule`` running at one time, from Snakemake's log (a start: `rule NAME:`, an end:
    `Finished jobid: N (Rule: NAME)`)."""
    running = most = 0
    for line in output.splitlines():
        if re.match(rf"(local)?rule {rule}:$", line):
            running += 1
            most = max(most, running)
        elif line.startswith("Finished jobid:") and line.endswith(f"(Rule: {rule})"):
            running -= 1
    return most


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_schema_names_a_wrong_key(tmp_path):
    digits = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["experiments"]["digits"]
    digits["samples"]["shard_sise"] = 10  # typo
    bad = _write(tmp_path / "bad.yaml", {"experiments": {"digits": digits}})
    result = snakemake("-n", "--configfile", str(bad), cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert "shard_sise" in result.stdout + result.stderr


def test_schema_names_a_wrong_value(tmp_path):
    digits = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["experiments"]["digits"]
    digits["series"][0]["sampler"] = "ddim2"
    bad = _write(tmp_path / "bad.yaml", {"experiments": {"digits": digits}})
    result = snakemake("-n", "--configfile", str(bad), cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    assert "ddim2" in result.stdout + result.stderr


def test_a_point_its_grid_cannot_place_stops_the_plan(tmp_path):
    digits = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())["experiments"]["digits"]
    digits["series"][0]["grid"] = "ldm-uniform"  # CompVis' range(0, 1000, 333) + 1 reaches step 1000
    bad = _write(tmp_path / "bad.yaml", {"experiments": {"digits": digits}})
    result = snakemake("-n", "--configfile", str(bad), cwd=tmp_path, timeout=120)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "experiment 'digits', series 'ddim': time grid 'ldm-uniform' for 3 steps" in output


def test_an_unknown_target_lists_the_known_report_targets(tmp_path):
    for target in ("reports/speedup_cifr.pdf", "cifr"):
        result = snakemake("-n", target, cwd=tmp_path, timeout=120)
        assert result.returncode == 2
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith(f"error: unknown target {target!r}; known report targets: reports/speedup_cifar.pdf, ")
        assert "reports/speedup_digits.pdf" in last and "Traceback" not in result.stderr


def test_a_typo_in_another_experiment_stops_only_the_targets_that_need_it(tmp_path):
    bad = _write(tmp_path / "typo.yaml", {"experiments": {"cifar": {"samples": {"nmu": 5}}}})
    assert snakemake("-n", "--configfile", str(bad), cwd=tmp_path, timeout=120).returncode == 0  # the digits default
    result = snakemake("-n", "reports/speedup_cifar.pdf", "--configfile", str(bad), cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == ("error: experiments.cifar.samples: unknown key(s) 'nmu'; known: "
                                                      "batch_size, batches, first_seed, num, pilot, repeats, shard_size")
    lint = snakemake("-j1", "lint", "--configfile", str(bad), cwd=tmp_path, timeout=300)
    assert lint.returncode != 0 and "experiments.cifar.samples: unknown key(s) 'nmu'" in lint.stdout + lint.stderr


def check_inputs_offline(tmp_path: Path, experiment: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run an experiment's first rule with an empty Hugging Face cache; it must fail. (result, its log)"""
    (tmp_path / "hf").mkdir()
    env_home = {"HF_HOME": str(tmp_path / "hf"), "HF_HUB_CACHE": str(tmp_path / "hf" / "hub")}
    command = [SNAKEMAKE, "-s", str(SNAKEFILE), "--directory", str(tmp_path), "-j1", f"work/{experiment}/inputs.json"]
    result = subprocess.run(command, cwd=tmp_path, env={**offline_env(), **env_home}, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode != 0
    return result, (tmp_path / "logs" / experiment / "check_inputs.log").read_text()


def test_missing_weights_stop_the_first_rule_with_a_hint(tmp_path):
    """A paper experiment without its Dash weights fails in check_inputs, saying what to supply."""
    result, log = check_inputs_offline(tmp_path, "ddim_celebahq256")
    output = result.stdout + result.stderr + log
    assert "google/ddpm-celebahq-256" in output and "--dash-path" in output
    assert "data/celebahq256" in output
    assert not (tmp_path / "work" / "ddim_celebahq256" / "inputs.json").exists()


def test_check_inputs_lists_every_missing_input_of_a_text_to_image_experiment_at_once(tmp_path):
    """sd reads a hub Dash, COCO images and captions, Dot's LAION data, Inception and CLIP weights:
    with none of them present, its first rule fails once, naming each with the registry's how-to."""
    from harness import external

    result, log = check_inputs_offline(tmp_path, "sd")
    assert log.count("cannot run:") == 1 and "huggingface-cli download CompVis/stable-diffusion-v1-4" in log
    expected = [external.get(name) for name in ("coco-val2017", "laion_2m", external.INCEPTION, external.COCO_CAPTIONS)]
    for registered in expected + [external.clip_weights("ViT-g-14", "laion2b_s34b_b88k")]:
        assert registered.location in log and registered.how_to in log, registered.name
    not_wired = "cannot run this experiment yet" in log
    assert log.count("\n  - ") == 1 + len(expected) + 1 + not_wired  # Dash, the four registered inputs, CLIP


TINY = {
    "experiment_files": [],
    "default_experiments": ["tiny"],
    "experiments": {
        "tiny": {
            "title": "tiny workflow test",
            "note": "a test: 32 images per point",
            "dataset": {"spec": "digits:16:train"},
            "dash": {"source": "config:digits"},  # random weights of the digits architecture: fast, no asset needed
            "samples": {"num": 32, "shard_size": 16, "first_seed": 0, "batch_size": 16, "repeats": 1},
            "metrics": {"fid": {"reference": "digits:16:heldout", "extractor": "digitsnet"}},
            "dots": {"tiny": {"sampler": "ddim", "variant": "shared", "m": 1, "channels": [8], "lora_rank": 2,
                              "gpus": 1, "train": {"steps": 3, "batch_size": 8, "max_gap": 400, "warmup": 1,
                                                   "checkpoint_every": 10}}},
            "series": [{"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "tiny",
                        "baseline_steps": [2, 4],
                        "morse": [{"fine_steps": 4, "dash_steps": 2}, {"fine_steps": 6, "dash_steps": 2}]}],
            "latency": {"batch_size": 8, "warmup": 1, "repeats": 3},
            "analysis": {"metric": "fid", "figure": "curves"},
        }
    },
}


def project_copy(directory: Path, config: dict) -> Path:
    """The workflow's files with ``config`` as its config/config.yaml, so commands run as a user types them."""
    for name in ("workflows", "profiles"):
        shutil.copytree(ROOT / name, directory / name)
    shutil.copy(SNAKEFILE, directory / "Snakefile")
    (directory / "config").mkdir()
    shutil.copy(ROOT / "config" / "schema.json", directory / "config" / "schema.json")
    _write(directory / "config" / "config.yaml", config)
    return directory


def job_total(output: str) -> int:
    """The `total` line of Snakemake's job-stats table."""
    return int(re.search(r"^total\s+(\d+)", output, re.MULTILINE).group(1))


def kill_when(condition, command: list[str], cwd: Path, timeout: float = 600) -> None:
    """Start ``command``; once ``condition()`` holds, kill -9 it and every job it started."""
    process = subprocess.Popen(command, cwd=cwd, env=offline_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while not condition():
            assert process.poll() is None, "the run ended before the kill"
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.slow
def test_tiny_digits_workflow_runs_end_to_end(tmp_path):
    project_copy(tmp_path, TINY)
    run = lambda *args, timeout=900: subprocess.run([SNAKEMAKE, *args], cwd=tmp_path, env=offline_env(),
                                                      capture_output=True, text=True, timeout=timeout)
    dry = run("-n", timeout=120)
    planned = job_total(dry.stdout + dry.stderr)

    # kill -9 mid-run (Dot trained, some shards written), then recover with the README's two commands
    kill_when(lambda: len(list((tmp_path / "samples" / "tiny").glob("*.npz"))) >= 2, [SNAKEMAKE, "-j2"], tmp_path)
    assert (tmp_path / ".snakemake" / "locks").exists() and any((tmp_path / ".snakemake" / "locks").iterdir())
    unlock = run("--unlock", timeout=120)
    assert unlock.returncode == 0, unlock.stdout[-2000:] + unlock.stderr[-2000:]
    result = run("-j2")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert job_total(result.stdout + result.stderr) < planned  # the finished jobs were not redone
    for name in ("reports/speedup_tiny.pdf", "results/tiny.csv", "results/tiny_speedup.csv",
                 "results/tiny_speedup_summary.csv"):
        assert (tmp_path / name).stat().st_size > 0, name
    # each sample, FID, training and latency job left its time and memory; the report shows them
    for rule in ("sample", "fid", "train_dot", "latency"):
        assert list((tmp_path / "benchmarks" / "tiny" / rule).glob("*.tsv")), rule
    pdf = (tmp_path / "reports" / "speedup_tiny.pdf").read_bytes()
    assert len(set(re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf))) == 1  # one page size
    text = subprocess.run(["pdftotext", str(tmp_path / "reports" / "speedup_tiny.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Compute this run cost" in text and "Average speedup" in text
    html = run("--report", "report.html", timeout=300)
    assert html.returncode == 0, html.stderr[-3000:]
    assert "speedup_tiny.pdf" in (tmp_path / "report.html").read_text(errors="replace")
    # every row of every results CSV, and every shard, names its commit, versions, device, time and config
    import pandas as pd

    from harness import provenance

    made = [*(tmp_path / "results").glob("*.csv"), *(tmp_path / "work" / "tiny" / "latency").rglob("*.csv")]
    assert len(made) == 4
    for path in made:
        rows = pd.read_csv(path, dtype=str)
        assert set(provenance.COLUMNS) <= set(rows.columns) and rows[list(provenance.COLUMNS)].notna().all().all(), path
        assert set(rows["config_sha256"]) == {provenance.config_sha256(TINY["experiments"]["tiny"])}, path
    meta = json.loads(next((tmp_path / "samples" / "tiny").glob("*.json")).read_text())
    assert meta["config_sha256"] == provenance.config_sha256(TINY["experiments"]["tiny"]) and meta["git_commit"]
    shards = sorted((tmp_path / "samples" / "tiny").glob("*.npz"))
    assert len(shards) == 4 * 2  # 4 points x 2 seed-range shards
    assert all(shard.with_suffix(".json").exists() for shard in shards)
    import pandas as pd

    rows = pd.read_csv(tmp_path / "results" / "tiny.csv")
    assert set(rows["method"]) == {"baseline", "morse"} and len(rows) == 4
    assert rows["latency_lsd"].notna().all() and rows["fid"].notna().all()

    # resume: the state a run killed while writing one shard leaves behind (that shard absent, as
    # harness writes under a temporary name; nothing downstream of it) -> only that shard is redone
    lost = shards[-1]
    point = lost.name.split(".")[0]
    lost.unlink()
    (tmp_path / "work" / "tiny" / "fidstats" / lost.with_suffix(".fidstats").name).unlink()
    (tmp_path / "work" / "tiny" / "metrics" / f"{point}.r0.fid.csv").unlink()
    (lost.parent / f".{lost.name}.deadbeef.tmp").write_bytes(b"half a shard")  # a stray temporary file
    for name in ("results/tiny.csv", "results/tiny_speedup.csv", "results/tiny_speedup_summary.csv",
                 "reports/speedup_tiny.pdf"):
        (tmp_path / name).unlink()
    plan = run("-n", timeout=120)
    assert plan.returncode == 0, plan.stderr[-2000:]
    assert plan.stdout.count("rule sample:") == 1, plan.stdout[-3000:]
    assert lost.name in plan.stdout
    assert plan.stdout.count("rule fid_stats:") == 1 and "rule train_dot:" not in plan.stdout


@pytest.mark.slow
def test_jobs_whose_memory_adds_up_beyond_the_machine_run_one_after_the_other(tmp_path):
    """Each sample job declares its experiment's `memory_mb`: a plain `snakemake -j2` gives Snakemake the memory
    this machine has free as the total, so two shards of 60% of its physical memory each (more than half of
    whatever is free when Snakemake starts, however busy the machine: the test must not depend on the other
    tests' memory) run one after the other (a job asking for more than the total is given the total); an
    explicit `--resources mem_mb=N` wins over that total (then both run at once)."""
    import psutil

    share = psutil.virtual_memory().total // 10**6 * 6 // 10
    config = json.loads(json.dumps(TINY))
    config["experiments"]["tiny"]["memory_mb"] = {"sample": share}
    project_copy(tmp_path, config)

    def run(point: str, *options: str) -> tuple[str, set[int]]:
        shards = [f"samples/tiny/{point}.r0.s{shard:03d}.npz" for shard in (0, 1)]
        result = subprocess.run([SNAKEMAKE, "-j2", *shards, *options], cwd=tmp_path, env=offline_env(),
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        return result.stdout + result.stderr, declared_memory(result.stdout + result.stderr)["sample"]

    alone, declared = run("ddim_s2")
    assert most_at_once(alone, "sample") == 1 and len(declared) == 1 and 0 < min(declared) <= share
    together, declared = run("ddim_s4", "--resources", f"mem_mb={2 * share}")
    assert most_at_once(together, "sample") == 2 and declared == {share}


def tiny_batched(batches: int = 1) -> dict:
    """TINY with its 7 points' shards made in ``batches`` `harness batch` jobs (``samples.batches``)."""
    config = json.loads(json.dumps(TINY))
    tiny = config["experiments"]["tiny"]
    tiny["samples"] = {"num": 48, "shard_size": 48, "first_seed": 0, "batch_size": 48, "repeats": 1, "batches": batches}
    tiny["series"][0]["baseline_steps"] = [2, 4, 6, 8, 10]
    return config


@pytest.mark.slow
def test_a_killed_batch_job_redoes_only_the_shards_it_had_not_finished(tmp_path):
    """kill -9 while a `harness batch` job is half-way through its shards; after `--unlock` the rerun keeps
    every shard finished before the kill (the same file, not remade) and samples only the others, though
    Snakemake deletes an incomplete job's declared outputs before rerunning it."""
    project_copy(tmp_path, tiny_batched())
    samples, target = tmp_path / "samples" / "tiny", "sample_tiny_batch0"
    kill_when(lambda: len(list(samples.glob("*.npz"))) >= 2, [SNAKEMAKE, "-j2", target], tmp_path)
    done = {shard.name: shard.stat().st_ino for shard in samples.glob("*.npz")}
    total = 7
    assert 2 <= len(done) < total, f"the kill did not land inside the batch: {len(done)} of {total} shards"
    run = lambda *args: subprocess.run([SNAKEMAKE, *args], cwd=tmp_path, env=offline_env(), capture_output=True,
                                       text=True, timeout=600)
    assert run("--unlock").returncode == 0
    result = run("-j2", target)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    log = (tmp_path / "logs" / "tiny" / "sample" / f"{target}.log").read_text()
    kept, redone = log.count("kept from an earlier run: harness sample"), len(re.findall(r"\] harness sample", log))
    print(f"shards done before the kill: {len(done)} of {total}; kept {kept}, redone {redone}")
    assert kept + redone == total and kept >= len(done) - 1  # at most the shard renamed as the kill came is redone
    after = {shard.name: shard.stat().st_ino for shard in samples.glob("*.npz")}
    assert len(after) == total and sum(after[name] == inode for name, inode in done.items()) == kept
    assert not (tmp_path / "work" / "tiny" / "batch" / target).exists()  # removed once the job succeeded


TINY_COND = {
    "experiment_files": [],
    "default_experiments": ["tiny_cond"],
    "experiments": {
        "tiny_cond": {
            "title": "tiny conditional workflow test",
            "dataset": {"spec": "digits:16:train"},
            "dash": {"source": "digits-cond"},
            "conditions": "labels:10",
            "samples": {"num": 16, "shard_size": 16, "first_seed": 0, "batch_size": 16, "repeats": 1},
            "metrics": {"fid": {"reference": "digits:16:heldout", "extractor": "digitsnet"}, "class_accuracy": {}},
            "dots": {"tiny": {"sampler": "ddim", "variant": "shared", "m": 1, "channels": [8], "lora_rank": 2,
                              "guidance_scales": [1, 3], "train": {"steps": 2, "batch_size": 8, "warmup": 1}}},
            "series": [{"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "tiny", "baseline_steps": [2, 4],
                        "morse": [{"lsd": 4, "ratio": 0.5, "N": 4}], "guidance_scales": [1, 3]}],
            "latency": {"N": 4},
            "analysis": {"metric": "fid", "figure": "curves", "best_over": "guidance_scale", "tradeoff": "class_accuracy"},
        }
    },
}


@pytest.mark.slow
def test_tiny_conditional_workflow_reports_both_schemes(tmp_path):
    """digits_cond's shape end to end: labelled shards at two guidance scales, a Dot trained over scales,
    FID and class accuracy rows, and a report with the best-over-scales curves and Fig. 8's page."""
    import pandas as pd

    from harness.assets import SHIPPED_DASH

    if not (SHIPPED_DASH["digits-cond"][0] / "config.json").is_file():
        pytest.skip("the class-conditional digits Dash is not built")
    project_copy(tmp_path, TINY_COND)
    result = subprocess.run([SNAKEMAKE, "-j2"], cwd=tmp_path, env=offline_env(), capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    rows = pd.read_csv(tmp_path / "results" / "tiny_cond.csv")
    assert set(rows["guidance_scale"]) == {1.0, 3.0} and set(rows["method"]) == {"baseline", "morse"}
    assert rows["fid"].notna().sum() == rows["class_accuracy"].notna().sum() == 2 * 3
    assert set(rows["class_accuracy_labels"].dropna()) == {"labels:10"}
    assert "trade-off over guidance scales" in (tmp_path / "logs" / "tiny_cond" / "report.log").read_text()
    assert (tmp_path / "reports" / "tiny_cond" / "fig8.pdf").is_file()
