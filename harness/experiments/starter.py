"""A starter experiment config for your own Dash: `harness new-experiment` (docs/own-model.md).

``starter_config(name=..., dash=..., data=...)`` reads the Dash folder's architecture (diffusers
config.json + scheduler_config.json, :mod:`harness.models.dash_folder`), checks that the images have
its size and channels, sizes a Dot for its resolution, measures the planning N with a quick latency
probe on this machine (a few timed steps of each, :mod:`harness.latency`), and returns the YAML of
an experiment that validates and runs as it is, every choice commented, with the smallest counts
that make sense: FID on one more image than its features have dimensions (fewer leave the covariance
rank-deficient), two replicates (the least that gives the average speedup an interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from harness import external
from harness.errors import HarnessError

# FID feature networks that run offline, by preference: (name, feature dimensions, what it needs, what it means)
INCEPTION_DIMS, DIGITSNET_DIMS = 2048, 64
BASELINE_STEPS = (1, 2, 3, 4, 6, 8)
BUDGETS = (3, 5)  # LSD budgets of the Morse points (Sec. 2.3), at the paper's k/n = 0.5
RATIO = 0.5
PROBE_BATCH = 64  # the probe and the workflow's latency job time the same batch


@dataclass(frozen=True)
class Probe:
    """The quick latency probe's result: seconds per step of Dash and Dot on this machine, and N."""

    dash_s: float
    dot_s: float
    repeats: int

    @property
    def N(self) -> float:
        return self.dash_s / self.dot_s


