"""A training run's per-step CSV log (`loss.csv` of train-dash and train-dot), resumable.

A run resumed from its checkpoint's step keeps the rows up to that step and drops the ones a killed run
logged after it, so every step appears once.
"""

from __future__ import annotations

import csv
from pathlib import Path


class StepLog:
    def __init__(self, path: Path, columns: tuple[str, ...], resume_step: int):
        self.path, self.columns = Path(path), tuple(columns)
        rows = []
        if resume_step and self.path.is_file():
            with self.path.open(newline="") as handle:
                rows = [row for row in csv.reader(handle)][1:]
            rows = [row for row in rows if row and int(row[0]) <= resume_step]
        with self.path.open("w", newline="") as handle:
            csv.writer(handle).writerows([list(columns)] + rows)
        self.last = dict(zip(self.columns, rows[-1])) if rows else None  # the last row logged, by column

    def write(self, *values: str) -> None:
        """One step's row, ``values`` in the order of the columns (step first)."""
        self.last = dict(zip(self.columns, values))
        with self.path.open("a", newline="") as handle:
            csv.writer(handle).writerow(values)
