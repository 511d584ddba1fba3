"""`harness sample`: one seed-range shard of images, plain jump sampling or Morse (Algorithm 2).

As in NVlabs/edm's generate.py, every image has its own seed: its initial noise and every
stochastic step's noise come from a generator of its own, so an image depends only on its seed,
not on the batch size or on how seeds are split into shards. The Dash/Dot assignment, the time
grid and their LSD cost are stored with the images; the shard is written atomically, and all
input is checked before any model runs, so a bad command leaves nothing behind.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.conditions import NONE
from harness.morse.dot_config import ORACLE, TRAJECTORY_SOURCES, ZERO
from harness.stages.options import command_line, add_device_argument, add_threads_argument, positive_float, positive_int

EXAMPLES = """
  python -m harness sample --dash digits --sampler ddim --steps 10 --seeds 0-999 --out base10.npz
  python -m harness sample --dash digits --dot work/dot --sampler ddim --fine-steps 20 --dash-steps 5 \\
      --seeds 0-999 --out morse_f20_d5.npz
  python -m harness sample --dash digits --dot work/dot --lsd 6 --N 2.5 --ratio 0.5 --seeds 0-99 --out m.npz
  python -m harness sample --dash config:tiny-sd --conditions prompts:prompts.txt --guidance-scale 7.5 \\
      --steps 6 --seeds 0-3 --out sd.npz
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dash", required=True, help="Dash source: digits, a hub id, a local dir, or config:<name>")
    parser.add_argument("--dash-path", default=None, help="local directory holding the Dash weights (offline)")
    parser.add_argument("--dot", default=None,
                        help=f"Dot checkpoint directory (from train-dot), '{ORACLE}' (Dash at every point) or '{ZERO}' (reuse z_ts)")
    parser.add_argument("--sampler", default="ddim", help="sampler registered in harness/samplers (ddim, ddpm, dpm-solver-2, ...)")
    parser.add_argument("--eta", type=float, default=None, help="DDIM's eta (default 0)")
    parser.add_argument("--grid", default="trailing",
                        help="time grid rule registered in harness/samplers/grids.py (trailing, ddim-uniform, ...), each named after its owner's code")
    plan = parser.add_argument_group("schedule: give exactly one of --steps, --fine-steps/--dash-steps, --lsd/--ratio")
    plan.add_argument("--steps", type=positive_int, help="plain jump sampling with this many Dash steps (the baseline)")
    plan.add_argument("--fine-steps", type=positive_int, help="Morse: points of the fine grid")
    plan.add_argument("--dash-steps", type=positive_int, help="Morse: how many of them run Dash")
    plan.add_argument("--lsd", type=positive_float, help="Morse: latency budget in LSD (Sec. 2.3)")
    plan.add_argument("--ratio", type=float, help="Morse: exchanged-steps ratio k/n (Fig. 13)")
    plan.add_argument("--N", type=positive_float, help="Dash/Dot latency ratio: needed with --lsd, recorded otherwise")
    plan.add_argument("--requested-lsd", type=positive_float,
                      help="with --fine-steps/--dash-steps: the LSD budget they were resolved from (recorded)")
    plan.add_argument("--requested-ratio", type=float,
                      help="with --fine-steps/--dash-steps: the k/n they were resolved from (recorded)")
    parser.add_argument("--trajectory-source", default="dash", choices=TRAJECTORY_SOURCES,
                        help="Eq. 5 (observations at Dash's last point) or Eq. 7 (last step of either model)")
    parser.add_argument("--conditions", default=NONE,
                        help="condition source: none, labels:K (uniform per seed), labels-file:PATH or prompts:PATH "
                             "(line s for seed s)")
    parser.add_argument("--guidance-scale", type=float, default=None,
                        help="classifier-free guidance scale w: eps_u + w (eps_c - eps_u) (default: no guidance)")
    parser.add_argument("--classifier-scale", type=float, default=None,
                        help="classifier guidance (ADM-G) with the Dash folder's classifier at this scale (guided-diffusion: 1.0)")
    parser.add_argument("--seeds", required=True, help="per-image seeds, e.g. 0-999 or 1,2,5-10")
    parser.add_argument("--batch-size", type=positive_int, default=100, help="images per model call (never changes an image)")
    parser.add_argument("--experiment", default="adhoc", help="experiment name recorded in the shard")
    parser.add_argument("--point", default=None, help="name of this latency point (default: from the schedule)")
    parser.add_argument("--also-serves", action="append", default=[], metavar="JSON",
                        help='another request this schedule answers (the workflow samples a shared schedule once): '
                             '{"point": ..., "method": ..., "requested_lsd": ..., "requested_ratio": ...}')
    add_device_argument(parser)
    parser.add_argument("--out", required=True, type=Path, help="shard path, ending in .npz")
    add_threads_argument(parser)


def run(args: argparse.Namespace) -> int:
    from harness.morse.generate import generate

    return generate(out=args.out, dash_source=args.dash, dash_path=args.dash_path, sampler=args.sampler, grid=args.grid,
                    seeds=args.seeds, batch_size=args.batch_size, steps=args.steps, fine_steps=args.fine_steps,
                    dash_steps=args.dash_steps, lsd=args.lsd, ratio=args.ratio, N=args.N, requested_lsd=args.requested_lsd,
                    requested_ratio=args.requested_ratio, dot=args.dot, eta=args.eta,
                    trajectory_source=args.trajectory_source, conditions=args.conditions,
                    guidance_scale=args.guidance_scale, classifier_scale=args.classifier_scale,
                    experiment=args.experiment, point=args.point, also_serves=args.also_serves, device=args.device,
                    command_line=command_line(args))
