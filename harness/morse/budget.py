"""Sec. 2.3's LSD budget: the Dash and Dot step counts that a budget and an exchanged-steps ratio ask for.

Under a budget of n LSD, Morse runs n - k Dash steps and N k Dot steps (Sec. 2.3). With whole
steps, each d = 1, ..., floor(n) Dash steps leaves room for at most floor(N (n - d)) Dot steps,
so that d + r / N <= n. The fine grid is the time grid's rule asked for F = d + r steps; a rule
that visits another number of points than F (ermongroup/ddim's stride visits 16 for 15, its
quadratic rule merges repeated points) is asked for the largest F whose points still fit, and r
counts the points it visits beyond the d Dash ones.
A schedule's achieved ratio is the share of its latency spent on Dot, (r / N) / (d + r / N): the
paper's k/n when N k is whole, and the ``exchanged_ratio`` of the results (Fig. 13).

The rule: of these (at most floor(n)) schedules, take the one whose achieved ratio is closest to
the requested k/n; on a tie, the one with more Dash steps. The arithmetic is exact, on the
configuration's numbers read as decimals (0.3 is 3/10), so neither float error nor banker's
rounding decides anything. At n = 3 and N = 6 only three schedules exist (achieved 0, 1/3, 2/3):
several requested ratios then resolve to one schedule, which the workflow samples once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable


@dataclass(frozen=True)
class Counts:
    """d Dash and r Dot steps, with their cost d + r / N and the share spent on Dot; ``grid_steps``
    is the step count to ask of the time grid's rule (d + r when the rule visits what it is asked)."""

    dash_steps: int
    dot_steps: int
    lsd: float
    ratio: float
    grid_steps: int = 0


def _decimal(x: float) -> Fraction:
    """A configuration number as the decimal it was written as (0.3 -> 3/10, not 0.29999...)."""
    return Fraction(repr(float(x)))


def counts(dash_steps: int, dot_steps: int, N: float) -> Counts:
    """The cost d + r / N of a schedule in LSD and its achieved ratio (r / N) / (d + r / N)."""
    if N <= 0:
        raise ValueError(f"N (Dash/Dot latency ratio) must be positive, got {N}")
    lsd = dash_steps + dot_steps / N
    return Counts(dash_steps, dot_steps, lsd, (dot_steps / N) / lsd, dash_steps + dot_steps)


def _fitting(dash: int, room: int, visited: Callable[[int], int | None]) -> tuple[int, int] | None:
    """(F, r): the largest grid request F whose points leave at most ``room`` Dot steps beside ``dash``
    Dash steps, and those Dot steps; None if none does. Rules that merge points (visited(F) < F) may
    take F beyond dash + room, so F runs up until the points exceed the room (or F the training steps)."""
    found, grid_steps = None, dash
    while (points := visited(grid_steps)) is not None:
        if dash <= points <= dash + room:
            found = (grid_steps, points - dash)
        elif points > dash + room and grid_steps > dash + room:
            break
        grid_steps += 1
    return found


def resolve(lsd: float, N: float, ratio: float, visited: Callable[[int], int | None] = lambda steps: steps) -> Counts:
    """The schedule that a budget of ``lsd`` LSD with exchanged-steps ratio ``ratio`` resolves to (the
    rule of the module docstring); ``visited(F)`` is how many points the time grid visits for F steps
    (None beyond the training steps)."""
    if lsd < 1:
        raise ValueError(f"an LSD budget of {lsd} is below one Dash step (1 LSD)")
    if not 0 <= ratio < 1:
        raise ValueError(f"the exchanged-steps ratio k/n must lie in [0, 1), got {ratio}")
    if N <= 0:
        raise ValueError(f"N (Dash/Dot latency ratio) must be positive, got {N}")
    n, n_dot, wanted = _decimal(lsd), _decimal(N), _decimal(ratio)
    best = None
    for dash in range(math.floor(n), 0, -1):  # more Dash steps first: a tie keeps the earlier one
        fit = _fitting(dash, math.floor(n_dot * (n - dash)), visited)
        if fit is None:
            continue
        distance = abs(Fraction(fit[1]) / (n_dot * dash + fit[1]) - wanted)
        if best is None or distance < best[0]:
            best = (distance, dash, fit)
    if best is None:
        raise ValueError(f"no schedule fits {lsd} LSD: the time grid visits more points than any step count asks")
    _, dash, (grid_steps, dot) = best
    return Counts(**{**counts(dash, dot, N).__dict__, "grid_steps": grid_steps})


def requested(*, steps: int | None = None, fine_steps: int | None = None, dash_steps: int | None = None,
              lsd: float | None = None, ratio: float | None = None, N: float | None = None) -> tuple:
    """What a point asks for, (LSD, k/n): the one bookkeeping of the workflow's plan and of `harness sample`.
    A baseline of ``steps`` asks for its steps and 0; a budget for ``lsd`` and ``ratio``; ``fine_steps`` with
    ``dash_steps`` for their cost under ``N`` (None, None without N)."""
    if steps is not None:
        return float(steps), 0.0
    if lsd is not None:
        return float(lsd), float(ratio)
    if not N:
        return None, None
    asked = counts(dash_steps, fine_steps - dash_steps, N)
    return asked.lsd, asked.ratio


def achieved(dash_steps: int, dot_steps: int, N: float | None) -> dict:
    """A schedule's cost in LSD (``lsd_cost``) and Dot share under the planning N (None without N)."""
    if dot_steps == 0:
        return {"lsd_cost": float(dash_steps), "achieved_ratio": 0.0}
    if not N:
        return {"lsd_cost": None, "achieved_ratio": None}
    asked = counts(dash_steps, dot_steps, N)
    return {"lsd_cost": asked.lsd, "achieved_ratio": asked.ratio}
