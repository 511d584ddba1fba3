"""`harness check`: are an experiment's inputs here? The first rule of every workflow run.

Checks, offline and without running any model, that the Dash weights can be found (the shipped
digits model, a local diffusers folder, or a hub id in the local Hugging Face cache), that every
dataset spec (datasets, FID references, Dot training data) opens with at least one image, that
the named files (Inception weights, captions) exist and that the CLIP weights can be found
(harness/input_check.py). Whatever is missing is listed together in one message, each with how to
supply it: for the registered inputs (:mod:`harness.external`) the registry's own instructions. With
``--download cifar10`` (the workflow's ``allow_download: true``) a missing CIFAR-10 is fetched with
torchvision first. On success it writes a small JSON record of what was found (``--out``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.input_check import DOWNLOADS

EXAMPLES = """
  python -m harness check --experiment digits --dash digits --data digits:16:train --out work/digits/inputs.json
  python -m harness check --experiment cifar --dash google/ddpm-cifar10-32 --data cifar10:data/cifar10:train \\
      --file data/weights/weights-inception-2015-12-05-6726825d.pth --out work/cifar/inputs.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--experiment", required=True, help="experiment name (for the messages and the record)")
    parser.add_argument("--dash", required=True, help="the experiment's Dash source (as `harness sample --dash`)")
    parser.add_argument("--dash-path", default=None, help="local folder holding that Dash's weights")
    parser.add_argument("--also-dash", action="append", default=[], metavar="SOURCE[=PATH]",
                        help="further Dash sources some series or Dots use (repeatable)")
    parser.add_argument("--data", action="append", default=[], metavar="SPEC",
                        help="dataset spec that must open (repeatable): digits:16:train, cifar10:ROOT:train, a folder")
    parser.add_argument("--dot-data", action="append", default=[], metavar="KEY=SPEC",
                        help="Dot training data (config key KEY): its images must have the Dash's size and channels (repeatable)")
    parser.add_argument("--shipped-dot", action="append", default=[], metavar="DIR",
                        help="a trained Dot the experiment ships: it must have been trained for this Dash (repeatable)")
    parser.add_argument("--file", action="append", default=[], metavar="PATH",
                        help="a file that must exist, e.g. feature-network weights for offline metrics (repeatable)")
    parser.add_argument("--clip", metavar="[MODEL]:[TAG]",
                        help="CLIP weights that must be found offline (empty parts: `harness clip`'s defaults)")
    parser.add_argument("--download", choices=DOWNLOADS, help="fetch this dataset with torchvision when it is missing")
    parser.add_argument("--how-to", default=None, help="hint on obtaining a dataset that harness/external.py does not register")
    parser.add_argument("--not-wired", default=None, metavar="WHY",
                        help="the experiment cannot run yet, for this reason: stop here (after listing missing inputs)")
    parser.add_argument("--content-sha256", default=None, metavar="SHA",
                        help="the inputs' content hash (harness/experiments/content.py), kept in the record: a new hash "
                             "changes the record, so every job that reads it runs again")
    parser.add_argument("--out", type=Path, required=True, help="JSON record of the inputs found")
    parser.add_argument("--log", type=Path, default=None, help="also write the outcome here (the message still goes to stderr)")


def run(args: argparse.Namespace) -> int:
    from harness.input_check import check_and_record

    check_and_record(experiment=args.experiment, out=args.out, log=args.log, dash=args.dash, dash_path=args.dash_path,
                     also_dash=args.also_dash, data=args.data, dot_data=args.dot_data, shipped_dot=args.shipped_dot,
                     files=args.file, clip=args.clip, download=args.download, how_to=args.how_to,
                     not_wired=args.not_wired, content_sha256=args.content_sha256)
    return 0
