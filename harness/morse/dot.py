"""The Dot model eta(x_ts, x_ti, z_ts, t_s, t_i) of Eq. 5, with weight sharing (Sec. 2.2, Fig. 3).

Dot = m light trainable down-sampling blocks (ResNet blocks, no self-attention)
      -> Dash's frozen pre-trained network at 1/4^m of the pixels, LoRA on its layers,
         its mismatched input/output convolutions replaced by trainable ones,
         t_s added to its time embedding through a trainable (zero-initialised) embedding
      -> m up-sampling blocks with skips -> a zero-initialised head, so an untrained Dot
         predicts eta = 0, i.e. z_ti = z_ts ("reuse z_ts", the zero residual).

The pre-trained blocks are the very modules of the Dash UNet (one copy in memory). LoRA layers
are injected into them but switched on only while Dot runs, so Dash's outputs stay bit-exact.
To sample, ``DotModel.for_sampling`` merges LoRA into Dot's own copy of the adapted layers (W + BA,
the same function without LoRA's extra products at every layer) and gives Dash its layers back.

Variants (Tables 6 and 7): ``bilinear`` resampling instead of trainable blocks, ``lora_rank=0``,
and ``independent``: the same m blocks around a smaller UNet of its own that shares nothing with Dash.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from diffusers.models.embeddings import TimestepEmbedding
from diffusers.models.resnet import ResnetBlock2D
from peft import LoraConfig, inject_adapter_in_model
from peft.tuners.tuners_utils import BaseTunerLayer

from harness.errors import HarnessError
from harness.models.conditioning import guidance_embedding
from harness.morse.dot_config import DotConfig
from harness.registry import Registry

DOT_VARIANTS: Registry = Registry("Dot variant")


def _groups(channels: int) -> int:
    return math.gcd(32, channels)


def _resnet(c_in: int, c_out: int, temb: int | None) -> ResnetBlock2D:
    return ResnetBlock2D(in_channels=c_in, out_channels=c_out, temb_channels=temb,
                         groups=_groups(c_in), groups_out=_groups(c_out))


class TrainableResampler(nn.Module):
    """m light down-sampling blocks before, and m up-sampling blocks after, the shared network.

    Each down block is a strided convolution followed by a time-conditioned ResNet block at the
    lower resolution; each up block is a ResNet block, then a 1x1 convolution and pixel shuffle
    back up, added to the skip of the same resolution. Only the stem and the head convolutions
    touch full resolution, so the blocks stay cheap beside the pre-trained network.
    """

    def __init__(self, in_channels: int, out_channels: int, channels: tuple[int, ...], temb: int):
        super().__init__()
        widths = (channels[0],) + channels
        self.stem = nn.Conv2d(in_channels, widths[0], 3, padding=1)
        self.pool = nn.ModuleList(nn.Conv2d(widths[k], widths[k + 1], 3, stride=2, padding=1) for k in range(len(channels)))
        self.down = nn.ModuleList(_resnet(c, c, temb) for c in channels)
        self.up = nn.ModuleList(_resnet(c, c, temb) for c in channels)
        self.unpool = nn.ModuleList(
            nn.Sequential(nn.Conv2d(widths[k + 1], 4 * widths[k], 1), nn.PixelShuffle(2)) for k in range(len(channels)))
        self.norm = nn.GroupNorm(_groups(widths[0]), widths[0])
        self.head = nn.Conv2d(widths[0], out_channels, 3, padding=1)
        nn.init.zeros_(self.head.weight)
        nn.init.zeros_(self.head.bias)
        self.inner_channels = channels[-1]

    def encode(self, x, temb):
        h, skips = self.stem(x), []
        for pool, block in zip(self.pool, self.down):
            skips.append(h)
            h = block(pool(h), temb)
        return h, skips

    def decode(self, h, skips, temb):
        for k in reversed(range(len(self.up))):
            h = self.unpool[k](self.up[k](h, temb)) + skips[k]
        return self.head(F.silu(self.norm(h)))


class BilinearResampler(nn.Module):
    """Table 6's variant: bilinear down/up-sampling by 2^m, nothing trainable."""

    def __init__(self, in_channels: int, out_channels: int, m: int):
        super().__init__()
        self.factor = 2**m
        self.inner_channels = in_channels
        self.out_channels = out_channels

    def encode(self, x, temb):
        return F.interpolate(x, scale_factor=1 / self.factor, mode="bilinear", align_corners=False), []

    def decode(self, h, skips, temb):
        return F.interpolate(h, scale_factor=self.factor, mode="bilinear", align_corners=False)


