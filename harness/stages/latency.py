"""`harness latency`: per-step latency of Dash and Dot on this device, and N (Table 5).

Dash comes from ``harness.models.dash.load_dash`` (``config:<name>`` gives a random-weight
architecture, so any card can regenerate Table 5); Dot from ``harness.morse.dot.build_dot`` with a
``DotConfig`` given as JSON. The row goes to ``<results-dir>/latency_<device>.csv``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

from harness.errors import HarnessError
from harness.stages.options import command_line, add_device_argument, add_threads_argument, resolve_device, non_negative_int, positive_int

DTYPES = ("float32", "float16", "bfloat16")  # torch dtype names
GUIDED_DOT_COSTS = ("one_branch", "two_branches")  # config key latency.guided_dot_cost
EXAMPLES = """
  python -m harness latency --dash config:ddpm-cifar10-32 --experiment cifar --dot-config '{"m": 1}' --device cuda
  python -m harness latency --dash digits --experiment digits --batch-size 250 --threads 1 --results-dir results
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dash", required=True, help="Dash source for load_dash, e.g. config:ddpm-cifar10-32")
    parser.add_argument("--dash-path", default=None, help="local directory holding the Dash weights (offline)")
    parser.add_argument("--experiment", required=True, help="experiment name the row (and its N) belongs to")
    parser.add_argument("--dot-config", default="{}", metavar="JSON", help="DotConfig fields, e.g. '{\"m\": 2}'")
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


def dot_config(config_json: str):
    """The ``DotConfig`` of ``harness.morse.dot`` from JSON (a missing Dot module is an error)."""
    try:
        from harness.morse.dot_config import DotConfig
    except ImportError as err:
        raise HarnessError(f"the Dot model is not available ({err}); harness.morse.dot provides build_dot") from err
    try:
        return DotConfig(**json.loads(config_json))
    except (TypeError, ValueError) as err:
        fields = ", ".join(f.name for f in dataclasses.fields(DotConfig))
        raise HarnessError(f"bad --dot-config {config_json!r} ({err}); DotConfig fields: {fields}") from err


def _columns(prefix: str, timing) -> dict:
    return {f"{prefix}_median_s": timing.median_s, f"{prefix}_q1_s": timing.q1_s,
            f"{prefix}_q3_s": timing.q3_s, f"{prefix}_iqr_s": timing.iqr_s}


def run(args: argparse.Namespace) -> int:
    config = dot_config(args.dot_config)  # fails early: before minutes of timing
    if config.guidance_scales is not None and args.guidance_scale is None:
        raise HarnessError("this Dot takes the guidance scale as an input (dot config guidance_scales): time guided "
                           "steps with --guidance-scale W (config key latency.guidance_scale)")
    import torch

    from harness import provenance
    from harness.latency import device as device_info
    from harness.latency import results, steps
    from harness.latency.timing import time_callable
    from harness.models.dash import load_dash
    from harness.morse.dot import build_dot
    from harness.models.denoisers import cfg_branches

    device, dtype = torch.device(resolve_device(args.device)), getattr(torch, args.dtype)
    dash = load_dash(args.dash, local_path=args.dash_path, device=str(device), dtype=dtype)
    batch = args.batch_size
    row = {
        **provenance.columns(command_line(args), args.experiment, device),  # device_name: replaced by NVML's below
        "experiment": args.experiment, "dash": args.dash, "serves": ";".join(args.dot_dir), "dtype": args.dtype, "batch_size": batch,
        "dot": json.dumps(dataclasses.asdict(config), sort_keys=True),
        **device_info.identify(device), **device_info.backend_flags(),
        "warmup": args.warmup, "repeats": args.repeats, "pipeline_steps": args.pipeline_steps,
        "guidance_scale": args.guidance_scale, "classifier_scale": args.classifier_scale, "dash_branches": cfg_branches(args.guidance_scale),
    }
    # Dash is timed before Dot is built around it: building injects (disabled) LoRA layers into it
    try:
        dash_step = steps.dash_step(dash, batch, args.guidance_scale, args.classifier_scale)
    except ValueError as err:
        raise HarnessError(str(err)) from None
    dash_timing = time_callable(dash_step, device, warmup=args.warmup, repeats=args.repeats, label="Dash steps")
    if args.pipeline_steps > 0:
        pipeline, row["pipeline_includes"] = steps.pipeline_run(dash, batch, args.pipeline_steps)
        row["pipeline_s_per_image"] = time_callable(pipeline, device, warmup=1, repeats=args.pipeline_repeats,
                                                    label="whole runs").median_s / batch
    dot = build_dot(dash.unet, config).to(device=device, dtype=dtype).eval()
    dot_timing = time_callable(steps.dot_step(dot, dash, batch, args.guidance_scale), device,
                               warmup=args.warmup, repeats=args.repeats, label="Dot steps")
    row.update(**_columns("dash", dash_timing), **_columns("dot", dot_timing), dot_branches=steps.dot_branches(
        dot, args.guidance_scale), N=dash_timing.median_s / dot_timing.median_s)
    if steps.dot_branches(dot, args.guidance_scale) < cfg_branches(args.guidance_scale):  # a Dot that takes w
        two = time_callable(steps.dot_step(dot, dash, 2 * batch, args.guidance_scale), device,
                            warmup=args.warmup, repeats=args.repeats, label="Dot steps, two branches")
        row.update(N_one_branch=row["N"], N_two_branches=dash_timing.median_s / two.median_s,
                   dot_two_branches_median_s=two.median_s, guided_dot_cost=args.guided_dot_cost)
        if args.guided_dot_cost == "two_branches":
            row.update(N=row["N_two_branches"], dot_branches=2)
    path = results.write(row, args.results_dir)
    guided = "" if args.guidance_scale is None else \
        f", guided (Dash {row['dash_branches']} branches, Dot {row['dot_branches']} per step)"
    print(f"device {row['device_name']} ({row['device']}), batch {batch}, {args.dtype}{guided}")
    print(f"Dash {dash_timing.median_s:.4g} s/step (IQR {dash_timing.iqr_s:.2g}), "
          f"Dot {dot_timing.median_s:.4g} s/step (IQR {dot_timing.iqr_s:.2g})")
    if "N_two_branches" in row:
        print(f"N = {row['N_one_branch']:.2f} counting the Dot's one branch, {row['N_two_branches']:.2f} counting two "
              f"(the CFG branches of Dash's step); the latencies use {args.guided_dot_cost}")
    print(f"N = {row['N']:.2f}  -> {path}")
    return 0
