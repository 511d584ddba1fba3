"""The pages of the report, in order: each a function from the report's context to one A4 figure.

``PAGES`` is a registry kept in registration order; a page returns ``None`` when it has nothing to
say for this experiment (no paper numbers, no benchmarks), and is then left out. Another page is
added by registering a function here (or in a module imported by ``harness.report.pdf``):

    @PAGES.register("my page")
    def my_page(ctx: ReportContext) -> plt.Figure | None: ...

Page 1 states what a reader came for: the average speedup with its interval, N and its device,
the metric's full name and feature extractor, the sample count, and the curves figure.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from harness import provenance as provenance_columns
from harness.analysis import paper_reference, speedup
from harness.analysis.compare import Comparison
from harness.analysis.selection import headline
from harness.registry import Registry
from harness.report import figures, job_costs, metric_names, tradeoff
from harness.report.options import ReportOptions
from harness.report.page_layout import Flow, cell, page, wrapped
from harness.report.text import exceptions, format_speedup, headline_name, oracle_lines


@dataclass
class ReportContext:
    """Everything a page may draw: the rows, the comparison, latency rows, samples, benchmarks."""

    options: ReportOptions
    rows: pd.DataFrame  # every row of the experiment
    selected: pd.DataFrame  # after --where / --best-over
    spec: figures.FigureSpec
    result: Comparison
    latency: pd.DataFrame = field(default_factory=pd.DataFrame)
    pairs: list = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    jobs: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def baseline(self) -> pd.DataFrame:
        return self.selected[self.selected["method"] == "baseline"]

    @property
    def morse(self) -> pd.DataFrame:
        return self.selected[self.selected["method"] == "morse"]

    @property
    def metric(self) -> str:
        return self.options.metric

    @property
    def y_label(self) -> str:
        return metric_names.axis_label(self.metric, self.rows, self.options.higher_is_better)

    def values(self, column: str) -> str:
        """The distinct values of a row column, comma-separated ("-" when absent)."""
        if column not in self.rows.columns:
            return "-"
        return ", ".join(cell(v) for v in pd.unique(self.rows[column].dropna())) or "-"


Page = Callable[[ReportContext], "plt.Figure | None"]
GUIDED_DOT_COST_NOTE = (
    "A guided step: Dash runs two CFG branches, while a Dot that takes the guidance scale w predicts the guided "
    "estimate in one. N_one_branch counts that one evaluation (Table 5 times ADM-G's Dot exactly like ADM's); "
    "N_two_branches counts two, as if the Dot ran Dash's branches. The latencies of this report use the column "
    "'N counts' names (config key latency.guided_dot_cost; one_branch by default, the paper's way of timing).")
PAGES: Registry[Page] = Registry("report page")


def _headline(ctx: ReportContext) -> tuple[str, str]:
    """The headline average speedup as written, and its bootstrap interval or why there is none."""
    row = headline(ctx.result, ctx.options.headline_ratio, ctx.options.confidence)
    value = format_speedup(row["average_speedup"])
    if headline_name(row):
        value += f" ({headline_name(row)})"
    ranges = ctx.rows.groupby("point")["seeds"].nunique().min() if {"point", "seeds"} <= set(ctx.rows.columns) else 1
    if ctx.options.bootstrap and not np.isnan(row["ci_low"]):
        interval = (f"{ctx.options.confidence:.0%} bootstrap interval over seed ranges: "
                    f"{format_speedup(row['ci_low'])} to {format_speedup(row['ci_high'])}")
    elif ranges < 2:
        interval = "no interval: one seed range per point (set samples.repeats >= 2 for a bootstrap interval)"
    else:
        interval = "no interval: no bootstrap asked for (--bootstrap 0)"
    return value, interval


def facts(ctx: ReportContext) -> pd.DataFrame:
    """Page 1's facts as a two-column table (what, value)."""
    value, interval = _headline(ctx)
    paper = ""
    if ctx.options.paper_ref:
        quoted = paper_reference.reported_average(ctx.options.paper_ref)
        paper = "; ".join(f"{v}: {x:.2f}x" for v, x in zip(quoted["variant"], quoted["value"])) or "none quoted"
    counts = ctx.selected.groupby("method")["point"].nunique() if "point" in ctx.selected else pd.Series(dtype=int)
    facts = [
        ("average speedup at equal metric", value),
        ("interval", interval),
        ("N (Dash / Dot seconds per step)", ctx.values("N")),
        ("N measured on", ctx.values("N_device")),
        ("metric", metric_names.METRICS.get(ctx.metric, ctx.metric)
         + f" ({'higher' if ctx.options.higher_is_better else 'lower'} is better)"),
        ("feature extractor", metric_names.feature_extractor(ctx.metric, ctx.rows)),
        ("samples per point", ctx.values("num_samples")),
        ("seeds", ctx.values("seeds")),
        ("reference set", ctx.values(f"{ctx.metric.split('_')[0]}_reference")),
        ("points", ", ".join(f"{n} {m}" for m, n in counts.items()) or "-"),
        ("sampler, time grid", f"{ctx.values('sampler')}; {ctx.values('grid_name')}"),
    ]
    facts += [(f"Dot {name}", recipe) for name, recipe in dot_recipes(ctx)]
    if paper:
        facts.append((f"{paper_reference.LABEL} average speedup ({ctx.options.paper_ref})", paper))
    return pd.DataFrame(facts, columns=["what", "value"])


