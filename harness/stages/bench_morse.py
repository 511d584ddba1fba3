"""`harness bench-morse`: the sampling loop's own cost, outside the model forwards.

Runs plain jump sampling and Morse with the same Dash (and a Dot, trained or untrained: the
weights do not change the cost) and reports the wall time of the whole loop, the time spent in
Dash and Dot forwards, and their difference as a fraction of the loop: the overhead of the
samplers, Morse's bookkeeping and per-image noise. Target: under 3%.

"""

from __future__ import annotations

import argparse

from harness.morse.dot_config import ARCHITECTURE, DotConfig
from harness.stages.options import add_threads_argument, non_negative_int, positive_int

EXAMPLES = """
  python -m harness bench-morse --dash digits --batch-size 100 --fine-steps 20 --dash-steps 5
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dash", default="digits", help="Dash source, as `harness sample --dash`")
    parser.add_argument("--dash-path", default=None, help="local directory holding the Dash weights")
    parser.add_argument("--sampler", default="ddim", help="sampler registered in harness/samplers")
    parser.add_argument("--batch-size", type=positive_int, default=100, help="images per run")
    parser.add_argument("--fine-steps", type=positive_int, default=20, help="Morse: points of the fine grid")
    parser.add_argument("--dash-steps", type=positive_int, default=5, help="Morse: how many run Dash (and the plain run's steps)")
    parser.add_argument(ARCHITECTURE["m"], dest="m", type=non_negative_int, default=DotConfig.m,
                        help="the paper's m (config key m): extra down/up-sampling blocks, the shared network at 1/4^m "
                             "of the pixels (Sec. 2.2)")
    parser.add_argument("--channels", default=",".join(map(str, DotConfig.channels)), help="width of each extra block")
    parser.add_argument("--repeats", type=positive_int, default=3, help="timed runs after one warm-up")
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.morse.bench import bench_morse

    return bench_morse(dash_source=args.dash, dash_path=args.dash_path, sampler=args.sampler, batch_size=args.batch_size,
                       fine_steps=args.fine_steps, dash_steps=args.dash_steps, m=args.m, channels=args.channels,
                       repeats=args.repeats)
