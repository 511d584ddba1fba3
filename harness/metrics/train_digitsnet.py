"""Training the DigitsNet FID feature network on the digits' train split (`harness train-digitsnet`)."""

from __future__ import annotations

import argparse
import hashlib
import json
import shlex

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


def train_digitsnet(args: argparse.Namespace) -> int:
    net, accuracy = train(args.epochs, args.batch_size, args.lr, args.seed)
    state = {k: v.contiguous() for k, v in net.state_dict().items()}
    atomic_write(args.out, lambda f: f.write(save(state)))
    record = {
        "command": command_line(args),
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "seed": args.seed,
        "heldout_accuracy": round(accuracy, 4),
        "torch_version": torch.__version__,
        "sha256": hashlib.sha256(args.out.read_bytes()).hexdigest(),
    }
    atomic_write(args.out.with_suffix(".json"), lambda f: f.write((json.dumps(record, indent=1) + "\n").encode()))
    print(f"digitsnet: held-out accuracy {accuracy:.4f}, weights {args.out}")
    return 0


def command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, every option spelled out."""
    options = ["--out", str(args.out), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size)]
    options += ["--lr", str(args.lr), "--seed", str(args.seed)]
    return "python -m harness train-digitsnet " + shlex.join(options)