def dot_recipes(ctx: ReportContext) -> list[tuple[str, str]]:
    """Per trained Dot (its dot.json under --dots): trained by Algorithm 1, or how its recipe departs from it."""
    from harness.morse.dot_config import departures_from_algorithm_1

    found = []
    for meta_path in sorted(ctx.options.dots.glob("*/dot.json")) if ctx.options.dots else []:
        training = json.loads(meta_path.read_text()).get("training") or {}
        departs = departures_from_algorithm_1(training)
        found.append((meta_path.parent.name, f"trained {training.get('steps', '?')} steps, "
                       + (f"departs from Algorithm 1: {', '.join(departs)} (docs/dot_recipe.md)" if departs
                          else "by Algorithm 1")))
    return found


@PAGES.register("summary")
def summary_page(ctx: ReportContext) -> plt.Figure:
    """Page 1: the facts, the note, and the curves figure with its speedup panels."""
    fig = page(ctx.options.title or f"Morse speedup: {ctx.options.experiment}",
               f"experiment {ctx.options.experiment}; {ctx.spec.title}")
    flow = Flow(fig)
    flow.paragraph(f"Average speedup {_headline(ctx)[0]} at equal {ctx.y_label.split(',')[0]}, "
                   f"N = {ctx.values('N')} ({ctx.values('N_device')}), {ctx.values('num_samples')} samples per point",
                   fontsize=11, weight="bold")
    flow.table(facts(ctx), fontsize=8)
    if ctx.options.note:
        flow.paragraph(f"Note: {ctx.options.note}", fontsize=8)
    left, bottom, right, top = flow.remaining()
    figures.curve_figure(ctx.baseline, ctx.morse, ctx.metric, ctx.spec, higher_is_better=ctx.options.higher_is_better,
                         fig=fig, rect=(left + 0.05, bottom + 0.03, right, top - 0.03), y_label=ctx.y_label)
    return fig


def speedup_points(ctx: ReportContext) -> pd.DataFrame:
    """The per-point speedup table as a reader reads it."""
    points = ctx.result.points
    keep = [c for c in points.columns if c not in ("status", "note", "speedup", "baseline_latency_lsd")]
    table = points[keep].copy()
    table["baseline reaches it at (LSD)"] = points["baseline_latency_lsd"]
    table["speedup"] = [format_speedup(v, s == speedup.UPPER_BOUND) for v, s in zip(points["speedup"], points["status"])]
    return table.rename(columns={"latency_lsd": "LSD", f"morse_{ctx.metric}": f"Morse {ctx.metric}"})


