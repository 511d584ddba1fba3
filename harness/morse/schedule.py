"""Which steps of a fine time grid run Dash (the set S of Eq. 5) and which run Dot, and what it costs.

Sec. 2.3: under a budget of n LSD, Morse runs n - k Dash steps and about N k Dot steps
(k/n = the exchanged-steps ratio of Fig. 13), costing d + r/N LSD for d Dash and r Dot steps;
``harness.morse.budget`` says which counts a budget resolves to. Algorithm 2, line 2: the Dash
steps are spread uniformly over the fine grid, the first step always Dash (Dot needs Dash's
observations).
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.morse import budget
from harness.samplers.grids import grid_counter, make_grid


@dataclass(frozen=True)
class MorseSchedule:
    grid: tuple[int, ...]  # the fine grid t_n > ... > t_1, every point visited by Dash or Dot
    is_dash: tuple[bool, ...]  # True where t_i is in S

    def __post_init__(self):
        if len(self.grid) != len(self.is_dash):
            raise ValueError("one Dash/Dot flag per grid point")
        if not self.is_dash or not self.is_dash[0]:
            raise ValueError("the first step must run Dash: Dot needs Dash's observations (Eq. 5)")

    @property
    def dash_steps(self) -> int:
        return sum(self.is_dash)

    @property
    def dot_steps(self) -> int:
        return len(self.grid) - self.dash_steps

    def lsd(self, N: float) -> float:
        """Latency in LSD: d Dash steps and r Dot steps cost d + r / N."""
        return lsd_cost(self.dash_steps, self.dot_steps, N)

    def dot_pairs(self, source: str = "dash") -> list[tuple[int, int]]:
        """The (t_s, t_i) of every Dot step: t_s is the point whose observation Dot reads, Dash's last
        (Eq. 5) or, with ``source="last"``, the previous point of either model (Eq. 7)."""
        pairs, t_s = [], None
        for t, use_dash in zip(self.grid, self.is_dash):
            if not use_dash:
                pairs.append((t_s, t))
            if use_dash or source == "last":
                t_s = t
        return pairs

    def to_meta(self) -> dict:
        return {"grid": list(self.grid), "is_dash": list(self.is_dash),
                "fine_steps": len(self.grid), "dash_steps": self.dash_steps, "dot_steps": self.dot_steps}


def lsd_cost(dash_steps: int, dot_steps: int, N: float) -> float:
    return budget.counts(dash_steps, dot_steps, N).lsd


def spread_dash(fine_steps: int, dash_steps: int) -> tuple[bool, ...]:
    """Algorithm 2, line 2: d Dash points uniformly among the fine steps, starting with the first."""
    if not 1 <= dash_steps <= fine_steps:
        raise ValueError(f"need 1 <= Dash steps <= fine steps, got {dash_steps} of {fine_steps}")
    positions = {(j * fine_steps) // dash_steps for j in range(dash_steps)}
    return tuple(i in positions for i in range(fine_steps))


def plan_from_counts(grid_name: str, fine_steps: int, dash_steps: int, noise: dict) -> MorseSchedule:
    """The fine grid of rule ``grid_name`` for ``fine_steps`` steps on the Dash's noise schedule, with
    ``dash_steps`` of its points run by Dash (spread over the points the grid really has)."""
    grid = make_grid(grid_name, fine_steps, noise)
    return MorseSchedule(tuple(grid), spread_dash(len(grid), dash_steps))


def plan_from_budget(grid_name: str, lsd: float, N: float, ratio: float, noise: dict) -> tuple[MorseSchedule, budget.Counts]:
    """Sec. 2.3: a budget of n = ``lsd`` LSD with exchanged-steps ratio k/n = ``ratio``, resolved to
    whole Dash and Dot steps by ``budget.resolve`` on the points this grid visits (the closest
    achievable ratio within the budget); the schedule and the resolved counts."""
    counts = budget.resolve(lsd, N, ratio, grid_counter(grid_name, noise))
    return plan_from_counts(grid_name, counts.grid_steps, counts.dash_steps, noise), counts


def plain(grid: list[int]) -> MorseSchedule:
    """The baseline: every step of the grid runs Dash (S = all points)."""
    return MorseSchedule(tuple(grid), (True,) * len(grid))
