"""The experiment model: what an experiment config asks the workflow to make.

An :class:`Experiment` wraps one validated config (harness.experiments.config) and answers the
workflow's questions: which points (baseline and Morse, over guidance scales), which seed-range
shards and metric rows, which files each job reads and writes, and which targets make the report.
Defaults that the workflow owns (sample counts, analysis options) live in the dataclasses here;
the defaults of a stage's options live with the stage (the CLI), and the workflow passes only
what a config sets.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import PurePosixPath

from harness import paths
from harness.errors import HarnessError
from harness.experiments.memory import job_mb
from harness.experiments.points import Point, plan_noise, series_points
from harness.experiments.timings import Timing, plan_timings
from harness.morse.dot_config import REFERENCE_DOTS
from harness.paths import fill

TRAIN_DASH = "train-dash"  # dash.source: train the small digits Dash in the workflow
PILOT = "pilot"  # the replicate label of the pilot set (harness tune-ratio's seeds)


def _from_dict(cls, data: dict | None):
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in (data or {}).items() if k in names})


@dataclass(frozen=True)
class Samples:
    """How many images per point, in which seed-range shards (EDM's per-image seeds)."""

    num: int = 50000
    shard_size: int = 5000
    first_seed: int = 0
    batch_size: int = 100
    repeats: int = 1
    pilot: int = 0  # images per point of the pilot set that tunes the ratio per budget (0: none)
    batches: int = 0  # > 0: every shard in this many `harness batch` jobs, metrics alike (0: a job per shard)

    @property
    def num_shards(self) -> int:
        return math.ceil(self.num / self.shard_size)

    def count(self, rep) -> int:
        """Images per point of replicate ``rep``, or of the pilot set (rep ``pilot``)."""
        return self.pilot if rep == PILOT else self.num

    def shards_of(self, rep) -> int:
        return math.ceil(self.count(rep) / self.shard_size)

    def seed_range(self, rep, shard: int) -> str:
        """The inclusive seed range of one shard: repeat r covers first_seed + r*num ... + num - 1; the
        pilot set the ``pilot`` seeds after the last repeat, so it shares no seed with any of them."""
        first = self.first_seed + (self.repeats if rep == PILOT else int(rep)) * self.num
        start = first + int(shard) * self.shard_size
        stop = min(start + self.shard_size, first + self.count(rep))
        return f"{start}-{stop - 1}"


@dataclass(frozen=True)
class Analysis:
    """How the report compares Morse with its baseline (Sec. 3.1) and which paper figure it draws."""

    metric: str = "fid"
    higher_is_better: bool = False
    group_by: tuple[str, ...] = ()
    line_by: tuple[str, ...] = ()  # Morse-only columns: one curve per value, all against the same baseline
    where: tuple[str, ...] = ()
    best_over: str | None = None
    figure: str = "curves"
    tables: tuple[str, ...] = ()
    table_index: tuple[str, ...] = ()
    paper_ref: str | None = None
    tradeoff: str | None = None  # Fig. 8: the metric against this one over guidance scales
    bootstrap: int = 0  # bootstrap draws over the replicates for the average speedup's interval (0: none)
    headline_ratio: float | None = None  # the headline: the trained Dot at this ratio (None: every trained point)


@dataclass
class Experiment:
    name: str
    config: dict
    samples: Samples = field(init=False)
    analysis: Analysis = field(init=False)

    def __post_init__(self):
        self.samples = _from_dict(Samples, self.config.get("samples"))
        analysis = dict(self.config.get("analysis") or {})
        for key in ("group_by", "line_by", "where", "tables", "table_index"):
            analysis[key] = tuple(analysis.get(key, ()))
        self.analysis = _from_dict(Analysis, analysis)

    def check(self) -> None:
        """Values each valid alone that cannot run together stop the plan, key path first: a shard
        larger than its sample count, an unknown paper reference or timed Dot, every point's schedule
        (one that does not fit its grid, a budget below one Dash step), and a Dot over guidance scales
        timed without a scale."""
        where = f"experiments.{self.name}"
        if self.samples.shard_size > self.samples.num:
            raise HarnessError(f"{where}.samples.shard_size: {self.samples.shard_size} is larger than samples.num "
                               f"{self.samples.num} (a shard holds at most a point's samples: set shard_size <= num)")
        if self.samples.batches and max(self.samples.shards_of(rep) for rep in (0, PILOT)) > 1:
            raise HarnessError(f"{where}.samples.batches: batched jobs take one shard per replicate and pilot set "
                               f"(set shard_size >= num and >= pilot)")
        from harness.analysis.compare import check_baseline_by

        check_baseline_by(self.analysis.group_by, f"{where}.analysis.group_by")
        if self.analysis.paper_ref:
            from harness.analysis import paper_reference

            try:
                paper_reference.rows(self.analysis.paper_ref)
            except HarnessError as err:
                raise HarnessError(f"{where}.analysis.paper_ref: {err}") from None
        if self.latency.get("dot") and self.latency["dot"] not in self.dots:
            raise HarnessError(f"{where}.latency.dot: {self.latency['dot']!r} is not one of the experiment's dots "
                               f"({', '.join(self.dots) or 'none'})")
        self.points  # noqa: B018 (plans every point)
        ratio = self.analysis.headline_ratio
        if ratio is not None:
            if "requested_ratio" not in self.analysis.line_by + self.analysis.group_by:
                raise HarnessError(f"{where}.analysis.headline_ratio: the headline at one ratio needs the Morse curves "
                                   "split by it: add requested_ratio to analysis.line_by")
            asked = {p.requested_ratio for p in self.points.values() if p.method == "morse" and not p.reference}
            if not any(r is not None and math.isclose(r, ratio) for r in asked):
                raise HarnessError(f"{where}.analysis.headline_ratio: no trained-Dot Morse point asks for ratio {ratio:g} "
                                   f"(asked: {', '.join(f'{r:g}' for r in sorted(r for r in asked if r is not None)) or 'none'})")
        if self.measures_latency and self.latency.get("guidance_scale") is None and self.dots:
            guided = [name for name in self.latency_timings if self.dot(name).get("guidance_scales")]
            if guided:
                raise HarnessError(f"{where}.latency.guidance_scale: the Dots {', '.join(guided)} take the guidance scale "
                                   "as an input, so their steps are timed guided: set the scale to time at (e.g. 7.5)")

    # ---------------------------------------------------------------- models and data

    @property
    def title(self) -> str:
        return self.config["title"]

    @property
    def note(self) -> str:
        return self.config.get("note") or self.title

    @property
    def not_wired(self) -> str | None:
        """Why the harness cannot run this experiment yet (None when it can)."""
        return self.config.get("not_wired")

    @property
    def status(self) -> str:
        """What `snakemake -n` shows for the experiment's first job."""
        return f"experiment {self.name}: NOT WIRED YET: {self.not_wired}" if self.not_wired else f"experiment {self.name}"

    def dash(self, part: dict | None = None) -> dict:
        """The Dash block of a series or Dot, falling back to the experiment's."""
        return (part or {}).get("dash") or self.config["dash"]

    @property
    def trained_dash_dir(self) -> str:
        return fill(paths.TRAINED_DASH, exp=self.name)

    def dash_location(self, part: dict | None = None) -> tuple[str, str | None]:
        """(source, local path) to pass as --dash/--dash-path; a Dash the workflow trains is its folder."""
        dash = self.dash(part)
        if dash["source"] == TRAIN_DASH:
            return self.trained_dash_dir, None
        return dash["source"], dash.get("path")

    @property
    def inputs_stamp(self) -> str:
        return fill(paths.INPUTS_STAMP, exp=self.name)

    def dash_inputs(self, part: dict | None = None) -> list[str]:
        """Files a job needs for its Dash: the checked-inputs stamp, and a trained Dash if one is trained here."""
        files = [self.inputs_stamp]
        if self.dash(part)["source"] == TRAIN_DASH:
            files.append(f"{self.trained_dash_dir}/{paths.DASH_TRAIN_CONFIG}")
        return files

    @property
    def dataset(self) -> dict:
        return self.config["dataset"]

    @property
    def dots(self) -> dict[str, dict]:
        return self.config.get("dots") or {}

    def dot(self, name: str) -> dict:
        try:
            return self.dots[name]
        except KeyError:
            raise HarnessError(f"experiment {self.name!r} has no Dot {name!r}; known: {', '.join(self.dots) or 'none'}") from None

    def dot_dir(self, name: str) -> str:
        """Dot ``name``'s folder: the trained one it ships (``dots.<name>.path``), else the one trained here."""
        return self.dot(name).get("path") or fill(paths.DOT_DIR, exp=self.name, dot=name)

    @property
    def dots_dir(self) -> str:
        """The folder holding the Dot folders (``<name>/dot.json``), where the report reads their held-out error."""
        first = self.dot_dir(next(iter(self.dots))) if self.dots else fill(paths.DOT_DIR, exp=self.name, dot="any")
        return str(PurePosixPath(first).parent)

    # ---------------------------------------------------------------- points, shards, rows

    @cached_property
    def points(self) -> dict[str, Point]:
        """Every point by name; a repeated name, or Morse points without a Dot, are config errors.
        Requests that resolve to one schedule (at LSD 3 and N = 6 only three schedules exist) are
        sampled once; the plan says which, on stderr."""
        found: dict[str, Point] = {}
        first: dict[tuple, str] = {}
        for series in self.config["series"]:
            source, path = self.dash_location(series)
            try:
                planned = list(series_points(series, plan_noise(source, path)))
            except ValueError as err:  # a grid that cannot place a step count, a budget below one step
                raise HarnessError(f"experiment {self.name!r}, series {series['name']!r}: {err}") from None
            for point in planned:
                if point.name in found:
                    raise HarnessError(f"experiment {self.name!r}: point {point.name!r} appears twice; rename a series")
                if point.method == "morse" and series.get("dot") not in self.dots:
                    raise HarnessError(f"experiment {self.name!r}, series {series['name']!r}: Morse points need `dot:` "
                                       f"naming one of the experiment's `dots` ({', '.join(self.dots) or 'none'})")
                point.sampled_as = first.setdefault(point.key(self.dash(series)), point.name)
                if point.sampled_as != point.name:
                    found[point.sampled_as].also_serves.append(
                        {"point": point.name, "method": point.method, "requested_lsd": point.requested_lsd,
                         "requested_ratio": point.requested_ratio})
                    print(f"plan: experiment {self.name!r}: {point.name} resolves to the schedule of {point.sampled_as} "
                          f"({point.schedule.dash_steps} Dash + {point.schedule.dot_steps} Dot steps): sampled once, "
                          "reported under both names", file=sys.stderr)
                found[point.name] = point
        return found

    @property
    def sampled_points(self) -> list[str]:
        """The points whose shards are sampled (one per distinct schedule)."""
        return [name for name, point in self.points.items() if point.sampled_as == name]

    def point(self, name: str) -> Point:
        try:
            return self.points[name]
        except KeyError:
            raise HarnessError(f"experiment {self.name!r} has no point {name!r}") from None

    def sample_inputs(self, name: str) -> list[str]:
        """What a sample job of point ``name`` reads: its Dash, its conditions file (prompts, labels) and for
        Morse its trained Dot."""
        from harness.conditions import conditions_file

        point = self.point(name)
        files = self.dash_inputs(point.series)
        if conditions_file(self.config.get("conditions")):
            files.append(conditions_file(self.config.get("conditions")))
        if point.method == "morse" and point.dot not in REFERENCE_DOTS:
            files.append(f"{self.dot_dir(point.dot)}/{paths.DOT_WEIGHTS}")
        return files

    def shard(self, point: str, rep, shard) -> str:
        return fill(paths.SHARD, exp=self.name, point=point, rep=rep, shard=shard)

    def shards(self, point: str, rep) -> list[str]:
        return [self.shard(point, rep, k) for k in range(self.samples.shards_of(rep))]

    def fid_stats_file(self, point: str, rep, shard) -> str:
        return fill(paths.FID_STATS, exp=self.name, point=point, rep=rep, shard=shard)

    def fid_inputs(self, point: str, rep) -> list[str]:
        """A one-shard point: the shard itself; several shards: their per-shard feature statistics."""
        if self.samples.shards_of(rep) == 1:
            return self.shards(point, rep)
        return [self.fid_stats_file(point, rep, k) for k in range(self.samples.shards_of(rep))]

    @property
    def metrics(self) -> dict[str, dict]:
        return self.config["metrics"]

    @property
    def prompts_file(self) -> str:
        """The MS-COCO prompts `coco_prompts` draws for this experiment: the CLIP score's captions."""
        return fill(paths.PROMPTS, exp=self.name)

    def metric_inputs(self, metric: str) -> list[str]:
        """What a job of ``metric`` reads beyond its shards: the CLIP score its prompts."""
        return [self.prompts_file] if metric == "clip" else []

    def metric_row(self, point: str, rep, metric: str) -> str:
        return fill(paths.METRIC_ROW, exp=self.name, point=point, rep=rep, metric=metric)

    def metric_rows(self) -> list[str]:
        """One CSV row file per (point, repeat, metric)."""
        return [self.metric_row(point, rep, metric)
                for point in self.sampled_points for rep in range(self.samples.repeats) for metric in self.metrics]

    def metric_jobs(self) -> list[tuple[str, object, str]]:
        """(point, replicate, metric) of every metric row the run makes: the replicates', then the pilot set's."""
        jobs = [(point, rep, metric) for point in self.sampled_points for rep in range(self.samples.repeats)
                for metric in self.metrics]
        return jobs + [(point, PILOT, self.analysis.metric) for point in self._pilot_points()]

    def batch_groups(self) -> list[list[tuple[str, object]]]:
        """``samples.batches`` groups of (point, replicate), each one `harness batch` job for its shards and one
        per metric for its rows, balanced by their model evaluations (Dash steps + Dot steps / 4)."""
        sets = list(dict.fromkeys((point, rep) for point, rep, _ in self.metric_jobs()))
        cost = {(p, r): self.samples.count(r) * (self.points[p].schedule.dash_steps + self.points[p].schedule.dot_steps / 4)
                for p, r in sets}
        groups: list[list[tuple[str, object]]] = [[] for _ in range(self.samples.batches)]
        loads = [0.0] * len(groups)
        for key in sorted(sets, key=lambda k: -cost[k]):  # the longest first, into the lightest group
            lightest = loads.index(min(loads))
            groups[lightest].append(key)
            loads[lightest] += cost[key]
        return [group for group in groups if group]

    # ---------------------------------------------------------------- the ratio per budget (tuned series)

    @property
    def tuned_series(self) -> list[dict]:
        """Series whose ratio is chosen per LSD budget on the pilot seeds (`tune_ratio: true`)."""
        return [s for s in self.config["series"] if s.get("tune_ratio")]

    def pilot_rows(self) -> list[str]:
        """The metric rows of the pilot set: every sampled trained-Dot Morse point of a tuned series, on the
        pilot seeds (disjoint from every replicate's), for the analysis metric."""
        if not self.tuned_series:
            return []
        if not self.samples.pilot:
            raise HarnessError(f"experiment {self.name!r}: `tune_ratio` needs pilot seeds (`samples.pilot` > 0)")
        return [self.metric_row(name, PILOT, self.analysis.metric) for name in self._pilot_points()]

    def _pilot_points(self) -> list[str]:
        """The sampled trained-Dot Morse points of the tuned series: those the pilot set is sampled for."""
        names = {s["name"] for s in self.tuned_series}
        return [name for name in self.sampled_points
                if self.points[name].series["name"] in names and self.points[name].method == "morse"
                and self.points[name].reference is None and self.points[name].requested_ratio is not None]

    @property
    def tuned_choices(self) -> str:
        return fill(paths.TUNED, exp=self.name)

    # ---------------------------------------------------------------- latency

    @property
    def latency(self) -> dict:
        return self.config.get("latency") or {}

    @property
    def measures_latency(self) -> bool:
        """False when the config fixes N (`latency.N`) instead of timing Dash and Dot."""
        return not self.latency.get("N")

    def latency_dot_name(self) -> str:
        """The Dot whose timing comes first and also serves the reference Dots (`latency.dot`, else the first)."""
        if not self.dots:
            raise HarnessError(f"experiment {self.name!r}: timing needs a Dot under `dots`")
        name = self.latency.get("dot") or next(iter(self.dots))
        self.dot(name)
        return name

    @cached_property
    def latency_timings(self) -> dict[str, Timing]:
        """One `harness latency` job per cost of a Dot step (harness/experiments/timings.py)."""
        return plan_timings(self)

    def latency_timing_dir(self, timing: str) -> str:
        return fill(paths.LATENCY_TIMING, exp=self.name, dot=timing)

    @property
    def latency_timing_dirs(self) -> list[str]:
        return [self.latency_timing_dir(name) for name in self.latency_timings] if self.measures_latency else []

    def attach_lsd_inputs(self) -> list[str]:
        return self.metric_rows() + self.latency_timing_dirs + ([self.tuned_choices] if self.tuned_series else [])

    # ---------------------------------------------------------------- resources

    def memory_mb(self, stage: str) -> int:
        """The mem_mb one job of ``stage`` declares (`memory_mb`, harness/experiments/memory.py)."""
        return job_mb(self.config.get("memory_mb"), stage)

    # ---------------------------------------------------------------- targets

    def targets(self) -> list[str]:
        return [fill(pattern, exp=self.name) for pattern in (paths.REPORT, paths.RESULTS, paths.SPEEDUP, paths.SPEEDUP_SUMMARY)]
