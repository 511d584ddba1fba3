"""The latency timings an experiment plans: one `harness latency` job per cost of a Dot step, and the
Dot architecture each times (the Dot block's DotConfig fields, harness/morse/dot_config.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from harness.errors import HarnessError
from harness.morse.dot_config import ARCHITECTURE, REFERENCE_DOTS


@dataclass
class Timing:
    """One `harness latency` job: the series whose Dash it times (None: the experiment's) and the Dots
    (folders, or reference Dot names) whose Morse rows take its N."""

    series: dict | None
    dots: list[str]


def _dash_key(series: dict) -> str:
    """What a series' Dash step costs: its Dash and classifier scale."""
    return json.dumps([series.get("dash"), series.get("classifier_scale")], sort_keys=True)


def timed_architecture(dot: dict, conditions: str | None = None, inputs: bool = True) -> dict:
    """The DotConfig fields of a Dot block that `harness latency --dot-config` times (``inputs=False``:
    without the trajectory inputs, which change only the width of the first convolution)."""
    keys = [key for key in ARCHITECTURE if inputs or key != "inputs"]
    architecture = {key: dot[key] for key in keys if key in dot}
    if dot.get("guidance_scales"):  # a Dot that takes w: one branch per guided step
        architecture.update(guidance_scales=dot["guidance_scales"], conditions=conditions)
    return architecture


def plan_timings(experiment) -> dict[str, Timing]:
    """One `harness latency` job per cost of a Dot step, named by its first Dot: Dots whose step costs the
    same (one Dash and classifier scale, one architecture: the Dot block's fields that `--dot-config`
    times, trajectory inputs aside) share a timing, so Fig. 4's samplers keep one N as in Table 5, while
    ADM-G beside ADM (Fig. 6) or the independent Dot beside the shared one (Table 7) each get their
    own. The timing of `latency.dot` also serves the reference Dots (oracle, zero). A Dot run by
    series with different Dashes or classifier scales is a config error."""
    where = f"experiments.{experiment.name}"
    runs: dict[str, dict | None] = {experiment.latency_dot_name(): None}  # Dot -> the series that runs it
    for series in experiment.config["series"]:
        if not series.get("morse"):
            continue
        name = series.get("dot", "")
        experiment.dot(name)  # an unknown Dot stops the plan here
        first = runs[name] = runs.get(name) or series
        if _dash_key(first) != _dash_key(series):
            raise HarnessError(f"{where}.series: Dot {name!r} runs with series {first['name']!r} and "
                               f"{series['name']!r}, whose Dash or classifier scale differ: give each its own Dot")
    timings: dict[str, Timing] = {}
    by_cost: dict[str, str] = {}
    for name, series in runs.items():
        cost = json.dumps([_dash_key(series or {}), timed_architecture(experiment.dot(name), inputs=False)], sort_keys=True)
        timing = timings.setdefault(by_cost.setdefault(cost, name), Timing(series, []))
        timing.dots.append(experiment.dot_dir(name))
    timings[experiment.latency_dot_name()].dots.extend(REFERENCE_DOTS)
    return timings
