"""The command line of each workflow job: ``stage_args(experiment, rule, wildcards)``.

One builder per Snakemake rule, registered by the rule's name. A builder passes only what the
config sets: every other option keeps the default its stage defines (one owner per default).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from typing import Callable

from harness import paths
from harness.experiments.model import Experiment
from harness.experiments.timings import timed_architecture
from harness.external import CLASSIFIER_FILE
from harness.morse.dot_config import ARCHITECTURE, PLANNED_PAIRS
from harness.paths import fill
from harness.registry import Registry

COMMANDS: Registry[Callable[[Experiment, dict, Settings], str]] = Registry("workflow rule")

DOT_TRAINING = ("steps", "batch_size", "max_gap", "groups", "loss_weight", "lr", "warmup", "seed", "checkpoint_every",
                "rollout", "rollout_from", "rollout_share", "ema")


@dataclass(frozen=True)
class Settings:
    """The workflow-wide switches of config/config.yaml that reach command lines."""

    offline: bool = True  # metric stages never download feature-network weights
    allow_download: bool = False  # check_inputs may fetch a missing CIFAR-10
    dash_digits: dict = field(default_factory=lambda: {"train_steps": 2000, "batch_size": 64})


def stage_args(experiment: Experiment, rule: str, wildcards: dict, settings: Settings = Settings()) -> str:
    """The arguments of `python -m harness STAGE` for one job of ``rule``."""
    return COMMANDS.get(rule)(experiment, dict(wildcards), settings)


def _q(value) -> str:
    return shlex.quote(str(value))


def _option(name: str, value) -> str:
    if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
    return f"{name} {_q(value)}"


def dash_args(experiment: Experiment, part: dict | None = None) -> list[str]:
    source, path = experiment.dash_location(part)
    return [_option("--dash", source)] + ([_option("--dash-path", path)] if path else [])


@COMMANDS.register("check_inputs")
def check_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    """Everything the experiment reads from outside: Dash weights (of the experiment, its series and its Dots),
    datasets, FID references, Dot training data, feature-network weights, captions and CLIP weights."""
    config = experiment.config
    args = dash_args(experiment)
    for part in [*config["series"], *experiment.dots.values()]:
        if part.get("dash"):
            dash = part["dash"]
            args.append(_option("--also-dash", dash["source"] + (f"={dash['path']}" if dash.get("path") else "")))
        path = experiment.dash_location(part)[1]
        if part.get("classifier_scale") and path:  # a classifier-guided Dash's folder holds its classifier
            args.append(_option("--file", f"{path}/{CLASSIFIER_FILE}"))
    data = experiment.dataset
    specs = [data["spec"]] + [dot[key] for dot in experiment.dots.values() for key in ("data", "eval_data")
                              if dot.get(key)]
    for name, metric in experiment.metrics.items():
        reference = metric.get("reference")
        if reference and reference.endswith(".npz"):  # published statistics (harness/metrics/reference.py)
            args.append(_option("--file", reference))
        elif reference:
            specs.append(reference)
        for key in ("annotations", "extractor_weights", "weights"):
            if metric.get(key):
                args.append(_option("--file", metric[key]))
        if name == "clip" and not metric.get("weights"):
            args.append(_option("--clip", f"{metric.get('model', '')}:{metric.get('pretrained', '')}"))
    for name, dot in experiment.dots.items():
        if not dot.get("dash"):  # the experiment's Dash: its training images must have its shape
            key = f"dots.{name}.data" if dot.get("data") else "dataset.spec"
            args.append(_option("--dot-data", f"{key}={dot.get('data') or data['spec']}"))
            if dot.get("path"):
                args.append(_option("--shipped-dot", dot["path"]))
    args = list(dict.fromkeys(args)) + [_option("--data", spec) for spec in dict.fromkeys(specs)]
    if data.get("download") and settings.allow_download:
        args.append(_option("--download", data["download"]))
    if data.get("how_to"):
        args.append(_option("--how-to", data["how_to"]))
    if experiment.not_wired:
        args.append(_option("--not-wired", experiment.not_wired))
    return " ".join(args + [_option("--experiment", experiment.name)])


@COMMANDS.register("train_dot")
def train_dot_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    dot = experiment.dot(wildcards["dot"])
    args = dash_args(experiment, dot) + [_option("--data", dot.get("data") or experiment.dataset["spec"])]
    if dot.get("eval_data"):
        args.append(_option("--eval-data", dot["eval_data"]))
    if dot.get("sampler"):
        args.append(_option("--sampler", dot["sampler"]))
    args += [_option(option, dot[key]) for key, option in ARCHITECTURE.items() if key in dot]
    if dot.get("guidance_scales"):
        args.append("--guidance-scales " + " ".join(_q(scale) for scale in dot["guidance_scales"]))
    if dot.get("classifier_scale"):
        args.append(_option("--classifier-scale", dot["classifier_scale"]))
    train = dot.get("train") or {}
    args += [_option(f"--{key.replace('_', '-')}", train[key]) for key in DOT_TRAINING if key in train]
    if train.get("pairs") == PLANNED_PAIRS:
        args.append(_option("--schedules", planned_schedules(experiment, wildcards["dot"])))
    return " ".join(args + [_option("--out", experiment.dot_dir(wildcards["dot"]))])


def planned_schedules(experiment: Experiment, dot: str) -> list[str]:
    """The Morse schedules the experiment runs with this trained Dot, one per point that asks for it (so a
    schedule two requests resolve to counts twice), as train-dot's --schedules entries GRID:FINE:DASH:SOURCE
    (the `pairs: planned` of a Dot's training block)."""
    return [f"{p.series['grid']}:{len(p.schedule.grid)}:{p.schedule.dash_steps}:{p.series.get('trajectory_source') or 'dash'}"
            for p in experiment.points.values() if p.dot == dot and p.schedule.dot_steps]


@COMMANDS.register("sample")
def sample_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    point = experiment.point(wildcards["point"])
    series = point.series
    args = dash_args(experiment, series)
    args += [_option("--sampler", series["sampler"]), _option("--grid", series["grid"])]
    args += [_option(f"--{key.replace('_', '-')}", value) for key, value in point.plan.items()]
    if point.method == "morse":
        args.append(_option("--dot", point.dot if point.reference else experiment.dot_dir(point.dot)))
        if series.get("trajectory_source"):
            args.append(_option("--trajectory-source", series["trajectory_source"]))
    if series.get("eta") is not None:
        args.append(_option("--eta", series["eta"]))
    if experiment.config.get("conditions"):
        args.append(_option("--conditions", experiment.config["conditions"]))
    if point.guidance_scale is not None:
        args.append(_option("--guidance-scale", point.guidance_scale))
    if series.get("classifier_scale"):
        args.append(_option("--classifier-scale", series["classifier_scale"]))
    args.append(_option("--seeds", experiment.samples.seed_range(wildcards["rep"], wildcards["shard"])))
    args.append(_option("--batch-size", experiment.samples.batch_size))
    args += [_option("--also-serves", json.dumps(request)) for request in point.also_serves]
    return " ".join(args + [_option("--experiment", experiment.name), _option("--point", point.name)])


def feature_options(experiment: Experiment, settings: Settings) -> list[str]:
    fid = experiment.metrics["fid"]
    args = [_option("--extractor", fid["extractor"])]
    for key in ("extractor_weights", "image_size", "batch_size"):
        if fid.get(key):
            args.append(_option(f"--{key.replace('_', '-')}", fid[key]))
    return args + (["--offline"] if settings.offline else [])


@COMMANDS.register("fid_stats")
def fid_stats_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    return " ".join(feature_options(experiment, settings))


@COMMANDS.register("fid")
def fid_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    args = [_option("--ref", experiment.metrics["fid"]["reference"]),
            _option("--num-samples", experiment.samples.count(wildcards.get("rep", 0)))]
    return " ".join(args + feature_options(experiment, settings) + [_option("--refstats-dir", paths.REFSTATS)])


@COMMANDS.register("coco_prompts")
def coco_prompts_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    clip = experiment.metrics["clip"]
    return " ".join([_option("--annotations", clip["annotations"]),
                     _option("--num", clip.get("num_prompts", experiment.samples.num)),
                     _option("--seed", clip.get("prompt_seed", 0))])


@COMMANDS.register("clip")
def clip_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    clip = experiment.metrics["clip"]
    args = [_option("--prompts", experiment.prompts_file), _option("--num-samples", experiment.samples.num)]
    for key, option in (("model", "--model"), ("pretrained", "--pretrained"), ("weights", "--clip-checkpoint"),
                        ("image_size", "--image-size"), ("batch_size", "--batch-size")):
        if clip.get(key) is not None:
            args.append(_option(option, clip[key]))
    return " ".join(args + (["--offline"] if settings.offline else []))


@COMMANDS.register("class_accuracy")
def class_accuracy_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    accuracy = experiment.metrics["class_accuracy"]
    args = [_option("--num-samples", experiment.samples.num)]
    for key, option in (("weights", "--classifier-weights"), ("batch_size", "--batch-size")):
        if accuracy.get(key) is not None:
            args.append(_option(option, accuracy[key]))
    return " ".join(args)


@COMMANDS.register("latency")
def latency_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    """`harness latency` for one timing of Experiment.latency_timings (``wildcards["dot"]``, its first Dot) with
    its series' Dash and classifier scale: the experiment's Dash, or `latency.dash` in its place (e.g.
    config:ddpm-cifar10-32, random weights of the same architecture), or a series' own Dash."""
    from harness.conditions import conditions_kind

    latency, timing = experiment.latency, experiment.latency_timings[wildcards["dot"]]
    series = timing.series or {}
    if latency.get("dash") and not series.get("dash"):
        args = [_option("--dash", latency["dash"])]
    else:  # the source the sample rows name
        args = dash_args(experiment, series)
    if series.get("classifier_scale"):
        args.append(_option("--classifier-scale", series["classifier_scale"]))
    args += [_option("--dot-dir", dot) for dot in timing.dots]  # the Dots whose Morse rows take this N
    architecture = timed_architecture(experiment.dot(wildcards["dot"]), conditions_kind(experiment.config.get("conditions")))
    args.append(_option("--dot-config", json.dumps(architecture, sort_keys=True)))
    for key in ("batch_size", "warmup", "repeats", "dtype", "device", "pipeline_steps", "guidance_scale",
                "guided_dot_cost"):
        if latency.get(key) is not None:
            args.append(_option(f"--{key.replace('_', '-')}", latency[key]))
    return " ".join(args + [_option("--experiment", experiment.name),
                            _option("--results-dir", experiment.latency_timing_dir(wildcards["dot"]))])


@COMMANDS.register("attach_lsd")
def attach_lsd_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    args = [_q(row) for row in experiment.metric_rows()] + _latency_source(experiment)
    if experiment.tuned_series:
        args.append(_option("--tuned", experiment.tuned_choices))
    return " ".join(args)


@COMMANDS.register("tune_ratio")
def tune_ratio_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    """The pilot rows -> the ratio (with the guidance scale, under best_over) chosen per LSD budget (compared at
    equal requested LSD: N is not needed)."""
    a = experiment.analysis
    args = [_q(row) for row in experiment.pilot_rows()] + [_option("--metric", a.metric)]
    args += (["--higher-is-better"] if a.higher_is_better else []) + ([_option("--best-over", a.best_over)] if a.best_over else [])
    return " ".join(args)


def _latency_source(experiment: Experiment) -> list[str]:
    if experiment.measures_latency:
        return [_option("--latency-dir", folder) for folder in experiment.latency_timing_dirs]
    return [_option("--N", experiment.latency["N"]), _option("--N-device", experiment.latency.get("N_device", "given in config"))]


def _bootstrap(experiment: Experiment) -> list[str]:
    """`--bootstrap B` when the analysis asks for the replicates' interval (`analysis.bootstrap`)."""
    return [_option("--bootstrap", experiment.analysis.bootstrap)] if experiment.analysis.bootstrap else []


def _selection(experiment: Experiment) -> list[str]:
    a = experiment.analysis
    args = [_option("--metric", a.metric)] + (["--higher-is-better"] if a.higher_is_better else [])
    args += [_option("--where", w) for w in a.where]
    args += [_option("--headline-ratio", a.headline_ratio)] if a.headline_ratio is not None else []
    return args + ([_option("--best-over", a.best_over)] if a.best_over else [])


@COMMANDS.register("speedup")
def speedup_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    args = _selection(experiment) + [_option("--group-by", g) for g in experiment.analysis.group_by]
    args += [_option("--line-by", c) for c in experiment.analysis.line_by]
    return " ".join(args + _bootstrap(experiment))


@COMMANDS.register("report")
def report_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    a = experiment.analysis
    args = _selection(experiment) + [_option("--figure", a.figure)] + [_option("--line-by", c) for c in a.line_by]
    args += [_option("--table", t) for t in a.tables] + [_option("--table-index", c) for c in a.table_index]
    if a.paper_ref:
        args.append(_option("--paper-ref", a.paper_ref))
    if a.tradeoff:
        args.append(_option("--tradeoff", a.tradeoff))
    args += _bootstrap(experiment)
    args += [_option("--experiment", experiment.name), _option("--title", experiment.title),
             _option("--note", experiment.note), _option("--benchmarks", fill(paths.BENCHMARKS, exp=experiment.name)),
             *[_option("--latency-dir", folder) for folder in experiment.latency_timing_dirs],
             _option("--shards", fill(paths.SAMPLES, exp=experiment.name)),
             _option("--dots", experiment.dots_dir)]
    return " ".join(args)


@COMMANDS.register("train_dash")
def train_dash_args(experiment: Experiment, wildcards: dict, settings: Settings) -> str:
    steps = experiment.dash().get("train_steps", settings.dash_digits["train_steps"])
    return " ".join(["--config digits", _option("--steps", steps), _option("--batch-size", settings.dash_digits["batch_size"]),
                     _option("--out", experiment.trained_dash_dir), "--resume"])
