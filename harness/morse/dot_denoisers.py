"""Dot's noise estimators of Eq. 5, the second case (Dash's side: harness/models/denoisers.py): a trained
Dot, and the two references it lies between, the ideal Dot and the zero residual.
"""

from __future__ import annotations

import torch

from harness.models.denoisers import DashDenoiser, Guidance


class DotDenoiser:
    """z_ti = z_ts + eta(x_ts, x_ti, z_ts, t_s, t_i), the second case of Eq. 5."""

    def __init__(self, dot: torch.nn.Module, guidance: Guidance | None = None):
        self.dot = dot
        self.guidance = guidance or Guidance()
        # a Dot trained over guidance scales sees w and predicts the guided estimate in one branch
        self.scale_input = getattr(getattr(dot, "config", None), "guidance_scales", None) is not None
        if self.scale_input and self.guidance.scale is None:
            raise ValueError("this Dot was trained over guidance scales: it needs one (--guidance-scale)")

    def _forward(self, x_ts, x_ti, z_ts, t_s, t_i, **cond):
        return self.dot(x_ts, x_ti, z_ts, t_s, t_i, **cond)

    @torch.no_grad()
    def __call__(self, x_ts, x_ti, z_ts, t_s: int | torch.Tensor, t_i: int | torch.Tensor) -> torch.Tensor:
        t_s, t_i = torch.as_tensor(t_s), torch.as_tensor(t_i)
        if self.scale_input:
            scale = torch.as_tensor(self.guidance.scale, dtype=torch.float32).expand(len(x_ti))
            return z_ts + self.dot(x_ts, x_ti, z_ts, t_s, t_i, guidance_scale=scale, **self.guidance.cond)
        return z_ts + self.guidance(self._forward, x_ts, x_ti, z_ts, t_s, t_i)


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
