"""The figure, tables and report PDF of one experiment (`harness report`, harness/stages/report.py).

The PDF (``<out-dir>/speedup_<experiment>.pdf``) has one page per entry of ``SECTIONS``: the
latency-metric curves with their speedup panels (Sec. 3.1), the speedup table, N and the device,
each Dot's held-out residual error by gap, sample grids of baseline vs Morse at equal LSD, the paper's reported numbers beside ours, and how
every number was computed. The figure also goes to ``<out-dir>/<experiment>/<figure>.pdf|png`` and
the tables to ``<out-dir>/<experiment>/<table>.md|tex``.
"""

from __future__ import annotations

import argparse
import json
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from harness.analysis import figures, paper_reference, speedup, tables, tradeoff
from harness.analysis.compare import compare
from harness.analysis.speedup_table import average_line, exceptions, format_points, select
from harness.errors import HarnessError
from harness.latency import results as latency_results

SECTIONS = ("curves and speedups", "speedup table", "N and device", "Dot held-out error by gap",
            "samples at equal LSD", "paper (reported) beside ours", "how every number was computed")


def _text_page(title: str, text: str) -> plt.Figure:
    fig = plt.figure(figsize=(8.27, 11.69))
    fig.text(0.06, 0.96, title, fontsize=14, weight="bold", va="top")
    wrapped = "\n".join(textwrap.fill(line, 110, subsequent_indent="    ") if len(line) > 110 else line
                        for line in text.splitlines())
    fig.text(0.06, 0.92, wrapped, fontsize=7, family="monospace", va="top")
    return fig


