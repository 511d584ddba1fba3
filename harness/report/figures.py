"""Matplotlib figures in the form of the paper's Figs. 4-9, 12 and 13, readable in black and white.

Each curve figure has one panel per value of ``panel_by`` (Fig. 4: sampler, Fig. 5: benchmark):
the metric against latency in LSD on top (baseline solid black, each Morse curve its own line style
and marker), and under it the speedup n / l of Sec. 3.1 with a dotted 1x line; upper bounds (the baseline is
better at its lowest latency; left out of the averages) are drawn at their bound with an open downward triangle, N/A points
on the 1x line with an "x". Fig. 8 (a metric against another over guidance scales) is in
``harness.report.tradeoff``.
Rows drawn from ``paper_reference`` carry the label "paper (reported)".
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis import paper_reference  # noqa: E402
from harness.analysis.compare import compare  # noqa: E402
from harness.analysis.tuning import CURVE, curve_name  # noqa: E402
from harness.analysis.speedup import COUNTED, NOT_REACHED, UPPER_BOUND  # noqa: E402
from harness.registry import Registry  # noqa: E402

STYLES = [("-", "s", "0.35"), ("--", "^", "0.2"), ("-.", "D", "0.5"), (":", "v", "0.1"), ((0, (5, 1, 1, 1)), "P", "0.6")]
BASELINE_STYLE = dict(color="black", linestyle="-", marker="o", markerfacecolor="white")


@dataclass(frozen=True)
class FigureSpec:
    """Which paper figure, its panels (``panel_by``), and its Morse curves (``line_by``: one per value of these
    columns)."""

    title: str
    panel_by: str | None = None
    line_by: tuple[str, ...] = ()
    log_x: bool = True
    baseline_by_panel: bool = True  # False: every panel shows the whole baseline (panels of Morse variants)


FIGURES: Registry[FigureSpec] = Registry("figure")
for _name, _spec in {
    "fig4": FigureSpec("Fig. 4: samplers on CIFAR-10", panel_by="sampler"),
    "fig5": FigureSpec("Fig. 5: benchmarks (DDIM)", panel_by="experiment"),
    "fig6": FigureSpec("Fig. 6: conditional generation on ImageNet 64", panel_by="experiment"),
    "fig7": FigureSpec("Fig. 7: Stable Diffusion over guidance scales", panel_by="guidance_scale"),
    "fig9": FigureSpec("Fig. 9: same number of steps", line_by=("fine_steps",)),
    "fig12": FigureSpec("Fig. 12: trajectory source", line_by=("trajectory_source",)),
    "fig13": FigureSpec("Fig. 13: exchanged-steps ratio", line_by=("requested_ratio",), log_x=False),
    "curves": FigureSpec("latency-metric curves"),
    # issue 12: the trained Dot between its floor (zero Dot) and its ideal (oracle Dot), and the tuned ratio
    "dots": FigureSpec("trained Dot between the zero Dot (floor) and the oracle Dot (ideal), by ratio",
                       panel_by="requested_ratio", line_by=(CURVE,), baseline_by_panel=False),
}.items():
    FIGURES.register(_name)(_spec)


PAGE_SIZE = (8.27, 11.69)  # A4 portrait, inches: every page of the report and every figure drawn on one
LSD_LABEL = "latency (LSD: Dash-step latencies)"
PANELS_PER_ROW = 3


def lsd_axis(ax, lsds, log: bool = True, label: str = LSD_LABEL) -> None:
    """The LSD axis with a labelled tick at each evaluated latency (labels that would collide skipped)."""
    if log:
        ax.set_xscale("log")
    ticks = sorted({round(float(v), 2) for v in lsds if np.isfinite(v) and v > 0})
    position = np.log(ticks) if log else np.asarray(ticks, float)
    span = (position.max() - position.min()) if len(ticks) > 1 else 1.0
    labels, last = [], -np.inf
    for tick, at in zip(ticks, position):
        keep = at - last >= 0.07 * span
        labels.append(f"{tick:g}" if keep else "")
        last = at if keep else last
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FixedFormatter(labels))
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel(label)


def line_style(i: int) -> dict:
    line, marker, color = STYLES[i % len(STYLES)]
    return dict(linestyle=line, marker=marker, color=color)


def with_lines(spec: FigureSpec, columns: tuple[str, ...]) -> FigureSpec:
    """``spec`` with a Morse curve per value of ``columns`` too (the analysis's ``line_by``), besides its own lines
    and panels."""
    extra = tuple(c for c in columns if c not in spec.line_by and c != spec.panel_by)
    return dataclasses.replace(spec, line_by=spec.line_by + extra)


def line_label(columns: tuple[str, ...], key: tuple) -> str:
    """A Morse curve's legend entry: the curve's name (trained, tuned, oracle, ...) and ``column = value`` of the
    others, e.g. ``trained Dot (requested_ratio = 0.3)``; an empty value (the tuned curve's ratio) is left out."""
    values = dict(zip(columns, key))
    name = curve_name(values.pop(CURVE)) if CURVE in values else "Morse"
    parts = [f"{column} = {value:g}" if isinstance(value, float) else f"{column} = {value}"
             for column, value in values.items() if not pd.isna(value)]
    return f"{name} ({', '.join(parts)})" if parts else name


def _panels(rows: pd.DataFrame, column: str | None) -> list[tuple[str, pd.DataFrame]]:
    if column is None:
        return [("", rows)]
    return [(f"{column} = {'per budget' if pd.isna(value) else value}", group)
            for value, group in rows.groupby(column, sort=True, dropna=False)]


def _curve_panel(fig, spot, title: str, base: pd.DataFrame, morse_rows: pd.DataFrame, metric: str,
                 spec: FigureSpec, higher_is_better: bool, y_label: str | None, x_label: str) -> None:
    """One panel at ``spot`` (a grid cell): the metric against LSD over its speedup n / l (Sec. 3.1)."""
    pair = spot.subgridspec(2, 1, height_ratios=[3, 2], hspace=0.08)
    top = fig.add_subplot(pair[0])
    bottom = fig.add_subplot(pair[1], sharex=top)
    top.tick_params(labelbottom=False)
    mean = base.groupby("latency_lsd")[metric].mean()
    top.plot(mean.index, mean.values, label="baseline (Dash only)", **BASELINE_STYLE)
    group_by = spec.line_by
    result = compare(base, morse_rows, metric, higher_is_better=higher_is_better, group_by=group_by, baseline_by=())
    lines = result.points.groupby(list(group_by), sort=True, dropna=False) if group_by else [((), result.points)]
    for i, (key, points) in enumerate(lines):
        label = line_label(group_by, key if isinstance(key, tuple) else (key,))
        top.plot(points["latency_lsd"], points[f"morse_{metric}"], label=label, **line_style(i))
        counted = points[points["status"].isin(COUNTED)]
        bottom.plot(counted["latency_lsd"], counted["speedup"], **line_style(i))
        bound = points[points["status"] == UPPER_BOUND]
        bottom.plot(bound["latency_lsd"], bound["speedup"], linestyle="none", marker="v", markersize=9,
                    markerfacecolor="white", color="black", label="upper bound" if len(bound) else None)
        na = points[points["status"] == NOT_REACHED]
        bottom.plot(na["latency_lsd"], np.ones(len(na)), linestyle="none", marker="x", color="black",
                    label="N/A" if len(na) else None)
    bottom.axhline(1.0, color="0.6", linestyle=":", linewidth=1)
    top.set_title(title or spec.title, fontsize=9)
    if y_label:  # the first panel of a row names the axes
        top.set_ylabel(y_label, fontsize=8)
        bottom.set_ylabel("speedup at equal metric", fontsize=8)
    bottom.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%.2gx"))
    lsd_axis(bottom, [*mean.index, *morse_rows["latency_lsd"]], log=spec.log_x, label=x_label)
    for ax in (top, bottom):
        ax.grid(True, color="0.9")
        ax.tick_params(labelsize=7)
    top.legend(fontsize=7)
    marks = dict(zip(*reversed(bottom.get_legend_handles_labels())))  # one entry per label
    if marks:
        bottom.legend(marks.values(), marks.keys(), fontsize=7)


def figure_area(fig, rect, height: float):
    """``fig`` (or a new page-wide figure ``height`` inches tall) and the grid area ``rect`` =
    (left, bottom, right, top) in figure fractions (default: the whole figure less its margins)."""
    if fig is None:
        fig = plt.figure(figsize=(PAGE_SIZE[0], height))
    left, bottom, right, top = rect or (0.1, 0.7 / fig.get_figheight(), 0.97, 1 - 0.6 / fig.get_figheight())
    return fig, dict(left=left, bottom=bottom, right=right, top=top)


def curve_figure(baseline: pd.DataFrame, morse: pd.DataFrame, metric: str, spec: FigureSpec, *,
                 higher_is_better: bool = False, fig=None, rect=None, y_label: str | None = None) -> plt.Figure:
    """Metric-vs-LSD panels with the speedup panel under each (Figs. 4-7, 9, 12, 13), up to three
    panels a row, in ``rect`` of ``fig`` (a new page-wide figure when None)."""
    panels = _panels(morse, spec.panel_by)
    rows, cols = -(-len(panels) // PANELS_PER_ROW), min(len(panels), PANELS_PER_ROW)
    new = fig is None
    fig, area = figure_area(fig, rect, min(PAGE_SIZE[1], 1.2 + 4.8 * rows))
    grid = fig.add_gridspec(rows, cols, hspace=0.3, wspace=0.25, **area)
    for i, (title, morse_rows) in enumerate(panels):
        base = baseline
        if (spec.baseline_by_panel and spec.panel_by and spec.panel_by in baseline.columns
                and baseline[spec.panel_by].notna().any()):
            base = baseline[baseline[spec.panel_by].astype(str) == str(morse_rows[spec.panel_by].iloc[0])]
        label = y_label or f"{metric} ({'higher' if higher_is_better else 'lower'} is better)"
        _curve_panel(fig, grid[divmod(i, cols)], title, base, morse_rows, metric, spec, higher_is_better,
                     label if i % cols == 0 else None, LSD_LABEL if cols == 1 else "latency (LSD)")
    if new:
        fig.suptitle(spec.title)
    return fig


def _method_curves(ax, frame: pd.DataFrame, metric: str, title: str, y_label: str) -> None:
    for i, ((method, variant), group) in enumerate(frame.groupby(["method", "variant"], sort=True)):
        group = group.groupby("latency_lsd")[metric].mean()
        style = dict(BASELINE_STYLE, linestyle=STYLES[i % len(STYLES)][0]) if method == "baseline" else line_style(i)
        ax.plot(group.index, group.values, label=f"{method}, {variant}" if variant else method, **style)
    lsd_axis(ax, frame["latency_lsd"])
    ax.set_ylabel(y_label, fontsize=8)
    ax.set_title(title, fontsize=9)
    ax.grid(True, color="0.9")
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6)


def reference_figure(ref: str, metric: str, ours: pd.DataFrame, y_label: str, fig=None, rect=None) -> plt.Figure:
    """Our curves (left) beside the paper's reported curves of ``ref`` (right, "paper (reported)")."""
    reported = paper_reference.rows(ref, metric).dropna(subset=["latency_lsd"]).rename(columns={"value": metric})
    fig, area = figure_area(fig, rect, 4.0)
    grid = fig.add_gridspec(1, 2, wspace=0.3, **area)
    left, right = fig.add_subplot(grid[0]), fig.add_subplot(grid[1])
    _method_curves(left, ours.assign(variant=""), metric, "ours (measured)", y_label)
    _method_curves(right, reported, metric, f"{paper_reference.LABEL}: {ref}", metric)
    return fig


@dataclass(frozen=True)
class SampleSide:
    """The images of one point in the sample grid, with what a reader needs to compare them."""

    method: str
    lsd: float
    steps: str
    seeds: np.ndarray
    images: np.ndarray

    @property
    def label(self) -> str:
        return f"{self.method}, {self.lsd:.3g} LSD\n{self.steps}; seeds {self.seeds.min()}-{self.seeds.max()}"


def mosaic(images: np.ndarray, columns: int) -> np.ndarray:
    """Images (n, h, w, c) as one picture, ``columns`` wide, one pixel of white between them."""
    n, h, w, c = images.shape
    rows = -(-n // columns)
    out = np.full((rows * (h + 1) - 1, columns * (w + 1) - 1, c), 255, np.uint8)
    for i, image in enumerate(images):
        r, k = divmod(i, columns)
        out[r * (h + 1): r * (h + 1) + h, k * (w + 1): k * (w + 1) + w] = image
    return out


def sample_grid_figure(pairs: list[tuple[SampleSide, SampleSide]], fig=None, rect=None, per_side: int = 32,
                       columns: int = 8) -> plt.Figure:
    """Baseline (left) and Morse (right) at equal LSD, one row per pair, the same seeds on both sides."""
    fig, area = figure_area(fig, rect or (0.03, 0.02, 0.97, 0.92 if fig is None else 0.9), 2.4 * len(pairs) + 0.6)
    grid = fig.add_gridspec(len(pairs), 2, wspace=0.08, hspace=0.45, **area)
    for row, sides in enumerate(pairs):
        for col, side in enumerate(sides):
            ax = fig.add_subplot(grid[row, col])
            picture = mosaic(side.images[:per_side], columns)
            ax.imshow(picture.squeeze(-1) if picture.shape[-1] == 1 else picture, cmap="gray", vmin=0, vmax=255,
                      interpolation="nearest")
            ax.set_title(side.label, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
    return fig
