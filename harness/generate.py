"""`harness sample`: one seed-range shard of images, plain jump sampling or Morse (Algorithm 2).

As in NVlabs/edm's generate.py, every image has its own seed: its initial noise and every
stochastic step's noise come from a generator of its own, so an image depends only on its seed,
not on the batch size or on how seeds are split into shards. The Dash/Dot assignment, the time
grid and their LSD cost are stored with the images; the shard is written atomically, and all
input is checked before any model runs, so a bad command leaves nothing behind.

Examples:
  python -m harness sample --dash digits --sampler ddim --steps 10 --seeds 0-999 --out base10.npz
  python -m harness sample --dash digits --dot work/dot --sampler ddim --fine-steps 20 --dash-steps 5 \\
      --seeds 0-999 --out morse_f20_d5.npz
  python -m harness sample --dash digits --dot work/dot --lsd 6 --N 2.5 --ratio 0.5 --seeds 0-99 --out m.npz
  python -m harness sample --dash config:tiny-sd --conditions prompts:prompts.txt --guidance-scale 7.5 \\
      --steps 6 --seeds 0-3 --out sd.npz

Conditions (``--conditions``, harness/conditions.py) are tied to seeds as the noise is: image s gets
condition s whatever the batch; they are encoded once per batch (harness/models/conditioning.py)
and stored in the shard. ``--guidance-scale`` runs classifier-free guidance against the null class
or the empty prompt (or, for LCM UNets with a guidance embedding, sets the embedded w).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from harness import provenance
from harness.conditions import NONE, parse_conditions
from harness.errors import HarnessError
from harness.morse.denoisers import DotDenoiser, OracleDot, ZeroResidualDot
from harness.morse.sampling import TRAJECTORY_SOURCES, morse_sample
from harness.morse import budget
from harness.morse.schedule import MorseSchedule, plain, plan_from_budget, plan_from_counts
from harness.samplers import GRIDS, SAMPLERS, make_grid, make_sampler
from harness.seeds import make_generators, per_image_randn
from harness.shards import Shard, parse_seeds, write_shard

ORACLE, ZERO = "oracle", "zero"  # --dot values for the ideal Dot and the zero residual


def add_arguments(parser) -> None:
    parser.add_argument("--dash", required=True, help="Dash source: digits, a hub id, a local dir, or config:<name>")
    parser.add_argument("--dash-path", default=None, help="local directory holding the Dash weights (offline)")
    parser.add_argument("--dot", default=None,
                        help=f"Dot checkpoint directory (from train-dot), '{ORACLE}' (Dash at every point) or '{ZERO}' (reuse z_ts)")
    parser.add_argument("--sampler", default="ddim", help="one of: " + ", ".join(SAMPLERS))
    parser.add_argument("--eta", type=float, default=None, help="DDIM's eta (default 0)")
    parser.add_argument("--grid", default="trailing",
                        help="time grid rule (harness/samplers/grids.py names each after its owner's code): " + ", ".join(GRIDS))
    plan = parser.add_argument_group("schedule: give exactly one of --steps, --fine-steps/--dash-steps, --lsd/--ratio")
    plan.add_argument("--steps", type=int, help="plain jump sampling with this many Dash steps (the baseline)")
    plan.add_argument("--fine-steps", type=int, help="Morse: points of the fine grid")
    plan.add_argument("--dash-steps", type=int, help="Morse: how many of them run Dash")
    plan.add_argument("--lsd", type=float, help="Morse: latency budget in LSD (Sec. 2.3)")
    plan.add_argument("--ratio", type=float, help="Morse: exchanged-steps ratio k/n (Fig. 13)")
    plan.add_argument("--N", type=float, help="Dash/Dot latency ratio: needed with --lsd, recorded otherwise")
    plan.add_argument("--requested-lsd", type=float,
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
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--experiment", default="adhoc")
    parser.add_argument("--point", default=None, help="name of this latency point (default: from the schedule)")
    parser.add_argument("--also-serves", action="append", default=[], metavar="JSON",
                        help='another request this schedule answers (the workflow samples a shared schedule once): '
                             '{"point": ..., "method": ..., "requested_lsd": ..., "requested_ratio": ...}')
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--out", required=True, type=Path, help="shard path, ending in .npz")


def plan(args, noise: dict) -> tuple[MorseSchedule, dict]:
    """The schedule the arguments ask for and what they requested: the step count asked of the grid,
    the LSD and k/n (a baseline: its steps and 0; counts: their cost under --N, or the budget they
    were resolved from, --requested-lsd/--requested-ratio). A HarnessError names what is wrong."""
    given = [args.steps is not None, args.fine_steps is not None or args.dash_steps is not None,
             args.lsd is not None or args.ratio is not None]
    if sum(given) != 1:
        raise HarnessError("give exactly one of --steps, --fine-steps with --dash-steps, or --lsd with --ratio and --N")
    try:
        if args.steps is not None:
            asked = {"requested_steps": args.steps, "requested_lsd": float(args.steps), "requested_ratio": 0.0}
            return plain(make_grid(args.grid, args.steps, noise)), asked
        if given[1]:
            if args.fine_steps is None or args.dash_steps is None:
                raise HarnessError("--fine-steps and --dash-steps go together")
            counts = budget.counts(args.dash_steps, args.fine_steps - args.dash_steps, args.N) if args.N else None
            asked = {"requested_steps": args.fine_steps,
                     "requested_lsd": args.requested_lsd if args.requested_lsd is not None else counts and counts.lsd,
                     "requested_ratio": args.requested_ratio if args.requested_ratio is not None else counts and counts.ratio}
            return plan_from_counts(args.grid, args.fine_steps, args.dash_steps, noise), asked
        if args.lsd is None or args.ratio is None or args.N is None:
            raise HarnessError("--lsd needs --ratio and --N")
        schedule, counts = plan_from_budget(args.grid, args.lsd, args.N, args.ratio, noise)
        return schedule, {"requested_steps": counts.grid_steps, "requested_lsd": args.lsd, "requested_ratio": args.ratio}
    except ValueError as err:
        raise HarnessError(str(err)) from None


def achieved(schedule: MorseSchedule, N: float | None) -> dict:
    """The schedule's cost in LSD (``lsd_cost``) and Dot share under the planning N (None without N)."""
    if schedule.dot_steps == 0:
        return {"lsd_cost": float(schedule.dash_steps), "achieved_ratio": 0.0}
    if not N:
        return {"lsd_cost": None, "achieved_ratio": None}
    counts = budget.counts(schedule.dash_steps, schedule.dot_steps, N)
    return {"lsd_cost": counts.lsd, "achieved_ratio": counts.ratio}


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW floats to uint8 NHWC, as EDM: round(x * 127.5 + 128) clipped to [0, 255]."""
    return (x * 127.5 + 128).clip(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def decode(dash, x: torch.Tensor) -> torch.Tensor:
    if dash.vae is None:
        return x
    with torch.no_grad():
        return dash.vae.decode(x / dash.vae.config.scaling_factor).sample


def _dot_for(args, dash, schedule: MorseSchedule, conditions: str):
    """(Dot for a batch from its Dash denoiser and guidance, the Dot's name); (None, None) without Dot steps."""
    if schedule.dot_steps == 0:
        return None, None
    if args.dot is None:
        raise HarnessError("this schedule has Dot steps: pass --dot DIR (or --dot oracle / --dot zero)")
    if args.dot == ORACLE:
        return (lambda dash_fn, guidance: OracleDot(dash_fn)), ORACLE
    if args.dot == ZERO:
        return (lambda dash_fn, guidance: ZeroResidualDot()), ZERO
    from harness.morse.checkpoint import load_dot

    dot = load_dot(Path(args.dot), dash, conditions=conditions, guidance_scale=args.guidance_scale)
    return (lambda dash_fn, guidance: DotDenoiser(dot, guidance)), str(args.dot)


def run(args) -> int:
    from harness.models.dash import load_dash

    if args.out.suffix != ".npz":
        raise HarnessError(f"--out must end in .npz, got {args.out}")
    if args.sampler not in SAMPLERS:
        raise HarnessError(f"unknown sampler {args.sampler!r}; known: {', '.join(SAMPLERS)}")
    if args.grid not in GRIDS:
        raise HarnessError(f"unknown time grid {args.grid!r}; known: {', '.join(GRIDS)}")
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    try:
        also_serves = [json.loads(spec) for spec in args.also_serves]
    except json.JSONDecodeError as err:
        raise HarnessError(f"--also-serves takes JSON: {err}") from None
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dash = load_dash(args.dash, local_path=args.dash_path, device=device)
    schedule, asked = plan(args, dash.noise)
    if len(schedule.grid) != asked["requested_steps"]:
        print(f"note: time grid {args.grid!r} visits {len(schedule.grid)} points for {asked['requested_steps']} "
              f"requested steps (its owner's rule, see harness/samplers/grids.py); the shard counts "
              f"{len(schedule.grid)}", file=sys.stderr)
    options = {"eta": args.eta} if args.eta is not None else {}
    try:
        sampler = make_sampler(args.sampler, dash.noise, schedule.grid, **options)
    except (ValueError, TypeError) as err:
        raise HarnessError(f"sampler {args.sampler!r}: {err}") from None
    source = parse_conditions(args.conditions)
    dash.conditioner.check(source.kind, args.guidance_scale, dash.source)
    values = source.for_seeds(seeds)  # all checked before any model runs
    make_dot, dot_name = _dot_for(args, dash, schedule, source.kind)

    images = []
    for start in tqdm(range(0, len(seeds), args.batch_size), desc=f"sample {args.out.name}", file=sys.stderr):
        batch_seeds = seeds[start : start + args.batch_size]
        batch_values = None if values is None else values[start : start + args.batch_size]
        guidance = dash.conditioner.guidance(batch_values, args.guidance_scale)  # encoded once per batch
        dash_fn = dash.denoiser(guidance, args.classifier_scale)
        dot_fn = make_dot(dash_fn, guidance) if make_dot else None
        generators = make_generators(batch_seeds, device)
        x_T = per_image_randn(dash.sample_shape, generators, device)
        x0 = morse_sample(x_T, schedule, sampler, dash_fn, dot_fn, generators, args.trajectory_source)
        images.append(to_uint8(decode(dash, x0)))

    meta = {
        "experiment": args.experiment,
        "method": "baseline" if args.steps is not None else "morse",
        "point": args.point or default_point(schedule),
        "sampler": args.sampler,
        "sampler_options": options,
        "grid_name": args.grid,
        **schedule.to_meta(),
        "N": args.N,
        **asked,
        **achieved(schedule, args.N),
        "also_serves": also_serves,
        "guidance_scale": args.guidance_scale,
        "classifier_scale": args.classifier_scale,
        "conditions": source.record(),
        "dash": dash.source,
        "dash_fingerprint": dash.fingerprint,
        "dot": dot_name,
        "trajectory_source": args.trajectory_source,
        "seeds": [seeds[0], seeds[-1]],
        "num_images": len(seeds),
        "image_size": list(images[0].shape[1:]),
        **provenance.columns(args, args.experiment, device),
    }
    stored = {} if source.kind == NONE else {source.kind: np.asarray(values)}
    write_shard(args.out, Shard(np.concatenate(images), np.asarray(seeds, dtype=np.int64), meta, stored))
    return 0


def default_point(schedule: MorseSchedule) -> str:
    if schedule.dot_steps == 0:
        return f"baseline_s{schedule.dash_steps}"
    return f"morse_f{len(schedule.grid)}_d{schedule.dash_steps}"
