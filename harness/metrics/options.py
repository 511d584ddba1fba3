"""Defaults shared by the metric stages' command lines."""

from __future__ import annotations

import os

import torch


def offline_default() -> bool:
    """--offline is on by default where HARNESS_OFFLINE=1 (machines without network)."""
    return os.environ.get("HARNESS_OFFLINE", "0") == "1"


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"
