"""`harness latency`'s work as one call: the per-step latency of Dash and of a Dot built on it, and their ratio
N (Sec. 3.1, Table 5), as one row of ``latency_<device>.csv``."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import torch

from harness import provenance
from harness.errors import HarnessError
from harness.latency import DTYPES, GUIDED_DOT_COSTS
from harness.latency import device as device_info
from harness.latency import results, steps
from harness.latency.timing import Timing, time_callable
from harness.models.dash import load_dash
from harness.models.denoisers import cfg_branches
from harness.morse.dot import build_dot
from harness.morse.dot_config import DotConfig


def dot_config(fields: dict) -> DotConfig:
    """The ``DotConfig`` of ``fields`` (a bad field is a one-line error naming the known ones)."""
    try:
        return DotConfig(**fields)
    except (TypeError, ValueError) as err:
        known = ", ".join(f.name for f in dataclasses.fields(DotConfig))
        raise HarnessError(f"bad Dot config {json.dumps(fields)} ({err}); DotConfig fields: {known}") from err


def _columns(prefix: str, timing: Timing) -> dict:
    return {f"{prefix}_median_s": timing.median_s, f"{prefix}_q1_s": timing.q1_s,
            f"{prefix}_q3_s": timing.q3_s, f"{prefix}_iqr_s": timing.iqr_s}


def measure_n(*, dash: str, experiment: str, dot: dict, dash_path: str | None = None, serves: list[str] = (),
              batch_size: int = 100, device: str = "cpu", dtype: str = "float32", guidance_scale: float | None = None,
              guided_dot_cost: str = GUIDED_DOT_COSTS[0], classifier_scale: float | None = None, warmup: int = 3,
              repeats: int = 20, pipeline_steps: int = 0, pipeline_repeats: int = 3,
              results_dir: Path = Path("results"), command_line: list[str] = ()) -> dict:
    """Time ``repeats`` steps (after ``warmup``) of Dash ``dash`` and of the Dot of config ``dot`` (DotConfig
    fields) at ``batch_size`` images on ``device`` in ``dtype``, guided at ``guidance_scale`` (both CFG branches) or
    with ``classifier_scale``; with ``pipeline_steps`` > 0 also a whole run of that many Dash steps. A Dot that
    takes w is timed at one branch and at two, and ``guided_dot_cost`` says which sets N. Writes the row (its
    columns: harness/latency/results.py) to ``results_dir``, prints the timings and N, and returns the row;
    ``serves`` names the Dots whose Morse rows take this N."""
    config = dot_config(dot)  # fails early: before minutes of timing
    if config.guidance_scales is not None and guidance_scale is None:
        raise HarnessError("this Dot takes the guidance scale as an input (dot config guidance_scales): time guided "
                           "steps with --guidance-scale W (config key latency.guidance_scale)")
    for name, value, known in (("dtype", dtype, DTYPES), ("guided Dot cost", guided_dot_cost, GUIDED_DOT_COSTS)):
        if value not in known:
            raise HarnessError(f"unknown {name} {value!r}; known: {', '.join(known)}")
    device, torch_dtype = torch.device(device), getattr(torch, dtype)
    model = load_dash(dash, local_path=dash_path, device=str(device), dtype=torch_dtype)
    row = {
        **provenance.columns(list(command_line), experiment, device),  # device_name: replaced by NVML's below
        "experiment": experiment, "dash": dash, "serves": ";".join(serves), "dtype": dtype, "batch_size": batch_size,
        "dot": json.dumps(dataclasses.asdict(config), sort_keys=True),
        **device_info.identify(device), **device_info.backend_flags(),
        "warmup": warmup, "repeats": repeats, "pipeline_steps": pipeline_steps,
        "guidance_scale": guidance_scale, "classifier_scale": classifier_scale, "dash_branches": cfg_branches(guidance_scale),
    }
    # Dash is timed before Dot is built around it: building injects (disabled) LoRA layers into it
    try:
        dash_step = steps.dash_step(model, batch_size, guidance_scale, classifier_scale)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    dash_timing = time_callable(dash_step, device, warmup=warmup, repeats=repeats, label="Dash steps")
    if pipeline_steps > 0:
        pipeline, row["pipeline_includes"] = steps.pipeline_run(model, batch_size, pipeline_steps)
        row["pipeline_s_per_image"] = time_callable(pipeline, device, warmup=1, repeats=pipeline_repeats,
                                                    label="whole runs").median_s / batch_size
    dot_model = build_dot(model.unet, config).to(device=device, dtype=torch_dtype).for_sampling()  # as it samples
    dot_timing = time_callable(steps.dot_step(dot_model, model, batch_size, guidance_scale), device,
                               warmup=warmup, repeats=repeats, label="Dot steps")
    row.update(**_columns("dash", dash_timing), **_columns("dot", dot_timing), dot_branches=steps.dot_branches(
        dot_model, guidance_scale), N=dash_timing.median_s / dot_timing.median_s,
        dot_merged_params=dot_model.merged_parameters)
    if steps.dot_branches(dot_model, guidance_scale) < cfg_branches(guidance_scale):  # a Dot that takes w
        two = time_callable(steps.dot_step(dot_model, model, 2 * batch_size, guidance_scale), device,
                            warmup=warmup, repeats=repeats, label="Dot steps, two branches")
        row.update(N_one_branch=row["N"], N_two_branches=dash_timing.median_s / two.median_s,
                   dot_two_branches_median_s=two.median_s, guided_dot_cost=guided_dot_cost)
        if guided_dot_cost == "two_branches":
            row.update(N=row["N_two_branches"], dot_branches=2)
    path = results.write(row, results_dir)
    guided = "" if guidance_scale is None else \
        f", guided (Dash {row['dash_branches']} branches, Dot {row['dot_branches']} per step)"
    print(f"device {row['device_name']} ({row['device']}), batch {batch_size}, {dtype}{guided}")
    print(f"Dash {dash_timing.median_s:.4g} s/step (IQR {dash_timing.iqr_s:.2g}), "
          f"Dot {dot_timing.median_s:.4g} s/step (IQR {dot_timing.iqr_s:.2g}; LoRA merged into a copy of "
          f"{dot_model.merged_parameters:,} parameters)")
    if "N_two_branches" in row:
        print(f"N = {row['N_one_branch']:.2f} counting the Dot's one branch, {row['N_two_branches']:.2f} counting two "
              f"(the CFG branches of Dash's step); the latencies use {guided_dot_cost}")
    print(f"N = {row['N']:.2f}  -> {path}")
    return row
