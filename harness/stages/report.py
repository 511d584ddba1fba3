"""`harness report`: the figures, tables and report PDF of one experiment (reports/speedup_<experiment>.pdf).

One A4 page per registered page (harness/report/pages.py) that has something to say: page 1 the
average speedup with its interval, N and the device, the metric and its feature extractor, the
sample count and the latency-metric curves with their speedup panels (Sec. 3.1); then every
point's speedup, N beside the paper's Table 5, the compute the run cost (--benchmarks), each Dot's
held-out error by gap, samples of baseline and Morse at equal LSD, the paper's numbers beside ours,
the paper-form tables, and how every number was computed. Figures also as PDF, PNG and SVG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.stages.options import add_analysis_arguments

EXAMPLES = """
  python -m harness report results/digits_rows.csv --experiment digits --bootstrap 1000 --shards samples/digits \\
      --dots work/digits/dots --out-dir reports
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", type=Path, metavar="RESULTS.csv", help="rows with latency_lsd (from `harness attach-lsd`)")
    parser.add_argument("--experiment", required=True, help="rows of this experiment (column `experiment`)")
    parser.add_argument("--metric", default="fid", help="metric column of the rows, e.g. fid or clip_score")
    parser.add_argument("--higher-is-better", action="store_true", help="for CLIP score and other scores")
    add_analysis_arguments(parser)
    parser.add_argument("--figure", default="curves", help="figure form registered in harness/report/figures.py, e.g. curves, fig13")
    parser.add_argument("--tradeoff", metavar="METRIC",
                        help="also Fig. 8: --metric against METRIC (clip_score, class_accuracy) over guidance scales")
    parser.add_argument("--table", action="append", default=[], help="paper table to write (repeatable): a name registered in harness/report/tables.py (table1, table3-7)")
    parser.add_argument("--table-index", action="append", default=[], metavar="COL",
                        help="row column(s) of tables 3, 4, 6 besides `method`; the variant column of table 7")
    parser.add_argument("--paper-ref", help="paper numbers to show beside ours, e.g. table1 (see harness/analysis/paper_reference.csv)")
    parser.add_argument("--latency-dir", type=Path, action="append", default=[],
                        help="a folder of latency_<device>.csv files; repeatable, one per timing (default: results)")
    parser.add_argument("--shards", type=Path, help="folder of sample shards for the grids")
    parser.add_argument("--dots", type=Path, help="folder of Dot checkpoints (<name>/dot.json) for the held-out error by gap")
    parser.add_argument("--benchmarks", type=Path,
                        help="folder of Snakemake benchmark files (<rule>/<job>.tsv) for the compute page")
    parser.add_argument("--title", default=None, help="the report's title (default: Morse speedup: EXPERIMENT)")
    parser.add_argument("--out-dir", type=Path, default=Path("reports"), help="the PDF goes here, figures and tables in OUT_DIR/EXPERIMENT/")
    parser.add_argument("--note", default=None,
                        help="what the reader must know first, e.g. that sample counts are scaled down")


def run(args: argparse.Namespace) -> int:
    from harness.report.pdf import make_report
    from harness.report.options import ReportOptions

    return make_report(ReportOptions(**vars(args)))
