"""Samplers with jump sampling: each one a registry entry (see ``SAMPLERS``) over an explicit grid."""

from harness.samplers import ddim, diffusers_steps, sde  # noqa: F401  (register the samplers)
from harness.samplers.base import SAMPLERS, Sampler, make_sampler
from harness.samplers.grids import GRIDS, make_grid

__all__ = ["SAMPLERS", "GRIDS", "Sampler", "make_sampler", "make_grid"]
