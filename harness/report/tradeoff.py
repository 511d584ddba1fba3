"""Fig. 8's scheme: one metric against another across guidance scales, one curve per latency.

Guidance trades fidelity to the condition (CLIP score; class accuracy for digits) against
distribution quality (FID). The paper draws, at each latency, FID against CLIP score over the
guidance scales for Morse and for the baseline; Morse's curve lies below (better FID at equal
score). The metric rows of a point are separate rows (one per metric stage), so ``metric_pairs``
first joins them into one row per point and seed range.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from harness.analysis import curves  # noqa: E402
from harness.report.figures import BASELINE_STYLE, PANELS_PER_ROW, figure_area, line_style  # noqa: E402

KEYS = ("experiment", "method", "point", "seeds", "guidance_scale", "latency_lsd")  # one evaluated point and repeat
LSD_COLUMN = "requested_lsd"  # a curve's latency: what the point asked for (a baseline: its steps)


def metric_pairs(rows: pd.DataFrame, x_metric: str, y_metric: str) -> pd.DataFrame:
    """One row per point and seed range with both metrics (rows holding either are joined on KEYS),
    plus ``curve_lsd``: the requested LSD, else the measured ``latency_lsd``."""
    curves.require(rows, [x_metric, y_metric, "method", "guidance_scale", "latency_lsd"], "results")
    keys = [k for k in KEYS if k in rows.columns]
    extra = [LSD_COLUMN] if LSD_COLUMN in rows.columns else []
    x = rows.dropna(subset=[x_metric])[keys + extra + [x_metric]]
    y = rows.dropna(subset=[y_metric])[keys + [y_metric]]
    pairs = x.merge(y, on=keys, how="inner")
    requested = pd.to_numeric(pairs[LSD_COLUMN], errors="coerce") if extra else pd.Series(np.nan, index=pairs.index)
    return pairs.assign(curve_lsd=requested.fillna(pairs["latency_lsd"]))


def tradeoff_curves(rows: pd.DataFrame, x_metric: str, y_metric: str) -> pd.DataFrame:
    """Per (curve LSD, method, guidance scale): the mean of each metric over seed ranges, scales in order."""
    pairs = metric_pairs(rows, x_metric, y_metric)
    means = pairs.groupby(["curve_lsd", "method", "guidance_scale"], sort=True)[[x_metric, y_metric, "latency_lsd"]].mean()
    return means.reset_index()


def tradeoff_figure(rows: pd.DataFrame, x_metric: str = "clip_score", y_metric: str = "fid", fig=None,
                    rect=None) -> plt.Figure:
    """Fig. 8: ``y_metric`` against ``x_metric`` over guidance scales; a panel per LSD with the
    baseline and Morse curves, each point labelled with its scale, in ``rect`` of ``fig`` (a new
    page-wide figure when None)."""
    table = tradeoff_curves(rows, x_metric, y_metric)
    lsds = sorted(table["curve_lsd"].unique())
    rows_, cols = -(-max(len(lsds), 1) // PANELS_PER_ROW), min(max(len(lsds), 1), PANELS_PER_ROW)
    fig, area = figure_area(fig, rect, 3.2 * rows_ + 0.8)
    grid = fig.add_gridspec(rows_, cols, hspace=0.45, wspace=0.35, **area)
    for k, lsd in enumerate(lsds):
        ax = fig.add_subplot(grid[divmod(k, cols)])
        for i, (method, group) in enumerate(table[table["curve_lsd"] == lsd].groupby("method", sort=True)):
            style = BASELINE_STYLE if method == "baseline" else line_style(i)
            measured = ", ".join(f"{v:.3g}" for v in sorted(group["latency_lsd"].unique()))
            ax.plot(group[x_metric], group[y_metric], label=f"{method} ({measured} LSD)", **style)
            for _, point in group.iterrows():
                ax.annotate(f"{point['guidance_scale']:g}", (point[x_metric], point[y_metric]), fontsize=6,
                            textcoords="offset points", xytext=(3, 3))
        ax.set_title(f"{lsd:g} LSD", fontsize=9)
        ax.set_xlabel(x_metric, fontsize=8)
        ax.set_ylabel(y_metric, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.grid(True, color="0.9")
        ax.legend(fontsize=6)
    return fig
