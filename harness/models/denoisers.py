"""Dash's noise estimator of Eq. 5, theta(x_ti, t_i) at the points in S, and the guidance it runs
(Dot's side: harness/morse/dot_denoisers.py).

Each is a callable over a batch. Conditioning (class labels, text embeddings, built by
harness/models/conditioning.py once per batch) is bound at construction; with a guidance scale,
Dash runs classifier-free guidance (Ho & Salimans 2021): out = out_u + w (out_c - out_u), w one
scale or one per image. A Dot trained over guidance scales (``DotConfig.guidance_scales``) predicts
the guided estimate in one branch, w an input it sees; any other Dot mixes its two residuals,
z_ti = z_ts + eta_u + w (eta_c - eta_u).
"""

from __future__ import annotations

from typing import Callable

import torch


def _stack(uncond, cond):
    """[unconditional; conditional] of one input: a tensor, or a dict of them (SDXL's added_cond_kwargs)."""
    if isinstance(cond, dict):
        return {k: _stack(uncond[k], cond[k]) for k in cond}
    return torch.cat([uncond, cond])


def cfg_branches(scale: float | torch.Tensor | None) -> int:
    """Model evaluations per image and step under CFG at ``scale``: 1 with no scale or w = 1 for every
    image (out_u + 1 (out_c - out_u) = out_c: the unconditional branch is not run, as diffusers guides
    only for w > 1), else 2."""
    return 1 if scale is None or bool((torch.as_tensor(scale) == 1).all()) else 2


class Guidance:
    """Run ``fn`` once per batch, or on [unconditional; conditional] and mix by the scale (CFG):
    both branches in one call of twice the batch, so a guided step costs two model evaluations."""

    def __init__(self, cond: dict | None = None, uncond: dict | None = None,
                 scale: float | torch.Tensor | None = None):
        if scale is not None and (cond is None or uncond is None):
            raise ValueError("classifier-free guidance needs both conditional and unconditional inputs")
        self.cond = cond or {}
        self.uncond = uncond
        self.scale = scale

    @property
    def branches(self) -> int:
        """Model evaluations per image and step (``cfg_branches``)."""
        return cfg_branches(self.scale)

    def __call__(self, fn: Callable[..., torch.Tensor], *batch: torch.Tensor) -> torch.Tensor:
        if self.branches == 1:
            return fn(*batch, **self.cond)
        doubled = [torch.cat([b, b]) if isinstance(b, torch.Tensor) and b.dim() > 0 else b for b in batch]
        out_u, out_c = fn(*doubled, **_stack(self.uncond, self.cond)).chunk(2)
        scale = torch.as_tensor(self.scale, device=out_c.device, dtype=out_c.dtype)
        if scale.dim() == 1:  # one scale per image
            scale = scale.view(-1, *([1] * (out_c.dim() - 1)))
        return out_u + scale * (out_c - out_u)


class ClassifierGuidance:
    """Classifier guidance (Dhariwal & Nichol 2021, Algorithm 2), part of Dash (ADM-G, Fig. 6):
    eps - s sqrt(1 - alpha_bar_t) grad_x log p_phi(y | x_t, t), the classifier's gradient at every Dash call."""

    def __init__(self, classifier: torch.nn.Module, scale: float, alphas_cumprod: torch.Tensor):
        self.classifier = classifier
        self.scale = scale
        self.alphas_cumprod = alphas_cumprod

    def __call__(self, eps: torch.Tensor, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        with torch.enable_grad():
            x_in = x.detach().requires_grad_(True)
            log_probs = torch.log_softmax(self.classifier(x_in, t).float(), dim=-1)
            chosen = log_probs[torch.arange(len(labels), device=x.device), labels].sum()
            grad = torch.autograd.grad(chosen, x_in)[0]
        sigma = (1 - self.alphas_cumprod.to(x.device)[t]).sqrt().to(eps.dtype).view(-1, *([1] * (eps.dim() - 1)))
        return eps - self.scale * sigma * grad.to(eps.dtype)


class DashDenoiser:
    """theta(x_t, t) of Eq. 2: the pre-trained model's noise estimate at one time point (with a
    classifier, the classifier-guided estimate: the classifier is part of Dash)."""

    def __init__(self, unet: torch.nn.Module, guidance: Guidance | None = None,
                 classifier: ClassifierGuidance | None = None):
        self.unet = unet
        self.guidance = guidance or Guidance()
        self.classifier = classifier
        self.channels = unet.config.in_channels
        if classifier is not None and "class_labels" not in self.guidance.cond:
            raise ValueError("classifier guidance needs class labels")

    def _forward(self, x, t, **cond):
        return self.unet(x, t, **cond).sample[:, : self.channels]  # learned-variance models: keep eps

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, t: int | torch.Tensor) -> torch.Tensor:
        """At one time point t, or at one per image (a tensor of timesteps, as Dot training draws them)."""
        if not isinstance(t, torch.Tensor) or t.dim() == 0:
            t = torch.full((x.shape[0],), int(t), device=x.device, dtype=torch.long)
        eps = self.guidance(self._forward, x, t)
        if self.classifier is not None:
            eps = self.classifier(eps, x, t, self.guidance.cond["class_labels"])
        return eps
