"""Morse sampling (Algorithm 2 with Eq. 5, and the trajectory variant of Eq. 7).

The loop visits every point of the fine grid. At points in S, Dash estimates z_ti and its
observation (x_ts, z_ts, t_s) is kept; elsewhere Dot lifts the kept estimate to z_ti. With
``source="last"`` (Eq. 7, Fig. 12) the observation is the last step of either model instead.
The sampler's update phi (Eq. 4) then consumes z_ti, whichever model produced it.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from harness.morse.dot_config import TRAJECTORY_SOURCES
from harness.morse.schedule import MorseSchedule
from harness.samplers.base import Sampler



@torch.no_grad()
def morse_sample(
    x_T: torch.Tensor,
    schedule: MorseSchedule,
    sampler: Sampler,
    dash: Callable[[torch.Tensor, int], torch.Tensor],
    dot: Callable[..., torch.Tensor] | None,
    generators: Sequence[torch.Generator] | None = None,
    source: str = "dash",
) -> torch.Tensor:
    """Run Algorithm 2 from x_T; returns the final sample (the clean image or latent)."""
    if source not in TRAJECTORY_SOURCES:
        raise ValueError(f"unknown trajectory source {source!r}; known: {TRAJECTORY_SOURCES}")
    if list(schedule.grid) != sampler.grid:
        raise ValueError("the sampler must run over the schedule's fine grid")
    if dot is None and schedule.dot_steps:
        raise ValueError("this schedule has Dot steps but no Dot model was given")
    sampler.reset()
    x = x_T
    x_s = z_s = t_s = None
    for i, (t, use_dash) in enumerate(zip(schedule.grid, schedule.is_dash)):
        if use_dash:
            z = dash(x, t)
        else:
            z = dot(x_s, x, z_s, t_s, t)
        if use_dash or source == "last":
            x_s, z_s, t_s = x, z, t
        x = sampler.step(i, x, z, generators)
    return x
