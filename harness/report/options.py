"""What `harness report` draws for one experiment, by name: the options of harness/stages/report.py
(whose parser owns their defaults), so a notebook can call :func:`harness.report.pdf.make_report`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReportOptions:
    csv: Path  # rows with latency_lsd (`harness attach-lsd`)
    experiment: str
    metric: str
    higher_is_better: bool
    bootstrap: int  # draws over the replicates for the interval (0: none)
    confidence: float
    figure: str  # a form of harness/report/figures.py FIGURES
    out_dir: Path  # the PDF here, figures and tables in out_dir/experiment/
    where: tuple[str, ...] = ()  # COL=VALUE row filters
    best_over: str | None = None
    line_by: tuple[str, ...] = ()  # one Morse curve per value of these columns, beside the figure's own lines
    headline_ratio: float | None = None
    tradeoff: str | None = None
    table: tuple[str, ...] = ()  # paper tables (harness/report/tables.py PAPER_TABLES)
    table_index: tuple[str, ...] = ()
    paper_ref: str | None = None
    latency_dir: tuple[Path, ...] = ()  # folders of latency_<device>.csv (none: results/)
    shards: Path | None = None
    dots: Path | None = None
    benchmarks: Path | None = None
    title: str | None = None
    note: str | None = None
    command_line: tuple[str, ...] = ()  # the stage's own, for the provenance page
