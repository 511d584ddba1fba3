"""`harness train-dot`: train a Dot against a frozen Dash (Algorithm 1), resumable, one or several GPUs.

Every image draws its own pair t_s > t_o over the whole range; the loss is the residual
|| z_ts + eta(x_ts, x_to, z_ts, t_s, t_o) - Dash(x_to, t_o) ||^2 (harness/morse/train.py). Writes the Dot
checkpoint (tied to Dash's fingerprint), its loss log and, with --eval-data, the held-out residual error
by gap beside the zero residual's (OUT/dot.json).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from harness.morse.dot_config import ARCHITECTURE, TRAJECTORY_SOURCES, DotConfig
from harness.stages.options import (add_threads_argument, command_line, non_negative_int, number, positive_float,
                                    positive_int, unit_fraction)

EXAMPLES = """
  python -m harness train-dot --dash digits --data digits:16:train --eval-data digits:16:heldout --out work/dot
  torchrun --nproc-per-node 8 -m harness train-dot --dash CompVis/stable-diffusion-v1-4 --data data/laion_2m \\
      --steps 20000 --batch-size 16 --out work/dot-sd
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dash", required=True, help="Dash source: digits, a hub id, a local dir, or config:<name>")
    parser.add_argument("--dash-path", default=None, help="local directory holding the Dash weights (offline)")
    parser.add_argument("--data", required=True, help="training images, e.g. digits:16:train, cifar10:ROOT:train, a folder")
    parser.add_argument("--eval-data", default=None, help="held-out images for the residual-error check, e.g. digits:16:heldout")
    parser.add_argument("--sampler", default="ddim", help="the sampler whose one step phi makes x_to (Algorithm 1, line 7)")
    parser.add_argument("--max-gap", type=positive_int, default=None,
                        help="largest t_s - t_o drawn (default: the whole range, as Algorithm 1)")
    parser.add_argument("--groups", type=positive_int, default=None,
                        help="(t_s, t_o) pairs drawn per batch, each shared by a slice (default: one per image, as Algorithm 1)")
    parser.add_argument("--schedules", type=morse_schedules, default=None, metavar="GRID:FINE:DASH[:SOURCE],...",
                        help="draw the pairs from the Dot steps of these Morse schedules (the grid rule, fine steps, "
                             "Dash steps and trajectory source dash|last of each, as `harness sample` runs them; "
                             "default: the whole range, as Algorithm 1)")
    parser.add_argument("--rollout", type=positive_int, default=1, metavar="K",
                        help="reach x_to by k ~ U{1..K} sampler steps (with --schedules: the steps the pair's schedule "
                             "takes, at most K), each after the first with the Dot being trained, as sampling chains "
                             "Dot steps (default 1: one step from z_ts, Algorithm 1, line 7)")
    parser.add_argument("--rollout-from", type=non_negative_int, default=0, metavar="STEP",
                        help="train by Algorithm 1 until STEP, with --rollout after it (a curriculum; default 0)")
    parser.add_argument("--rollout-share", type=unit_fraction, default=1.0, metavar="P",
                        help="with --rollout: the fraction of each batch's images that roll out, the others one step "
                             "from z_ts as Algorithm 1 (a mixture; default 1: all)")
    parser.add_argument("--init", type=Path, default=None, metavar="DOT_DIR",
                        help="start from this trained Dot's weights (same architecture and Dash) instead of fresh ones")
    parser.add_argument("--ema", type=ema_decay, default=0.0, metavar="DECAY",
                        help="write the moving average of the trained weights with this decay, e.g. 0.999 "
                             "(default 0: the last weights)")
    parser.add_argument("--loss-weight", default="none",
                        help="per-image weight of the residual loss (harness/morse/train.py LOSS_WEIGHTS): none "
                             "(Algorithm 1's plain mean) or x0 (the error it makes in the clean image at t_o, capped)")
    parser.add_argument("--steps", type=positive_int, default=1500, help="optimizer steps")
    parser.add_argument("--batch-size", type=positive_int, default=64, help="images per step, per process")
    parser.add_argument("--lr", type=positive_float, default=1e-3, help="peak AdamW learning rate")
    parser.add_argument("--warmup", type=non_negative_int, default=50, help="linear learning-rate warm-up steps")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="seed of Dot's weights, images, pairs and noise")
    parser.add_argument("--variant", default=DotConfig.variant, help="shared | bilinear | independent (Tables 6, 7)")
    parser.add_argument(ARCHITECTURE["m"], dest="m", type=non_negative_int, default=DotConfig.m,
                        help="the paper's m (config key m): extra down/up-sampling blocks, the shared network at 1/4^m "
                             "of the pixels (Sec. 2.2)")
    parser.add_argument("--channels", default=",".join(map(str, DotConfig.channels)), help="comma-separated width of each extra block")
    parser.add_argument("--independent-channels", default=",".join(map(str, DotConfig.independent_channels)),
                        help="--variant independent: comma-separated widths of its own UNet, one per level (Table 7)")
    parser.add_argument("--lora-rank", type=non_negative_int, default=DotConfig.lora_rank, help="0 disables LoRA")
    parser.add_argument("--inputs", default=",".join(DotConfig.inputs), help="trajectory inputs of Dot (Table 4)")
    parser.add_argument("--gap-scale", type=float, default=DotConfig.gap_scale,
                        help="> 0: eta is scaled by (t_s - t_i) / GAP_SCALE (DotConfig.gap_scale; 0: unscaled)")
    parser.add_argument("--guidance-scales", type=float, nargs=2, metavar=("LO", "HI"), default=None,
                        help="conditional Dash: train Dot on the CFG-guided estimate, w ~ U[LO, HI] per image "
                             "(paper: 2 10); Dot then takes w as an input")
    parser.add_argument("--classifier-scale", type=float, default=None,
                        help="classifier-guided Dash (ADM-G): Dot learns the estimate guided by the Dash folder's classifier")
    parser.add_argument("--checkpoint-every", type=positive_int, default=250, help="steps between resumable checkpoints")
    parser.add_argument("--out", required=True, type=Path, help="Dot checkpoint folder")
    parser.add_argument("--resume", action="store_true",
                        help="continue from OUT/checkpoints/last.pt if present (also extends a finished run to --steps)")
    add_threads_argument(parser)