def dot_size(sample_shape: tuple[int, int, int], unet_config: dict) -> tuple[int, list[int]]:
    """(m, channels) of a shared Dot for a Dash of this (C, H, W): m = 2 extra down-sampling blocks (appendix
    A.2) when the side is 16 or more, so the shared network runs at 1/16 of the pixels, else 1; each block half
    as wide as the Dash's first level, doubling inward."""
    m = 2 if min(sample_shape[1:]) >= 16 else 1
    first = max(8, int((unet_config.get("block_out_channels") or [32])[0]) // 2)
    return m, [first * 2**level for level in range(m)]


def fid_extractor(inception_weights: str | Path | None = None) -> tuple[str, int, str]:
    """(extractor, feature dimensions, comment): torch-fidelity's InceptionV3 (the paper's FID) when its
    weights file is here, else the shipped digits network (offline always, a proxy FID)."""
    weights = Path(inception_weights or external.get(external.INCEPTION).location)
    if weights.is_file():
        return ("inception-v3-compat", INCEPTION_DIMS,
                f"the paper's FID network, read offline from {weights} (metrics.fid.extractor_weights)")
    return ("digitsnet", DIGITSNET_DIMS,
            f"no Inception weights at {weights}, so the shipped digits network (offline, 64 features: a proxy FID, "
            "comparable only within this experiment); put torch-fidelity's weights file there and set "
            "`extractor: inception-v3-compat` for the paper's FID (docs/own-model.md)")


def probe_latency(dash_dir: str | Path, m: int, channels: list[int], *, batch: int = PROBE_BATCH,
                  repeats: int = 10, threads: int = 1) -> Probe:
    """A few timed steps of Dash and of the Dot sized for it, on one CPU thread (as the workflow's latency
    job runs): N = Dash / Dot per-step latency (Sec. 3.1), the number Morse points are planned with."""
    import torch

    from harness.latency import steps
    from harness.latency.timing import time_callable
    from harness.models.dash import load_dash
    from harness.morse.dot import build_dot
    from harness.morse.dot_config import DotConfig

    torch.set_num_threads(threads)
    dash = load_dash(str(dash_dir))
    device = torch.device("cpu")
    dash_timing = time_callable(steps.dash_step(dash, batch), device, warmup=3, repeats=repeats, label="Dash steps")
    dot = build_dot(dash.unet, DotConfig(m=m, channels=tuple(channels), lora_rank=4, gap_scale=1000)).for_sampling()
    dot_timing = time_callable(steps.dot_step(dot, dash, batch), device, warmup=3, repeats=repeats, label="Dot steps")
    return Probe(dash_timing.median_s, dot_timing.median_s, repeats)


def budgets_with_a_dot_step(N: float, grid_steps: int) -> list[float]:
    """The LSD budgets of the starter: 3 and 5 LSD, each raised until it holds at least one Dot step at
    ratio 0.5 under ``N`` (a budget with none is a config error: harness/experiments/model.py)."""
    from harness.morse import budget

    chosen = []
    for lsd in BUDGETS:
        while budget.resolve(lsd, N, RATIO, lambda s: s if s <= grid_steps else None).dot_steps == 0:
            lsd += 1
        if lsd not in chosen:
            chosen.append(lsd)
    return chosen


def _path(value: str | Path) -> str:
    """A path as the config names it: relative to the run folder when inside it, else absolute."""
    full = Path(value).resolve()
    try:
        return str(full.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(full)


def starter_config(*, name: str, dash: str | Path, data: str | Path, probe: Probe | None = None,
                   dot_steps: int = 300, inception_weights: str | Path | None = None) -> str:
    """The commented YAML of experiment ``name`` for the Dash folder ``dash`` and the image folder ``data``
    (see the module docstring); ``probe`` (None: measured here) gives the planning N."""
    from harness.data.shapes import image_shapes, training_shape_problem
    from harness.models.dash_folder import inspect_folder

    if not name.isidentifier():
        raise HarnessError(f"--name {name!r}: an experiment name is letters, digits and _ (it names files and targets)")
    folder = inspect_folder(dash)
    if folder.latent or "cross_attention_dim" in folder.unet_config or folder.unet_config.get("num_class_embeds"):
        raise HarnessError(f"{dash}: a latent or conditional Dash; new-experiment writes unconditional pixel-space "
                           "starters: begin from config/experiments/sd.yaml or digits_cond.yaml instead")
    shape = folder.sample_shape
    problem = training_shape_problem(str(data), shape, "dataset.spec")
    if problem:
        raise HarnessError(problem.replace("config key `dataset.spec`", "--data"))
    count = sum(len(names) for names in image_shapes(str(data)).values())
    m, channels = dot_size(shape, folder.unet_config)
    probe = probe or probe_latency(dash, m, channels)
    grid_steps = int((folder.scheduler or {}).get("num_train_timesteps", 1000))
    budgets = budgets_with_a_dot_step(probe.N, grid_steps)
    extractor, dims, extractor_note = fid_extractor(inception_weights)
    num = math.ceil((dims + 1) / 16) * 16  # FID's covariance needs more images than feature dimensions
    warnings = []
    if probe.N <= 1:
        warnings.append(f"the probe measured N = {probe.N:.2f}: this Dot is not faster than its Dash, so Morse cannot "
                        "gain; shrink `dots.dot.channels` or raise `dots.dot.m` and run new-experiment again")
    if count <= dims:
        warnings.append(f"{data} holds {count} images, not more than the {dims} FID features: the reference "
                        f"statistics are rank-deficient; use at least {dims + 1} images")
    return TEMPLATE.format(
        name=name, dash=_path(dash), data=_path(data), shape=f"{shape[0]} x {shape[1]} x {shape[2]}",
        unet=folder.unet_config.get("_class_name", "UNet2DModel"), count=count, m=m, channels=channels,
        N=round(probe.N, 2), dash_ms=probe.dash_s * 1e3, dot_ms=probe.dot_s * 1e3, repeats=probe.repeats,
        batch=PROBE_BATCH, budgets=budgets, ratio=RATIO, baseline=list(BASELINE_STEPS), extractor=extractor,
        extractor_note=extractor_note, dims=dims, num=num, dot_steps=dot_steps, grid_steps=grid_steps,
        warnings="".join(f"# WARNING: {w}\n" for w in warnings),
    )


TEMPLATE = """\
# Starter experiment `{name}`, written by `python -m harness new-experiment` (docs/own-model.md).
# Run it with:  snakemake -j2 reports/speedup_{name}.pdf
# Every key is documented in config/schema.json; this file validates and runs as it is.
{warnings}experiments:
  {name}:
    title: "{name}: Morse on your own Dash"
    note: "Starter counts: {num} images per point in 2 replicates (paper: 50,000), N probed on one CPU thread."
    dataset:
      spec: {data}              # {count} images, {shape} (C x H x W), as the Dash samples them
    dash:
      source: {dash}            # a diffusers {unet} folder: config.json + weights + scheduler_config.json
    samples:
      num: {num}                # per point and replicate: FID needs more images than its {dims} features
      shard_size: {num}
      batch_size: {num}
      repeats: 2                # two disjoint seed ranges: the least that gives the speedup an interval
      batches: 2                # every shard and metric row in 2 `harness batch` jobs (one Python start-up each)
    metrics:
      fid:
        reference: {data}       # FID against your own images (statistics cached in work/refstats by content)
        extractor: {extractor}  # {extractor_note}
    dots:
      dot:
        sampler: ddim
        variant: shared         # Dash's blocks shared with LoRA, at 1/4^m of the pixels (appendix A.2)
        m: {m}                  # extra down/up-sampling blocks for this resolution
        channels: {channels}    # one width per extra block
        lora_rank: 4
        inputs: [x_ts, z_ts, t_s]
        gap_scale: {grid_steps}           # the residual vanishes at zero gap (docs/dot_recipe.md)
        threads: 1
        train:
          steps: {dot_steps}             # Algorithm 1's pairs, one per image; raise for a better Dot
          batch_size: 16
          seed: 0
    series:
      - name: ddim
        sampler: ddim
        grid: trailing
        dot: dot
        baseline_steps: {baseline}   # the plan adds counts that bracket every Morse point
        morse:                  # LSD budgets at k/n = {ratio}, planned with the probed N (see below)
          - {{lsd: {budgets}, ratio: {ratio}, N: {N}}}
    # The planning N: Dash {dash_ms:.2f} ms / Dot {dot_ms:.2f} ms per step at batch {batch}, median of {repeats}
    # steps on this machine (harness.experiments.starter.probe_latency). The latency job measures N again and
    # every row takes the measured one; the run warns when it is far from this one (re-plan with it then).
    latency:
      threads: 1
      batch_size: {batch}           # as the probe
      warmup: 3
      repeats: 10
    analysis:
      metric: fid
      line_by: [curve, requested_ratio]
      bootstrap: 200
      headline_ratio: {ratio}
"""


def write_starter(*, name: str, dash: str | Path, data: str | Path, dot_steps: int = 300, out: Path | None = None,
                  force: bool = False) -> Path:
    """`harness new-experiment`: ``starter_config`` written to ``out`` (default config/experiments/NAME.yaml; an
    existing file only with ``force``); prints its warnings and how to run it, and returns where it went."""
    out = Path(out) if out else Path("config") / "experiments" / f"{name}.yaml"
    if out.exists() and not force:
        raise HarnessError(f"{out} exists: pass --force to overwrite it, or --out another file")
    text = starter_config(name=name, dash=dash, data=data, dot_steps=dot_steps)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    for line in text.splitlines():
        if line.startswith("# WARNING"):
            print(line[2:])
    print(f"wrote {out}; run it with: snakemake -j2 reports/speedup_{name}.pdf")
    return out
