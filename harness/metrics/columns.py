"""The metric columns of results rows, by the config key (``metrics.<key>``) of the stage that
writes them, and which way each is better: what ``analysis.metric`` and ``analysis.tradeoff`` may
name (config/schema.json; a test keeps its enums equal to this table)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.registry import Registry


@dataclass(frozen=True)
class MetricColumn:
    column: str  # the results column
    higher_is_better: bool


METRIC_COLUMNS: Registry[MetricColumn] = Registry("metric")
for _key, _column in {
    "fid": MetricColumn("fid", higher_is_better=False),
    "clip": MetricColumn("clip_score", higher_is_better=True),  # Table 3, Fig. 8
    "class_accuracy": MetricColumn("class_accuracy", higher_is_better=True),  # digits_cond's CLIP-score role
}.items():
    METRIC_COLUMNS.register(_key)(_column)


def column_names() -> set[str]:
    return {METRIC_COLUMNS.get(key).column for key in METRIC_COLUMNS}
