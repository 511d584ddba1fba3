"""Speedup of Morse over its baseline at equal metric value (paper, Section 3.1).

Latencies are in LSD (latency per step of Dash): a run with d Dash and r Dot steps costs
d + r / N LSD. The baseline's latency-metric curve is the piecewise-linear interpolation of its
evaluated points. For a Morse point at latency l with metric value v, n is the latency at which the
baseline curve reaches v, and the speedup at l is n / l.

Conventions (documented in docs/analysis.md, checked by tests/test_speedup.py):

* n is the *earliest* latency at which the baseline curve reaches v (first crossing). A baseline
  that gets worse again later (Stable Diffusion at guidance 7.5, Table 1) keeps that first crossing.
* No extrapolation. If the baseline never reaches v within its evaluated range the speedup is N/A
  (``not reached``) and the point is left out of the averages: the paper's rule (Sec. 4.1,
  DPM-Solver at 100 LSD, where the baseline's FID stays flat). This reading reproduces the paper's
  2.29x for Table 1 (best guidance scale): the 50-LSD Morse FID 8.15 is below the baseline's best
  8.22, so that point is N/A.
* Unbracketed below. If the baseline is already strictly better than v at its lowest evaluated
  latency l_min, n lies somewhere below l_min, so the speedup is *at most* l_min / l
  (``upper bound``, printed ``<= 1.62x``). Such a point is listed by name and, like an N/A point,
  left out of the averages: a bound is not a measurement, and it lies above 1x whenever the
  measured N exceeds the planned one. The plan prevents it by giving every baseline a step count
  at or below its Morse points' Dash steps (harness/experiments/model.py); a slowdown between two
  baseline points is an ordinary speedup below 1x and counts.
* Duplicate latencies (repeated seed ranges) are averaged before interpolation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

OK = "ok"
NOT_REACHED = "not reached"  # N/A: left out of the averages
UPPER_BOUND = "upper bound"  # speedup <= l_min / l: shown as that bound, left out of the averages
DEFINED = (OK, UPPER_BOUND)  # a speedup value (for a bound, the bound) is shown
COUNTED = (OK,)  # what the averages count


@dataclass(frozen=True)
class Curve:
    """A latency-metric curve: strictly increasing latencies (LSD) and their metric values."""

    latency: np.ndarray
    value: np.ndarray


@dataclass(frozen=True)
class SpeedupPoint:
    """One Morse point: its latency l, metric value, the baseline's latency n (for an upper bound:
    l_min, the most n can be), n / l (nan when N/A), and status."""

    latency: float
    value: float
    baseline_latency: float
    speedup: float
    status: str


def make_curve(latency, value) -> Curve:
    """Sort by latency and average values that share a latency (repeated seed ranges)."""
    lat = np.asarray(latency, dtype=float)
    val = np.asarray(value, dtype=float)
    if lat.shape != val.shape or lat.ndim != 1 or lat.size == 0:
        raise ValueError("a curve needs one metric value per latency, at least one point")
    if not (np.all(np.isfinite(lat)) and np.all(np.isfinite(val))):
        raise ValueError("a curve's latencies and metric values must be finite")
    if np.any(lat <= 0):
        raise ValueError("latencies must be positive (LSD)")
    unique, inverse = np.unique(lat, return_inverse=True)
    means = np.bincount(inverse, weights=val) / np.bincount(inverse)
    return Curve(latency=unique, value=means)


def baseline_latency_at(curve: Curve, target: float, higher_is_better: bool) -> tuple[float, str]:
    """The earliest latency at which the interpolated baseline curve reaches ``target``; for a
    target the baseline already beats at its lowest latency, that latency as an upper bound."""
    sign = -1.0 if higher_is_better else 1.0  # work in lower-is-better terms
    y, goal, lat = sign * curve.value, sign * target, curve.latency
    if y[0] <= goal:
        return float(lat[0]), OK if y[0] == goal else UPPER_BOUND
    for i in range(1, lat.size):
        if y[i] <= goal:
            fraction = (y[i - 1] - goal) / (y[i - 1] - y[i])
            return float(lat[i - 1] + fraction * (lat[i] - lat[i - 1])), OK
    return float("nan"), NOT_REACHED


def speedups(baseline: Curve, morse: Curve, higher_is_better: bool) -> list[SpeedupPoint]:
    """n / l at every Morse point (Sec. 3.1): N/A (nan) where the baseline never reaches it, the
    bound l_min / l where the baseline beats it at its lowest latency."""
    points = []
    for l, v in zip(morse.latency.tolist(), morse.value.tolist()):
        n, status = baseline_latency_at(baseline, v, higher_is_better)
        points.append(SpeedupPoint(l, v, n, n / l if status in DEFINED else float("nan"), status))
    return points


def average_speedup(points: list[SpeedupPoint]) -> float:
    """Mean speedup over the evaluated latencies, upper bounds and N/A points left out (nan if none
    is counted)."""
    values = [p.speedup for p in points if p.status in COUNTED]
    return float(np.mean(values)) if values else float("nan")


def explain(point: SpeedupPoint, baseline: Curve, higher_is_better: bool) -> str:
    """Why a point's speedup is what it is, in words (empty for an ordinary crossing)."""
    if point.status == UPPER_BOUND:
        return (f"the baseline already reaches {baseline.value[0]:.4g} at its lowest evaluated latency "
                f"{baseline.latency[0]:g} LSD: speedup at most {baseline.latency[0]:g} / {point.latency:.4g}")
    if point.status == NOT_REACHED:
        best = int(np.argmax(baseline.value) if higher_is_better else np.argmin(baseline.value))
        return (f"the baseline never reaches {point.value:.4g} in {baseline.latency[0]:g}-{baseline.latency[-1]:g} "
                f"LSD (its best: {baseline.value[best]:.4g} at {baseline.latency[best]:g} LSD)")
    return ""


