"""The report PDF, figures and tables of one experiment (`harness report`, harness/stages/report.py).

The PDF (``<out-dir>/speedup_<experiment>.pdf``) has one A4 page per entry of
``harness.analysis.pages.PAGES`` that has something to say: page 1 the facts a reader came for and
the curves, then per-point speedups, N and the device, the compute the run cost, each Dot's held-out
error, samples at equal LSD, the paper's numbers beside ours, the tables, and provenance. The
figures also go to ``<out-dir>/<experiment>/<name>.pdf|png|svg`` and the tables to
``<out-dir>/<experiment>/<table>.md|tex``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from harness import rehearsal
from harness.analysis import compute, figures, pages, paper_reference, tables, tradeoff
from harness.analysis.compare import compare
from harness.analysis.layout import stamp
from harness.analysis.speedup_table import average_line, format_points, select
from harness.errors import HarnessError
from harness.latency import results as latency_results
from harness.shards import atomic_write

FIGURE_FORMATS = ("pdf", "png", "svg")


def _latency_rows(latency_dir: list[Path], experiment: str) -> pd.DataFrame:
    """This experiment's rows of every latency_<device>.csv in the ``latency_dir`` folders (empty if none)."""
    try:
        table = latency_results.load_all(latency_dir)
    except HarnessError:
        return pd.DataFrame()
    return table[table["experiment"] == experiment]


def _write_table(table: pd.DataFrame, folder: Path, name: str) -> None:
    for fmt in tables.FORMATS:
        (folder / f"{name}.{fmt}").write_text(tables.render(table, fmt) + "\n")


def _paper_tables(args, rows, baseline, morse) -> dict[str, pd.DataFrame]:
    inputs = tables.TableInputs(rows, baseline, morse, args.metric, args.higher_is_better,
                                tuple(args.table_index), args.latency_dir)
    try:
        builders = {name: tables.PAPER_TABLES.get(name) for name in args.table}
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


def make_report(args: argparse.Namespace) -> int:
    """The report PDF, figures and tables of ``args.experiment`` (the options of `harness report`)."""
    if not args.csv.exists():
        raise HarnessError(f"{args.csv} does not exist")
    try:
        spec = figures.FIGURES.get(args.figure)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    args.latency_dir = args.latency_dir or [Path("results")]
    rows = pd.read_csv(args.csv)
    if "experiment" in rows.columns:
        rows = rows[rows["experiment"] == args.experiment]
    if rows.empty:
        raise HarnessError(f"no rows of experiment {args.experiment!r} in {args.csv}")
    selected = select(rows, args, args.metric, args.higher_is_better)
    baseline, morse = selected[selected["method"] == "baseline"], selected[selected["method"] == "morse"]
    group_by = tuple(c for c in (spec.panel_by, spec.line_by) if c)
    result = compare(baseline, morse, args.metric, higher_is_better=args.higher_is_better, group_by=group_by,
                     baseline_by=tuple(c for c in (spec.panel_by,) if c and spec.baseline_by_panel),
                     n_boot=args.bootstrap, confidence=args.confidence)
    ctx = pages.ReportContext(args, rows, selected, spec, result, latency=_latency_rows(args.latency_dir, args.experiment),
                              pairs=pages.sample_pairs(args.shards, args.experiment, rows),
                              tables=_paper_tables(args, rows, baseline, morse), jobs=compute.load(args.benchmarks))

    folder = args.out_dir / args.experiment
    folder.mkdir(parents=True, exist_ok=True)
    _save(figures.curve_figure(baseline, morse, args.metric, spec, higher_is_better=args.higher_is_better,
                               y_label=ctx.y_label), folder, "curves")
    if ctx.pairs:
        _save(figures.sample_grid_figure(ctx.pairs), folder, "samples")
    if args.paper_ref and paper_reference.rows(args.paper_ref, args.metric)["latency_lsd"].notna().any():
        _save(figures.reference_figure(args.paper_ref, args.metric, selected, ctx.y_label), folder, "paper")
    if args.tradeoff:
        _save(tradeoff.tradeoff_figure(rows, args.tradeoff, args.metric), folder, "fig8")
    _write_table(format_points(result.points), folder, "speedup")
    _write_table(result.summary, folder, "speedup_summary")
    for name, table in ctx.tables.items():
        _write_table(table, folder, name)

    pdf_path = args.out_dir / f"speedup_{args.experiment}.pdf"
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
    print(average_line(result, args.headline_ratio))
    return 0
