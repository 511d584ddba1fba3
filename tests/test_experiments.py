"""The experiment model without Snakemake: which jobs an experiment makes, their command lines and
files, config reuse (templates, the product syntax), validation messages, and the schema's enums
against the Python registries they name."""

from __future__ import annotations

import copy
import json
import shlex
from pathlib import Path

import pytest
import yaml

from harness.errors import HarnessError
from harness.experiments import Workflow
from harness.experiments.commands import COMMANDS
from harness.experiments.config import merged
from harness.experiments.product import expand_morse

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
CONFIG_FILES = {name: experiment for path in sorted((ROOT / "config" / "experiments").glob("*.yaml"))
                for name, experiment in (yaml.safe_load(path.read_text()).get("experiments") or {}).items()}


def _resolved_digits() -> dict:
    """The embedded default's experiment with its template laid under it (config/config.yaml `extends`)."""
    return workflow().experiment("digits").config


def workflow(**overrides) -> Workflow:
    """The workflow of config/config.yaml with ``overrides`` merged in, as --configfile does."""
    return Workflow(merged(copy.deepcopy(CONFIG), overrides), ROOT)


def options(command: str) -> dict[str, str]:
    """`--key value` pairs of a command line (flags map to '')."""
    words, found = shlex.split(command), {}
    for i, word in enumerate(words):
        if word.startswith("--"):
            nxt = words[i + 1] if i + 1 < len(words) else ""
            found[word] = "" if nxt.startswith("--") else nxt
    return found


def test_the_digits_experiment_makes_its_points_shards_and_rows():
    digits = workflow().experiment("digits")
    config = _resolved_digits()
    series = config["series"][0]
    assert [p for p in digits.points if digits.points[p].method == "baseline"] == [
        f"ddim_s{s}" for s in series["baseline_steps"]]
    morse = [p for p in digits.points.values() if p.method == "morse"]
    assert len(morse) == sum(len(expand_morse(entry)) for entry in series["morse"])
    assert {p.dot for p in morse} == {series["dot"], "oracle", "zero"}
    assert len(digits.metric_rows()) == len(digits.sampled_points) * config["samples"]["repeats"] * len(config["metrics"])
    assert digits.shards("ddim_s3", 0) == ["samples/digits/ddim_s3.r0.s000.npz"]
    assert "work/digits/latency/ddim" in digits.attach_lsd_inputs()
    assert digits.targets()[0] == "reports/speedup_digits.pdf"


def test_batched_jobs_run_every_shard_and_metric_row_once_with_the_per_shard_commands():
    """`samples.batches`: the per-shard jobs' command lines, grouped into that many sample jobs and as many
    metric jobs; every shard, metric row and pilot row is made exactly once."""
    flow = workflow()
    digits = flow.experiment("digits")
    jobs = flow.batch_jobs("digits")
    samples = [job for job in jobs if job.rule == "sample"]
    assert len(samples) == _resolved_digits()["samples"]["batches"] == 2
    shards = [f for job in samples for f in job.outputs if f.endswith(".npz")]
    expected = {digits.shard(point, rep, 0) for point, rep, _ in digits.metric_jobs()}
    assert sorted(shards) == sorted(expected)
    rows = [f for job in jobs if job.rule != "sample" for f in job.outputs]
    assert sorted(rows) == sorted(set(digits.metric_rows() + digits.pilot_rows()))
    per_shard = {"exp": "digits", "point": "ddim_s3", "rep": "1", "shard": "000"}
    command = f"sample {flow.stage_args('sample', per_shard)} --threads 1 --out {digits.shard('ddim_s3', 1, 0)}"
    assert sum(command in job.commands for job in samples) == 1
    fid = next(job for job in jobs if job.rule == "fid" and digits.metric_row("ddim_s3", 1, "fid") in job.outputs)
    assert digits.shard("ddim_s3", 1, 0) in fid.inputs
    assert any(c.startswith(f"fid {digits.shard('ddim_s3', 1, 0)} {flow.stage_args('fid', per_shard)}") for c in fid.commands)
    with pytest.raises(HarnessError, match="samples.batches: batched jobs take one shard per replicate"):
        workflow(experiments={"digits": {"samples": {"shard_size": 100}}}).experiment("digits")


def test_digits_points_are_lsd_budgets_times_ratios_with_the_ideal_and_the_floor_beside_them():
    """Issue 12: `{lsd: [...], ratio: [...]}` is a product of budgets and ratios; `dot: [oracle, zero]` adds the
    reference Dots at the same schedules, named apart, sampled with `--dot oracle` / `--dot zero`."""
    points = workflow().experiment("digits").points
    trained = {(p.requested_lsd, p.requested_ratio) for p in points.values() if p.method == "morse" and not p.reference}
    assert trained == {(l, k) for l in (3.0, 5.0, 8.0) for k in (0.3, 0.5, 0.7)}
    for reference in ("oracle", "zero"):
        ref = {name: p for name, p in points.items() if p.reference == reference}
        assert sorted(ref) == [f"ddim_{reference}_l{l}_k0p5" for l in (3, 5, 8)]
        for name, point in ref.items():
            twin = points[name.replace(f"_{reference}", "")]
            assert point.schedule.is_dash == twin.schedule.is_dash  # the same schedule and latency as the trained point
            assert point.sampled_as == name  # never mistaken for the trained point's samples


