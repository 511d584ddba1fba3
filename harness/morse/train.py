"""Dot training (Algorithm 1; `harness train-dot`, harness/stages/train_dot.py): teach eta to lift Dash's estimate at t_s to Dash's estimate at t_o.

Per image: t_s, t_o ~ U[0, T] with t_s > t_o (line 4);  x_ts = alpha x + sigma eps;
z_ts = Dash(x_ts, t_s);  x_to = phi(x_ts, z_ts, t_s, t_o) (one step of the sampler);
target = Dash(x_to, t_o);  loss = || z_ts + eta(x_ts, x_to, z_ts, t_s, t_o) - target ||^2, Dash frozen.

By default every image draws its own pair over the whole range, as Algorithm 1: two distinct
uniform training steps, ordered (so gaps up to T - 1, small ones more often). Both Dash calls run on
the whole batch with per-image timesteps; phi runs through the same sampler classes as generation,
once per distinct pair. Two named options narrow the task, neither the paper's: ``max_gap`` (pairs
at most that far apart, drawn uniformly among those) and ``groups`` (that many pairs per batch,
each shared by a slice of it). ``rollout`` K > 1 (not the paper's) reaches x_to as sampling does:
by k ~ U{1..K} sampler steps on an even sub-grid of [t_s, t_o], the first with z_ts and each later one
with the Dot being trained (no gradient), so Dot learns on the states its own earlier steps lead to
(Eq. 5's chain) rather than only on one jump from Dash's estimate; with a zero residual and DDIM the
k steps are the one jump, so training starts as Algorithm 1. The held-out check reports the residual error of Dot and of the zero
residual by gap, so a reader sees where Dot helps. Runs on one process, or on several processes
under ``torchrun`` (DistributedDataParallel: NCCL on GPUs, gloo on CPU; rank 0 writes): every process
draws the randomness of the whole batch (images, pairs, noise, guidance scales) from one stream seeded
alike and keeps its own slice, so K processes of ``--batch-size B`` train the same Dot as one process
of ``K*B`` (up to float rounding). ``--resume`` continues from the last checkpoint, with the optimiser
and random state restored.

Conditional Dash: Dot trains on images with their conditions (labels, captions), sees the same
conditioning as Dash, and with ``--guidance-scales LO HI`` learns the guided estimate: each image
draws w ~ U[LO, HI] (the paper's appendix for SD: [2, 10]), both Dash calls run CFG at that w, and
Dot takes w as an input.
"""

from __future__ import annotations

import math
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Callable
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from tabulate import tabulate

from harness.errors import HarnessError
from harness.morse.checkpoint import save_dot
from harness.morse.ema import TrainableEMA
from harness.step_log import StepLog
from harness.models.denoisers import DashDenoiser
from harness.morse.dot import build_dot
from harness.morse.dot_config import DotConfig
from harness.progress import progress
from harness.registry import Registry
from harness.samplers import SAMPLERS, make_sampler
from harness.samplers.noise import NoiseSchedule
from harness.seeds import make_generators

GAP_EDGES = (0, 50, 100, 200, 400, 700, 1000)  # held-out gap bins, in steps of a 1000-step schedule (scaled to T)


@dataclass
class PairBatch:
    """Algorithm 1, lines 2-8, for one batch: inputs of Dot and its target, t per image."""

    x_ts: torch.Tensor
    x_to: torch.Tensor
    z_ts: torch.Tensor
    target: torch.Tensor
    t_s: torch.Tensor
    t_o: torch.Tensor


@dataclass
class Rollout:
    """Dot's own steps between t_s and t_o (``make_pairs``): at most ``max_steps`` sampler steps (a planned
    pair's own count, else k ~ U{1..max_steps}), each after the first with the residual
    ``dot(x_ts, x_ti, z_ts, t_s, t_i, **inputs)`` (``inputs``: per image); ``share``: the fraction of the
    images that roll out, the others one step from z_ts as Algorithm 1 (a mixture of the two)."""

    dot: torch.nn.Module
    max_steps: int
    inputs: dict = field(default_factory=dict)
    share: float = 1.0


