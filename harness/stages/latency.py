"""`harness latency`: per-step latency of Dash and Dot on this device, and N (Table 5).

Dash comes from ``harness.models.dash.load_dash`` (``config:<name>`` gives a random-weight
architecture, so any card can regenerate Table 5); Dot from ``harness.morse.dot.build_dot`` with a
``DotConfig`` given as JSON. The row goes to ``<results-dir>/latency_<device>.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.latency import DTYPES, GUIDED_DOT_COSTS
from harness.stages.options import (add_device_argument, add_threads_argument, command_line, json_object,
                                    non_negative_int, positive_int, resolve_device)

EXAMPLES = """
  python -m harness latency --dash config:ddpm-cifar10-32 --experiment cifar --dot-config '{"m": 1}' --device cuda
  python -m harness latency --dash digits --experiment digits --batch-size 250 --threads 1 --results-dir results
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dash", required=True, help="Dash source for load_dash, e.g. config:ddpm-cifar10-32")
    parser.add_argument("--dash-path", default=None, help="local directory holding the Dash weights (offline)")
    parser.add_argument("--experiment", required=True, help="experiment name the row (and its N) belongs to")
    parser.add_argument("--dot-config", type=json_object, default="{}", metavar="JSON", help="DotConfig fields, e.g. '{\"m\": 2}'")
    parser.add_argument("--dot-dir", action="append", default=[], metavar="DIR",
                        help="a Dot whose Morse rows take this N, as `harness sample --dot` names it (a folder, or oracle "
                             "/ zero); repeatable; recorded as `serves` (where an experiment times several Dots)")
    parser.add_argument("--batch-size", type=positive_int, default=100, help="paper: 100; 20 for CelebA-HQ and MS-COCO")
    add_device_argument(parser)
    parser.add_argument("--dtype", choices=DTYPES, default="float32", help="weights and inputs")
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help="time guided steps: Dash runs both CFG branches, and so does a Dot without w as input")
    parser.add_argument("--guided-dot-cost", choices=GUIDED_DOT_COSTS, default=GUIDED_DOT_COSTS[0],
                        help="which cost of a guided step of a Dot that takes w sets N: one branch (it predicts the "
                             "guided estimate in one evaluation; Table 5 times ADM-G's Dot like ADM's) or two (the CFG "
                             "branches Dash runs); both are measured and recorded (N_one_branch, N_two_branches)")
    parser.add_argument("--classifier-scale", type=float, default=None,
                        help="classifier-guided Dash (ADM-G): the classifier's gradient is timed as part of Dash's step")
    parser.add_argument("--warmup", type=non_negative_int, default=3, help="untimed steps first")
    parser.add_argument("--repeats", type=positive_int, default=20, help="timed steps; the median is reported")
    parser.add_argument("--pipeline-steps", type=non_negative_int, default=0,
                        help="also time a whole run of this many Dash steps (+ VAE decode) per image; 0: skip")
    parser.add_argument("--pipeline-repeats", type=positive_int, default=3, help="timed whole runs")
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="latency_<device>.csv goes here")
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.latency.measure import measure_n

    measure_n(dash=args.dash, experiment=args.experiment, dot=args.dot_config, dash_path=args.dash_path,
              serves=args.dot_dir, batch_size=args.batch_size, device=resolve_device(args.device), dtype=args.dtype,
              guidance_scale=args.guidance_scale, guided_dot_cost=args.guided_dot_cost,
              classifier_scale=args.classifier_scale, warmup=args.warmup, repeats=args.repeats,
              pipeline_steps=args.pipeline_steps, pipeline_repeats=args.pipeline_repeats, results_dir=args.results_dir,
              command_line=command_line(args))
    return 0