def test_a_morse_job_samples_its_schedule_with_its_dot():
    flow = workflow()
    digits = flow.experiment("digits")
    point = next(p for p in digits.points.values() if p.method == "morse" and not p.reference)
    args = options(flow.stage_args("sample", {"exp": "digits", "point": point.name, "rep": "0", "shard": "000"}))
    assert args["--fine-steps"] == str(point.plan["fine_steps"]) and args["--dash-steps"] == str(point.plan["dash_steps"])
    assert args["--dot"] == digits.dot_dir(point.dot) and args["--seeds"] == "0-299"
    assert args["--experiment"] == "digits" and args["--point"] == point.name
    oracle = options(flow.stage_args("sample", {"exp": "digits", "point": "ddim_oracle_l5_k0p5", "rep": "1", "shard": "0"}))
    assert oracle["--dot"] == "oracle" and oracle["--seeds"] == "300-599"
    baseline = options(flow.stage_args("sample", {"exp": "digits", "point": "ddim_s4", "rep": "0", "shard": "000"}))
    assert baseline["--steps"] == "4" and "--dot" not in baseline


def test_replicates_and_the_pilot_set_have_disjoint_seed_ranges():
    samples = workflow().experiment("digits").samples
    assert samples.repeats >= 3 and samples.pilot > 0
    ranges = [samples.seed_range(rep, k) for rep in [*range(samples.repeats), "pilot"] for k in range(samples.shards_of(rep))]
    seeds = [set(range(int(r.split("-")[0]), int(r.split("-")[1]) + 1)) for r in ranges]
    assert sum(map(len, seeds)) == len(set().union(*seeds))  # no seed in two ranges
    assert len(seeds[-1]) == samples.pilot


def test_the_tuned_ratio_is_chosen_on_pilot_rows_only():
    flow = workflow()
    digits = flow.experiment("digits")
    pilot = digits.pilot_rows()
    assert pilot and all(".rpilot." in row for row in pilot)
    assert not set(pilot) & set(digits.metric_rows())
    names = {row.split("/")[-1].split(".")[0] for row in pilot}
    assert names == {n for n, p in digits.points.items() if p.method == "morse" and not p.reference and p.sampled_as == n}
    args = flow.stage_args("tune_ratio", {"exp": "digits"})
    assert all(".rpilot." in word for word in shlex.split(args) if word.endswith(".csv"))
    assert options(flow.stage_args("fid", {"exp": "digits", "point": "ddim_l5_k0p5", "rep": "pilot"}))["--num-samples"] \
        == str(digits.samples.pilot)
    assert options(flow.stage_args("attach_lsd", {"exp": "digits"}))["--tuned"] == digits.tuned_choices


def test_the_digits_dot_is_made_by_the_recipe_its_block_states():
    """The recipe of the digits Dot has one owner, its config block; train-dot gets it whole."""
    block = CONFIG["experiments"]["digits"]["dots"]["ddim"]
    args = options(workflow().stage_args("train_dot", {"exp": "digits", "dot": "ddim"}))
    assert args["--loss-weight"] == block["train"]["loss_weight"] and args["--gap-scale"] == str(block["gap_scale"])
    assert args["--steps"] == str(block["train"]["steps"])

def test_planned_pairs_give_train_dot_every_schedule_its_trained_points_run():
    """`train.pairs: planned`: train-dot gets the schedule of every Morse point that runs this Dot (not the
    oracle's or zero Dot's), as `harness sample` will run it."""
    flow = workflow(experiments={"digits": {"dots": {"ddim": {"train": {"pairs": "planned"}}}}})
    digits = flow.experiment("digits")
    given = options(flow.stage_args("train_dot", {"exp": "digits", "dot": "ddim"}))["--schedules"].split(",")
    runs = [f"trailing:{len(p.schedule.grid)}:{p.schedule.dash_steps}:dash"
            for p in digits.points.values() if p.dot == "ddim" and p.schedule.dot_steps]
    assert given == runs and len(runs) == 9  # one per trained point: 3 budgets x 3 ratios
    assert given.count("trailing:10:1:dash") == 2  # 3 LSD at ratios 0.5 and 0.7: one schedule, asked twice
    assert "--schedules" not in workflow().stage_args("train_dot", {"exp": "digits", "dot": "ddim"})