@PAGES.register("speedups")
def speedup_page(ctx: ReportContext) -> plt.Figure:
    """Every Morse point's speedup, the averages per curve, and every exception by name."""
    fig = page("Speedup at equal metric, per point", "Sec. 3.1: the baseline's latency at Morse's metric over Morse's latency")
    flow = Flow(fig)
    flow.table(speedup_points(ctx))
    summary = ctx.result.summary.rename(columns={"average_speedup": "average", "curve_average_speedup": "curve average",
                                                 "ci_low": "interval low", "ci_high": "interval high",
                                                 "upper_bounds": "bounds (left out)",
                                                 "n_a": "N/A"})
    flow.heading("Average per Morse curve", 10)
    flow.table(summary)
    lines = exceptions(ctx.result) + oracle_lines(ctx.morse, ctx.metric, ctx.options.higher_is_better)
    if lines:
        flow.heading("Upper bounds, N/A points, floor to ideal", 10)
        flow.paragraph("\n".join(lines), fontsize=7)
    flow.heading("How the speedup is computed", 10)
    text = " ".join(line.strip() for line in speedup.__doc__.strip().splitlines()[2:] if line.strip())
    flow.paragraph(text.replace("``", '"'), 7)
    return fig


@PAGES.register("N and device")
def latency_page(ctx: ReportContext) -> plt.Figure:
    """N as used and as measured (harness latency), beside the paper's Table 5."""
    fig = page("N and the device it was measured on", "latency_lsd = dash_steps + dot_steps / N")
    flow = Flow(fig)
    columns = [c for c in ("dot", "N", "N_device") if c in ctx.rows.columns]  # N per Dot where several were timed
    used = ctx.rows[columns].dropna(subset=["N"]).drop_duplicates() if "N" in columns else pd.DataFrame()
    flow.table(used.rename(columns={"N_device": "device"}), caption="N used in this report's latencies")
    if ctx.latency.empty:
        flow.paragraph(f"no latency_<device>.csv row for {ctx.options.experiment!r} under "
                       f"{', '.join(map(str, ctx.options.latency_dir))}")
    else:
        both = "N_two_branches" in ctx.latency.columns and ctx.latency["N_two_branches"].notna().any()
        measured = ctx.latency.reindex(columns=["device", "device_name", "dtype", "batch_size", "dash_median_s",
                                                "dot_median_s", "N", *(["N_one_branch", "N_two_branches",
                                                                        "guided_dot_cost"] if both else []), "repeats"])
        flow.table(measured.rename(columns={"dash_median_s": "Dash s/step", "dot_median_s": "Dot s/step",
                                            "guided_dot_cost": "N counts"}),
                   caption="measured by `harness latency` (median over repeats)")
        if both:
            flow.paragraph(GUIDED_DOT_COST_NOTE, fontsize=8)
    reported = paper_reference.rows("table5", "N").pivot_table(index="variant", columns="device", values="value")
    flow.table(reported.reset_index().rename(columns={"variant": "model"}),
               caption=f"N, {paper_reference.LABEL} (Table 5), for comparison only")
    return fig


@PAGES.register("compute")
def compute_page(ctx: ReportContext) -> plt.Figure | None:
    """What the run cost, per rule, from the jobs' Snakemake benchmark files."""
    if ctx.jobs.empty:
        return None
    fig = page("Compute this run cost", f"from Snakemake's benchmark files under {ctx.options.benchmarks}")
    Flow(fig).table(job_costs.by_rule(ctx.jobs))
    return fig


@PAGES.register("Dot held-out error")
def heldout_page(ctx: ReportContext) -> plt.Figure | None:
    """Each Dot's held-out residual error by gap t_s - t_o (``harness train-dot --eval-data``)."""
    found = [(p.parent.name, json.loads(p.read_text())) for p in
             (sorted(ctx.options.dots.glob("*/dot.json")) if ctx.options.dots else [])]
    found = [(name, meta) for name, meta in found if meta.get("heldout")]
    if not found:
        return None
    fig = page("Dot's held-out error by gap t_s - t_o", "residual MSE of Dot beside the zero residual (reuse z_ts)")
    flow = Flow(fig)
    for name, meta in found:
        held, cost = meta["heldout"], ""
        if meta.get("wall_time_s") is not None:  # the training's cost, as its run measured it
            cost = f"; trained {meta.get('steps_done')} steps in {meta['wall_time_s'] / 60:.1f} min"
        flow.table(pd.DataFrame(held.get("by_gap", [])),
                   caption=f"Dot {name}: residual MSE {held['dot_mse']:.4g} vs zero residual "
                           f"{held['zero_residual_mse']:.4g} over {held['pairs']} held-out pairs{cost}")
    return fig


