"""The points of a series and their planning: each baseline step count and Morse request at each guidance
scale, with the schedule it resolves to on the Dash's noise settings (Sec. 2.3) and what it asked for
(harness.morse.budget.requested, the one bookkeeping `harness sample` shares)."""

from __future__ import annotations

import functools
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import HarnessError


def number_label(value) -> str:
    """A number as it appears in a file name: 7.5 -> 7p5, 10.0 -> 10, -1 -> m1."""
    return f"{float(value):g}".replace(".", "p").replace("-", "m")


@dataclass
class Point:
    """One latency point: a baseline step count or a Morse schedule, at one guidance scale.

    ``plan`` holds `harness sample`'s schedule options (an LSD budget already resolved to step counts,
    harness/morse/budget.py); ``requested_lsd``/``requested_ratio`` what the config asked for.
    Requests that resolve to one schedule are sampled once: ``sampled_as`` names the point whose
    shards serve this one, and that point lists the others in ``also_serves``.
    """

    name: str
    method: str  # "baseline" or "morse"
    series: dict
    plan: dict
    schedule: object  # harness.morse.schedule.MorseSchedule
    requested_lsd: float | None = None
    requested_ratio: float | None = None
    guidance_scale: float | None = None
    reference: str | None = None  # one of REFERENCE_DOTS: this point runs that Dot instead of the series'
    sampled_as: str = ""
    also_serves: list = field(default_factory=list)

    @property
    def dot(self) -> str | None:
        """The series' Dot (a name under `dots`), a reference Dot (`oracle`, `zero`), or None for the baseline."""
        if self.method != "morse":
            return None
        return self.reference or self.series.get("dot")

    def key(self, dash: dict) -> tuple:
        """What determines the samples: Dash, sampler, guidance (classifier-free and classifier), grid and
        Dash/Dot assignment, and the Dot and its observations when Dot runs. Points with one key are one
        computation."""
        key = (json.dumps(dash, sort_keys=True), self.series["sampler"], self.series.get("eta"),
               self.guidance_scale, self.series.get("classifier_scale"), self.schedule.grid, self.schedule.is_dash)
        return key + ((self.dot, self.series.get("trajectory_source")) if self.schedule.dot_steps else ())


@functools.cache
def plan_noise(source: str, path: str | None) -> dict:
    """The noise settings a Dash will sample with, read without its weights; for a Dash not here yet,
    its packaged config's, else diffusers' 1000-step default (said on stderr)."""
    from harness.assets import SHIPPED_DASH
    from harness.models import architectures
    from harness.models import dash as dash_module
    from harness.samplers.noise import noise_settings

    local = Path(path) if path else Path(source)
    if local.is_dir() and source not in SHIPPED_DASH and architectures.architecture_for_source(source) is None:
        from harness.models.dash_folder import inspect_folder

        return noise_settings(inspect_folder(local, source=source).scheduler)  # incomplete: one line, at plan time
    try:
        return dash_module.scheduler_settings(source, local_path=path)
    except HarnessError:
        packaged = architectures.architecture_for_source(source)
        if packaged is not None:
            return noise_settings(packaged["scheduler"])
        print(f"plan: no scheduler config for Dash {source!r} yet: its schedules are planned on diffusers' default "
              "1000-step schedule", file=sys.stderr)
        return noise_settings({})


def series_points(series: dict, noise: dict):
    """Every baseline and Morse point of one series, over its guidance scales, with its schedule
    planned on the Dash's noise settings (Sec. 2.3; a budget resolved by harness/morse/budget.py), the
    baseline's step counts extended to bracket the Morse points (``bracketing_steps``)."""
    from harness.morse import budget
    from harness.morse.schedule import plain
    from harness.samplers import make_grid

    name, grid = series["name"], series["grid"]
    for scale in series.get("guidance_scales") or [None]:
        suffix = "" if scale is None else f"_g{number_label(scale)}"
        morse = list(_morse_points(series, noise, suffix, scale))
        counts = bracketing_steps(name, series.get("baseline_steps", []), morse, series.get("baseline_reach", 1),
                                  say=scale == (series.get("guidance_scales") or [None])[0])
        for steps in counts:
            try:
                schedule = plain(make_grid(grid, steps, noise))
            except ValueError as err:
                raise ValueError(f"{err} (the baseline at {steps} steps)") from None
            yield Point(f"{name}_s{steps}{suffix}", "baseline", series, {"steps": steps}, schedule,
                        *budget.requested(steps=steps), scale)
        yield from morse