def test_jobs_pass_only_what_the_config_sets(tmp_path):
    """One owner per default: an option the config leaves out keeps the stage's own default."""
    digits = copy.deepcopy(_resolved_digits())
    digits["dots"] = {"ddim": {"sampler": "ddim", "m": 1, "train": {"steps": 7}}}
    flow = Workflow(_files(tmp_path, {"a.yaml": {"experiments": {"digits": digits}}}), tmp_path)
    args = options(flow.stage_args("train_dot", {"exp": "digits", "dot": "ddim"}))
    assert args["--extra-blocks"] == "1" and args["--steps"] == "7"
    assert not {"--channels", "--lora-rank", "--inputs", "--lr", "--max-gap", "--batch-size"} & set(args)
    latency = json.loads(options(flow.stage_args("latency", {"exp": "digits", "dot": "ddim"}))["--dot-config"])
    assert latency == {"m": 1}


def test_every_rule_of_the_workflow_has_a_command_builder():
    rules = set()
    for path in (ROOT / "workflows").glob("*.smk"):
        rules |= {line.split()[1].rstrip(":") for line in path.read_text().splitlines() if line.startswith("rule ")}
    # remake_dash / remake_dot rebuild shipped assets (remake_dot with train_dot's builder); lint passes
    # the workflow's own config; unknown_target stops the plan and runs nothing; rehearsal_inputs takes
    # check_inputs' command line (the same inputs, stand-ins written); rehearse_all only collects reports
    shelled = rules - {"remake_dash", "remake_dot", "lint", "unknown_target", "rehearsal_inputs", "rehearse_all"}
    assert shelled <= set(COMMANDS), sorted(shelled - set(COMMANDS))


def test_product_syntax_expands_lists_into_points():
    assert expand_morse({"lsd": [3, 5], "ratio": [0.3, 0.5], "N": 6}) == [
        {"lsd": 3, "ratio": 0.3, "N": 6}, {"lsd": 3, "ratio": 0.5, "N": 6},
        {"lsd": 5, "ratio": 0.3, "N": 6}, {"lsd": 5, "ratio": 0.5, "N": 6}]
    series = {"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "ddim", "baseline_steps": [1, 5],
              "morse": [{"lsd": [3, 5], "ratio": [0.3, 0.5], "N": 4.6}]}
    flow = workflow(experiments={"digits": {"series": [series]}})
    assert sorted(flow.experiment("digits").points) == ["ddim_l3_k0p3", "ddim_l3_k0p5", "ddim_l5_k0p3", "ddim_l5_k0p5",
                                                        "ddim_s1", "ddim_s5"]


def test_the_plan_extends_the_baseline_to_bracket_every_morse_point(capsys):
    """Issue 22: below, a baseline at or under the fewest Dash steps of a Morse point (its latency d + r / N is
    above d whatever N is measured); above, the top budget and, with baseline_reach, multiples of it."""
    series = {"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "ddim", "baseline_steps": [4, 6],
              "baseline_reach": 3, "morse": [{"lsd": [3, 8], "ratio": 0.5, "N": 4.6}]}
    points = workflow(experiments={"digits": {"series": [series]}}).experiment("digits").points
    fewest = min(p.schedule.dash_steps for p in points.values() if p.method == "morse")
    baselines = sorted(p.schedule.dash_steps for p in points.values() if p.method == "baseline")
    assert baselines == [fewest, 4, 6, 8, 16, 24] and fewest < 4
    err = capsys.readouterr().err
    assert f"a {fewest}-step baseline added, below ddim_l3_k0p5" in err and "a 24-step baseline added, 3x above" in err


def _files(tmp_path: Path, files: dict[str, dict]) -> dict:
    for name, data in files.items():
        (tmp_path / name).write_text(yaml.safe_dump(data))
    return {"experiment_files": [str(tmp_path / "*.yaml")], "default_experiments": []}


def test_templates_share_blocks_and_an_experiment_overrides_them(tmp_path):
    digits = copy.deepcopy(_resolved_digits())
    shared = {k: digits.pop(k) for k in ("dataset", "dash", "metrics", "samples")}
    config = _files(tmp_path, {
        "common.yaml": {"templates": {"digits_base": shared}},
        "one.yaml": {"experiments": {"one": {**digits, "extends": "digits_base", "samples": {"num": 10, "shard_size": 10, "batches": 0}}}},
    })
    one = Workflow(config, tmp_path).experiment("one")
    assert one.config["dash"] == shared["dash"] and one.samples.num == 10
    assert one.samples.batch_size == shared["samples"]["batch_size"]  # merged key by key


def test_an_unused_broken_experiment_does_not_stop_the_others(tmp_path):
    digits = copy.deepcopy(_resolved_digits())
    broken = copy.deepcopy(digits)
    broken["samples"]["num"] = -5
    config = _files(tmp_path, {"a.yaml": {"experiments": {"good": digits}}, "b.yaml": {"experiments": {"bad": broken}}})
    flow = Workflow(config, tmp_path)
    assert flow.experiment("good").samples.num == digits["samples"]["num"]
    with pytest.raises(HarnessError) as err:
        flow.experiment("bad")
    assert str(err.value) == "experiments.bad.samples.num: -5 is below the minimum 1"


