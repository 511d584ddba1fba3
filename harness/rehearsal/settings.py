"""The rehearsal's reductions (config/rehearsal.yaml) laid over one experiment's config.

One function, :func:`rehearsed`: the experiment that the real code then plans and runs. Counts are
caps (a smaller value the experiment sets stays, a missing key is set); each series keeps its first
baseline step counts, Morse points and guidance scales (each its own count), and its baseline reaches
at most ``baseline_reach`` budgets past its Morse points.
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


def _morse(entries: list, keep: int) -> list:
    """The first ``keep`` Morse points (the cheapest budget first), and the first trained-Dot point at each further
    ratio the series asks for: a ratio sweep keeps one point per curve (Fig. 13's first ratio, 0.1 at 3 LSD, takes
    no Dot step), and a headlined ratio (analysis.headline_ratio) keeps its point."""
    from harness.experiments.product import expand_morse

    points = [p for entry in entries for p in expand_morse(entry)]
    kept = _first(points, keep)
    for ratio in dict.fromkeys(p.get("ratio") for p in points if not p.get("dot") and p.get("ratio") is not None):
        if not any(p.get("ratio") == ratio and not p.get("dot") for p in kept):
            kept.append(next(p for p in points if p.get("ratio") == ratio and not p.get("dot")))
    return kept


def _series(series: dict, settings: dict) -> dict:
    out = dict(series)
    if "baseline_reach" in series:
        out["baseline_reach"] = min(series["baseline_reach"], settings["baseline_reach"])
    if isinstance(series.get("baseline_steps"), list):
        out["baseline_steps"] = _first(series["baseline_steps"], settings["baselines_per_series"])
    if isinstance(series.get("guidance_scales"), list):
        out["guidance_scales"] = _first(series["guidance_scales"], settings["points_per_series"])
    if isinstance(series.get("morse"), list):
        out["morse"] = _morse(series["morse"], settings["morse_per_series"])
    return out


def rehearsed(experiment: dict, settings: dict | None = None) -> dict:
    """``experiment`` (a merged config) with the rehearsal's reductions."""
    settings = settings or load()
    out = dict(experiment)
    out["samples"] = _samples(experiment.get("samples") or {}, settings["samples"])
    out["series"] = [_series(s, settings) for s in experiment.get("series") or []]
    out["dots"] = {name: capped(dot, settings["dot"]) for name, dot in (experiment.get("dots") or {}).items()}
    out["metrics"] = {name: capped(metric, {k: v for k, v in settings["metric"].items() if k in metric})
                      for name, metric in (experiment.get("metrics") or {}).items()}  # a metric's own keys only
    if not (experiment.get("latency") or {}).get("N"):
        out["latency"] = capped(experiment.get("latency") or {}, settings["latency"])
    return out
