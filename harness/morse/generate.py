"""One seed-range shard of images, plain jump sampling or Morse (Algorithm 2): `harness sample`.

The options are documented in harness/stages/sample.py. Per-image seeds (harness/seeds.py) make an
image depend only on its seed; the shard, with its schedule, LSD cost and provenance, is written
atomically after all input was checked.
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

from harness import provenance
from harness.conditions import NONE, parse_conditions
from harness.errors import HarnessError
from harness.morse.dot_denoisers import DotDenoiser, OracleDot, ZeroResidualDot
from harness.morse.sampling import morse_sample
from harness.morse import budget
from harness.morse.dot_config import ORACLE, ZERO
from harness.progress import progress
from harness.morse.schedule import MorseSchedule, plain, plan_from_budget, plan_from_counts
from harness.samplers import GRIDS, SAMPLERS, make_grid, make_sampler
from harness.seeds import make_generators, per_image_randn
from harness.shards import Shard, parse_seeds, write_shard



def schedule_for(*, grid: str, noise: dict, steps: int | None = None, fine_steps: int | None = None,
                 dash_steps: int | None = None, lsd: float | None = None, ratio: float | None = None,
                 N: float | None = None, requested_lsd: float | None = None,
                 requested_ratio: float | None = None) -> tuple[MorseSchedule, dict]:
    """The schedule asked for on ``grid`` (one of: ``steps``; ``fine_steps`` with ``dash_steps``; ``lsd`` with
    ``ratio`` and ``N``) and what was requested: the step count asked of the grid,
    the LSD and k/n (a baseline: its steps and 0; counts: their cost under --N, or the budget they
    were resolved from, --requested-lsd/--requested-ratio). A HarnessError names what is wrong."""
    given = [steps is not None, fine_steps is not None or dash_steps is not None,
             lsd is not None or ratio is not None]
    if sum(given) != 1:
        raise HarnessError("give exactly one of --steps, --fine-steps with --dash-steps, or --lsd with --ratio and --N")
    try:
        if steps is not None:
            asked = budget.requested(steps=steps)
            return plain(make_grid(grid, steps, noise)), {"requested_steps": steps, "requested_lsd": asked[0],
                                                          "requested_ratio": asked[1]}
        if given[1]:
            if fine_steps is None or dash_steps is None:
                raise HarnessError("--fine-steps and --dash-steps go together")
            asked = budget.requested(fine_steps=fine_steps, dash_steps=dash_steps, N=N)
            return plan_from_counts(grid, fine_steps, dash_steps, noise), {
                "requested_steps": fine_steps,
                "requested_lsd": requested_lsd if requested_lsd is not None else asked[0],
                "requested_ratio": requested_ratio if requested_ratio is not None else asked[1]}
        if lsd is None or ratio is None or N is None:
            raise HarnessError("--lsd needs --ratio and --N")
        schedule, counts = plan_from_budget(grid, lsd, N, ratio, noise)
        asked = budget.requested(lsd=lsd, ratio=ratio)
        return schedule, {"requested_steps": counts.grid_steps, "requested_lsd": asked[0], "requested_ratio": asked[1]}
    except ValueError as err:
        raise HarnessError(str(err)) from None


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] NCHW floats to uint8 NHWC, as EDM: round(x * 127.5 + 128) clipped to [0, 255]."""
    return (x * 127.5 + 128).clip(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def decode(dash, x: torch.Tensor) -> torch.Tensor:
    if dash.vae is None:
        return x
    with torch.no_grad():
        return dash.vae.decode(x / dash.vae.config.scaling_factor).sample


def _dot_for(dot: str | None, dash, schedule: MorseSchedule, conditions: str, guidance_scale: float | None):
    """(Dot for a batch from its Dash denoiser and guidance, the Dot's name); (None, None) without Dot steps."""
    if schedule.dot_steps == 0:
        return None, None
    if dot is None:
        raise HarnessError("this schedule has Dot steps: pass --dot DIR (or --dot oracle / --dot zero)")
    if dot == ORACLE:
        return (lambda dash_fn, guidance: OracleDot(dash_fn)), ORACLE
    if dot == ZERO:
        return (lambda dash_fn, guidance: ZeroResidualDot()), ZERO
    from harness.morse.checkpoint import load_dot

    model = load_dot(Path(dot), dash, conditions=conditions, guidance_scale=guidance_scale)
    return (lambda dash_fn, guidance: DotDenoiser(model, guidance)), str(dot)


def generate(*, out: Path, dash_source: str, sampler: str, grid: str, seeds: str, batch_size: int,
             dash_path: str | None = None, steps: int | None = None, fine_steps: int | None = None,
             dash_steps: int | None = None, lsd: float | None = None, ratio: float | None = None, N: float | None = None,
             requested_lsd: float | None = None, requested_ratio: float | None = None, dot: str | None = None,
             eta: float | None = None, trajectory_source: str = "dash", conditions: str = NONE,
             guidance_scale: float | None = None, classifier_scale: float | None = None, experiment: str | None = None,
             point: str | None = None, also_serves: list[str] = (), device: str | None = None,
             command_line: list[str] = ()) -> int:
    """One shard of ``seeds`` (``first-last``) at ``out``: Dash ``dash_source`` sampled by ``sampler`` on ``grid``,
    with Dot ``dot`` when the schedule has Dot steps (every option is `harness sample`'s, harness/stages/sample.py)."""
    from harness.models.dash import load_dash

    if out.suffix != ".npz":
        raise HarnessError(f"--out must end in .npz, got {out}")
    if sampler not in SAMPLERS:
        raise HarnessError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    if grid not in GRIDS:
        raise HarnessError(f"unknown time grid {grid!r}; known: {', '.join(GRIDS)}")
    try:
        seeds = parse_seeds(seeds)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    try:
        also_serves = [json.loads(spec) for spec in also_serves]
    except json.JSONDecodeError as err:
        raise HarnessError(f"--also-serves takes JSON: {err}") from None
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    dash = load_dash(dash_source, local_path=dash_path, device=device)
    schedule, asked = schedule_for(grid=grid, noise=dash.noise, steps=steps, fine_steps=fine_steps, dash_steps=dash_steps,
                                   lsd=lsd, ratio=ratio, N=N, requested_lsd=requested_lsd, requested_ratio=requested_ratio)
    if len(schedule.grid) != asked["requested_steps"]:
        print(f"note: time grid {grid!r} visits {len(schedule.grid)} points for {asked['requested_steps']} "
              f"requested steps (its owner's rule, see harness/samplers/grids.py); the shard counts "
              f"{len(schedule.grid)}", file=sys.stderr)
    options = {"eta": eta} if eta is not None else {}
    try:
        sampler_fn = make_sampler(sampler, dash.noise, schedule.grid, **options)
    except (ValueError, TypeError) as err:
        raise HarnessError(f"sampler {sampler!r}: {err}") from None
    source = parse_conditions(conditions)
    dash.conditioner.check(source.kind, guidance_scale, dash.source)
    values = source.for_seeds(seeds)  # all checked before any model runs
    make_dot, dot_name = _dot_for(dot, dash, schedule, source.kind, guidance_scale)

    images = []
    for start in progress(range(0, len(seeds), batch_size), desc=f"sample {out.name}", unit="batch"):
        batch_seeds = seeds[start : start + batch_size]
        batch_values = None if values is None else values[start : start + batch_size]
        guidance = dash.conditioner.guidance(batch_values, guidance_scale)  # encoded once per batch
        dash_fn = dash.denoiser(guidance, classifier_scale)
        dot_fn = make_dot(dash_fn, guidance) if make_dot else None
        generators = make_generators(batch_seeds, device)
        x_T = per_image_randn(dash.sample_shape, generators, device)
        x0 = morse_sample(x_T, schedule, sampler_fn, dash_fn, dot_fn, generators, trajectory_source)
        images.append(to_uint8(decode(dash, x0)))

    meta = {
        "experiment": experiment,
        "method": "baseline" if steps is not None else "morse",
        "point": point or default_point(schedule),
        "sampler": sampler,
        "sampler_options": options,
        "grid_name": grid,
        **schedule.to_meta(),
        "N": N,
        **asked,
        **budget.achieved(schedule.dash_steps, schedule.dot_steps, N),
        "also_serves": also_serves,
        "guidance_scale": guidance_scale,
        "classifier_scale": classifier_scale,
        "conditions": source.record(),
        "dash": dash.source,
        "dash_fingerprint": dash.fingerprint,
        "dot": dot_name,
        "trajectory_source": trajectory_source,
        "seeds": [seeds[0], seeds[-1]],
        "num_images": len(seeds),
        "image_size": list(images[0].shape[1:]),
        **provenance.columns(list(command_line), experiment, device),
    }
    stored = {} if source.kind == NONE else {source.kind: np.asarray(values)}
    write_shard(out, Shard(np.concatenate(images), np.asarray(seeds, dtype=np.int64), meta, stored))
    return 0


def default_point(schedule: MorseSchedule) -> str:
    if schedule.dot_steps == 0:
        return f"baseline_s{schedule.dash_steps}"
    return f"morse_f{len(schedule.grid)}_d{schedule.dash_steps}"