def curve_average(points: list[SpeedupPoint]) -> float:
    """Mean of the piecewise-linear latency-speedup curve over its latency range.

    The paper "fit[s] a curve between a set of latencies and speedups to approximate speedups
    across all the latencies" (Sec. 3.1); this is that curve's average, i.e. its integral over
    [first, last] counted latency divided by the range (linear in LSD, N/A points and upper bounds
    skipped).
    """
    ok = [p for p in points if p.status in COUNTED]
    if not ok:
        return float("nan")
    if len(ok) == 1:
        return ok[0].speedup
    lat = np.array([p.latency for p in ok])
    spd = np.array([p.speedup for p in ok])
    area = np.sum((spd[1:] + spd[:-1]) / 2 * np.diff(lat))
    return float(area / (lat[-1] - lat[0]))


Replicates = dict  # latency -> the metric values of its seed-range replicates


def bootstrap_speedups(groups: list[tuple[Replicates, Replicates]], higher_is_better: bool, *, n_boot: int = 2000,
                       seed: int = 0) -> list[np.ndarray]:
    """Bootstrap draws of every Morse point's speedup, for groups of (baseline, Morse) replicates.

    A draw resamples the replicates of every latency independently (with replacement) and averages
    them; a baseline shared by several groups (the same dict) is drawn once per draw, so pooled
    averages keep its common noise. Returns, per group, an array (n_boot, points of its Morse curve in
    latency order) of speedups, nan where N/A or an upper bound (what the averages leave out).
    """
    rng = np.random.default_rng(seed)

    def draw(reps: Replicates) -> Curve:
        lat = list(reps)
        return make_curve(lat, [np.mean(rng.choice(np.asarray(reps[k], dtype=float), size=len(reps[k]))) for k in lat])

    out = [np.empty((n_boot, len(morse))) for _, morse in groups]
    for b in range(n_boot):
        baselines: dict[int, Curve] = {}
        for g, (base, morse) in enumerate(groups):
            curve = baselines.setdefault(id(base), draw(base))
            out[g][b] = [p.speedup if p.status in COUNTED else np.nan
                         for p in speedups(curve, draw(morse), higher_is_better)]
    return out


def percentile_interval(values: np.ndarray, confidence: float = 0.95) -> tuple[float, float]:
    """The percentile interval of the finite values (nan, nan when there are none)."""
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    tail = (1 - confidence) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def draw_averages(draws: list[np.ndarray]) -> np.ndarray:
    """Per bootstrap draw, the mean of every defined speedup of the given groups pooled (nan if none)."""
    pooled = np.concatenate(draws, axis=1)
    defined = np.isfinite(pooled)
    counts = defined.sum(axis=1)
    sums = np.where(defined, pooled, 0.0).sum(axis=1)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def has_replicates(groups: list[tuple[Replicates, Replicates]]) -> bool:
    """Whether some latency has two replicates (else there is nothing to resample)."""
    return any(len(v) >= 2 for base, morse in groups for v in (*base.values(), *morse.values()))


def bootstrap_average(
    baseline_reps: Replicates,
    morse_reps: Replicates,
    higher_is_better: bool,
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of the average speedup from repeated seed ranges (one group of
    ``bootstrap_speedups``); (nan, nan) when no latency has two replicates."""
    groups = [(baseline_reps, morse_reps)]
    if not has_replicates(groups):
        return float("nan"), float("nan")
    return percentile_interval(draw_averages(bootstrap_speedups(groups, higher_is_better, n_boot=n_boot, seed=seed)),
                               confidence)
