"""Time grids for jump sampling: explicit, strictly descending integer time points t_n > ... > t_1.

Every grid starts at the noisiest training step T - 1 ("trailing" spacing) and its last step
leads to the clean sample (previous time point -1, where alpha_bar = 1). Grids are stored as
explicit lists in every shard, so a result never depends on a scheduler's spacing rule.
"""

from __future__ import annotations

import numpy as np

from harness.registry import Registry

GRIDS: Registry = Registry("time grid")


def _from_fractions(fractions: np.ndarray, num_train_timesteps: int) -> list[int]:
    """Map increasing fractions in (0, 1] to distinct integer steps in [0, T - 1], descending."""
    points = np.maximum(np.round(fractions * num_train_timesteps).astype(np.int64) - 1, 0)
    for i in range(1, len(points)):  # keep points distinct where rounding collides
        points[i] = max(points[i], points[i - 1] + 1)
    if points[-1] > num_train_timesteps - 1:
        raise ValueError(f"cannot place {len(points)} distinct steps in {num_train_timesteps} training steps")
    return [int(t) for t in points[::-1]]


@GRIDS.register("uniform")
def uniform(num_steps: int, num_train_timesteps: int = 1000) -> list[int]:
    """Evenly spaced steps: T/n - 1, 2T/n - 1, ..., T - 1 (Song et al. 2021a, uniform skip)."""
    return _from_fractions(np.arange(1, num_steps + 1) / num_steps, num_train_timesteps)


@GRIDS.register("quadratic")
def quadratic(num_steps: int, num_train_timesteps: int = 1000) -> list[int]:
    """Steps dense near the data end: t_i ~ T (i/n)^2 (Song et al. 2021a, quadratic skip for CIFAR-10)."""
    return _from_fractions((np.arange(1, num_steps + 1) / num_steps) ** 2, num_train_timesteps)


def make_grid(name: str, num_steps: int, num_train_timesteps: int = 1000) -> list[int]:
    if num_steps < 1:
        raise ValueError(f"a time grid needs at least one step, got {num_steps}")
    if num_steps > num_train_timesteps:
        raise ValueError(f"{num_steps} steps do not fit in {num_train_timesteps} training steps")
    return GRIDS.get(name)(num_steps, num_train_timesteps)
