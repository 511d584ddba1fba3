"""The sampler interface: the schedule function phi of Eq. 4, x_{t_{i-1}} = phi(x_{t_i}, z_{t_i}, t_i, t_{i-1}).

A sampler owns the loop's state over an explicit time grid but never calls a model: the noise
estimate z of each step is handed in from outside, by Dash, by Dot, or by an oracle. That is
what lets Morse (Eq. 5) feed either model's estimate into any sampler, including multistep
solvers whose history then holds whichever estimate each step used.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Sequence

import torch

from harness.registry import Registry
from harness.samplers.noise import NoiseSchedule

SAMPLERS: Registry = Registry("sampler")


class Sampler(ABC):
    """One sampling run over ``grid`` (descending training steps); ``step(i, ...)`` moves from
    grid[i] to grid[i + 1] (or to the clean sample after the last point)."""

    stochastic = False

    def __init__(self, noise: dict, grid: Sequence[int], **options):
        self.schedule = NoiseSchedule(noise)
        self.grid = [int(t) for t in grid]
        self.options = options
        if not self.grid:
            raise ValueError("empty time grid")
        if any(a <= b for a, b in zip(self.grid, self.grid[1:])):
            raise ValueError(f"time grid must be strictly descending, got {self.grid}")
        if self.grid[-1] < 0 or self.grid[0] >= self.schedule.num_train_timesteps:
            raise ValueError(f"time grid must lie in [0, {self.schedule.num_train_timesteps - 1}]")
        if self.schedule.prediction_type not in self.prediction_types:
            raise ValueError(
                f"{type(self).__name__} supports prediction types {self.prediction_types}, "
                f"not {self.schedule.prediction_type!r}"
            )
        self.reset()

    prediction_types: tuple[str, ...] = ("epsilon",)

    def previous(self, i: int) -> int:
        """The time point after grid[i]: grid[i + 1], or -1 (clean data) after the last one."""
        return self.grid[i + 1] if i + 1 < len(self.grid) else -1

    def reset(self) -> None:
        """Clear any state carried between steps (multistep history) before a new run."""

    @abstractmethod
    def step(self, i: int, x: torch.Tensor, z: torch.Tensor, generators: Sequence[torch.Generator] | None) -> torch.Tensor:
        """Eq. 4: the sample at the next time point from x at grid[i] and its noise estimate z."""


def make_sampler(name: str, noise: dict, grid: Sequence[int], **options) -> Sampler:
    return SAMPLERS.get(name)(noise, grid, **options)
