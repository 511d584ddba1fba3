"""Dash's conditioning, the diffusers way: conditions (``harness.conditions``) -> the UNet's keyword inputs.

One registry entry per kind of UNet, chosen from its config (``conditioner_for``):

- ``unconditional``: takes no conditions;
- ``class``: a UNet with ``num_class_embeds`` takes ``class_labels``; the harness's convention for
  CFG is ``num_class_embeds = K + 1`` with the null class K (label dropout's replacement in training),
  the last index, CFG's unconditional input (a model without one, such as ADM, is run unguided);
- ``text`` (SD v1.x): tokenizer + text encoder, the last hidden state as ``encoder_hidden_states``;
- ``text-sdxl`` (``addition_embed_type: text_time``): both encoders' penultimate hidden states
  concatenated, the second's pooled projection as ``text_embeds`` and the size ``time_ids``, in
  ``added_cond_kwargs`` (diffusers' StableDiffusionXLPipeline.encode_prompt); its unconditional input
  is zeros in place of the empty prompt's states (the pipeline's ``force_zeros_for_empty_prompt``,
  true for SDXL base and LCM-SDXL).

Prompts are encoded once per batch; the returned dict is reused at every step. Guidance: classifier-free
guidance (Ho & Salimans 2021) against the null input (the empty prompt, SDXL's zeros, the null class), or, for UNets
with ``time_cond_proj_dim`` (LCM), the guidance embedding ``timestep_cond`` of w - 1 in one branch,
as diffusers' LCM pipelines.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from diffusers.models.embeddings import get_timestep_embedding

from harness.conditions import LABELS, NONE, PROMPTS
from harness.errors import HarnessError
from harness.models.denoisers import Guidance
from harness.registry import Registry

SDXL_VAE_SCALE = 8  # pixels per latent cell, for SDXL's size conditioning
GUIDANCE_EMBED_SCALE = 1000.0  # w is embedded as a timestep of w * 1000 (LCM's get_guidance_scale_embedding)

CONDITIONERS: Registry = Registry("conditioner")


def guidance_embedding(w: torch.Tensor, dim: int) -> torch.Tensor:
    """LCM's guidance-scale embedding (sinusoidal, of w * 1000), also Dot's input embedding of w."""
    return get_timestep_embedding(w.float() * GUIDANCE_EMBED_SCALE, dim, flip_sin_to_cos=False, downscale_freq_shift=1)


@dataclass
class TextEncoder:
    """A tokenizer (transformers' interface) and its CLIP text model."""

    tokenizer: object
    model: torch.nn.Module

    def __call__(self, prompts: list[str]):
        ids = self.tokenizer(list(prompts), padding="max_length", max_length=self.tokenizer.model_max_length,
                             truncation=True, return_tensors="pt").input_ids
        with torch.no_grad():
            return self.model(ids.to(self.model.device), output_hidden_states=True)


@dataclass
class Conditioner:
    """``kind`` of condition a Dash takes, ``encode(values) -> kwargs`` and the null (unconditional) kwargs."""

    name: str
    kind: str  # harness.conditions kind: none, labels, prompts
    encode: Callable[[object], dict]
    null: Callable[[int], dict]
    like: torch.Tensor | None = None  # a parameter of the UNet: the device and dtype of its inputs
    embedded_guidance_dim: int | None = None  # LCM: w enters as timestep_cond, no second branch

    def check(self, kind: str, scale: float | None, source: str) -> None:
        """A HarnessError when conditions of ``kind`` (and a guidance scale) do not fit this Dash."""
        if kind != self.kind:
            wanted = {NONE: "no conditions (--conditions none)", LABELS: "class labels (--conditions labels:K)",
                      PROMPTS: "prompts (--conditions prompts:FILE)"}[self.kind]
            raise HarnessError(f"Dash {source} is {self.name} and takes {wanted}, not {kind}")
        if scale is not None and self.kind == NONE:
            raise HarnessError(f"Dash {source} is unconditional: --guidance-scale needs a conditional Dash")

    def guidance(self, values, scale: float | torch.Tensor | None) -> Guidance:
        """The batch's conditioning, encoded once: CFG at ``scale`` against the null input, the embedded
        guidance of LCM, or the conditional input alone (no scale)."""
        if self.kind == NONE:
            return Guidance()
        cond = self.encode(values)
        if self.embedded_guidance_dim is not None:
            w = torch.as_tensor(7.5 if scale is None else scale, dtype=torch.float32).expand(len(values))
            cond["timestep_cond"] = guidance_embedding(w - 1, self.embedded_guidance_dim).to(self.like)
            return Guidance(cond)
        if scale is None:
            return Guidance(cond)
        return Guidance(cond, self.null(len(values)), scale)


def _device_dtype(unet) -> tuple[torch.device, torch.dtype]:
    like = next(unet.parameters())
    return like.device, like.dtype


def _is_class(config) -> bool:
    return bool(config.get("num_class_embeds")) and "cross_attention_dim" not in config


def _is_sdxl(config) -> bool:
    return config.get("addition_embed_type") == "text_time"


def _is_text(config) -> bool:
    return "cross_attention_dim" in config and not _is_sdxl(config)


@CONDITIONERS.register("unconditional")
def _unconditional(dash) -> Conditioner | None:
    config = dash.unet.config
    if config.get("num_class_embeds") or "cross_attention_dim" in config:
        return None
    return Conditioner("unconditional", NONE, encode=lambda values: {}, null=lambda n: {})


@CONDITIONERS.register("class")
def _class(dash) -> Conditioner | None:
    """Class labels 0..num_class_embeds - 1; the last one is the null class under CFG."""
    if not _is_class(dash.unet.config):
        return None
    device, _ = _device_dtype(dash.unet)
    embeddings = dash.unet.config.num_class_embeds
    null_class = embeddings - 1

    def encode(labels) -> dict:
        labels = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=device)
        if labels.min() < 0 or labels.max() >= embeddings:
            raise HarnessError(f"Dash {dash.source} embeds classes 0-{null_class} (with CFG, {null_class} is the null "
                               f"class); got labels {int(labels.min())}-{int(labels.max())}")
        return {"class_labels": labels}

    return Conditioner(f"class-conditional ({embeddings} class embeddings)", LABELS, encode=encode,
                       null=lambda n: {"class_labels": torch.full((n,), null_class, dtype=torch.long, device=device)})


