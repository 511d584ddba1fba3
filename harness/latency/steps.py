"""The callables timed by ``timing.time_callable``: one Dash step, one Dot step, one whole sampling run.

One step of Dash is ``unet(x, t, **cond)``; one step of Dot is ``dot(x_ts, x_ti, z_ts, t_s, t_i, **cond)``
(Algorithm 2 of the paper: Dot sees the sample, step stamp and noise estimate at the last Dash point).
Inputs are random tensors of the batch size and Dash's sample shape, conditioning is Dash's
placeholder (zero text states, SDXL's added embeddings); latency does not depend on their values.
"""

from __future__ import annotations

from typing import Callable

import torch


def _inputs(dash, batch: int, count: int) -> list[torch.Tensor]:
    like = next(dash.unet.parameters())
    return [torch.randn(batch, *dash.sample_shape, device=like.device, dtype=like.dtype) for _ in range(count)]


def _timesteps(dash, value: int, batch: int) -> torch.Tensor:
    return torch.full((batch,), value, device=next(dash.unet.parameters()).device, dtype=torch.long)


def dash_step(dash, batch: int) -> Callable[[], object]:
    """One noise estimate of Dash at a mid-trajectory step."""
    (x,), t, cond = _inputs(dash, batch, 1), _timesteps(dash, 500, batch), dash.placeholder_conditioning(batch)
    return lambda: dash.unet(x, t, **cond)


def dot_step(dot, dash, batch: int) -> Callable[[], object]:
    """One residual estimate of Dot from the trajectory at the last Dash point t_s to t_i."""
    x_ts, x_ti, z_ts = _inputs(dash, batch, 3)
    t_s, t_i = _timesteps(dash, 600, batch), _timesteps(dash, 500, batch)
    cond = dash.placeholder_conditioning(batch)
    return lambda: dot(x_ts, x_ti, z_ts, t_s, t_i, **cond)


def pipeline_run(dash, batch: int, steps: int) -> tuple[Callable[[], object], str]:
    """``steps`` Dash steps then the VAE decode (when Dash has one), and a note of what it includes."""
    step, (x,) = dash_step(dash, batch), _inputs(dash, batch, 1)

    def run() -> None:
        for _ in range(steps):
            step()
        if dash.vae is not None:
            dash.vae.decode(x / dash.vae.config.scaling_factor)

    return run, f"{steps} Dash steps" + (" + VAE decode" if dash.vae is not None else "")