def test_an_unknown_key_is_named_with_its_path():
    with pytest.raises(HarnessError, match=r"^experiments\.digits\.samples: unknown key\(s\) 'shard_sise'; known: batch_size, "):
        workflow(experiments={"digits": {"samples": {"shard_sise": 3}}}).experiment("digits")


@pytest.mark.parametrize("override, expected", [
    ({"series": [{"name": "s", "sampler": "ddimm", "grid": "trailing"}]},
     "experiments.digits.series.0.sampler: 'ddimm' is not one of ddim, "),
    ({"series": [{"name": "s", "sampler": "ddim", "grid": "trailing", "dot": "ddim", "morse": [{"lsd": 3}]}]},
     "experiments.digits.series.0.morse.0: {\"lsd\": 3} matches none of the accepted forms: {fine_steps, dash_steps} or "
     "{lsd, ratio, N}"),
    ({"series": [{"name": "s", "sampler": "ddim", "grid": "trailing", "dot": "ddim", "morse": [{"lsd": 0.5, "ratio": 0.5, "N": 4}]}]},
     "experiments.digits.series.0.morse.0.lsd: 0.5 LSD is below 1: every run takes at least one Dash step, and one "
     "Dash step costs 1 LSD"),
    ({"samples": {"num": 100, "shard_size": 1000}},
     "experiments.digits.samples.shard_size: 1000 is larger than samples.num 100 (a shard holds at most a point's samples: set shard_size <= num)"),
    ({"analysis": {"paper_ref": "table99"}}, "experiments.digits.analysis.paper_ref: no paper reference 'table99'; known: "),
    ({"memory_mb": {"sampel": 4000}}, "experiments.digits.memory_mb: unknown key(s) 'sampel'; known: "),
])
def test_a_config_error_is_one_short_line_with_its_key_path_first(override, expected):
    with pytest.raises(HarnessError) as err:
        workflow(experiments={"digits": override}).experiment("digits")
    assert str(err.value).startswith(expected) and "\n" not in str(err.value) and len(str(err.value)) < 200


def test_each_job_declares_the_memory_its_experiment_sets_for_its_stage(tmp_path, monkeypatch):
    """`memory_mb` per stage, its `default` for the stages it leaves out (sd's from its template), 3000 MB where
    an experiment sets nothing; the SDXL jobs (the rehearsal's stand-in writer among them) never fit two to 24 GB,
    SD's pipeline beside CLIP does. The schema
    lists the stages the rules declare. A container's limit caps the memory a local run hands out."""
    from harness.experiments import memory

    flow = workflow()
    lcm, sd, table7, digits = (flow.experiment(name) for name in ("lcm_sdxl", "sd", "table7_dot_arch", "digits"))
    assert {digits.memory_mb(stage) for stage in memory.STAGES} == {memory.DEFAULT_MB}
    assert sd.memory_mb("fid") == sd.memory_mb("sample") < sd.memory_mb("clip")
    assert table7.memory_mb("train_dot") > sd.memory_mb("train_dot") and table7.memory_mb("clip") == sd.memory_mb("clip")
    heavy = [lcm.memory_mb(stage) for stage in ("sample", "train_dot")]
    assert min(heavy) + min(heavy + [lcm.memory_mb("clip"), lcm.memory_mb("rehearsal_inputs")]) > 24_000
    assert sd.memory_mb("rehearsal_inputs") > 6_511  # the stand-in writer's measured peak (docs/rehearsal.md)
    assert sd.memory_mb("sample") + sd.memory_mb("clip") <= 24_000
    schema = json.loads((ROOT / "config" / "schema.json").read_text())
    assert set(schema["$defs"]["experiment"]["properties"]["memory_mb"]["properties"]) == {"default", *memory.STAGES}
    rules = "".join(path.read_text() for path in (ROOT / "workflows").glob("*.smk"))
    assert all(f'memory("{stage}")' in rules or f'memory_mb("{stage}")' in rules for stage in memory.STAGES)

    monkeypatch.setattr(memory, "CGROUP", tmp_path)
    (tmp_path / "memory.max").write_text("2000000000\n")
    (tmp_path / "memory.current").write_text("500000000\n")
    assert memory.available_mb() == 1500
    (tmp_path / "memory.max").write_text("max\n")
    assert memory.available_mb() > 1500


def _enums(node, path=""):
    if isinstance(node, dict):
        if "enum" in node:
            yield path, set(node["enum"])
        for key, value in node.items():
            yield from _enums(value, f"{path}/{key}")
    elif isinstance(node, list):
        for value in node:
            yield from _enums(value, path)


