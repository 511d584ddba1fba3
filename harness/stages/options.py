"""Options and argument types shared by several stages, defined once.

Nothing here imports torch or pandas: `harness STAGE --help` builds every parser from these.
Device defaults are resolved when a stage runs (:func:`device`), not when its parser is built.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def int_at_least(minimum: int):
    """argparse type: an integer >= ``minimum`` (a bad value is a one-line usage error, exit code 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum {minimum}")
        return value

    parse.__name__ = f"integer >= {minimum}"
    return parse


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def number(text: str) -> float:
    """A command-line number, or argparse's usage error."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    value = number(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} must be a finite number above 0")
    return value


def unit_fraction(text: str) -> float:
    """argparse type: a fraction in (0, 1]."""
    value = number(text)
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"{value} is not a fraction in (0, 1]")
    return value


def json_object(text: str) -> dict:
    """argparse type: a JSON object, e.g. '{"m": 2}'."""
    try:
        value = json.loads(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{text!r} is not JSON ({err})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"{text!r} is not a JSON object ({{...}})")
    return value


def command_line(args: argparse.Namespace) -> list[str]:
    """The stage's own arguments, as harness.cli records them (empty when ``run`` is called directly)."""
    return vars(args).get("command_line", [])


def add_threads_argument(parser: argparse.ArgumentParser) -> None:
    """--threads, for the stages that run torch on the CPU."""
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="torch CPU threads (default: torch's choice; 1 on a shared CPU, where more thrash)")


def add_device_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default=None, help="cpu or cuda[:k] (default: cuda when available, else cpu)")


def resolve_device(requested: str | None) -> str:
    """The --device value, or cuda when torch sees a GPU, else cpu."""
    if requested:
        return requested
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def offline_default() -> bool:
    """--offline is on by default where HARNESS_OFFLINE=1 (machines without network)."""
    return os.environ.get("HARNESS_OFFLINE", "0") == "1"


def add_feature_arguments(parser: argparse.ArgumentParser) -> None:
    """Options that fix the FID features: shared by `harness fid` and `harness fid-stats`."""
    parser.add_argument("--extractor", required=True,
                        help="feature network registered in harness/metrics/extractors.py: inception-v3-compat "
                             "(torch-fidelity's Inception, the paper's FID) or digitsnet (the digits proxy)")
    parser.add_argument("--extractor-weights", type=Path, help="weights file of the feature network (offline machines)")
    parser.add_argument("--offline", action="store_true", default=offline_default(), help="never download weights")
    parser.add_argument("--image-size", type=positive_int, help="resize images to this square size first (PIL bicubic)")
    parser.add_argument("--batch-size", type=positive_int, default=250, help="images per feature-network batch")
    add_device_argument(parser)


def add_analysis_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `harness speedup` and `harness report`: row filters, the Morse curves, the reduction,
    the bootstrap CI."""
    parser.add_argument("--where", action="append", default=[], metavar="COL=VALUE",
                        help="keep rows with COL == VALUE (repeatable), e.g. guidance_scale=7.5")
    parser.add_argument("--line-by", action="append", default=[], metavar="COL",
                        help="one Morse curve per value of COL against the same baseline (repeatable), e.g. requested_ratio")
    parser.add_argument("--best-over", metavar="COL",
                        help="per latency, keep the best metric over COL (Table 1: guidance_scale)")
    parser.add_argument("--bootstrap", type=non_negative_int, default=0, metavar="B",
                        help="bootstrap draws over repeated seed ranges (column `seeds`) for a CI; 0: none")
    parser.add_argument("--confidence", type=float, default=0.95, help="level of the bootstrap interval")
    parser.add_argument("--headline-ratio", type=float, metavar="K/N",
                        help="the headline is the trained Dot's average at this exchanged-steps ratio (the paper's "
                             "protocol; needs --line-by requested_ratio); default: every trained-Dot point")