def bracketing_steps(series: str, configured: list[int], morse: list[Point], reach: int = 1, say: bool = True) -> list[int]:
    """The baseline's step counts: the configured ones, plus what brackets every Morse point (Sec. 3.1
    interpolates, never extrapolates). Below: a count at most the fewest Dash steps of a Morse point,
    whose latency d + r / N is above d whatever N is measured. Above: k times the highest requested LSD
    budget, rounded up, for k = 1 ... ``reach`` (config key ``baseline_reach``: how far past its Morse
    points the baseline must go for the speedups the paper reports there). Each addition is said on
    stderr (when ``say``)."""
    steps = sorted(set(configured))
    if not morse or not steps:
        return steps
    fewest = min(morse, key=lambda p: p.schedule.dash_steps)
    added = []
    if fewest.schedule.dash_steps < steps[0]:
        added.append((fewest.schedule.dash_steps, f"below {fewest.name} ({fewest.schedule.dash_steps} Dash steps)"))
    budgets = [p for p in morse if p.requested_lsd is not None]
    top = max(budgets, key=lambda p: p.requested_lsd, default=None)
    for k in range(1, reach + 1) if top is not None else ():
        if math.ceil(k * top.requested_lsd) not in steps and (k > 1 or math.ceil(top.requested_lsd) > steps[-1]):
            added.append((math.ceil(k * top.requested_lsd), f"{k}x above {top.name} ({top.requested_lsd:g} LSD)"))
    for count, why in added if say else ():
        print(f"plan: series {series!r}: a {count}-step baseline added, {why}, so that the baseline brackets "
              "every Morse point", file=sys.stderr)
    return sorted(set(steps) | {count for count, _ in added})


def _morse_points(series: dict, noise: dict, suffix: str, scale):
    """The Morse points of one series at one guidance scale."""
    from harness.morse import budget
    from harness.morse.schedule import plan_from_budget, plan_from_counts

    name, grid = series["name"], series["grid"]
    for morse in series.get("morse", []):
        reference = morse.get("dot")  # a reference Dot (oracle, zero) instead of the series' Dot
        prefix = f"{name}_{reference}" if reference else name
        if "fine_steps" in morse:
            point = f"{prefix}_f{morse['fine_steps']}_d{morse['dash_steps']}{suffix}"
            schedule = plan_from_counts(grid, morse["fine_steps"], morse["dash_steps"], noise)
            requested = budget.requested(fine_steps=morse["fine_steps"], dash_steps=morse["dash_steps"], N=morse.get("N"))
            plan = {k: v for k, v in morse.items() if k != "dot"}
        else:
            point = f"{prefix}_l{number_label(morse['lsd'])}_k{number_label(morse['ratio'])}{suffix}"
            schedule, counts = plan_from_budget(grid, morse["lsd"], morse["N"], morse["ratio"], noise)
            if morse["ratio"] > 0 and morse["N"] * (morse["lsd"] - 1) < 1 - 1e-9:  # not one Dot step fits beside a Dash step
                raise ValueError(f"the budget {{lsd: {morse['lsd']:g}, ratio: {morse['ratio']:g}}} holds no Dot step "
                                 f"under N = {morse['N']:g} ({counts.dash_steps} Dash + 0 Dot steps): one Dot step "
                                 f"needs lsd >= {1 + 1 / morse['N']:.3g}; raise `lsd`, or set ratio 0 for a Dash-only point")
            if morse["ratio"] > 0 and counts.dot_steps == 0:
                print(f"plan: series {name!r}: {point} resolves to {counts.dash_steps} Dash + 0 Dot steps (no schedule "
                      f"with a Dot step is closer to k/n = {morse['ratio']:g}): a Dash-only point", file=sys.stderr)
            requested = budget.requested(lsd=morse["lsd"], ratio=morse["ratio"])
            plan = {"fine_steps": counts.grid_steps, "dash_steps": counts.dash_steps, "N": morse["N"],
                    "requested_lsd": morse["lsd"], "requested_ratio": morse["ratio"]}
        yield Point(point, "morse", series, plan, schedule, *requested, scale, reference=reference)