def _zero_timestep_embedding(in_dim: int, out_dim: int) -> TimestepEmbedding:
    embedding = TimestepEmbedding(in_dim, out_dim)
    nn.init.zeros_(embedding.linear_2.weight)
    nn.init.zeros_(embedding.linear_2.bias)
    return embedding


class SourceTimeEmbedding(nn.Module):
    """Dash's time embedding of t_i plus trainable embeddings (zero at initialisation) of t_s and, for a
    Dot trained over guidance scales, of w (LCM's guidance-scale embedding, harness.models.conditioning)."""

    def __init__(self, pretrained: nn.Module, time_proj: nn.Module, in_dim: int, out_dim: int, use_ts: bool,
                 use_scale: bool = False):
        super().__init__()
        self.pretrained = pretrained
        self.time_proj = time_proj
        self.in_dim = in_dim
        self.source = _zero_timestep_embedding(in_dim, out_dim) if use_ts else None
        self.scale = _zero_timestep_embedding(in_dim, out_dim) if use_scale else None
        self.t_s: torch.Tensor | None = None  # set by _run_with_source_times for one call
        self.w: torch.Tensor | None = None  # likewise: the guidance scale per image

    def forward(self, sample, *args, **kwargs):
        emb = self.pretrained(sample, *args, **kwargs)
        if self.source is not None:
            emb = emb + self.source(self.time_proj(self.t_s).to(sample.dtype))
        if self.scale is not None:
            emb = emb + self.scale(guidance_embedding(self.w, self.in_dim).to(sample.device, sample.dtype))
        return emb


def _set_lora(module: nn.Module, enabled: bool) -> None:
    for layer in module.modules():
        if isinstance(layer, BaseTunerLayer):
            layer._disable_adapters = not enabled  # toggles the forward only; requires_grad stays as set


def _unload_lora(module: nn.Module, merge: bool) -> None:
    """Put back each LoRA layer's base layer in ``module``, with the adapter merged into its weights or dropped."""
    for name, layer in [(n, m) for n, m in module.named_modules() if isinstance(m, BaseTunerLayer)]:
        if merge:
            layer.merge()
        parent, _, leaf = name.rpartition(".")
        setattr(module.get_submodule(parent) if parent else module, leaf, layer.get_base_layer())


class SharedNetwork(nn.Module):
    """Dash's pre-trained UNet seen through its own input/output convolutions (the mismatched
    layers) and time embedding. The blocks are Dash's modules themselves, frozen."""

    def __init__(self, unet: nn.Module, in_channels: int, out_channels: int, config: DotConfig,
                 init_from_dash: bool = False):
        super().__init__()
        if config.lora_rank > 0:
            lora = LoraConfig(r=config.lora_rank, lora_alpha=config.lora_rank, lora_dropout=0.0,
                              target_modules=config.lora_targets)
            inject_adapter_in_model(lora, unet)
            _set_lora(unet, False)  # Dash runs without LoRA; Dot switches it on for its own calls
        view = copy.copy(unet)  # a second module over the same blocks and parameters
        view._modules = dict(unet._modules)
        view.conv_in = nn.Conv2d(in_channels, unet.conv_in.out_channels, 3, padding=1)
        view.conv_out = nn.Conv2d(unet.conv_out.in_channels, out_channels, 3, padding=1)
        if init_from_dash:  # start as Dash at low resolution: x_ti's channels take Dash's conv_in
            with torch.no_grad():
                view.conv_in.weight.zero_()
                view.conv_in.weight[:, : unet.conv_in.in_channels] = unet.conv_in.weight
                view.conv_in.bias.copy_(unet.conv_in.bias)
                view.conv_out.load_state_dict(unet.conv_out.state_dict())
        view.time_embedding = SourceTimeEmbedding(
            unet.time_embedding, unet.time_proj, unet.time_embedding.linear_1.in_features,
            unet.time_embedding.linear_2.out_features, "t_s" in config.inputs, config.guidance_scales is not None)
        self.unet = view
        self.has_lora = config.lora_rank > 0

    def merge_lora(self) -> int:
        """Sampling form: LoRA merged into this network's own copy of the adapted layers, every other Dash weight
        still shared, and Dash's blocks given back their own layers. Returns the parameters the copy adds
        (the memory this costs); the network can no longer be trained or saved."""
        if not self.has_lora:
            return 0
        adapted = {id(p) for layer in self.unet.modules() if isinstance(layer, BaseTunerLayer)
                   for p in layer.get_base_layer().parameters()}
        shared = {id(p): p for p in self.unet.parameters() if id(p) not in adapted}
        merged = copy.deepcopy(self.unet, memo=shared)
        _set_lora(merged, True)
        _unload_lora(merged, merge=True)
        _unload_lora(self.unet, merge=False)  # the view's blocks are Dash's: Dash is as it was before Dot
        self.unet, self.has_lora = merged, False
        return sum(p.numel() for p in merged.parameters() if id(p) not in shared)

    def forward(self, h, t_i, t_s, guidance_scale=None, **cond):
        if self.has_lora:
            _set_lora(self.unet, True)
        try:
            return _run_with_source_times(self.unet, h, t_i, t_s, guidance_scale, cond)
        finally:
            if self.has_lora:
                _set_lora(self.unet, False)