@PAGES.register("samples at equal LSD")
def samples_page(ctx: ReportContext) -> plt.Figure:
    """Baseline and Morse side by side at equal LSD, the same seeds on both sides."""
    fig = page("Samples: baseline and Morse at equal LSD",
               "each row: a Morse point beside the baseline at the same LSD budget (or the nearest one, marked)")
    if not ctx.pairs:
        Flow(fig).paragraph("no baseline and Morse shards" + (f" in {ctx.options.shards}" if ctx.options.shards else
                                                              " (give --shards)"))
        return fig
    figures.sample_grid_figure(ctx.pairs, fig=fig, rect=(0.04, 0.9 - 0.215 * len(ctx.pairs), 0.96, 0.9))
    return fig


@PAGES.register("trade-off over guidance scales")
def tradeoff_page(ctx: ReportContext) -> plt.Figure | None:
    """Fig. 8's scheme (Table 1 scheme 2, with --tradeoff METRIC): the metric against METRIC over guidance scales."""
    if not ctx.options.tradeoff:
        return None
    fig = page(f"Trade-off over guidance scales (Fig. 8 scheme): {ctx.metric} against {ctx.options.tradeoff}",
               "one panel per LSD budget, baseline and Morse; each point is labelled with its guidance scale")
    tradeoff.tradeoff_figure(ctx.rows, ctx.options.tradeoff, ctx.metric, fig=fig, rect=(0.1, 0.45, 0.96, 0.88))
    return fig


def paper_table(ctx: ReportContext) -> pd.DataFrame:
    """The paper's numbers of ``--paper-ref`` for this metric beside ours at the same LSDs ("not run": no row of ours)."""
    reported = paper_reference.rows(ctx.options.paper_ref, ctx.metric).dropna(subset=["latency_lsd"])
    ours = ctx.selected.assign(at=ctx.selected.get("requested_lsd", ctx.selected["latency_lsd"]).fillna(
        ctx.selected["latency_lsd"]).round(2))
    lsds = sorted(set(reported["latency_lsd"]))
    rows = []
    for (method, variant), group in reported.groupby(["method", "variant"], sort=False):
        rows.append({"": paper_reference.LABEL, "method": method, "variant": variant,
                     **{f"{l:g} LSD": group.loc[group["latency_lsd"] == l, "value"].mean() for l in lsds}})
    for method in ("baseline", "morse"):
        mine = ours[ours["method"] == method]
        rows.append({"": "ours", "method": method, "variant": ctx.options.experiment,
                     **{f"{l:g} LSD": (mine.loc[mine["at"] == round(l, 2), ctx.metric].mean()
                                       if (mine["at"] == round(l, 2)).any() else "not run") for l in lsds}})
    return pd.DataFrame(rows)


@PAGES.register("paper beside ours")
def paper_page(ctx: ReportContext) -> plt.Figure | None:
    """The paper's reported numbers beside ours (only for a paper experiment: ``--paper-ref``)."""
    if not ctx.options.paper_ref:
        return None
    fig = page(f"{paper_reference.LABEL} beside ours: {ctx.options.paper_ref}",
               f"transcribed in {paper_reference.PATH.name}; shown for comparison, never used in our numbers")
    flow = Flow(fig)
    reference = paper_reference.rows(ctx.options.paper_ref, ctx.metric)
    if reference["latency_lsd"].notna().any():
        flow.table(paper_table(ctx), caption=f"{ctx.metric} at each LSD the paper reports")
        left, bottom, right, top = flow.remaining()
        figures.reference_figure(ctx.options.paper_ref, ctx.metric, ctx.selected, ctx.y_label, fig=fig,
                                 rect=(left + 0.05, top - 0.33, right, top - 0.04))
        flow.skip(0.38)
    quoted = paper_reference.reported_average(ctx.options.paper_ref)
    value = _headline(ctx)[0]
    averages = pd.DataFrame({"variant": quoted["variant"], paper_reference.LABEL: [f"{v:.2f}x" for v in quoted["value"]]})
    flow.table(pd.concat([averages, pd.DataFrame([{"variant": f"ours ({ctx.options.experiment})",
                                                   paper_reference.LABEL: "-", "ours": value}])]),
               caption="average speedup")
    return fig


