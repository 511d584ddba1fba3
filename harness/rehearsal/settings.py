"""The rehearsal's reductions (config/rehearsal.yaml) laid over one experiment's config.

One function, :func:`rehearsed`: the experiment that the real code then plans and runs. Counts are
caps (a smaller value the experiment sets stays, a missing key is set); each series keeps its first
baseline step counts, Morse entries and guidance scales, and its baseline reaches at most
``baseline_reach`` budgets past its Morse points.
"""

from __future__ import annotations

import math
from functools import cache
from pathlib import Path

import yaml

FILE = Path(__file__).resolve().parents[2] / "config" / "rehearsal.yaml"


@cache
def load() -> dict:
    return yaml.safe_load(FILE.read_text())


def capped(value, caps):
    """``caps`` laid over ``value``: mappings key by key, numbers at most the cap, anything else set."""
    if isinstance(caps, dict):
        base = value if isinstance(value, dict) else {}
        return {**base, **{key: capped(base.get(key), cap) for key, cap in caps.items()}}
    if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(caps, (int, float)):
        return min(value, caps)
    return caps


def _first(values: list, keep: int) -> list:
    """The first ``keep`` entries: a series' cheapest points (step counts and budgets grow along it)."""
    return values[:keep]


def _samples(samples: dict, caps: dict) -> dict:
    """Sample counts capped; a point of several shards keeps ``max_shards`` of them, one of one shard stays one."""
    num = min(samples.get("num", caps["num"]), caps["num"])
    shards = min(math.ceil(samples.get("num", num) / samples.get("shard_size", num)), caps["max_shards"])
    out = {**samples, "num": num, "shard_size": math.ceil(num / shards),
           "batch_size": min(samples.get("batch_size", caps["batch_size"]), caps["batch_size"]),
           "repeats": min(samples.get("repeats", 1), caps["repeats"])}
    if samples.get("pilot"):
        out["pilot"] = min(samples["pilot"], num)
        out["shard_size"] = max(out["shard_size"], out["pilot"]) if samples.get("batches") else out["shard_size"]
    return out


def _series(series: dict, keep: int, reach: int) -> dict:
    from harness.experiments.config import expand_morse

    out = dict(series)
    if "baseline_reach" in series:
        out["baseline_reach"] = min(series["baseline_reach"], reach)
    for key in ("baseline_steps", "guidance_scales"):
        if isinstance(series.get(key), list):
            out[key] = _first(series[key], keep)
    if isinstance(series.get("morse"), list):
        out["morse"] = _first([p for entry in series["morse"] for p in expand_morse(entry)], keep)
    return out


def rehearsed(experiment: dict, settings: dict | None = None) -> dict:
    """``experiment`` (a merged config) with the rehearsal's reductions."""
    settings = settings or load()
    out = dict(experiment)
    out["samples"] = _samples(experiment.get("samples") or {}, settings["samples"])
    out["series"] = [_series(s, settings["points_per_series"], settings["baseline_reach"])
                     for s in experiment.get("series") or []]
    out["dots"] = {name: capped(dot, settings["dot"]) for name, dot in (experiment.get("dots") or {}).items()}
    out["metrics"] = {name: capped(metric, {k: v for k, v in settings["metric"].items() if k in metric})
                      for name, metric in (experiment.get("metrics") or {}).items()}  # a metric's own keys only
    if not (experiment.get("latency") or {}).get("N"):
        out["latency"] = capped(experiment.get("latency") or {}, settings["latency"])
    return out