def _run_with_source_times(unet: nn.Module, h, t_i, t_s, guidance_scale, cond: dict) -> torch.Tensor:
    """One call of a UNet whose time embedding is a SourceTimeEmbedding: t_s and w set for this call only."""
    unet.time_embedding.t_s, unet.time_embedding.w = t_s, guidance_scale
    try:
        return unet(h, t_i, **cond).sample
    finally:
        unet.time_embedding.t_s = unet.time_embedding.w = None


class DotModel(nn.Module):
    """eta(x_ts, x_ti, z_ts, t_s, t_i): the residual that lifts z_ts to z_ti (Eq. 5)."""

    def __init__(self, config: DotConfig, channels: int, resampler: nn.Module, network: nn.Module, temb: nn.Module | None):
        super().__init__()
        self.config = config
        self.channels = channels
        self.resampler = resampler
        self.network = network
        self.temb = temb

    def observations(self, x_ts, x_ti, z_ts):
        """The image-shaped inputs, concatenated on channels; removed inputs are left out."""
        parts = [x_ti] + [v for name, v in (("x_ts", x_ts), ("z_ts", z_ts)) if name in self.config.inputs]
        return torch.cat(parts, dim=1)

    def forward(self, x_ts, x_ti, z_ts, t_s, t_i, guidance_scale=None, **cond):
        """``cond``: Dash's conditioning inputs (class_labels, encoder_hidden_states, ...); ``guidance_scale``:
        w per image, for a Dot trained over guidance scales (then required)."""
        batch = x_ti.shape[0]
        if (guidance_scale is None) != (self.config.guidance_scales is None):
            raise ValueError("a Dot trained over guidance scales takes guidance_scale, any other Dot none")
        t_i = _as_batch(t_i, batch, x_ti.device)
        t_s = _as_batch(t_s, batch, x_ti.device)
        gap = (t_s - t_i).clamp(min=0)  # before t_s may be hidden: the scaling is not an input
        if "t_s" not in self.config.inputs:
            t_s = torch.zeros_like(t_s)
        factor = 2**self.config.m
        if x_ti.shape[-1] % factor or x_ti.shape[-2] % factor:
            raise ValueError(f"image size {tuple(x_ti.shape[-2:])} is not divisible by 2^m = {factor}")
        temb = self.temb(t_i, t_s) if self.temb is not None else None
        h, skips = self.resampler.encode(self.observations(x_ts, x_ti, z_ts), temb)
        if guidance_scale is not None:
            cond["guidance_scale"] = _as_batch(guidance_scale, batch, x_ti.device)
        h = self.network(h, t_i, t_s, **cond)
        eta = self.resampler.decode(h, skips, temb)[:, : self.channels]
        if self.config.gap_scale > 0:
            eta = eta * (gap.to(eta.dtype) / self.config.gap_scale).view(-1, *([1] * (eta.dim() - 1)))
        return eta

    def for_sampling(self) -> "DotModel":
        """This Dot in eval mode with LoRA merged (``SharedNetwork.merge_lora``): what sampling and the latency job
        run, so N is measured on the Dot that samples. ``merged_parameters``: what the merge adds in memory."""
        merge = getattr(self.network, "merge_lora", None)
        self.merged_parameters = merge() if merge else 0
        return self.eval()

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        names = {n for n, p in self.named_parameters() if p.requires_grad}
        return {n: t for n, t in self.state_dict().items() if n in names}


class DotTimeEmbedding(nn.Module):
    """The extra blocks' own embedding of (t_i, t_s), as the pre-trained ResNet blocks have."""

    def __init__(self, time_proj: nn.Module, in_dim: int, dim: int):
        super().__init__()
        self.time_proj = time_proj
        self.t_i = TimestepEmbedding(in_dim, dim)
        self.t_s = TimestepEmbedding(in_dim, dim)

    def forward(self, t_i, t_s):
        dtype = self.t_i.linear_1.weight.dtype
        return self.t_i(self.time_proj(t_i).to(dtype)) + self.t_s(self.time_proj(t_s).to(dtype))


def _as_batch(t, batch: int, device) -> torch.Tensor:
    t = torch.as_tensor(t, device=device)
    return t.expand(batch) if t.dim() == 0 else t


