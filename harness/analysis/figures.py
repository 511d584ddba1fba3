"""Matplotlib figures in the form of the paper's Figs. 4-9, 12 and 13, readable in black and white.

Each curve figure has one panel per value of ``panel_by`` (Fig. 4: sampler, Fig. 5: benchmark):
the metric against latency in LSD on top (baseline solid black, each Morse curve its own line style
and marker), and under it the speedup n / l of Sec. 3.1 with a dotted 1x line; upper bounds (the baseline is
better at its lowest latency) are drawn at their bound with an open downward triangle, N/A points
on the 1x line with an "x". Fig. 8 (a metric against another over guidance scales) is in
``harness.analysis.tradeoff``.
Rows drawn from ``paper_reference`` carry the label "paper (reported)".
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.ticker  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis import paper_reference  # noqa: E402
from harness.analysis.compare import compare  # noqa: E402
from harness.analysis.speedup import DEFINED, NOT_REACHED, UPPER_BOUND  # noqa: E402
from harness.registry import Registry  # noqa: E402

STYLES = [("-", "s", "0.35"), ("--", "^", "0.2"), ("-.", "D", "0.5"), (":", "v", "0.1"), ((0, (5, 1, 1, 1)), "P", "0.6")]
BASELINE_STYLE = dict(color="black", linestyle="-", marker="o", markerfacecolor="white")


@dataclass(frozen=True)
class FigureSpec:
    """Which paper figure, its panels (``panel_by``), and its Morse curves (``line_by``)."""

    title: str
    panel_by: str | None = None
    line_by: str | None = None
    log_x: bool = True


FIGURES: Registry[FigureSpec] = Registry("figure")
for _name, _spec in {
    "fig4": FigureSpec("Fig. 4: samplers on CIFAR-10", panel_by="sampler"),
    "fig5": FigureSpec("Fig. 5: benchmarks (DDIM)", panel_by="experiment"),
    "fig6": FigureSpec("Fig. 6: conditional generation on ImageNet 64", panel_by="experiment"),
    "fig7": FigureSpec("Fig. 7: Stable Diffusion over guidance scales", panel_by="guidance_scale"),
    "fig9": FigureSpec("Fig. 9: same number of steps", line_by="fine_steps"),
    "fig12": FigureSpec("Fig. 12: trajectory source", line_by="trajectory_source"),
    "fig13": FigureSpec("Fig. 13: exchanged-steps ratio", line_by="requested_ratio", log_x=False),
    "curves": FigureSpec("latency-metric curves"),
}.items():
    FIGURES.register(_name)(_spec)


def _log_lsd_axis(ax) -> None:
    """Log-scale LSD axis with plain numbers (3, 10, 50) rather than powers of ten."""
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel("latency (LSD)")


def line_style(i: int) -> dict:
    line, marker, color = STYLES[i % len(STYLES)]
    return dict(linestyle=line, marker=marker, color=color)


def _panels(rows: pd.DataFrame, column: str | None) -> list[tuple[str, pd.DataFrame]]:
    if column is None:
        return [("", rows)]
    return [(f"{column} = {value}", group) for value, group in rows.groupby(column, sort=True)]


def curve_figure(baseline: pd.DataFrame, morse: pd.DataFrame, metric: str, spec: FigureSpec, *,
                 higher_is_better: bool = False) -> plt.Figure:
    """Metric-vs-LSD panels with the speedup panel under each (Figs. 4-7, 9, 12, 13)."""
    panels = _panels(morse, spec.panel_by)
    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 6.4), squeeze=False,
                             sharex="col", gridspec_kw={"height_ratios": [3, 2]})
    for col, (title, morse_rows) in enumerate(panels):
        top, bottom = axes[0, col], axes[1, col]
        base = baseline
        if spec.panel_by and spec.panel_by in baseline.columns and baseline[spec.panel_by].notna().any():
            base = baseline[baseline[spec.panel_by].astype(str) == str(morse_rows[spec.panel_by].iloc[0])]
        mean = base.groupby("latency_lsd")[metric].mean()
        top.plot(mean.index, mean.values, label="baseline", **BASELINE_STYLE)
        group_by = tuple(c for c in (spec.line_by,) if c)
        result = compare(base, morse_rows, metric, higher_is_better=higher_is_better, group_by=group_by, baseline_by=())
        lines = result.points.groupby(list(group_by), sort=True) if group_by else [((), result.points)]
        for i, (key, points) in enumerate(lines):
            label = "Morse" + (f" ({spec.line_by} = {key[0] if isinstance(key, tuple) else key})" if group_by else "")
            top.plot(points["latency_lsd"], points[f"morse_{metric}"], label=label, **line_style(i))
            counted = points[points["status"].isin(DEFINED)]
            bottom.plot(counted["latency_lsd"], counted["speedup"], **line_style(i))
            bound = points[points["status"] == UPPER_BOUND]
            bottom.plot(bound["latency_lsd"], bound["speedup"], linestyle="none", marker="v", markersize=9,
                        markerfacecolor="white", color="black", label="upper bound" if len(bound) else None)
            na = points[points["status"] == NOT_REACHED]
            bottom.plot(na["latency_lsd"], np.ones(len(na)), linestyle="none", marker="x", color="black",
                        label="N/A" if len(na) else None)
        bottom.axhline(1.0, color="0.6", linestyle=":", linewidth=1)
        top.set_title(title or spec.title, fontsize=10)
        top.set_ylabel(f"{metric} ({'higher' if higher_is_better else 'lower'} is better)")
        bottom.set_ylabel("speedup (n / l)")
        if spec.log_x:
            _log_lsd_axis(bottom)
        else:
            bottom.set_xlabel("latency (LSD)")
        top.grid(True, color="0.9")
        bottom.grid(True, color="0.9")
        top.legend(fontsize=7)
        marks = dict(zip(*reversed(bottom.get_legend_handles_labels())))  # one entry per label
        if marks:
            bottom.legend(marks.values(), marks.keys(), fontsize=7)
    fig.suptitle(spec.title)
    fig.tight_layout()
    return fig


def _method_curves(ax, frame: pd.DataFrame, metric: str, title: str) -> None:
    for i, ((method, variant), group) in enumerate(frame.groupby(["method", "variant"], sort=True)):
        group = group.groupby("latency_lsd")[metric].mean()
        style = dict(BASELINE_STYLE, linestyle=STYLES[i % len(STYLES)][0]) if method == "baseline" else line_style(i)
        ax.plot(group.index, group.values, label=f"{method}, {variant}" if variant else method, **style)
    _log_lsd_axis(ax)
    ax.set_ylabel(metric)
    ax.set_title(title, fontsize=10)
    ax.grid(True, color="0.9")
    ax.legend(fontsize=7)


def reference_figure(ref: str, metric: str, ours: pd.DataFrame) -> plt.Figure:
    """Our curves (left) beside the paper's reported curves of ``ref`` (right, "paper (reported)")."""
    reported = paper_reference.rows(ref, metric).dropna(subset=["latency_lsd"]).rename(columns={"value": metric})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), sharey=False)
    _method_curves(left, ours.assign(variant=""), metric, "ours (measured)")
    _method_curves(right, reported, metric, f"{paper_reference.LABEL}: {ref}")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def sample_grid_figure(pairs: list[tuple[float, float, np.ndarray, np.ndarray]], per_side: int = 8) -> plt.Figure:
    """Baseline vs Morse samples at (nearly) equal LSD: one row per Morse point, same seeds each side."""
    fig, axes = plt.subplots(len(pairs), 2, figsize=(8.5, 1.6 * len(pairs) + 0.8), squeeze=False)
    for row, (base_lsd, morse_lsd, base, morse) in enumerate(pairs):
        for col, (name, lsd, images) in enumerate((("baseline", base_lsd, base), ("Morse", morse_lsd, morse))):
            strip = np.concatenate(list(images[:per_side]), axis=1)
            axes[row, col].imshow(strip.squeeze(), cmap="gray" if strip.shape[-1] == 1 or strip.ndim == 2 else None)
            axes[row, col].set_title(f"{name}, {lsd:.2f} LSD", fontsize=9)
            axes[row, col].axis("off")
    fig.tight_layout()
    return fig
