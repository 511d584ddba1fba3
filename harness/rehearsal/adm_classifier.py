"""ADM-G's noise-aware classifier architecture (Dhariwal & Nichol 2021, Sec. 4; guided-diffusion's half-UNet
encoder with attention pooling), for the rehearsal's stand-in of the registered `torch.export` file.

guided-diffusion is not a dependency of the harness; the stand-in writer builds this architecture with the
flags of the released 64x64 classifier (harness/external.py's registration) and random weights, and exports
it as the real file is exported: classifier(x_t, t) -> logits, with a dynamic batch.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of the timesteps (cosines, then sines), as ADM's."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    return torch.cat([torch.cos(args), torch.sin(args)], dim=-1)


def _norm(channels: int) -> nn.GroupNorm:
    return nn.GroupNorm(32, channels)


class ResBlock(nn.Module):
    """A residual block conditioned on the time embedding by scale and shift of its second normalisation;
    ``down`` halves the resolution inside the block (ADM's resblock_updown)."""

    def __init__(self, channels: int, emb_channels: int, out_channels: int, down: bool = False):
        super().__init__()
        self.down = down
        self.norm_in, self.conv_in = _norm(channels), nn.Conv2d(channels, out_channels, 3, padding=1)
        self.emb = nn.Linear(emb_channels, 2 * out_channels)
        self.norm_out, self.conv_out = _norm(out_channels), nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Identity() if channels == out_channels else nn.Conv2d(channels, out_channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = F.silu(self.norm_in(x))
        if self.down:
            h, x = F.avg_pool2d(h, 2), F.avg_pool2d(x, 2)
        h = self.conv_in(h)
        scale, shift = self.emb(F.silu(emb))[..., None, None].chunk(2, dim=1)
        h = self.conv_out(F.silu(self.norm_out(h) * (1 + scale) + shift))
        return self.skip(x) + h


def _attention(qkv: torch.Tensor, heads: int) -> torch.Tensor:
    """Multi-head self-attention over the last axis of (B, 3 C, T) query-key-value states; (B, C, T)."""
    batch, width, length = qkv.shape
    q, k, v = qkv.reshape(batch * heads, width // heads, length).chunk(3, dim=1)
    weights = torch.softmax(torch.einsum("bct,bcs->bts", q, k) / math.sqrt(q.shape[1]), dim=-1)
    return torch.einsum("bts,bcs->bct", weights, v).reshape(batch, -1, length)


class AttentionBlock(nn.Module):
    """Spatial self-attention with heads of ``head_channels`` channels, residual."""

    def __init__(self, channels: int, head_channels: int):
        super().__init__()
        self.heads = channels // head_channels
        self.norm, self.qkv, self.proj = _norm(channels), nn.Conv1d(channels, 3 * channels, 1), nn.Conv1d(channels, channels, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        b, c, *spatial = x.shape
        flat = x.reshape(b, c, -1)
        return (flat + self.proj(_attention(self.qkv(self.norm(flat)), self.heads))).reshape(b, c, *spatial)


class AttentionPool(nn.Module):
    """Attention pooling (CLIP's): the mean token with a learned position embedding attends over the grid."""

    def __init__(self, grid: int, channels: int, head_channels: int, out_channels: int):
        super().__init__()
        self.position = nn.Parameter(torch.randn(channels, grid * grid + 1) / channels**0.5)
        self.heads = channels // head_channels
        self.qkv, self.proj = nn.Conv1d(channels, 3 * channels, 1), nn.Conv1d(channels, out_channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        flat = x.reshape(*x.shape[:2], -1)
        tokens = torch.cat([flat.mean(dim=-1, keepdim=True), flat], dim=-1) + self.position[None].to(x.dtype)
        return self.proj(_attention(self.qkv(tokens), self.heads))[:, :, 0]


class EncoderUNet(nn.Module):
    """The classifier: ADM's downsampling half (``depth`` residual blocks per level, attention at the down-sampling
    factors ``attention_ds``, a residual down-sampling block between levels), its middle block, attention pooling."""

    def __init__(self, *, image_size: int, width: int, depth: int, channel_mult: list[int], attention_ds: list[int],
                 head_channels: int, classes: int, in_channels: int = 3):
        super().__init__()
        emb = 4 * width
        self.width = width
        self.time_embed = nn.Sequential(nn.Linear(width, emb), nn.SiLU(), nn.Linear(emb, emb))
        self.stem = nn.Conv2d(in_channels, width, 3, padding=1)
        blocks, channels, ds = [], width, 1
        for level, mult in enumerate(channel_mult):
            for _ in range(depth):
                blocks.append(ResBlock(channels, emb, mult * width))
                channels = mult * width
                if ds in attention_ds:
                    blocks.append(AttentionBlock(channels, head_channels))
            if level < len(channel_mult) - 1:
                blocks.append(ResBlock(channels, emb, channels, down=True))
                ds *= 2
        blocks += [ResBlock(channels, emb, channels), AttentionBlock(channels, head_channels), ResBlock(channels, emb, channels)]
        self.blocks = nn.ModuleList(blocks)
        self.norm = _norm(channels)
        self.pool = AttentionPool(image_size // ds, channels, head_channels, classes)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_embed(timestep_embedding(t, self.width))
        h = self.stem(x)
        for block in self.blocks:
            h = block(h, emb)
        return self.pool(F.silu(self.norm(h)))


def export(model: nn.Module, path, *, image_size: int, in_channels: int = 3) -> None:
    """``model`` saved as the registered file: `torch.export` of classifier(x_t, t) with a dynamic batch."""
    batch = torch.export.Dim("batch")
    x, t = torch.randn(2, in_channels, image_size, image_size), torch.tensor([10, 500], dtype=torch.int64)
    torch.export.save(torch.export.export(model.eval(), (x, t), dynamic_shapes=({0: batch}, {0: batch})), str(path))
