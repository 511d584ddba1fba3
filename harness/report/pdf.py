"""The report PDF, figures and tables of one experiment (`harness report`, harness/stages/report.py).

The PDF (``<out-dir>/speedup_<experiment>.pdf``) has one A4 page per entry of
``harness.report.pages.PAGES`` that has something to say: page 1 the facts a reader came for and
the curves, then per-point speedups, N and the device, the compute the run cost, each Dot's held-out
error, samples at equal LSD, the paper's numbers beside ours, the tables, and provenance. The
figures also go to ``<out-dir>/<experiment>/<name>.pdf|png|svg`` and the tables to
``<out-dir>/<experiment>/<table>.md|tex``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from harness import rehearsal
from harness.analysis import paper_reference
from harness.analysis.compare import compare
from harness.analysis.selection import select
from harness.errors import HarnessError
from harness.latency import results as latency_results
from harness.report import figures, job_costs, pages, tables, tradeoff
from harness.report.options import ReportOptions
from harness.report.page_layout import stamp
from harness.report.text import average_line, format_points
from harness.shards import atomic_write

FIGURE_FORMATS = ("pdf", "png", "svg")


def _latency_rows(latency_dir: tuple[Path, ...], experiment: str) -> pd.DataFrame:
    """This experiment's rows of every latency_<device>.csv in the ``latency_dir`` folders (empty if none)."""
    try:
        table = latency_results.load_all(latency_dir)
    except HarnessError:
        return pd.DataFrame()
    return table[table["experiment"] == experiment]


def _write_table(table: pd.DataFrame, folder: Path, name: str) -> None:
    for fmt in tables.FORMATS:
        (folder / f"{name}.{fmt}").write_text(tables.render(table, fmt) + "\n")


def _paper_tables(options: ReportOptions, rows, baseline, morse) -> dict[str, pd.DataFrame]:
    inputs = tables.TableInputs(rows, baseline, morse, options.metric, options.higher_is_better,
                                tuple(options.table_index), list(options.latency_dir))
    try:
        builders = {name: tables.PAPER_TABLES.get(name) for name in options.table}
    except ValueError as err:
        raise HarnessError(f"--table: {err}") from None
    return {name: build(inputs) for name, build in builders.items()}


def _save(fig: plt.Figure, folder: Path, name: str) -> None:
    for ext in FIGURE_FORMATS:
        fig.savefig(folder / f"{name}.{ext}", dpi=150)
    plt.close(fig)


def is_rehearsal(rows: pd.DataFrame) -> bool:
    """Whether any row comes from a rehearsal (its `rehearsal` provenance column): then every page says so."""
    return "rehearsal" in rows.columns and rows["rehearsal"].astype(str).str.lower().eq("true").any()


def make_report(options: ReportOptions) -> int:
    """The report PDF, figures and tables of ``options.experiment``."""
    options = dataclasses.replace(options, latency_dir=tuple(options.latency_dir) or (Path("results"),))
    if not options.csv.exists():
        raise HarnessError(f"{options.csv} does not exist")
    try:
        spec = figures.FIGURES.get(options.figure)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    rows = pd.read_csv(options.csv)
    if "experiment" in rows.columns:
        rows = rows[rows["experiment"] == options.experiment]
    if rows.empty:
        raise HarnessError(f"no rows of experiment {options.experiment!r} in {options.csv}")
    selected = select(rows, metric=options.metric, higher_is_better=options.higher_is_better, where=options.where,
                      best_over=options.best_over)
    baseline, morse = selected[selected["method"] == "baseline"], selected[selected["method"] == "morse"]
    spec = figures.with_lines(spec, tuple(options.line_by))  # the analysis's curves (analysis.line_by) too
    group_by = tuple(c for c in (spec.panel_by, *spec.line_by) if c)
    result = compare(baseline, morse, options.metric, higher_is_better=options.higher_is_better, group_by=group_by,
                     baseline_by=tuple(c for c in (spec.panel_by,) if c and spec.baseline_by_panel),
                     n_boot=options.bootstrap, confidence=options.confidence)
    ctx = pages.ReportContext(options, rows, selected, spec, result, latency=_latency_rows(options.latency_dir, options.experiment),
                              pairs=pages.sample_pairs(options.shards, options.experiment, rows),
                              tables=_paper_tables(options, rows, baseline, morse), jobs=job_costs.load(options.benchmarks))

    folder = options.out_dir / options.experiment
    folder.mkdir(parents=True, exist_ok=True)
    _save(figures.curve_figure(baseline, morse, options.metric, spec, higher_is_better=options.higher_is_better,
                               y_label=ctx.y_label), folder, "curves")
    if ctx.pairs:
        _save(figures.sample_grid_figure(ctx.pairs), folder, "samples")
    if options.paper_ref and paper_reference.rows(options.paper_ref, options.metric)["latency_lsd"].notna().any():
        _save(figures.reference_figure(options.paper_ref, options.metric, selected, ctx.y_label), folder, "paper")
    if options.tradeoff:
        _save(tradeoff.tradeoff_figure(rows, options.tradeoff, options.metric), folder, "fig8")
    _write_table(format_points(result.points), folder, "speedup")
    _write_table(result.summary, folder, "speedup_summary")
    for name, table in ctx.tables.items():
        _write_table(table, folder, name)

    pdf_path = options.out_dir / f"speedup_{options.experiment}.pdf"
    written = []

    rehearsed = is_rehearsal(rows)

    def write_pages(handle) -> None:
        with PdfPages(handle) as pdf:
            for name, build in pages.PAGES.in_order():
                fig = build(ctx)
                if fig is not None:
                    if rehearsed:
                        stamp(fig, rehearsal.BANNER)
                    pdf.savefig(fig)
                    plt.close(fig)
                    written.append(name)

    atomic_write(pdf_path, write_pages)  # a report that fails half-way leaves no PDF that looks finished
    print(f"{pdf_path} ({len(written)} pages: {', '.join(written)}), figures and tables in {folder}")
    print(average_line(result, options.headline_ratio))
    return 0