@PAGES.register("tables")
def tables_page(ctx: ReportContext) -> plt.Figure | None:
    """The paper-form tables asked for with ``--table`` (also written as Markdown and LaTeX)."""
    if not ctx.tables:
        return None
    fig = page("Tables in the paper's form", "our measurements; the paper's numbers are on the page beside ours")
    flow = Flow(fig)
    for name, table in ctx.tables.items():
        flow.table(table, caption=name)
    return fig


def provenance(ctx: ReportContext) -> pd.DataFrame:
    """How every number was computed, as (what, value) rows: code, packages, device, metric, options."""
    prefix = ctx.metric.split("_")[0] + "_"
    columns = [c for c in ctx.rows.columns if c.startswith(prefix) and c != ctx.metric]
    columns += [c for c in provenance_columns.COLUMNS if c in ctx.rows.columns]
    argv = list(ctx.options.command_line) or ["report", str(ctx.options.csv), "--experiment", ctx.options.experiment]
    command = shlex.join(["python", "-m", "harness", *argv])
    rows = [(c, ctx.values(c)) for c in columns if c != "created_utc"]
    if "created_utc" in ctx.rows.columns:
        rows.append(("created_utc", f"{ctx.rows['created_utc'].min()} to {ctx.rows['created_utc'].max()}"))
    rows += [("results", f"{ctx.options.csv} ({len(ctx.rows)} rows)"),
             ("row filters", ", ".join(ctx.options.where) or "none"), ("best over", ctx.options.best_over or "none"),
             ("figure form", ctx.spec.title), ("report command", command)]
    return pd.DataFrame(rows, columns=["what", "value"])


@PAGES.register("provenance")
def provenance_page(ctx: ReportContext) -> plt.Figure:
    fig = page("How every number was computed", "from the rows' provenance columns (docs/provenance.md)")
    flow = Flow(fig)
    flow.table(wrapped(provenance(ctx), "value"), fontsize=7)
    flow.paragraph("latency_lsd = dash_steps + dot_steps / N (N = Dash / Dot seconds per step, `harness latency`).", 7)
    return fig


def sample_pairs(shards: Path | None, experiment: str, rows: pd.DataFrame, most: int = 4) -> list:
    """(baseline, Morse) :class:`figures.SampleSide` pairs: each Morse point (first ``most`` by LSD) beside
    the baseline at its LSD budget (``requested_lsd``), else the nearest in ``latency_lsd``; first shard each."""
    if shards is None or not {"latency_lsd", "point", "method"} <= set(rows.columns):
        return []
    first: dict[str, Path] = {}
    for meta_path in sorted(Path(shards).glob("*.json")):
        meta = json.loads(meta_path.read_text())
        if meta.get("experiment") == experiment and meta.get("point") and meta_path.with_suffix(".npz").exists():
            first.setdefault(meta["point"], meta_path.with_suffix(".npz"))
    have = rows[rows["point"].isin(first)].dropna(subset=["latency_lsd"]).drop_duplicates("point")
    base, morse = have[have["method"] == "baseline"], have[have["method"] == "morse"]
    pairs = []
    for _, m in morse.sort_values("latency_lsd").head(most).iterrows():
        if base.empty:
            break
        budget = m.get("requested_lsd", np.nan)
        equal = base[np.isclose(base.get("requested_lsd", np.nan), budget)] if pd.notna(budget) else base.iloc[:0]
        b = equal.iloc[0] if len(equal) else base.loc[(base["latency_lsd"] - m["latency_lsd"]).abs().idxmin()]
        pairs.append((_side(b, first[b["point"]], "baseline" if len(equal) else "baseline (nearest)"),
                      _side(m, first[m["point"]], "Morse")))
    return pairs


def _side(row: pd.Series, shard: Path, method: str) -> figures.SampleSide:
    data = np.load(shard)
    dot = int(row.get("dot_steps", 0) or 0)
    steps = f"{int(row['dash_steps'])} Dash" + (f" + {dot} Dot steps" if dot else " steps") if "dash_steps" in row else ""
    return figures.SampleSide(method, float(row["latency_lsd"]), steps, data["seeds"], data["images"])