def _text_encoders(dash, count: int) -> list[TextEncoder]:
    if dash.text_missing or len(dash.text_encoders) < count:
        raise HarnessError(f"Dash {dash.source} takes prompts but its text encoder is missing: "
                           f"{dash.text_missing or f'{count} tokenizer/text encoder pairs expected'}")
    return list(dash.text_encoders)


def _cached_null(encode: Callable[[list[str]], dict]) -> Callable[[int], dict]:
    """The empty prompt's encoding, computed once and repeated over a batch."""
    one = functools.lru_cache(maxsize=1)(lambda: encode([""]))

    def null(n: int) -> dict:
        return _repeat(one(), n)

    return null


def _repeat(cond: dict, n: int) -> dict:
    return {k: _repeat(v, n) if isinstance(v, dict) else v.expand(n, *v.shape[1:]) for k, v in cond.items()}


@CONDITIONERS.register("text")
def _text(dash) -> Conditioner | None:
    """SD v1.x: the text encoder's last hidden state as cross-attention input."""
    config = dash.unet.config
    if not _is_text(config):
        return None
    _, dtype = _device_dtype(dash.unet)

    def encode(prompts) -> dict:
        (encoder,) = _text_encoders(dash, 1)
        return {"encoder_hidden_states": encoder(prompts).last_hidden_state.to(dtype)}

    return Conditioner("text-conditioned", PROMPTS, encode=encode, null=_cached_null(encode),
                       like=next(dash.unet.parameters()), embedded_guidance_dim=config.get("time_cond_proj_dim"))


def sdxl_time_ids(sample_shape, n: int, like: torch.Tensor) -> torch.Tensor:
    """SDXL's size conditioning: original size, crop top-left (0, 0), target size, in pixels."""
    _, height, width = sample_shape
    pixels = [height * SDXL_VAE_SCALE, width * SDXL_VAE_SCALE]
    return torch.tensor(pixels + [0, 0] + pixels, device=like.device, dtype=like.dtype).expand(n, -1)


@CONDITIONERS.register("text-sdxl")
def _text_sdxl(dash) -> Conditioner | None:
    """SDXL: two encoders' penultimate states concatenated; pooled text_embeds and time_ids added."""
    config = dash.unet.config
    if not _is_sdxl(config):
        return None
    _, dtype = _device_dtype(dash.unet)

    def encode(prompts) -> dict:
        outputs = [encoder(prompts) for encoder in _text_encoders(dash, 2)]
        states = torch.cat([out.hidden_states[-2] for out in outputs], dim=-1).to(dtype)
        pooled = outputs[-1].text_embeds.to(dtype)
        return {"encoder_hidden_states": states,
                "added_cond_kwargs": {"text_embeds": pooled, "time_ids": sdxl_time_ids(dash.sample_shape, len(prompts), states)}}

    def zeroed(prompts) -> dict:
        out = encode(prompts)
        added = out["added_cond_kwargs"]
        return {"encoder_hidden_states": torch.zeros_like(out["encoder_hidden_states"]),
                "added_cond_kwargs": {"text_embeds": torch.zeros_like(added["text_embeds"]), "time_ids": added["time_ids"]}}

    return Conditioner("text-conditioned (SDXL)", PROMPTS, encode=encode, null=_cached_null(zeroed),
                       like=next(dash.unet.parameters()), embedded_guidance_dim=config.get("time_cond_proj_dim"))


def conditioner_for(dash) -> Conditioner:
    """The registered conditioner that takes this Dash's UNet."""
    for name in CONDITIONERS:
        conditioner = CONDITIONERS.get(name)(dash)
        if conditioner is not None:
            return conditioner
    raise HarnessError(f"Dash {dash.source}: no conditioner takes its UNet ({dash.unet.config.get('_class_name')})")
