"""An exponential moving average of Dot's trainable weights (`harness train-dot --ema DECAY`).

Only the trainable weights are averaged (the extra blocks, LoRA, the mismatched layers): the shared Dash
weights are frozen, so a copy of them would double Dash's memory for nothing. The averaged weights are
the Dot that training writes; the raw ones stay in the resume checkpoint. Decay warms up as
min(DECAY, (1 + n) / (10 + n)) after n updates, so the first steps do not drag the average back to the
starting weights for long.
"""

from __future__ import annotations

import torch


class TrainableEMA:
    def __init__(self, module: torch.nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must lie in (0, 1), got {decay}")
        self.decay = decay
        self.params = {name: p for name, p in module.named_parameters() if p.requires_grad}
        self.shadow = {name: p.detach().clone() for name, p in self.params.items()}
        self.updates = 0

    @torch.no_grad()
    def update(self) -> None:
        """After an optimizer step: shadow <- d * shadow + (1 - d) * weights."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        for name, p in self.params.items():
            self.shadow[name].lerp_(p.detach(), 1.0 - decay)

    @torch.no_grad()
    def copy_to_module(self) -> None:
        """Put the averaged weights into the module (the Dot then evaluated and saved)."""
        for name, p in self.params.items():
            p.copy_(self.shadow[name])

    def state_dict(self) -> dict:
        return {"shadow": self.shadow, "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        for name, tensor in state["shadow"].items():
            self.shadow[name].copy_(tensor)
        self.updates = state["updates"]
