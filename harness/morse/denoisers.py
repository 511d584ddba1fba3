"""The noise estimators of Eq. 5: Dash theta(x_ti, t_i) at the points in S, Dot elsewhere.

Each is a callable over a batch. Conditioning (class labels, text embeddings) is bound at
construction; with a guidance scale, both models run classifier-free guidance (Ho & Salimans
2021): out = out_u + s (out_c - out_u). For Dot the guidance mixes its two residuals, so
z_ti = z_ts + eta_u + s (eta_c - eta_u). Dot training (harness/morse/train.py) is unconditional so
far: training over guidance scales (the paper's SD setting, scales 2-10) is not wired yet, see
docs/morse.md.
"""

from __future__ import annotations

from typing import Callable

import torch


class Guidance:
    """Run ``fn`` once per batch, or on [unconditional; conditional] and mix by the scale."""

    def __init__(self, cond: dict | None = None, uncond: dict | None = None, scale: float | None = None):
        if scale is not None and (cond is None or uncond is None):
            raise ValueError("classifier-free guidance needs both conditional and unconditional inputs")
        self.cond = cond or {}
        self.uncond = uncond
        self.scale = scale

    def __call__(self, fn: Callable[..., torch.Tensor], *batch: torch.Tensor) -> torch.Tensor:
        if self.scale is None:
            return fn(*batch, **self.cond)
        doubled = [torch.cat([b, b]) if isinstance(b, torch.Tensor) and b.dim() > 0 else b for b in batch]
        kwargs = {k: torch.cat([self.uncond[k], self.cond[k]]) for k in self.cond}
        out_u, out_c = fn(*doubled, **kwargs).chunk(2)
        return out_u + self.scale * (out_c - out_u)


class DashDenoiser:
    """theta(x_t, t) of Eq. 2: the pre-trained model's noise estimate at one time point."""

    def __init__(self, unet: torch.nn.Module, guidance: Guidance | None = None):
        self.unet = unet
        self.guidance = guidance or Guidance()
        self.channels = unet.config.in_channels

    def _forward(self, x, t, **cond):
        if not isinstance(t, torch.Tensor):
            t = torch.full((x.shape[0],), int(t), device=x.device, dtype=torch.long)
        return self.unet(x, t, **cond).sample[:, : self.channels]  # learned-variance models: keep eps

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
        """At one time point t, or at one per image (a tensor of timesteps, as Dot training draws them)."""
        return self.guidance(self._forward, x, t)


class DotDenoiser:
    """z_ti = z_ts + eta(x_ts, x_ti, z_ts, t_s, t_i), the second case of Eq. 5."""

    def __init__(self, dot: torch.nn.Module, guidance: Guidance | None = None):
        self.dot = dot
        self.guidance = guidance or Guidance()

    def _forward(self, x_ts, x_ti, z_ts, t_s, t_i, **cond):
        return self.dot(x_ts, x_ti, z_ts, t_s, t_i, **cond)

    @torch.no_grad()
    def __call__(self, x_ts, x_ti, z_ts, t_s: int, t_i: int) -> torch.Tensor:
        return z_ts + self.guidance(self._forward, x_ts, x_ti, z_ts, torch.tensor(t_s), torch.tensor(t_i))


class OracleDot:
    """The ideal Dot: Dash evaluated at the current point. Morse with it is the plain sampler on
    the fine grid, which bounds what any trained Dot can reach (Sec. 2.3)."""

    def __init__(self, dash: DashDenoiser):
        self.dash = dash

    def __call__(self, x_ts, x_ti, z_ts, t_s: int, t_i: int) -> torch.Tensor:
        return self.dash(x_ti, t_i)


class ZeroResidualDot:
    """Dot := reuse z_ts (eta = 0), the no-trajectory-information baseline of Table 4."""

    def __call__(self, x_ts, x_ti, z_ts, t_s: int, t_i: int) -> torch.Tensor:
        return z_ts
