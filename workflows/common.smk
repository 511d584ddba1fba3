# Configs -> experiments -> points -> target files. Every rule only calls `python -m harness ...`;
# the choices (which points, which seeds, which options) are made here, from the config.

import functools
import glob
import json
import math
import os
import shlex
import sys

import yaml
from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

BASE = workflow.basedir
sys.path.insert(0, BASE)  # the harness of this checkout plans the schedules it will run
from harness.errors import HarnessError  # noqa: E402
from harness.models import architectures, dash as dash_module  # noqa: E402
from harness.morse import budget  # noqa: E402
from harness.morse.schedule import plain, plan_from_budget, plan_from_counts  # noqa: E402
from harness.samplers import make_grid  # noqa: E402
from harness.samplers.noise import noise_settings  # noqa: E402
SCHEMA = os.path.join(BASE, "config", "schema.json")
LAUNCH = f"python {shlex.quote(os.path.join(BASE, 'workflows', 'scripts', 'launch.py'))}"

wildcard_constraints:
    point=r"[A-Za-z0-9_]+",
    dot=r"[A-Za-z0-9_]+",
    rep=r"\d+",
    shard=r"\d+",


# ---------------------------------------------------------------- configs and validation


def _validate(data, where):
    try:
        validate(data, SCHEMA)
    except WorkflowError as err:
        raise WorkflowError(f"invalid config {where} (checked against {SCHEMA})", err) from None


def _load_experiment_files():
    """Experiments of the files named by `experiment_files` (globs relative to the workflow)."""
    found = {}
    for pattern in config.get("experiment_files", []):
        paths = sorted(glob.glob(pattern if os.path.isabs(pattern) else os.path.join(BASE, pattern)))
        for path in paths:
            with open(path) as handle:
                data = yaml.safe_load(handle) or {}
            _validate(data, path)
            for name, experiment in data.get("experiments", {}).items():
                if name in found:
                    raise WorkflowError(f"experiment {name!r} is defined twice: {found[name][1]} and {path}")
                found[name] = (experiment, path)
    return found


