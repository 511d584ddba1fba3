"""The callables timed by ``timing.time_callable``: one Dash step, one Dot step, one whole sampling run.

One step of Dash is ``DashDenoiser`` at one time point, one step of Dot ``DotDenoiser`` (Algorithm 2
of the paper: Dot sees the sample, step stamp and noise estimate at the last Dash point): the very
callables sampling runs. Inputs are random tensors of the batch size and Dash's sample shape,
conditioning is Dash's placeholder (zero text states, SDXL's added embeddings, class 0); latency does
not depend on their values. With a guidance scale w != 1, a step is guided as in sampling: Dash runs
both CFG branches (twice the batch), and so does a Dot that mixes its two residuals; a Dot trained
over guidance scales predicts the guided estimate in one branch, and at w = 1 every model runs the
conditional branch alone (``cfg_branches``). Classifier
guidance (ADM-G) is part of Dash: its classifier's forward and backward are in Dash's step.
"""

from __future__ import annotations

from typing import Callable

import torch

from harness.models.denoisers import Guidance, cfg_branches
from harness.morse.dot_denoisers import DotDenoiser


def _inputs(dash, batch: int, count: int) -> list[torch.Tensor]:
    like = next(dash.unet.parameters())
    return [torch.randn(batch, *dash.sample_shape, device=like.device, dtype=like.dtype) for _ in range(count)]


def _timesteps(dash, value: int, batch: int) -> torch.Tensor:
    return torch.full((batch,), value, device=next(dash.unet.parameters()).device, dtype=torch.long)


def guidance(dash, batch: int, scale: float | None) -> Guidance:
    """The placeholder conditioning, guided at ``scale`` (both CFG branches) or not (None)."""
    cond = dash.placeholder_conditioning(batch)
    if scale is None:
        return Guidance(cond)
    if not cond:
        raise ValueError(f"Dash {dash.source} is unconditional: a guided step needs a conditional Dash")
    return Guidance(cond, cond, scale)


def dash_step(dash, batch: int, scale: float | None = None, classifier_scale: float | None = None) -> Callable[[], object]:
    """One noise estimate of Dash at a mid-trajectory step (guided: both branches; with a classifier scale,
    the classifier's gradient too)."""
    (x,), t = _inputs(dash, batch, 1), _timesteps(dash, 500, batch)
    denoiser = dash.denoiser(guidance(dash, batch, scale), classifier_scale)
    return lambda: denoiser(x, t)


def dot_step(dot, dash, batch: int, scale: float | None = None) -> Callable[[], object]:
    """One residual estimate of Dot from the trajectory at the last Dash point t_s to t_i."""
    x_ts, x_ti, z_ts = _inputs(dash, batch, 3)
    t_s, t_i = _timesteps(dash, 600, batch), _timesteps(dash, 500, batch)
    denoiser = DotDenoiser(dot, guidance(dash, batch, scale))
    return lambda: denoiser(x_ts, x_ti, z_ts, t_s, t_i)


def dot_branches(dot, scale: float | None) -> int:
    """Dot evaluations per image and step: 2 when it mixes CFG residuals, 1 unguided or with w as input."""
    return 1 if dot.config.guidance_scales is not None else cfg_branches(scale)


def pipeline_run(dash, batch: int, steps: int) -> tuple[Callable[[], object], str]:
    """``steps`` Dash steps then the VAE decode (when Dash has one), and a note of what it includes."""
    step, (x,) = dash_step(dash, batch), _inputs(dash, batch, 1)

    def run() -> None:
        for _ in range(steps):
            step()
        if dash.vae is not None:
            dash.vae.decode(x / dash.vae.config.scaling_factor)

    return run, f"{steps} Dash steps" + (" + VAE decode" if dash.vae is not None else "")
