"""`harness rehearsal-inputs`: write a rehearsal's stand-in inputs where `harness check` looks for them.

Takes exactly `harness check`'s arguments (the workflow passes the same command line to both) and
writes, where nothing is yet, a stand-in in the real format for every registered input they name
(harness/external.py, harness/rehearsal/stand_ins.py): datasets and image folders, the captions file,
the Inception and CLIP weights, and every Dash from its real architecture with random weights (a
hub id as a snapshot of the Hugging Face cache, HF_HOME). Only the rehearsal's workflow runs it, in
its own tree; `harness check` then checks the stand-ins as it checks real inputs.
"""

from __future__ import annotations

import argparse

from harness.stages import check

EXAMPLES = """
  HF_HOME=rehearsal/hf python -m harness rehearsal-inputs --experiment cifar --dash google/ddpm-cifar10-32 \\
      --data cifar10:data/cifar10:train --file data/weights/weights-inception-2015-12-05-6726825d.pth \\
      --out work/cifar/stand_ins.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    check.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from harness.rehearsal.stand_ins import rehearsal_inputs

    rehearsal_inputs(experiment=args.experiment, out=args.out, log=args.log, dash=args.dash, dash_path=args.dash_path,
                     also_dash=args.also_dash, data=args.data, files=args.file, clip=args.clip)
    return 0