def _merged(base, override):
    """`override` laid over `base`: mappings merge key by key, anything else is replaced."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    return {**base, **{key: _merged(base.get(key), value) for key, value in override.items()}}


# Experiment files first; then config/config.yaml, --configfile and --config, which may override an
# experiment of a file key by key (e.g. only its `dash.path`). The result is validated as a whole.
_FILES = _load_experiment_files()
EXPERIMENTS = {name: experiment for name, (experiment, _) in _FILES.items()}
for _name, _override in (config.get("experiments") or {}).items():
    EXPERIMENTS[_name] = _merged(EXPERIMENTS.get(_name, {}), _override)
_validate({**config, "experiments": EXPERIMENTS},
          "(config/config.yaml, config/experiments/*.yaml, any --configfile and --config, merged)")
for _name in config.get("default_experiments", []):
    if _name not in EXPERIMENTS:
        raise WorkflowError(f"default_experiments names {_name!r}, which no config defines; known: {', '.join(sorted(EXPERIMENTS))}")


wildcard_constraints:
    exp="|".join(sorted(EXPERIMENTS, key=len, reverse=True)) or "(?!)",  # only configured experiments


def experiment(name):
    try:
        return EXPERIMENTS[name]
    except KeyError:
        raise WorkflowError(f"no experiment {name!r}; known: {', '.join(sorted(EXPERIMENTS))}") from None


# ---------------------------------------------------------------- models and data


def dash_of(exp, part=None):
    """The Dash block of a series or Dot (falling back to the experiment's)."""
    return (part or {}).get("dash") or experiment(exp)["dash"]


def dash_args(exp, part=None):
    dash = dash_of(exp, part)
    if dash["source"] == "train-dash":
        return f"--dash {shlex.quote(trained_dash_dir(exp))}"
    args = f"--dash {shlex.quote(dash['source'])}"
    if dash.get("path"):
        args += f" --dash-path {shlex.quote(str(dash['path']))}"
    return args


def trained_dash_dir(exp):
    return f"work/{exp}/dash"


def dash_inputs(exp, part=None):
    """Files a rule needs for its Dash: the checked-inputs stamp, and a trained Dash if the config trains one."""
    files = [f"work/{exp}/inputs.json"]
    if dash_of(exp, part)["source"] == "train-dash":
        files.append(f"{trained_dash_dir(exp)}/train_config.json")
    return files


def dataset(exp):
    return experiment(exp)["dataset"]


# ---------------------------------------------------------------- points and shards


def _num(value):
    """A number as it appears in a file name: 7.5 -> 7p5, 10.0 -> 10."""
    text = f"{float(value):g}"
    return text.replace(".", "p").replace("-", "m")


@functools.lru_cache(maxsize=None)
def _plan_noise(source, path):
    """The noise settings a Dash will sample with, read without its weights (harness/models/dash.py);
    for a Dash not here yet, its packaged config's, else diffusers' 1000-step default (said on stderr)."""
    try:
        return dash_module.scheduler_settings(source, local_path=path)
    except HarnessError:
        packaged = architectures.architecture_for_source(source)
        if packaged is not None:
            return noise_settings(packaged["scheduler"])
        print(f"plan: no scheduler config for Dash {source!r} yet: its schedules are planned on diffusers' default "
              "1000-step schedule", file=sys.stderr)
        return noise_settings({})


def _series_points(exp, series):
    """(name, point) for every baseline and Morse point of one series, expanded over guidance scales.
    Each point carries its schedule, planned here with the Dash's noise settings, and what it
    requested (LSD, k/n); a budget is passed on to `harness sample` as the step counts it resolved to."""
    scales = series.get("guidance_scales") or [None]
    name, grid = series["name"], series["grid"]
    dash = dash_of(exp, series)
    noise = _plan_noise(dash["source"], dash.get("path"))
    for scale in scales:
        suffix = "" if scale is None else f"_g{_num(scale)}"
        for steps in series.get("baseline_steps", []):
            yield f"{name}_s{steps}{suffix}", dict(method="baseline", series=series, guidance_scale=scale,
                                                  plan=f"--steps {steps}", schedule=plain(make_grid(grid, steps, noise)),
                                                  requested_lsd=float(steps), requested_ratio=0.0)
        for morse in series.get("morse", []):
            if "fine_steps" in morse:
                point = f"{name}_f{morse['fine_steps']}_d{morse['dash_steps']}{suffix}"
                plan = f"--fine-steps {morse['fine_steps']} --dash-steps {morse['dash_steps']}"
                schedule = plan_from_counts(grid, morse["fine_steps"], morse["dash_steps"], noise)
                requested = (None, None)
                if morse.get("N"):
                    plan += f" --N {morse['N']}"
                    asked = budget.counts(morse["dash_steps"], morse["fine_steps"] - morse["dash_steps"], morse["N"])
                    requested = (asked.lsd, asked.ratio)
            else:
                point = f"{name}_l{_num(morse['lsd'])}_k{_num(morse['ratio'])}{suffix}"
                schedule, counts = plan_from_budget(grid, morse["lsd"], morse["N"], morse["ratio"], noise)
                plan = (f"--fine-steps {counts.grid_steps} --dash-steps {counts.dash_steps} --N {morse['N']}"
                        f" --requested-lsd {morse['lsd']} --requested-ratio {morse['ratio']}")
                requested = (float(morse["lsd"]), float(morse["ratio"]))
            yield point, dict(method="morse", series=series, guidance_scale=scale, plan=plan, schedule=schedule,
                              requested_lsd=requested[0], requested_ratio=requested[1])


def _schedule_key(exp, p):
    """What determines a point's samples: Dash, sampler, guidance, the grid and its Dash/Dot
    assignment, and the Dot and its observations when Dot runs. Points with one key are one computation."""
    series, schedule = p["series"], p["schedule"]
    key = (json.dumps(dash_of(exp, series), sort_keys=True), series.get("sampler", "ddim"), series.get("eta"),
           p["guidance_scale"], schedule.grid, schedule.is_dash)
    return key + ((series["dot"], series.get("trajectory_source", "dash")) if schedule.dot_steps else ())


@functools.lru_cache(maxsize=None)
def points(exp):
    """Every point of an experiment, by name (names are unique; a repeated one is a config error).

    Requests that resolve to the same schedule (harness/morse/budget.py: at LSD 3 and N = 6 only
    three schedules exist) are sampled once: the first is sampled (`sampled_as` is itself) and lists
    the others in `also_serves`, which `harness curves` turns into rows of their own. The plan says
    which, on stderr."""
    found, first = {}, {}
    for series in experiment(exp)["series"]:
        try:
            planned = list(_series_points(exp, series))
        except ValueError as err:  # a grid that cannot place a step count, a budget below one step
            raise WorkflowError(f"experiment {exp!r}, series {series['name']!r}: {err}") from None
        for name, point in planned:
            if name in found:
                raise WorkflowError(f"experiment {exp!r}: point {name!r} appears twice; rename a series")
            if point["method"] == "morse" and series.get("dot") not in experiment(exp).get("dots", {}):
                raise WorkflowError(f"experiment {exp!r}, series {series['name']!r}: Morse points need `dot:` naming "
                                    f"one of the experiment's `dots` ({', '.join(experiment(exp).get('dots', {})) or 'none'})")
            owner = first.setdefault(_schedule_key(exp, point), name)
            point.update(sampled_as=owner, also_serves=[])
            if owner != name:
                found[owner]["also_serves"].append({"point": name, "method": point["method"],
                                                    "requested_lsd": point["requested_lsd"],
                                                    "requested_ratio": point["requested_ratio"]})
                schedule = point["schedule"]
                print(f"plan: experiment {exp!r}: {name} resolves to the schedule of {owner} ({schedule.dash_steps} "
                      f"Dash + {schedule.dot_steps} Dot steps): sampled once, reported under both names", file=sys.stderr)
            found[name] = point
    return found


def sampled_points(exp):
    """The points whose shards are sampled (one per distinct schedule)."""
    return [name for name, p in points(exp).items() if p["sampled_as"] == name]


def point(exp, name):
    try:
        return points(exp)[name]
    except KeyError:
        raise WorkflowError(f"experiment {exp!r} has no point {name!r}") from None


def samples(exp):
    defaults = dict(num=50000, shard_size=5000, first_seed=0, batch_size=100, repeats=1)
    return {**defaults, **experiment(exp).get("samples", {})}


def num_shards(exp):
    s = samples(exp)
    return math.ceil(s["num"] / s["shard_size"])


def seed_range(exp, rep, shard):
    """The inclusive seed range of one shard: repeat r covers first_seed + r*num ... + num - 1."""
    s = samples(exp)
    start = s["first_seed"] + int(rep) * s["num"] + int(shard) * s["shard_size"]
    stop = min(start + s["shard_size"], s["first_seed"] + (int(rep) + 1) * s["num"])
    return f"{start}-{stop - 1}"


def shard_files(exp, name, rep):
    return [f"samples/{exp}/{name}.r{rep}.s{k:03d}.npz" for k in range(num_shards(exp))]


def fid_inputs(wildcards):
    """A one-shard point: the shard itself; several shards: their per-shard feature statistics."""
    exp, name, rep = wildcards.exp, wildcards.point, wildcards.rep
    if num_shards(exp) == 1:
        return shard_files(exp, name, rep)
    return [f"work/{exp}/fidstats/{name}.r{rep}.s{k:03d}.fidstats" for k in range(num_shards(exp))]


def metric_names(exp):
    return list(experiment(exp)["metrics"])


def metric_rows(exp):
    """One CSV row file per (point, repeat, metric)."""
    return [
        f"work/{exp}/metrics/{name}.r{rep}.{metric}.csv"
        for name in sampled_points(exp)
        for rep in range(samples(exp)["repeats"])
        for metric in metric_names(exp)
    ]


# ---------------------------------------------------------------- input functions and params of rules


def sample_inputs(wildcards):
    p = point(wildcards.exp, wildcards.point)
    files = dash_inputs(wildcards.exp, p["series"])
    if p["method"] == "morse":
        files.append(f"work/{wildcards.exp}/dot/{p['series']['dot']}/dot.safetensors")
    return files


def sample_args(wildcards):
    exp, p = wildcards.exp, point(wildcards.exp, wildcards.point)
    series = p["series"]
    args = [dash_args(exp, series), f"--sampler {series.get('sampler', 'ddim')}",
            f"--grid {series['grid']}", p["plan"]]
    if p["method"] == "morse":
        args.append(f"--dot work/{exp}/dot/{series['dot']} --trajectory-source {series.get('trajectory_source', 'dash')}")
    if series.get("eta") is not None:
        args.append(f"--eta {series['eta']}")
    if p["guidance_scale"] is not None:
        args.append(f"--guidance-scale {p['guidance_scale']}")
    args.append(f"--seeds {seed_range(exp, wildcards.rep, wildcards.shard)} --batch-size {samples(exp)['batch_size']}")
    args.append(f"--experiment {exp} --point {wildcards.point}")
    args += [f"--also-serves {shlex.quote(json.dumps(request))}" for request in p["also_serves"]]
    return " ".join(args)


def dot_block(wildcards):
    try:
        return experiment(wildcards.exp)["dots"][wildcards.dot]
    except KeyError:
        raise WorkflowError(f"experiment {wildcards.exp!r} has no Dot {wildcards.dot!r}") from None


def dot_args(wildcards):
    exp, dot = wildcards.exp, dot_block(wildcards)
    train = dot.get("train", {})
    args = [
        dash_args(exp, dot),
        f"--data {shlex.quote(dot.get('data') or dataset(exp)['spec'])}",
        f"--sampler {dot.get('sampler', 'ddim')}",
        f"--variant {dot.get('variant', 'shared')} --extra-blocks {dot.get('m', 1)}",
        f"--channels {','.join(str(c) for c in dot.get('channels', [32]))}",
        f"--lora-rank {dot.get('lora_rank', 8)}",
        f"--inputs {','.join(dot.get('inputs', ['x_ts', 'z_ts', 't_s']))}",
    ]
    if dot.get("eval_data"):
        args.append(f"--eval-data {shlex.quote(dot['eval_data'])}")
    for key in ("steps", "batch_size", "max_gap", "groups", "lr", "warmup", "seed", "checkpoint_every"):
        if key in train:
            args.append(f"--{key.replace('_', '-')} {train[key]}")
    return " ".join(args)


def dot_gpus(wildcards):
    return dot_block(wildcards).get("gpus", 1)


def dot_inputs(wildcards):
    return dash_inputs(wildcards.exp, dot_block(wildcards))


def check_args(wildcards):
    exp = experiment(wildcards.exp)
    args = [dash_args(wildcards.exp)]
    for series in exp["series"]:
        if series.get("dash"):
            args.append(f"--also-dash {shlex.quote(series['dash']['source'])}"
                        + (f"={shlex.quote(str(series['dash']['path']))}" if series["dash"].get("path") else ""))
    data = exp["dataset"]
    args.append(f"--data {shlex.quote(data['spec'])}")
    for metric, settings in exp["metrics"].items():
        if settings.get("reference"):
            args.append(f"--data {shlex.quote(settings['reference'])}")
        if settings.get("annotations"):
            args.append(f"--file {shlex.quote(settings['annotations'])}")
        for key in ("extractor_weights", "weights"):
            if settings.get(key):
                args.append(f"--file {shlex.quote(str(settings[key]))}")
    if data.get("download") and config.get("allow_download", False):
        args.append(f"--download {data['download']}")
    if data.get("how_to"):
        args.append(f"--how-to {shlex.quote(data['how_to'])}")
    return " ".join(args)


def fid_settings(exp):
    return experiment(exp)["metrics"]["fid"]


def fid_options(exp):
    fid = fid_settings(exp)
    args = [f"--extractor {fid.get('extractor', 'digitsnet')}"]
    if fid.get("extractor_weights"):
        args.append(f"--extractor-weights {shlex.quote(str(fid['extractor_weights']))}")
    if fid.get("image_size"):
        args.append(f"--image-size {fid['image_size']}")
    if fid.get("batch_size"):
        args.append(f"--batch-size {fid['batch_size']}")
    if config.get("offline", True):
        args.append("--offline")
    return " ".join(args)


def clip_options(exp):
    clip = experiment(exp)["metrics"]["clip"]
    args = [f"--prompts work/{exp}/prompts.txt"]
    for key, option in (("model", "--model"), ("pretrained", "--pretrained"), ("weights", "--clip-checkpoint"),
                        ("image_size", "--image-size"), ("batch_size", "--batch-size")):
        if clip.get(key) is not None:
            args.append(f"{option} {shlex.quote(str(clip[key]))}")
    if config.get("offline", True):
        args.append("--offline")
    return " ".join(args)


def latency_options(exp):
    s = latency_settings(exp)
    args = [f"--batch-size {s['batch_size']} --warmup {s['warmup']} --repeats {s['repeats']}"]
    for key in ("dtype", "device", "pipeline_steps"):
        if s.get(key) is not None:
            args.append(f"--{key.replace('_', '-')} {s[key]}")
    return " ".join(args)


def latency_dash_args(exp):
    """`harness latency` loads Dash by source only: `latency.dash` (e.g. config:ddpm-cifar10-32, random
    weights of the same architecture) or the experiment's Dash source."""
    source = latency_settings(exp).get("dash")
    if source:
        return f"--dash {shlex.quote(source)}"
    dash = dash_of(exp)
    if dash["source"] == "train-dash":
        return f"--dash {shlex.quote(trained_dash_dir(exp))}"
    return f"--dash {shlex.quote(str(dash.get('path') or dash['source']))}"


def latency_settings(exp):
    return {"batch_size": 100, "repeats": 20, "warmup": 3, **experiment(exp).get("latency", {})}


def latency_dot_config(wildcards):
    """The Dot architecture that `harness latency` times (the config's `latency.dot`)."""
    exp = experiment(wildcards.exp)
    name = latency_settings(wildcards.exp).get("dot") or next(iter(exp["dots"]))
    dot = exp["dots"][name]
    fields = {"variant": dot.get("variant", "shared"), "m": dot.get("m", 1), "channels": dot.get("channels", [32]),
              "lora_rank": dot.get("lora_rank", 8), "inputs": dot.get("inputs", ["x_ts", "z_ts", "t_s"])}
    return shlex.quote(json.dumps(fields))


def curves_latency_args(wildcards):
    fixed = latency_settings(wildcards.exp).get("N")
    if fixed:
        device = latency_settings(wildcards.exp).get("N_device", "given in config")
        return f"--N {fixed} --N-device {shlex.quote(device)}"
    return f"--latency-dir work/{wildcards.exp}/latency"


def curves_inputs(wildcards):
    files = metric_rows(wildcards.exp)
    if not latency_settings(wildcards.exp).get("N"):
        files.append(f"work/{wildcards.exp}/latency")
    return files


def analysis(exp):
    return {"metric": "fid", "higher_is_better": False, "group_by": [], "where": [], "best_over": None,
            "figure": "curves", "tables": [], "table_index": [], "paper_ref": None, "tradeoff": False,
            **experiment(exp).get("analysis", {})}


def selection_args(wildcards):
    a = analysis(wildcards.exp)
    args = [f"--metric {a['metric']}"]
    if a["higher_is_better"]:
        args.append("--higher-is-better")
    args += [f"--where {shlex.quote(w)}" for w in a["where"]]
    if a["best_over"]:
        args.append(f"--best-over {a['best_over']}")
    return args


def speedup_args(wildcards):
    a = analysis(wildcards.exp)
    return " ".join(selection_args(wildcards) + [f"--group-by {g}" for g in a["group_by"]])


def report_args(wildcards):
    a = analysis(wildcards.exp)
    args = selection_args(wildcards) + [f"--figure {a['figure']}"]
    args += [f"--table {t}" for t in a["tables"]] + [f"--table-index {c}" for c in a["table_index"]]
    if a["paper_ref"]:
        args.append(f"--paper-ref {a['paper_ref']}")
    if a["tradeoff"]:
        args.append("--tradeoff")
    return " ".join(args)


# ---------------------------------------------------------------- targets


def experiment_targets(exp):
    return [f"reports/speedup_{exp}.pdf", f"results/{exp}.csv", f"results/{exp}_speedup.csv",
            f"results/{exp}_speedup_summary.csv"]


def default_targets():
    return [target for exp in config.get("default_experiments", []) for target in experiment_targets(exp)]
