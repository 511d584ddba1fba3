"""`harness speedup`'s work as one call: results rows read and selected, Morse compared with its baseline at equal
metric (Sec. 3.1), the per-point and per-group tables written as CSVs and printed with the averages."""

from __future__ import annotations

from pathlib import Path

from tabulate import tabulate

from harness import provenance
from harness.analysis.compare import Comparison, compare
from harness.analysis.selection import only_experiment, read_rows, select, summary_table
from harness.report.text import average_line, exceptions, format_points, oracle_lines


def speedup_tables(csv: list[Path], *, metric: str, higher_is_better: bool = False, where: tuple[str, ...] = (),
                   best_over: str | None = None, group_by: tuple[str, ...] = (), line_by: tuple[str, ...] = (),
                   bootstrap: int = 0, confidence: float = 0.95, headline_ratio: float | None = None,
                   out: Path | None = None, summary_out: Path | None = None,
                   command_line: list[str] = ()) -> Comparison:
    """The speedups of ``csv`` (BASELINE.csv MORSE.csv, or one CSV split by ``method``): one comparison per
    ``group_by`` value, one Morse curve per ``line_by`` value against the same baseline; ``bootstrap`` draws over
    the seed ranges give the intervals. Writes the points to ``out`` and the summary (``summary_table``) to
    ``summary_out`` when given, both with provenance columns; prints the tables, the points left out of the
    averages, the reference Dots' checks and the averages with the headline at ``headline_ratio`` last."""
    baseline, morse = read_rows(list(csv))
    chosen = dict(metric=metric, higher_is_better=higher_is_better, where=tuple(where), best_over=best_over)
    baseline, morse = select(baseline, **chosen), select(morse, **chosen)
    result = compare(baseline, morse, metric, higher_is_better=higher_is_better, group_by=(*group_by, *line_by),
                     baseline_by=tuple(group_by), n_boot=bootstrap, confidence=confidence)
    print(tabulate(format_points(result.points), headers="keys", tablefmt="github", showindex=False, floatfmt=".4g"))
    print()
    print(tabulate(result.summary, headers="keys", tablefmt="github", showindex=False, floatfmt=".3f"))
    made_by = provenance.columns(list(command_line), only_experiment(baseline, morse))
    if out:
        result.points.assign(**made_by).to_csv(out, index=False)
    if summary_out:
        summary_table(result, headline_ratio, confidence).assign(**made_by).to_csv(summary_out, index=False)
    for line in exceptions(result) + oracle_lines(morse, metric, higher_is_better):
        print(line)
    print(average_line(result, headline_ratio))
    return result
