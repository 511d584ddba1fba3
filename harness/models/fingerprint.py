"""A sha256 fingerprint of a module's weights, so results can name exactly which weights made them."""

from __future__ import annotations

import hashlib

import torch


def state_dict_sha256(module: torch.nn.Module) -> str:
    """sha256 over every state-dict entry's name, dtype, shape and raw bytes, in name order.

    Deterministic for the same weights in the same dtype on any device; meta tensors have no bytes
    and raise ValueError.
    """
    digest = hashlib.sha256()
    for name, tensor in sorted(module.state_dict().items()):
        if tensor.is_meta:
            raise ValueError(f"cannot fingerprint {name!r}: it lives on the meta device (no weights)")
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        flat = tensor.detach().to("cpu").contiguous().reshape(-1)
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()
