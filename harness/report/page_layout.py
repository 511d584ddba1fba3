"""Report pages as flowing blocks: headings, paragraphs and booktabs-style tables on one A4 page.

A :class:`Flow` writes blocks top to bottom on a page-sized figure (``figures.PAGE_SIZE``); tables are
real tables (rules above and below the header and at the bottom, no vertical lines, numbers right-
aligned), not monospace text. ``cell`` is how every number of the report is printed.
"""

from __future__ import annotations

import math
import textwrap

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from harness.report.figures import PAGE_SIZE

LEFT, WIDTH, BOTTOM, HEIGHT = 0.06, 0.88, 0.03, 0.92
LINE = 1.5  # line height in units of the font size


def cell(value) -> str:
    """A number in 4 significant digits, text as is, missing as "-" (never ``None`` or ``nan``)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        return f"{value:.4g}"
    return str(value)


def wrapped(table: pd.DataFrame, column: str, width: int = 100) -> pd.DataFrame:
    """``table`` with long text in ``column`` continued on rows of its own (table cells do not wrap)."""
    rows = []
    for row in table.to_dict("records"):
        for i, part in enumerate(textwrap.wrap(cell(row[column]), width) or [""]):
            rows.append({**({k: "" for k in row} if i else row), column: part})
    return pd.DataFrame(rows, columns=table.columns)


def page(title: str, subtitle: str = "") -> plt.Figure:
    """A new report page with its title."""
    fig = plt.figure(figsize=PAGE_SIZE)
    fig.text(LEFT, 0.975, title, fontsize=14, weight="bold", va="top")
    if subtitle:
        fig.text(LEFT, 0.952, subtitle, fontsize=8, color="0.3", va="top")
    return fig


def stamp(fig: plt.Figure, text: str) -> None:
    """A red line above a page's title, on every page of a report that must not be read as a result."""
    fig.text(0.5, 0.995, text, fontsize=10, weight="bold", color="red", ha="center", va="top")


class Flow:
    """Blocks laid out top-down in the page area from ``top`` (figure fraction) to the bottom margin."""

    def __init__(self, fig: plt.Figure, top: float = 0.935, bottom: float = BOTTOM):
        self.fig = fig
        self.ax = fig.add_axes((LEFT, bottom, WIDTH, top - bottom))
        self.ax.set_axis_off()
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(0, 1)
        self.inches = (top - bottom) * fig.get_figheight()
        self.y = 1.0

    def _height(self, fontsize: float, lines: int) -> float:
        return lines * fontsize * LINE / 72 / self.inches

    def heading(self, text: str, fontsize: float = 11) -> None:
        self.y -= self._height(fontsize, 0.6)
        self.ax.text(0, self.y, text, fontsize=fontsize, weight="bold", va="top")
        self.y -= self._height(fontsize, 1.2)

    def paragraph(self, text: str, fontsize: float = 8, width: int | None = None, **style) -> None:
        width = width or int((860 if style.get("weight") == "bold" else 960) / fontsize)
        lines = [w for line in text.splitlines() for w in (textwrap.wrap(line, width) or [""])]
        self.ax.text(0, self.y, "\n".join(lines), fontsize=fontsize, va="top", linespacing=1.3, **style)
        self.y -= self._height(fontsize, len(lines) * 1.3 / LINE + 0.5)

    def table(self, table: pd.DataFrame, fontsize: float = 7.5, caption: str = "") -> None:
        """``table`` in booktabs style, shrunk (down to 5 pt) to fit what is left of the page."""
        if caption:
            self.paragraph(caption, fontsize=fontsize + 0.5)
        text = [[cell(v) for v in row] for row in table.itertuples(index=False)]
        header = [str(c) for c in table.columns]
        rows = len(text) + 1
        chars = [max(len(s) for s in [h, *(r[i] for r in text)]) + 4 for i, h in enumerate(header)]
        needed = lambda size: sum(chars) * size * 0.6 / 72 / (WIDTH * self.fig.get_figwidth())  # noqa: E731
        while fontsize > 5 and (self._height(fontsize, rows * 1.15) > self.y or needed(fontsize) > 1):
            fontsize -= 0.5
        height = self._height(fontsize, rows * 1.15)
        width = min(1.0, needed(fontsize))
        drawn = self.ax.table(cellText=text or [["" for _ in header]], colLabels=header,
                              colWidths=[width * c / sum(chars) for c in chars],
                              bbox=(0, self.y - height, width, height), cellLoc="right", colLoc="right")
        drawn.auto_set_font_size(False)
        drawn.set_fontsize(fontsize)
        last = len(text)
        for (row, col), c in drawn.get_celld().items():
            c.set_linewidth(0.8)
            c.visible_edges = "TB" if row == 0 else ("B" if row == last else "")
            c.PAD = 0.04
            if row == 0:
                c.get_text().set_weight("bold")
            if not _numeric(table.iloc[:, col]) if len(table) else True:
                c.get_text().set_horizontalalignment("left")
                c._loc = "left"
        self.y -= height + self._height(fontsize, 1.0)

    def skip(self, fraction: float) -> None:
        """Leave ``fraction`` of the page height free (for a figure drawn there)."""
        self.y -= fraction * self.fig.get_figheight() / self.inches

    def remaining(self) -> tuple[float, float, float, float]:
        """The figure-fraction rectangle (left, bottom, right, top) below the blocks written so far."""
        left, bottom, width, height = self.ax.get_position().bounds
        return left, bottom, left + width, bottom + height * self.y


def _numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)