def _sample_pairs(shards: Path | None, experiment: str, rows: pd.DataFrame) -> list[tuple[float, float, np.ndarray, np.ndarray]]:
    """(baseline LSD, Morse LSD, baseline images, Morse images): each Morse point beside the
    baseline point nearest to it in latency (rows' ``latency_lsd``), first shard of each."""
    if shards is None or "latency_lsd" not in rows or "point" not in rows:
        return []
    first_shard: dict[str, Path] = {}
    for meta_path in sorted(shards.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        if meta.get("experiment") == experiment and meta_path.with_suffix(".npz").exists():
            first_shard.setdefault(meta["point"], meta_path.with_suffix(".npz"))
    have = rows[rows["point"].isin(first_shard)].dropna(subset=["latency_lsd"])
    base, morse = have[have["method"] == "baseline"], have[have["method"] == "morse"]
    pairs = []
    for _, m in morse.sort_values("latency_lsd").head(4).iterrows():
        if base.empty:
            break
        b = base.loc[(base["latency_lsd"] - m["latency_lsd"]).abs().idxmin()]
        pairs.append((float(b["latency_lsd"]), float(m["latency_lsd"]),
                      np.load(first_shard[b["point"]])["images"], np.load(first_shard[m["point"]])["images"]))
    return pairs


def _latency_rows(latency_dir: Path, experiment: str) -> pd.DataFrame:
    """This experiment's rows of every latency_<device>.csv in ``latency_dir`` (empty if none)."""
    try:
        table = latency_results.load_all(latency_dir)
    except HarnessError:
        return pd.DataFrame()
    return table[table["experiment"] == experiment]


def _dot_heldout(dots: Path | None) -> str:
    """Each Dot's held-out residual error, overall and by gap t_s - t_o (``harness train-dot --eval-data``)."""
    found = sorted(dots.glob("*/dot.json")) if dots is not None else []
    parts = []
    for path in found:
        held = json.loads(path.read_text()).get("heldout")
        if held:
            parts += [f"Dot {path.parent.name}: residual MSE {held['dot_mse']:.4g} vs zero residual (reuse z_ts) "
                      f"{held['zero_residual_mse']:.4g} over {held['pairs']} held-out pairs", "",
                      tables.render(pd.DataFrame(held.get("by_gap", [])), "md"), ""]
    return "\n".join(parts) or ("no Dot with a held-out check" + (f" under {dots}" if dots else " (give --dots)"))


def _write_table(table: pd.DataFrame, folder: Path, name: str) -> str:
    for fmt in tables.FORMATS:
        (folder / f"{name}.{fmt}").write_text(tables.render(table, fmt) + "\n")
    return tables.render(table, "md")


def _paper_tables(args, rows, baseline, morse) -> dict[str, pd.DataFrame]:
    inputs = tables.TableInputs(rows, baseline, morse, args.metric, args.higher_is_better,
                                tuple(args.table_index), args.latency_dir)
    try:
        builders = {name: tables.PAPER_TABLES.get(name) for name in args.table}
    except ValueError as err:
        raise HarnessError(f"--table: {err}") from None
    return {name: build(inputs) for name, build in builders.items()}


def _provenance(args, rows: pd.DataFrame, spec: figures.FigureSpec) -> str:
    metric_prefix = args.metric.split("_")[0] + "_"
    described = [c for c in rows.columns if c.startswith(metric_prefix) and c != args.metric]
    described += [c for c in ("num_samples", "seeds", "sampler", "N", "N_device", "fine_steps") if c in rows.columns]
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    lines = ([f"NOTE: {args.note}", ""] if args.note else []) + [
             f"harness report options: {json.dumps(options)}",
             f"results: {args.csv} ({len(rows)} rows of experiment {args.experiment!r})",
             f"metric: {args.metric} ({'higher' if args.higher_is_better else 'lower'} is better)",
             f"row filters: {args.where or 'none'}; best over: {args.best_over or 'none'}",
             f"figure form: {spec.title}; panels by {spec.panel_by}; Morse curves by {spec.line_by}", ""]
    for column in described:
        values = ", ".join(map(str, pd.unique(rows[column].dropna())))
        lines.append(f"{column}: {values or 'n/a'}")
    lines += ["", "latency_lsd = dash_steps + dot_steps / N (N = Dash / Dot seconds per step, `harness latency`).",
              "Speedup (Sec. 3.1), as implemented in harness/analysis/speedup.py:"]
    lines += ["  " + line.strip() for line in speedup.__doc__.strip().splitlines()[2:] if line.strip()]
    return "\n".join(lines)


def make_report(args: argparse.Namespace) -> int:
    """The report PDF, figures and tables of ``args.experiment`` (the options of `harness report`)."""
    if not args.csv.exists():
        raise HarnessError(f"{args.csv} does not exist")
    try:
        spec = figures.FIGURES.get(args.figure)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    rows = pd.read_csv(args.csv)
    if "experiment" in rows.columns:
        rows = rows[rows["experiment"] == args.experiment]
    if rows.empty:
        raise HarnessError(f"no rows of experiment {args.experiment!r} in {args.csv}")
    selected = select(rows, args, args.metric, args.higher_is_better)
    baseline, morse = selected[selected["method"] == "baseline"], selected[selected["method"] == "morse"]
    group_by = tuple(c for c in (spec.panel_by, spec.line_by) if c)
    result = compare(baseline, morse, args.metric, higher_is_better=args.higher_is_better, group_by=group_by,
                     baseline_by=tuple(c for c in (spec.panel_by,) if c),
                     n_boot=args.bootstrap, confidence=args.confidence)
    latency = _latency_rows(args.latency_dir, args.experiment)

    folder = args.out_dir / args.experiment
    folder.mkdir(parents=True, exist_ok=True)
    curves_fig = figures.curve_figure(baseline, morse, args.metric, spec, higher_is_better=args.higher_is_better)
    if args.note:
        curves_fig.subplots_adjust(bottom=0.18)
        width = int(curves_fig.get_figwidth() * 17)  # characters of 6-point text per line
        curves_fig.text(0.01, 0.005, textwrap.fill(f"Note: {args.note}", width), fontsize=6, va="bottom")
    for ext in ("pdf", "png"):
        curves_fig.savefig(folder / f"{args.figure}.{ext}", dpi=150)
    extra_pages = _extra_pages(args, rows, folder)
    speedup_md = _write_table(format_points(result.points), folder, "speedup")
    summary_md = _write_table(result.summary, folder, "speedup_summary")
    written = {name: _write_table(t, folder, name) for name, t in
               _paper_tables(args, rows, baseline, morse).items()}

    pdf_path = args.out_dir / f"speedup_{args.experiment}.pdf"
    pairs = _sample_pairs(args.shards, args.experiment, rows)
    n_text = tables.render(latency.drop(columns=["dot"], errors="ignore").T.reset_index(), "md") if not latency.empty else \
        f"no latency_<device>.csv row for {args.experiment!r} under {args.latency_dir}"
    n_used = rows[["N", "N_device"]].drop_duplicates().to_string(index=False) if {"N", "N_device"} <= set(rows.columns) else "n/a"
    average = average_line(result)
    no_samples = "no baseline and Morse shards" + (f" in {args.shards}" if args.shards else " (give --shards)")
    pages = {  # one builder per entry of SECTIONS, in order
        "curves and speedups": lambda: curves_fig,
        "speedup table": lambda: _text_page("speedup table", "\n".join(
            [speedup_md, "", summary_md, "", *exceptions(result), average]
            + [f"\n{name}\n{text}" for name, text in written.items()])),
        "N and device": lambda: _text_page("N and device", f"N used in latency_lsd (column N, N_device):\n{n_used}\n\n"
                                                           f"measurements (harness latency):\n{n_text}\n\n"
                                                           f"N, {paper_reference.LABEL} (Table 5):\n{_paper_n()}"),
        "Dot held-out error by gap": lambda: _text_page("Dot held-out error by gap t_s - t_o", _dot_heldout(args.dots)),
        "samples at equal LSD": lambda: figures.sample_grid_figure(pairs) if pairs else _text_page(
            "samples at equal LSD", no_samples),
        "paper (reported) beside ours": lambda: _paper_page(args, selected),
        "how every number was computed": lambda: _text_page("how every number was computed",
                                                            _provenance(args, rows, spec)),
    }
    pages.update(extra_pages)
    with PdfPages(pdf_path) as pdf:
        for section in pages:
            fig = pages[section]()
            pdf.savefig(fig)
            plt.close(fig)
    print(f"{pdf_path} ({len(pages)} pages), figures and tables in {folder}")
    print(average)
    return 0


def _extra_pages(args, rows: pd.DataFrame, folder: Path) -> dict:
    """Pages an experiment asks for beyond SECTIONS, after them: Fig. 8's trade-off (--tradeoff), also
    written to ``<folder>/fig8.pdf``."""
    if not args.tradeoff:
        return {}
    fig = tradeoff.tradeoff_figure(rows, args.tradeoff, args.metric)
    fig.savefig(folder / "fig8.pdf")
    return {"trade-off over guidance scales (Fig. 8)": lambda: fig}


def _paper_n() -> str:
    """The paper's Table 5 N per model and GPU, as Markdown."""
    reported = paper_reference.rows("table5", "N").pivot_table(index="variant", columns="device", values="value")
    return tables.render(reported.reset_index(), "md")


def _paper_page(args, ours: pd.DataFrame) -> plt.Figure:
    if not args.paper_ref:
        return _text_page("paper (reported) beside ours", "no --paper-ref given: the paper reports no numbers "
                                                          "transcribed for this experiment")
    reference = paper_reference.rows(args.paper_ref, args.metric)
    if reference["latency_lsd"].notna().any():
        fig = figures.reference_figure(args.paper_ref, args.metric, ours)
    else:
        fig = _text_page("paper (reported) beside ours", "")
    averages = paper_reference.reported_average(args.paper_ref)
    text = "; ".join(f"{v}: {x:.2f}x" for v, x in zip(averages["variant"], averages["value"]))
    fig.text(0.02, 0.005, f"{paper_reference.LABEL} average speedup: {text or 'none quoted'}", fontsize=7)
    return fig