def test_the_dot_architecture_keys_are_written_once():
    """DotConfig owns the Dot's architecture keys: the schema's Dot block, train-dot's options, the job's
    command line and the timed architecture all follow it."""
    import argparse

    from harness.experiments.timings import timed_architecture
    from harness.morse.dot_config import ARCHITECTURE, DotConfig
    from harness.stages import train_dot

    schema = json.loads((ROOT / "config" / "schema.json").read_text())
    assert set(ARCHITECTURE) <= set(schema["$defs"]["dot"]["properties"])
    parser = argparse.ArgumentParser()
    train_dot.add_arguments(parser)
    dests = {action.option_strings[0]: action.dest for action in parser._actions if action.option_strings}
    assert {option: dests.get(option) for option in ARCHITECTURE.values()} == {o: k for k, o in ARCHITECTURE.items()}
    block = {key: getattr(DotConfig(), key) for key in ARCHITECTURE} | {"train": {"steps": 3}}
    assert timed_architecture(block) == {key: block[key] for key in ARCHITECTURE}


def test_the_schema_enums_are_the_registries():
    from harness.report.figures import FIGURES
    from harness.report.tables import PAPER_TABLES
    from harness.latency import DTYPES, GUIDED_DOT_COSTS
    from harness.metrics.columns import column_names
    from harness.metrics.extractors import EXTRACTORS
    from harness.morse.dot import DOT_VARIANTS
    from harness.morse.dot_config import PAIR_SOURCES, REFERENCE_DOTS, TRAJECTORY_INPUTS, TRAJECTORY_SOURCES
    from harness.morse.train import LOSS_WEIGHTS
    from harness.samplers import GRIDS, SAMPLERS

    registries = {
        "sampler": set(SAMPLERS), "grid": set(GRIDS), "trajectory_source": set(TRAJECTORY_SOURCES),
        "variant": set(DOT_VARIANTS), "pairs": set(PAIR_SOURCES), "inputs": set(TRAJECTORY_INPUTS), "extractor": set(EXTRACTORS),
        "dtype": set(DTYPES), "figure": set(FIGURES), "tables": set(PAPER_TABLES), "metric": column_names(),
        "tradeoff": column_names(),
        "download": {"cifar10"}, "dot": set(REFERENCE_DOTS), "loss_weight": set(LOSS_WEIGHTS),
        "guided_dot_cost": set(GUIDED_DOT_COSTS),
    }
    schema = json.loads((ROOT / "config" / "schema.json").read_text())
    seen = set()
    for path, values in _enums(schema):
        key = next(part for part in reversed(path.split("/")) if part not in ("items", "properties", "enum"))
        assert key in registries, f"{path}: no registry is known for this enum; add it to the test"
        assert values == registries[key], f"{path}: schema {sorted(values)} != registry {sorted(registries[key])}"
        seen.add(key)
    assert seen == set(registries)


def test_an_experiment_that_cannot_run_yet_says_so_in_the_plan_and_its_first_job(tmp_path):
    flow = workflow(experiments={"digits": {"not_wired": "class labels are not wired into sampling"}})
    digits = flow.experiment("digits")
    assert "NOT WIRED YET: class labels" in digits.status
    args = flow.stage_args("check_inputs", {"exp": "digits"})
    from harness.cli import main

    assert main(["check", *shlex.split(args), "--out", str(tmp_path / "inputs.json")]) == 1
    assert not (tmp_path / "inputs.json").exists()


def test_a_point_that_cannot_be_planned_stops_the_plan_naming_its_series():
    series = {"name": "tight", "sampler": "ddim", "grid": "trailing", "dot": "ddim", "morse": [{"lsd": 0.5, "ratio": 0.5, "N": 4}]}
    series["morse"] = [{"fine_steps": 4, "dash_steps": 6}]
    with pytest.raises(HarnessError, match=r"experiment 'digits', series 'tight': .*Dash"):
        workflow(experiments={"digits": {"series": [series]}}).experiment("digits")  # the plan, not a job, stops


def test_the_lint_lists_every_broken_experiment_and_only_those(tmp_path):
    digits = copy.deepcopy(_resolved_digits())
    broken = copy.deepcopy(digits)
    broken["samples"]["shard_size"] = 5000
    config = _files(tmp_path, {"a.yaml": {"experiments": {"good": digits, "bad": broken}}})
    flow = Workflow(config, tmp_path)
    assert flow.problems() == [f"experiments.bad.samples.shard_size: 5000 is larger than samples.num {digits['samples']['num']} (a shard "
                               "holds at most a point's samples: set shard_size <= num)"]
    assert flow.unknown_target("x") == ("unknown target 'x'; known report targets: reports/speedup_bad.pdf, "
                                        "reports/speedup_good.pdf")
    from harness.cli import main

    (tmp_path / "workflow.yaml").write_text(yaml.safe_dump(config))
    assert main(["check-configs", str(tmp_path / "workflow.yaml"), "--base", str(tmp_path)]) == 1


