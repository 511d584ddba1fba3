"""The full name of a metric as a reader needs it: which metric, over which features.

``describe(metric, rows)`` reads the rows' own provenance columns (``fid_feature_extractor``,
``clip_model``/``clip_pretrained``), so an axis never says just ``fid`` when the FID is a proxy.
"""

from __future__ import annotations

import pandas as pd

METRICS = {"fid": "Fréchet distance (FID)", "clip_score": "CLIP score"}
EXTRACTORS = {
    "inception-v3-compat": "Inception-v3 pool3 features (the paper's FID)",
    "digitsnet": "DigitsNet features (a proxy FID, not comparable with Inception FIDs)",
    "inception-v3-untrained": "untrained Inception-v3 features (throughput only)",
}
SHORT = {"inception-v3-compat": "FID", "digitsnet": "proxy FID (DigitsNet)", "inception-v3-untrained": "FID (untrained net)"}


def _values(rows: pd.DataFrame, column: str) -> list[str]:
    return [str(v) for v in pd.unique(rows[column].dropna())] if column in rows.columns else []


def feature_extractor(metric: str, rows: pd.DataFrame) -> str:
    """The feature network the metric was computed with, in words ("-" when the rows do not say)."""
    if metric == "clip_score":
        models = [f"{m} ({p})" for m, p in zip(_values(rows, "clip_model"), _values(rows, "clip_pretrained"))]
        return ", ".join(models) or "-"
    names = _values(rows, f"{metric.split('_')[0]}_feature_extractor")
    return "; ".join(f"{n}: {EXTRACTORS.get(n, n)}" for n in names) or "-"


def describe(metric: str, rows: pd.DataFrame) -> str:
    """The metric's full name with its features, e.g. ``Fréchet distance (FID) of DigitsNet features ...``."""
    return f"{METRICS.get(metric, metric)} over {feature_extractor(metric, rows)}"


def axis_label(metric: str, rows: pd.DataFrame, higher_is_better: bool) -> str:
    """A short axis label: ``proxy FID (DigitsNet), lower is better``."""
    names = _values(rows, f"{metric.split('_')[0]}_feature_extractor")
    short = SHORT.get(names[0], metric) if len(names) == 1 else METRICS.get(metric, metric)
    return f"{short}, {'higher' if higher_is_better else 'lower'} is better"