def draw_pairs(count: int, T: int, generator: torch.Generator, max_gap: int | None = None,
               pair_set: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Algorithm 1, line 4: ``count`` pairs t_s > t_o, uniform over the pairs of steps in [0, T - 1]
    (two distinct uniform steps, ordered); with ``max_gap``, uniform over the pairs at most that far apart;
    with ``pair_set`` (rows (t_s, t_o, sampler steps between them), ``planned_pairs``), uniform over its rows.
    Returns t_s, t_o and, for a pair set, each pair's sampler steps (else None)."""
    if pair_set is not None:
        rows = pair_set[torch.randint(0, len(pair_set), (count,), generator=generator)]
        return rows[:, 0].clone(), rows[:, 1].clone(), rows[:, 2].clone()
    t_s, t_o = torch.empty(0, dtype=torch.long), torch.empty(0, dtype=torch.long)
    while len(t_s) < count:
        a, b = torch.randint(0, T, (2, count), generator=generator)
        keep = (a != b) & ((a - b).abs() <= (max_gap or T))
        t_s, t_o = torch.cat([t_s, torch.maximum(a, b)[keep]]), torch.cat([t_o, torch.minimum(a, b)[keep]])
    return t_s[:count], t_o[:count], None


def planned_pairs(schedules: list[tuple[str, int, int, str]], noise: dict) -> torch.Tensor:
    """The (t_s, t_o, k) of every Dot step of the Morse schedules Dot will run, each (grid rule, fine steps,
    Dash steps, trajectory source) as `harness sample` plans it, k the sampler steps sampling takes from t_s
    to t_o; one row per Dot step (a pair several schedules share counts once per schedule), so training
    draws them as sampling meets them."""
    from harness.morse.schedule import plan_from_counts

    rows = []
    for grid, fine, dash, source in schedules:
        plan = plan_from_counts(grid, fine, dash, noise)
        rows += [(t_s, t_o, plan.grid.index(t_o) - plan.grid.index(t_s)) for t_s, t_o in plan.dot_pairs(source)]
    if not rows:
        raise HarnessError("the planned schedules have no Dot step: no pair to train on")
    return torch.tensor(rows, dtype=torch.long)


@torch.no_grad()
def make_pairs(dash: DashDenoiser, sampler: str, noise: dict, x0: torch.Tensor, generator: torch.Generator, *,
               max_gap: int | None = None, groups: int | None = None, share: tuple[int, int] = (0, 1),
               pair_set: torch.Tensor | None = None, rollout: Rollout | None = None) -> PairBatch:
    """Algorithm 1, lines 3-8, for a batch: one (t_s, t_o) per image, or per slice with ``groups``
    (drawn by ``draw_pairs``: over the whole range, or from ``pair_set``); x_to by one sampler step, or with
    ``rollout`` by k steps, Dot's estimates after the first (``roll_out``): k ~ U{1..K}, or for a planned
    pair the steps its schedule takes (at most K), so x_to is the state sampling reaches; on the share of
    the images ``rollout.share``, the others one step.
    ``share`` = (rank, world): x0 is that process's slice of a batch ``world`` times larger; the pairs and
    noise are drawn for the whole batch and the slice's kept, so the processes together draw what one would."""
    (rank, world), schedule = share, NoiseSchedule(noise)
    n, whole = len(x0), len(x0) * world
    t_s, t_o, planned = draw_pairs(groups or whole, schedule.num_train_timesteps, generator, max_gap, pair_set)
    if groups:
        sizes = torch.tensor([len(chunk) for chunk in torch.arange(whole).chunk(groups)])
        t_s, t_o, planned = (v[: len(sizes)].repeat_interleave(sizes) if v is not None else None for v in (t_s, t_o, planned))
    eps = torch.randn((whole, *x0.shape[1:]), generator=generator)
    seeds = torch.randint(0, 2**31 - 1, (whole,), generator=generator)
    if rollout is None:
        steps = torch.ones(whole, dtype=torch.long)
    elif planned is not None:
        steps = planned.clamp(max=rollout.max_steps)
    else:  # drawn only for a rollout, so Algorithm 1's pairs and noise stay the stream they were
        steps = torch.randint(1, rollout.max_steps + 1, (whole,), generator=generator)
    if rollout is not None and rollout.share < 1:  # drawn only for a mixture: a plain rollout's stream stays
        steps[torch.rand(whole, generator=generator) >= rollout.share] = 1
    mine = slice(rank * n, (rank + 1) * n)
    t_s, t_o, eps, seeds = t_s[mine], t_o[mine], eps[mine].to(x0), seeds[mine].tolist()
    steps = torch.minimum(steps[mine], t_s - t_o).tolist()  # at most one step per training step of the gap
    t_s, t_o = t_s.to(x0.device), t_o.to(x0.device)
    x_ts = schedule.add_noise(x0, eps, t_s)
    z_ts = dash(x_ts, t_s)
    x_to = roll_out(sampler, noise, x_ts, z_ts, t_s, t_o, steps, seeds, rollout)
    return PairBatch(x_ts, x_to, z_ts, dash(x_to, t_o), t_s, t_o)


def roll_out(sampler: str, noise: dict, x_ts: torch.Tensor, z_ts: torch.Tensor, t_s: torch.Tensor, t_o: torch.Tensor,
             steps: list[int], seeds: list[int], rollout: Rollout | None = None) -> torch.Tensor:
    """x_to from x_ts by ``steps[i]`` sampler steps on the even sub-grid t_s = u_0 > ... > u_k = t_o of each
    image: Algorithm 1, line 7 (k = 1: phi once, from z_ts) or, with ``rollout``, Eq. 5's chain of Dot steps
    after Dash's (the estimate at each u_j after the first: z_ts + Dot's residual). Images sharing a sub-grid
    step together, through the same sampler classes as generation."""
    grids = [tuple(round(s - j * (s - o) / k) for j in range(k + 1))
             for s, o, k in zip(t_s.tolist(), t_o.tolist(), steps)]
    members: dict[tuple, list[int]] = {}
    for i, grid in enumerate(grids):
        members.setdefault(grid, []).append(i)
    groups = []
    for grid, images in members.items():
        phi = make_sampler(sampler, noise, grid)
        generators = make_generators([seeds[i] for i in images], x_ts.device) if phi.stochastic else None
        groups.append((torch.tensor(images, device=x_ts.device), phi, generators, len(grid) - 1))
    x = x_ts.clone()
    for j in range(max(steps)):
        active = [g for g in groups if g[3] > j]
        z = z_ts
        if j:  # Dot's estimate at u_j for the images still on their way (Eq. 5, second case)
            rows = torch.cat([g[0] for g in active])
            t_i = torch.tensor([g[1].grid[j] for g in active for _ in g[0]], device=x.device)
            z = z_ts.clone()
            z[rows] = z_ts[rows] + rollout.dot(x_ts[rows], x[rows], z_ts[rows], t_s[rows], t_i,
                                               **_rows(rollout.inputs, rows))
        for index, phi, generators, _ in active:
            x[index] = phi.step(j, x[index], z[index], generators)
    return x


def _rows(inputs: dict, rows: torch.Tensor) -> dict:
    """Per-image inputs (tensors, nested dicts of them) at ``rows``."""
    return {k: _rows(v, rows) if isinstance(v, dict) else v[rows] for k, v in inputs.items()}


# Per-image weights of the residual loss, by name (`--loss-weight`); each gets alphas_cumprod and t_o.
LOSS_WEIGHTS: Registry[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = Registry("Dot loss weight")
X0_WEIGHT_CAP = 5.0  # the x0 weight's cap: near t_o = T, (1 - abar)/abar grows without bound


@LOSS_WEIGHTS.register("none")
def _uniform_weight(alphas_cumprod: torch.Tensor, t_o: torch.Tensor) -> torch.Tensor:
    """Algorithm 1 as written: every pair counts the same."""
    return torch.ones(len(t_o), device=t_o.device)


@LOSS_WEIGHTS.register("x0")
def _x0_weight(alphas_cumprod: torch.Tensor, t_o: torch.Tensor) -> torch.Tensor:
    """The error a noise error makes in the clean image at t_o (x0 = (x - sqrt(1 - abar) z) / sqrt(abar)):
    (1 - abar)/abar, capped at X0_WEIGHT_CAP; short gaps near t = 0, where the sample is nearly
    final, then count as much as the long gaps near t = T, whose residuals are larger."""
    abar = alphas_cumprod.to(t_o.device)[t_o].float()
    return ((1 - abar) / abar).clamp(max=X0_WEIGHT_CAP)


def residual_loss(dot, batch: PairBatch, weights: torch.Tensor | None = None, inputs: dict | None = None,
                  weight_mean: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Algorithm 1, line 10: || z_ts + eta(...) - Dash(x_to, t_o) ||^2 per image, averaged with ``weights``
    (normalised to mean 1, so the loss and the learning rate keep their scale; None: uniform, as the paper;
    ``weight_mean``: their mean over the whole batch when ``batch`` is one process's slice of it);
    ``inputs``: Dot's conditioning and guidance scale (``conditioned``).
    Returns (the loss to minimise, the unweighted mean squared error, comparable with the zero residual's)."""
    prediction = batch.z_ts + dot(batch.x_ts, batch.x_to, batch.z_ts, batch.t_s, batch.t_o, **(inputs or {}))
    errors = _per_image_mse(prediction, batch.target)
    scale = 1.0 if weights is None else weights / (weights.mean() if weight_mean is None else weight_mean)
    return (scale * errors).mean(), errors.mean().detach()


def conditioned(dash, values, scales: tuple[float, float] | None, generator: torch.Generator,
                classifier_scale: float | None = None, part: slice = slice(None)) -> tuple[DashDenoiser, dict]:
    """Dash's denoiser for a batch of conditions (None: unconditional) and Dot's inputs: the same
    conditioning and, trained over guidance scales, w ~ U[scales] per image, at which Dash runs CFG;
    with ``classifier_scale``, Dash is classifier-guided (ADM-G) and Dot learns that estimate.
    ``part``: this process's slice of the batch (w is drawn for all of ``values``, then sliced)."""
    if values is None:
        return dash.denoiser(None, classifier_scale), {}
    w = None
    if scales is not None:
        lo, hi = scales
        w = (lo + (hi - lo) * torch.rand(len(values), generator=generator))[part]
    values = values[part]
    guidance = dash.conditioner.guidance(values, w)
    inputs = dict(guidance.cond)
    if w is not None:
        inputs["guidance_scale"] = w.to(next(dash.unet.parameters()).device)
    return dash.denoiser(guidance, classifier_scale), inputs


def _per_image_mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).pow(2).flatten(1).mean(1)


@torch.no_grad()
def heldout_error(dash, dot, sampler: str, noise: dict, data: torch.Tensor, *, max_gap: int | None = None,
                  groups: int | None = None, pair_set: torch.Tensor | None = None, pairs_per_image: int = 8, batch_size: int = 64, seed: int = 1234,
                  conditioning=None, rollout: int = 1) -> dict:
    """Residual MSE of Dot and of the zero residual (Dot := reuse z_ts) on held-out pairs drawn as in
    training (Table 4's logic), overall and by gap t_s - t_o (``by_gap``: one row per GAP_EDGES bin);
    with ``rollout`` K > 1, x_to reached by up to K steps of this Dot (the states its own chain leads to).
    ``conditioning(rows, generator)``: (Dash's denoiser, Dot's inputs) for those images (``conditioned``)."""
    generator = torch.Generator().manual_seed(seed)
    gaps, dot_err, zero_err = [], [], []
    for _ in range(pairs_per_image):
        for start in range(0, len(data), batch_size):
            x0 = data[start : start + batch_size]
            denoiser, inputs = conditioning(slice(start, start + len(x0)), generator) if conditioning else (dash, {})
            batch = make_pairs(denoiser, sampler, noise, x0, generator, max_gap=max_gap,
                               groups=min(groups, len(x0)) if groups else None, pair_set=pair_set,
                               rollout=Rollout(dot, rollout, inputs) if rollout > 1 else None)
            prediction = batch.z_ts + dot(batch.x_ts, batch.x_to, batch.z_ts, batch.t_s, batch.t_o, **inputs)
            gaps.append((batch.t_s - batch.t_o).cpu())
            dot_err.append(_per_image_mse(prediction, batch.target).cpu())
            zero_err.append(_per_image_mse(batch.z_ts, batch.target).cpu())
    gaps, dot_err, zero_err = torch.cat(gaps), torch.cat(dot_err), torch.cat(zero_err)
    T = int(noise["num_train_timesteps"])
    edges = [round(e * T / GAP_EDGES[-1]) for e in GAP_EDGES]
    by_gap = []
    for low, high in zip(edges, edges[1:]):
        inside = (gaps > low) & (gaps <= high)
        if inside.any():
            d, z = dot_err[inside].mean().item(), zero_err[inside].mean().item()
            by_gap.append({"gap": f"{low + 1}-{high}", "pairs": int(inside.sum()), "dot_mse": d,
                           "zero_residual_mse": z, "dot_over_zero": d / z})
    return {"dot_mse": dot_err.mean().item(), "zero_residual_mse": zero_err.mean().item(), "pairs": len(gaps),
            "by_gap": by_gap}


def gap_table(heldout: dict) -> str:
    """The held-out residual error by gap as a text table (training log, report)."""
    return tabulate(heldout["by_gap"], headers="keys", tablefmt="github", floatfmt=".4g")


def _lr_lambda(warmup: int, total: int):
    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = (step - warmup) / max(1, total - warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))

    return factor


def _encode(dash, images: torch.Tensor) -> torch.Tensor:
    """Pixels to the space Dash samples in (latent models: the VAE's scaled latents)."""
    if dash.vae is None:
        return images
    with torch.no_grad():
        return dash.vae.encode(images.to(dash.vae.dtype)).latent_dist.sample() * dash.vae.config.scaling_factor


def _distributed() -> tuple[int, int, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return 0, 1, torch.device("cuda" if torch.cuda.is_available() else "cpu")
    local = int(os.environ["LOCAL_RANK"])
    dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    device = torch.device(f"cuda:{local}") if torch.cuda.is_available() else torch.device("cpu")
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return dist.get_rank(), world, device


def _dot_config(architecture: dict, conditions: str, guidance_scales) -> DotConfig:
    """The DotConfig of train-dot's architecture options (keys of ARCHITECTURE; a list as comma-separated text)."""
    listed = {key: tuple(v for v in value.split(",") if v) if isinstance(getattr(DotConfig, key), tuple) else value
              for key, value in architecture.items()}
    try:
        return DotConfig(**listed, conditions=conditions, guidance_scales=guidance_scales)
    except ValueError as err:
        raise HarnessError(str(err)) from None


def train_dot(*, dash_source: str, data: str, out: Path, architecture: dict, sampler: str, loss_weight: str, steps: int,
              batch_size: int, lr: float, warmup: int, seed: int, checkpoint_every: int, dash_path: str | None = None,
              eval_data: str | None = None, max_gap: int | None = None, groups: int | None = None,
              schedules: list[tuple[str, int, int, str]] | None = None, rollout: int = 1, rollout_from: int = 0,
              rollout_share: float = 1.0, init: Path | None = None, ema: float = 0.0,
              guidance_scales: tuple[float, float] | None = None, classifier_scale: float | None = None,
              resume: bool = False, threads: int | None = None, command_line: list[str] = ()) -> int:
    """Train a Dot on Dash ``dash_source`` by Algorithm 1 into ``out`` (every option is `harness train-dot`'s,
    harness/stages/train_dot.py; ``architecture`` its options named by dot_config.ARCHITECTURE); ``rollout``:
    the most sampler steps from t_s to t_o (``make_pairs``), from step ``rollout_from`` on (Algorithm 1's
    one step before it), for the share ``rollout_share`` of the images; ``init``: a trained Dot of this architecture and
    Dash to start from (fine-tuning) instead of fresh weights; ``ema``: > 0, the Dot written is the moving
    average of the weights with this decay (harness/morse/ema.py)."""
    from harness.models.architectures import side_divisor
    from harness.models.dash import load_dash

    training = {"dash": dash_source, "dash_path": dash_path, "data": data, "eval_data": eval_data, "sampler": sampler,
                "max_gap": max_gap, "groups": groups, "schedules": schedules, "rollout": rollout, "rollout_from": rollout_from,
                "rollout_share": rollout_share, "init": init, "ema": ema, "loss_weight": loss_weight, "steps": steps, "batch_size": batch_size,
                "lr": lr, "warmup": warmup, "seed": seed, **architecture, "guidance_scales": guidance_scales,
                "classifier_scale": classifier_scale, "checkpoint_every": checkpoint_every, "out": out, "resume": resume,
                "threads": threads, "command_line": list(command_line)}  # recorded in dot.json

    if sampler not in SAMPLERS:
        raise HarnessError(f"unknown sampler {sampler!r}; known: {', '.join(SAMPLERS)}")
    _dot_config(architecture, "labels" if guidance_scales else "none", guidance_scales)  # fails early: before loading Dash
    if schedules and max_gap:
        raise HarnessError("--schedules and --max-gap both choose the pairs: give one")
    if rollout_share < 1 and rollout < 2:
        raise HarnessError("--rollout-share splits the images between a rollout and Algorithm 1: give --rollout K > 1 too")
    rank, world, device = _distributed()
    dash = load_dash(dash_source, local_path=dash_path, device=device)
    kind = dash.conditioner.kind
    config = _dot_config(architecture, kind, guidance_scales)
    factor = 2**config.m
    if dash.sample_shape[1] % factor or dash.sample_shape[2] % factor:
        raise HarnessError(f"Dash samples {dash.sample_shape[1]}x{dash.sample_shape[2]} are not divisible by 2^m = {factor}; lower --m")
    body = side_divisor({"_class_name": type(dash.unet).__name__, **dash.unet.config})
    if (dash.sample_shape[1] // factor) % body or (dash.sample_shape[2] // factor) % body:
        raise HarnessError(f"Dot runs Dash's UNet at 1/2^m = 1/{factor} of its {dash.sample_shape[1]}x"
                           f"{dash.sample_shape[2]} samples, where its {body.bit_length() - 1} downsamplings need sides "
                           f"divisible by {body}; lower --m")
    images, values = load_training_data_for(dash, data)
    dash_fingerprint = dash.fingerprint  # before LoRA is injected into the shared modules
    torch.manual_seed(seed)  # Dot's initial weights (DDP then copies rank 0's to every process)
    dot = build_dot(dash.unet, config)
    if init is not None:
        _start_from(init, dot, dash)
    dot = dot.to(device)
    trainable = [p for p in dot.parameters() if p.requires_grad]
    model = torch.nn.parallel.DistributedDataParallel(dot) if world > 1 else dot
    optimizer = torch.optim.AdamW(trainable, lr=lr, weight_decay=0.0)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, _lr_lambda(warmup, steps))
    average = TrainableEMA(dot, ema) if ema else None
    generator = torch.Generator().manual_seed(seed * 1000)  # alike on every process (make_pairs' share)
    try:
        weight = LOSS_WEIGHTS.get(loss_weight)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    alphas_cumprod = NoiseSchedule(dash.noise).alphas_cumprod
    pair_set = planned_pairs(schedules, dash.noise) if schedules else None
    start, elapsed = 0, 0.0
    resume_path = out / "checkpoints" / "last.pt"
    if resume and resume_path.exists():
        state = torch.load(resume_path, map_location=device, weights_only=False)
        dot.load_state_dict(state["dot"], strict=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])  # the one stream every process draws from
        if average is not None and "ema" in state:
            average.load_state_dict(state["ema"])
        start, elapsed = state["step"], state["elapsed"]
        print(f"resuming from step {start} ({resume_path})", file=sys.stderr)
    if rank == 0:
        out.mkdir(parents=True, exist_ok=True)
    log = StepLog(out / "loss.csv", ("step", "loss", "zero_residual_loss", "lr", "elapsed_s"), start) if rank == 0 else None
    began = time.perf_counter() - elapsed
    bar = progress(range(start, steps), initial=start, total=steps, desc="train-dot", unit="step",
                   quiet=rank != 0)
    mine = slice(rank * batch_size, (rank + 1) * batch_size)  # this process's images of each batch
    for step in bar:
        rows = torch.randint(len(images), (batch_size * world,), generator=generator)
        x0 = _encode(dash, images[rows[mine]].to(device))
        denoiser, inputs = conditioned(dash, _take(values, rows), guidance_scales, generator, classifier_scale,
                                       part=mine)
        batch = make_pairs(denoiser, sampler, dash.noise, x0, generator, max_gap=max_gap, groups=groups,
                           share=(rank, world), pair_set=pair_set,
                           rollout=Rollout(dot, rollout, inputs, rollout_share) if rollout > 1 and step >= rollout_from else None)
        weights = weight(alphas_cumprod, batch.t_o)
        loss, mse = residual_loss(model, batch, weights, inputs, weight_mean=_batch_mean(weights, world))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP averages the processes' gradients: the gradient of the whole batch's loss
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        optimizer.step()
        scheduler.step()
        if average is not None:
            average.update()
        mse, zero = _process_mean(torch.stack([mse, F.mse_loss(batch.z_ts, batch.target).detach()]), world)
        if rank == 0:
            log.write(step + 1, f"{mse.item():.6g}", f"{zero.item():.6g}", f"{scheduler.get_last_lr()[0]:.3g}",
                      f"{time.perf_counter() - began:.1f}")
            bar.set_postfix(mse=f"{mse.item():.4f}", zero=f"{zero.item():.4f}")
            if (step + 1) % checkpoint_every == 0 or step + 1 == steps:
                _save_resume(resume_path, dot, optimizer, scheduler, generator, step + 1, time.perf_counter() - began,
                             average)
    if average is not None:
        average.copy_to_module()  # the Dot evaluated and written: the averaged weights
    if rank == 0:
        meta = {
            "dash_source": dash.source,
            "dash_fingerprint": dash_fingerprint,
            "sample_shape": list(dash.sample_shape),
            "training": {k: (str(v) if isinstance(v, Path) else v) for k, v in training.items()},
            "command": " ".join(["python -m harness train-dot"] + sys.argv[2:]),
            "steps_done": steps,
            "world_size": world,
            "wall_time_s": round(time.perf_counter() - began, 1),
            "trainable_parameters": sum(p.numel() for p in trainable),
        }
        if eval_data:
            held, held_values = load_training_data_for(dash, eval_data)
            # on Algorithm 1's pairs, and with --rollout also on the states the Dot's own steps reach
            for key, steps_to_o in [("heldout", 1)] + ([("heldout_rollout", rollout)] if rollout > 1 else []):
                meta[key] = heldout_error(
                    DashDenoiser(dash.unet), dot.eval(), sampler, dash.noise, _encode(dash, held.to(device)),
                    max_gap=max_gap, groups=groups, pair_set=pair_set, rollout=steps_to_o,
                    conditioning=None if held_values is None else
                    lambda rows, gen: conditioned(dash, held_values[rows], guidance_scales, gen, classifier_scale))
                print(f"{key}: residual MSE Dot {meta[key]['dot_mse']:.5f} vs zero residual "
                      f"{meta[key]['zero_residual_mse']:.5f}; by gap t_s - t_o:\n{gap_table(meta[key])}", file=sys.stderr)
        save_dot(out, dot, meta)
    if world > 1:
        dist.destroy_process_group()
    return 0


def _start_from(directory: Path, dot, dash) -> None:
    """``--init``: the trained weights of the Dot in ``directory``, which must be this architecture on this Dash."""
    from harness.morse.checkpoint import check_dash, load_weights, read_meta

    meta = read_meta(directory)
    check_dash(directory, meta, dash)
    if DotConfig.from_dict(meta["dot_config"]) != dot.config:
        raise HarnessError(f"--init {directory}: its Dot has another architecture ({meta['dot_config']}) than the "
                           f"one asked for ({dot.config.to_dict()})")
    load_weights(directory, dot)


def _batch_mean(values: torch.Tensor, world: int) -> torch.Tensor | None:
    """The mean of per-image ``values`` over the whole batch, every process holding an equal slice
    (one process: None, the slice is the batch)."""
    if world == 1:
        return None
    total = values.detach().sum()
    dist.all_reduce(total)
    return total / (len(values) * world)


def _process_mean(values: torch.Tensor, world: int) -> torch.Tensor:
    """``values`` averaged over the processes (the whole batch's mean of per-slice means of equal slices)."""
    if world > 1:
        values = values.clone()
        dist.all_reduce(values)
        values /= world
    return values


def _take(values, rows: torch.Tensor):
    """The conditions of these rows (None stays None; prompts are a list)."""
    if values is None:
        return None
    return values[rows.numpy()] if hasattr(values, "shape") else [values[i] for i in rows.tolist()]


def load_training_data_for(dash, spec: str) -> tuple[torch.Tensor, object]:
    """Training images for Dash and, when Dash is conditional, one condition each (labels or captions)."""
    from harness.conditions import NONE
    from harness.data.training import load_conditioned

    kind = dash.conditioner.kind
    if kind == NONE:
        return load_training_tensor_for(dash, spec), None
    pixels = dash.sample_shape[1] * (2 ** (len(dash.vae.config.block_out_channels) - 1) if dash.vae is not None else 1)
    return load_conditioned(spec, kind, pixels)


def load_training_tensor_for(dash, spec: str) -> torch.Tensor:
    from harness.data.training import load_training_tensor

    data = load_training_tensor(spec)
    if dash.vae is None and tuple(data.shape[1:]) != tuple(dash.sample_shape):
        raise HarnessError(f"images of {spec} are {tuple(data.shape[1:])}, Dash samples {tuple(dash.sample_shape)}")
    return data


def _save_resume(path: Path, dot, optimizer, scheduler, generator, step: int, elapsed: float,
                 average: TrainableEMA | None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"dot": dot.trainable_state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "generator": generator.get_state(),
             "step": step, "elapsed": elapsed, **({"ema": average.state_dict()} if average is not None else {})}
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