def test_the_compute_an_experiment_costs_comes_from_its_plan_and_a_latency_row():
    import pandas as pd

    from harness.experiments.cost import table

    series = {"name": "ddim", "sampler": "ddim", "grid": "trailing", "dot": "ddim", "baseline_steps": [3, 5, 8, 12, 20],
              "morse": [{"fine_steps": f, "dash_steps": f // 2} for f in (8, 12, 16, 24)]}
    config = copy.deepcopy(CONFIG)
    del config["experiments"]["digits"]["analysis"]["headline_ratio"]  # these points ask for step counts, not ratios
    digits = Workflow(merged(config, {"experiments": {"digits": {"series": [series], "samples": {
        "num": 1000, "shard_size": 1000, "repeats": 1, "pilot": 0}}}}), ROOT).experiment("digits")
    latency = pd.DataFrame([{"experiment": "digits", "device": "gpu-x", "batch_size": 250, "dash_median_s": 1.0,
                             "dot_median_s": 0.25, "N": 4.0}])
    measured, = table([digits], latency).to_dict("records")
    assert measured["images sampled"] == 9 * 1000
    assert measured["Dash image-steps"] == (48 + 30) * 1000 and measured["Dot image-steps"] == 30 * 1000
    assert measured["LSD x images"] == 78000 + 30000 / 4
    assert measured["hours on device"] == pytest.approx((78000 * 1.0 + 30000 * 0.25) / 250 / 3600)
    unmeasured, = table([digits], latency.iloc[:0]).to_dict("records")
    assert unmeasured["device"] == "not measured" and unmeasured["hours on device"] is None


def test_cost_table_called_from_python_prices_the_named_experiments_with_their_latency_rows(tmp_path):
    from harness.experiments.cost import cost_table
    from harness.latency import results

    results.write({"experiment": "digits", "dash": "digits", "dot": "{}", "dtype": "float32", "batch_size": 250,
                   "device": "gpu-x", "dash_median_s": 1.0, "dot_median_s": 0.25, "N": 4.0}, tmp_path)
    text = cost_table(ROOT / "config" / "config.yaml", latency_dirs=[tmp_path], experiments=["digits", "cifar"])
    lines = text.splitlines()
    assert "hours on device" in lines[0] and len(lines) == 4  # header, rule, one row per experiment
    assert lines[2].startswith("| digits") and "gpu-x" in lines[2]
    assert lines[3].startswith("| cifar") and "not measured" in lines[3]
    with pytest.raises(HarnessError, match="does not exist"):
        cost_table(tmp_path / "absent.yaml")


def test_digits_cond_plans_baseline_and_morse_over_guidance_scales_with_both_metrics():
    """Table 1 / Fig. 8 offline: every point at every scale, class-labelled shards, FID and class accuracy."""
    flow = workflow()
    cond = flow.experiment("digits_cond")
    series = CONFIG_FILES["digits_cond"]["series"][0]
    scales = series["guidance_scales"]
    lsds = series["morse"][0]["lsd"]
    expected = {f"ddim_s{s}_g{g}" for s in series["baseline_steps"] for g in scales}
    expected |= {f"ddim_l{l}_k0p5_g{g}" for l in lsds for g in scales}
    assert set(cond.points) == expected
    assert {cond.points[p].guidance_scale for p in cond.points} == set(scales)
    assert cond.metric_rows()[:2] == ["work/digits_cond/metrics/ddim_s2_g1.r0.fid.csv",
                                      "work/digits_cond/metrics/ddim_s2_g1.r0.class_accuracy.csv"]
    assert len(cond.metric_rows()) == 2 * cond.samples.repeats * len(cond.sampled_points)
    wildcards = {"exp": "digits_cond", "point": "ddim_l5_k0p5_g2", "rep": "0", "shard": "000"}
    sample = options(flow.stage_args("sample", wildcards))
    assert sample["--conditions"] == "labels:10" and sample["--guidance-scale"] == "2"
    # the Dot is shipped (trained over guidance scales by remake_dot with the block's train-dot options)
    assert sample["--dash"] == "digits-cond" and sample["--dot"] == "harness/assets/dot-digits_cond/ddim"
    assert cond.sample_inputs("ddim_l5_k0p5_g2")[-1] == "harness/assets/dot-digits_cond/ddim/dot.safetensors"
    train = options(flow.stage_args("train_dot", {"exp": "digits_cond", "dot": "ddim"}))
    assert train["--out"] == "harness/assets/dot-digits_cond/ddim" and train["--dash"] == "digits-cond"
    assert "--guidance-scales 1 4" in flow.stage_args("train_dot", {"exp": "digits_cond", "dot": "ddim"})
    assert options(flow.stage_args("class_accuracy", wildcards)) == {"--num-samples": "300"}
    report = options(flow.stage_args("report", {"exp": "digits_cond"}))
    assert report["--best-over"] == "guidance_scale" and report["--tradeoff"] == "class_accuracy"
    assert report["--metric"] == "fid" and report["--dots"] == "harness/assets/dot-digits_cond"


def test_digits_cond_ratio_is_digits_cond_plus_ratios_tuned_on_pilot_seeds_with_its_headline_at_half():
    """Issue 24's item 3: the guided experiment's ratio choice is an extra curve beside the paper's protocol.
    Its ratio-0.5 points are digits_cond's, its ratio and scale are chosen together on pilot seeds only, and
    the headline stays at k/n = 0.5."""
    flow = workflow()
    cond, tuned = flow.experiment("digits_cond"), flow.experiment("digits_cond_ratio")
    shared = {k: v for k, v in cond.config.items() if k not in ("title", "paper", "note", "series", "samples", "analysis")}
    assert shared == {k: tuned.config[k] for k in shared}
    assert set(cond.points) < set(tuned.points)
    assert {p for p in tuned.points if "_l" in p and "_k0p5_" in p} == {p for p in cond.points if "_l" in p}
    assert {p.split("_")[2] for p in tuned.points if "_l" in p} == {"k0p3", "k0p5", "k0p7"}
    pilot = tuned.pilot_rows()
    assert pilot and not set(pilot) & set(tuned.metric_rows())
    assert len(pilot) == 3 * 3 * 3  # every trained Morse point: budgets x ratios x scales, FID only
    assert options(flow.stage_args("tune_ratio", {"exp": "digits_cond_ratio"}))["--best-over"] == "guidance_scale"
    report = options(flow.stage_args("report", {"exp": "digits_cond_ratio"}))
    assert report["--headline-ratio"] == "0.5" and report["--best-over"] == "guidance_scale"
    # the report draws and averages the same curves as the speedup stage: one per (curve, ratio)
    assert "--line-by curve --line-by requested_ratio" in flow.stage_args("report", {"exp": "digits_cond_ratio"})


def test_fig6_guides_adm_g_with_its_classifier_and_times_each_dash_with_its_own_dot():
    """imagenet64_cond: class labels for both Dashes; the guided series and its Dot use ADM-G's classifier,
    whose file check_inputs requires; ADM and ADM-G are timed apart so each gets its N (Table 5)."""
    flow = workflow()
    fig6 = flow.experiment("imagenet64_cond")
    assert fig6.not_wired is None and list(fig6.latency_timings) == ["cond", "guided"]
    assert fig6.latency_timings["guided"].dots == ["work/imagenet64_cond/dot/guided"]
    assert fig6.latency_timings["cond"].dots == ["work/imagenet64_cond/dot/cond", "oracle", "zero"]
    shard = {"exp": "imagenet64_cond", "rep": "0", "shard": "000"}
    guided = options(flow.stage_args("sample", {**shard, "point": "guided_l5_k0p5"}))
    plain = options(flow.stage_args("sample", {**shard, "point": "cond_l5_k0p5"}))
    assert guided["--conditions"] == plain["--conditions"] == "labels:1000"
    assert guided["--classifier-scale"] == "1.0" and "--classifier-scale" not in plain
    assert guided["--dash"] == "models/adm-g-imagenet64" and guided["--dot"] == "work/imagenet64_cond/dot/guided"
    assert options(flow.stage_args("train_dot", {"exp": "imagenet64_cond", "dot": "guided"}))["--classifier-scale"] == "1.0"
    assert "--classifier-scale" not in options(flow.stage_args("train_dot", {"exp": "imagenet64_cond", "dot": "cond"}))
    timing = options(flow.stage_args("latency", {"exp": "imagenet64_cond", "dot": "guided"}))
    assert timing["--dash"] == guided["--dash"] and timing["--classifier-scale"] == "1.0"
    assert timing["--results-dir"] == "work/imagenet64_cond/latency/guided"
    assert "--classifier-scale" not in options(flow.stage_args("latency", {"exp": "imagenet64_cond", "dot": "cond"}))
    assert {"work/imagenet64_cond/latency/cond", "work/imagenet64_cond/latency/guided"} <= set(fig6.attach_lsd_inputs())
    attach = flow.stage_args("attach_lsd", {"exp": "imagenet64_cond"})
    assert "--latency-dir work/imagenet64_cond/latency/cond --latency-dir work/imagenet64_cond/latency/guided" in attach
    check = flow.stage_args("check_inputs", {"exp": "imagenet64_cond"})
    assert check.count("--file models/adm-g-imagenet64/classifier/classifier.pt2") == 1


def test_every_dot_that_morse_points_run_is_timed_and_guided_dots_with_a_scale(tmp_path):
    """Table 7's independent Dot gets a timing of its own beside the shared one; a Dot over guidance scales
    timed without `latency.guidance_scale` stops the plan (its stage would refuse)."""
    table7 = workflow().experiment("table7_dot_arch")
    assert list(table7.latency_timings) == ["shared", "independent"]
    cifar = workflow().experiment("cifar")  # one architecture, two Dashes (DDPM; score-SDE): two N, as Table 5's rows
    ddpm, sde = cifar.latency_timings.values()
    assert [d.rsplit("/", 1)[-1] for d in ddpm.dots] == ["ddim", "ddpm", "dpm_solver", "oracle", "zero"]
    assert [d.rsplit("/", 1)[-1] for d in sde.dots] == ["sde", "dpm_solver_sde"]
    assert sde.series["dash"]["source"] == "models/score-sde-cifar10"
    table4 = workflow().experiment("table4_inputs")  # trajectory inputs change only the first convolution
    assert len(table4.latency_timings) == 1
    timing = options(workflow().stage_args("latency", {"exp": "table7_dot_arch", "dot": "independent"}))
    assert timing["--dash"] == "config:sd-v1-4-unet" and timing["--guidance-scale"] == "7.5"
    assert json.loads(timing["--dot-config"])["independent_channels"] == [240, 480, 960, 960]
    cond = copy.deepcopy(workflow().experiment("digits_cond").config)  # its template laid under it
    del cond["latency"]["guidance_scale"]
    flow = Workflow(_files(tmp_path, {"a.yaml": {"experiments": {"digits_cond": cond}}}), tmp_path)
    with pytest.raises(HarnessError, match=r"digits_cond\.latency\.guidance_scale: the Dots ddim take"):
        flow.experiment("digits_cond")


def test_every_paper_config_trains_its_dots_by_algorithm_1_exactly():
    """Issue 22: the paper's numbers come from Algorithm 1; only the experiments beside the paper (digits,
    digits_cond, on bundled data) may use the recipe of docs/dot_recipe.md."""
    from config_helpers import offline, paper_configs

    from harness.morse.dot_config import departures_from_algorithm_1

    checked = 0
    for name, experiment in paper_configs().items():
        for dot_name, dot in (experiment.get("dots") or {}).items():
            if not offline(experiment):
                assert departures_from_algorithm_1(dot) == [], (name, dot_name)
                checked += 1
    assert checked >= 20
    recipe = paper_configs()["digits_cond"]["dots"]
    assert any(departures_from_algorithm_1(dot) for dot in recipe.values())  # the check can fail


def test_the_dot_study_trains_each_candidate_in_the_workflow_with_one_change_from_the_one_before():
    """Issue 24: the study is rerunnable (every candidate trained by train_dot, none shipped) and reads as a
    ladder: algorithm1 -> recipe (x0 weight, gap scaling) -> planned (pairs) or rollout (Dot's own steps) ->
    light / wide (blocks, on rollout)."""
    flow = workflow(default_experiments=["dot_study"])
    study = flow.experiment("dot_study")
    commands = {name: options(flow.stage_args("train_dot", {"exp": "dot_study", "dot": name})) for name in study.dots}
    assert not any(dot.get("path") for dot in study.dots.values())
    assert "--schedules" in commands["planned"] and "--schedules" not in commands["recipe"]
    drop = lambda args: {k: v for k, v in args.items() if k != "--out"}  # noqa: E731
    changed = lambda a, b: {k for k in drop(a).keys() | drop(b).keys() if drop(a).get(k) != drop(b).get(k)}  # noqa: E731
    assert changed(commands["algorithm1"], commands["recipe"]) == {"--loss-weight", "--gap-scale"}
    assert changed(commands["recipe"], commands["planned"]) == {"--schedules"}
    assert changed(commands["recipe"], commands["rollout"]) == {"--rollout", "--rollout-from"}
    assert changed(commands["rollout"], commands["light"]) == {"--channels"}
    assert changed(commands["rollout"], commands["wide"]) == {"--channels", "--lora-rank"}
    assert {p.dot for p in study.points.values() if p.method == "morse"} == set(study.dots) | {"oracle", "zero"}


def test_a_baseline_matched_on_a_morse_schedule_column_stops_the_plan():
    """Fig. 9 grouped by fine_steps compared each curve with the lone baseline of its own step count (the
    rehearsal: none at all): the plan now names the fix, and every paper figure's curves are line_by."""
    fig9 = {"analysis": {"line_by": [], "group_by": ["fine_steps"]}}
    with pytest.raises(HarnessError, match=r"experiments\.fig9_steps\.analysis\.group_by: fine_steps describes a Morse "
                                            r"schedule .*line_by"):
        workflow(experiments={"fig9_steps": fig9}).experiment("fig9_steps")
    for name, column in (("fig9_steps", "fine_steps"), ("fig12_trajectory", "trajectory_source"),
                         ("fig13_ratio", "requested_ratio")):
        assert workflow().experiment(name).analysis.line_by == (column,)