def _num_image_inputs(config: DotConfig) -> int:
    return 1 + sum(name in config.inputs for name in ("x_ts", "z_ts"))


def _trainable_resampler(unet, channels: int, config: DotConfig) -> tuple[TrainableResampler, DotTimeEmbedding]:
    """Sec. 2.2's m light down/up-sampling blocks and their own (t_i, t_s) embedding."""
    temb_dim = 4 * config.channels[0]
    resampler = TrainableResampler(_num_image_inputs(config) * channels, channels, config.channels, temb_dim)
    return resampler, DotTimeEmbedding(unet.time_proj, unet.time_embedding.linear_1.in_features, temb_dim)


@DOT_VARIANTS.register("shared")
def _shared(unet, channels: int, config: DotConfig) -> DotModel:
    resampler, temb = _trainable_resampler(unet, channels, config)
    network = SharedNetwork(unet, resampler.inner_channels, resampler.inner_channels, config)
    return DotModel(config, channels, resampler, network, temb)


@DOT_VARIANTS.register("bilinear")
def _bilinear(unet, channels: int, config: DotConfig) -> DotModel:
    resampler = BilinearResampler(_num_image_inputs(config) * channels, channels, config.m)
    network = SharedNetwork(unet, resampler.inner_channels, unet.conv_out.out_channels, config, init_from_dash=True)
    return DotModel(config, channels, resampler, network, None)


# a Dash UNet's config values that hold one entry per resolution level (trimmed with the levels)
PER_LEVEL_KEYS = ("attention_head_dim", "num_attention_heads", "transformer_layers_per_block", "only_cross_attention",
                  "cross_attention_dim")


class IndependentNetwork(nn.Module):
    """Table 7's independent Dot network: a UNet of its own in place of the shared one, "similar architecture
    with the Dash model while with the reduced number of channels and blocks": Dash's config (its class,
    block types, conditioning: cross-attention, class and added embeddings) at the widths
    ``independent_channels``, one layer per block, its first levels only, at 1/4^m of the pixels. t_s and
    w enter its time embedding as in the shared Dot."""

    def __init__(self, unet, channels: int, config: DotConfig):
        super().__init__()
        widths = config.independent_channels
        levels = len(unet.config.block_out_channels)
        if len(widths) > levels:
            raise ValueError(f"independent_channels has {len(widths)} levels, Dash's UNet {levels}")
        own = {key: value for key, value in unet.config.items() if not key.startswith("_")}
        for key in PER_LEVEL_KEYS:
            if isinstance(own.get(key), (list, tuple)):
                own[key] = list(own[key])[: len(widths)]
        own.update(in_channels=channels, out_channels=channels, block_out_channels=list(widths), layers_per_block=1,
                   norm_num_groups=_groups(widths[0]), sample_size=_sample_size(unet.config.sample_size, config.m),
                   down_block_types=list(unet.config.down_block_types)[: len(widths)],
                   up_block_types=list(unet.config.up_block_types)[levels - len(widths):])
        self.unet = type(unet).from_config(own)
        emb = self.unet.time_embedding
        self.unet.time_embedding = SourceTimeEmbedding(emb, self.unet.time_proj, emb.linear_1.in_features,
                                                       emb.linear_2.out_features, "t_s" in config.inputs,
                                                       config.guidance_scales is not None)

    def forward(self, h, t_i, t_s, guidance_scale=None, **cond):
        return _run_with_source_times(self.unet, h, t_i, t_s, guidance_scale, cond)


def _sample_size(size, m: int):
    return [s // 2**m for s in size] if isinstance(size, (list, tuple)) else size // 2**m if size else size


@DOT_VARIANTS.register("independent")
def _independent(unet, channels: int, config: DotConfig) -> DotModel:
    resampler, temb = _trainable_resampler(unet, channels, config)
    network = IndependentNetwork(unet, resampler.inner_channels, config)
    return DotModel(config, channels, resampler, network, temb)


def build_dot(dash_unet: nn.Module, config: DotConfig) -> DotModel:
    """Build a Dot around a Dash UNet; only Dot's own layers and its LoRA weights are trainable."""
    for p in dash_unet.parameters():
        p.requires_grad_(False)
    channels = dash_unet.config.out_channels if dash_unet.config.out_channels else dash_unet.config.in_channels
    channels = min(channels, dash_unet.config.in_channels)  # learned-variance UNets output 2C channels
    try:
        return DOT_VARIANTS.get(config.variant)(dash_unet, channels, config)
    except ValueError as err:  # a Dot config that does not fit this Dash: one line, for every stage that builds Dot
        raise HarnessError(f"Dot variant {config.variant!r} does not fit this Dash: {err}") from None
