"""Training the DigitsNet FID feature network on the digits' train split (`harness train-digitsnet`)."""

from __future__ import annotations

import hashlib
import json
import shlex
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save

from harness.data.digits import load_digits_uint8
from harness.metrics.digitsnet import DigitsNet, to_input
from harness.shards import atomic_write


def load_split(split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Network inputs and labels of a digits split (labels follow load_digits_uint8's selection)."""
    from sklearn.datasets import load_digits

    from harness.data.digits import HELD_OUT_EVERY

    images = torch.from_numpy(load_digits_uint8(16, split)).permute(0, 3, 1, 2)
    labels = torch.from_numpy(load_digits().target)
    index = torch.arange(len(labels))
    keep = {"train": index % HELD_OUT_EVERY != 0, "heldout": index % HELD_OUT_EVERY == 0}[split]
    return to_input(images), labels[keep]


def train(epochs: int, batch_size: int, lr: float, seed: int) -> tuple[DigitsNet, float]:
    """Adam on cross-entropy on one CPU thread (faster for this tiny network on a shared machine,
    and one float reduction order); returns the network and its held-out accuracy."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(epochs, batch_size, lr, seed)
    finally:
        torch.set_num_threads(threads)


def _train(epochs: int, batch_size: int, lr: float, seed: int) -> tuple[DigitsNet, float]:
    torch.manual_seed(seed)
    x, y = load_split("train")
    net = DigitsNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=lr)
    order = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for batch in torch.randperm(len(x), generator=order).split(batch_size):
            optimizer.zero_grad()
            F.cross_entropy(net(x[batch]), y[batch]).backward()
            optimizer.step()
    net.eval()
    x_held, y_held = load_split("heldout")
    with torch.no_grad():
        accuracy = (net(x_held).argmax(dim=1) == y_held).float().mean().item()
    return net, accuracy


def train_digitsnet(*, out: Path, epochs: int, batch_size: int, lr: float, seed: int) -> int:
    """Train DigitsNet and write its weights to ``out`` and its record (the command, held-out accuracy) beside them."""
    net, accuracy = train(epochs, batch_size, lr, seed)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    atomic_write(out, lambda f: f.write(save(state)))
    record = {
        "command": command_line(out=out, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "heldout_accuracy": round(accuracy, 4),
        "torch_version": torch.__version__,
        "sha256": hashlib.sha256(out.read_bytes()).hexdigest(),
    }
    atomic_write(out.with_suffix(".json"), lambda f: f.write((json.dumps(record, indent=1) + "\n").encode()))
    print(f"digitsnet: held-out accuracy {accuracy:.4f}, weights {out}")
    return 0


def command_line(*, out: Path, epochs: int, batch_size: int, lr: float, seed: int) -> str:
    """The command that reproduces this run, every option spelled out."""
    options = ["--out", str(out), "--epochs", str(epochs), "--batch-size", str(batch_size)]
    options += ["--lr", str(lr), "--seed", str(seed)]
    return "python -m harness train-digitsnet " + shlex.join(options)