def ema_decay(text: str) -> float:
    """argparse type of --ema: 0 (off) or a decay in (0, 1)."""
    value = number(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not an EMA decay: give 0 (off) or a number in (0, 1), e.g. 0.999")
    return value


def morse_schedules(text: str) -> list[tuple[str, int, int, str]]:
    """argparse type of --schedules: comma-separated GRID:FINE:DASH[:SOURCE], 1 <= DASH <= FINE."""
    schedules = []
    for item in text.split(","):
        parts = item.split(":")
        if len(parts) not in (3, 4) or not all(p.isdigit() for p in parts[1:3]):
            raise argparse.ArgumentTypeError(f"{item!r} is not GRID:FINE_STEPS:DASH_STEPS[:SOURCE]")
        grid, fine, dash, source = (parts + ["dash"])[:4]
        fine, dash = int(fine), int(dash)
        if not 1 <= dash <= fine or source not in TRAJECTORY_SOURCES:
            raise argparse.ArgumentTypeError(f"{item!r}: need 1 <= Dash steps <= fine steps and a source in "
                                             f"{TRAJECTORY_SOURCES}")
        schedules.append((grid, fine, dash, source))
    return schedules


def run(args: argparse.Namespace) -> int:
    from harness.morse.train import train_dot

    return train_dot(dash_source=args.dash, dash_path=args.dash_path, data=args.data, eval_data=args.eval_data, out=args.out,
                     architecture={key: getattr(args, key) for key in ARCHITECTURE}, sampler=args.sampler,
                     loss_weight=args.loss_weight, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                     warmup=args.warmup, seed=args.seed, checkpoint_every=args.checkpoint_every, max_gap=args.max_gap,
                     groups=args.groups, schedules=args.schedules, rollout=args.rollout, rollout_from=args.rollout_from, rollout_share=args.rollout_share, init=args.init, ema=args.ema, guidance_scales=args.guidance_scales, classifier_scale=args.classifier_scale,
                     resume=args.resume, threads=args.threads, command_line=command_line(args))
