"""The sampling loop's own cost beside the model forwards (`harness bench-morse`, harness/stages/bench_morse.py)."""

from __future__ import annotations

import time

import torch

from harness.models.denoisers import DashDenoiser
from harness.morse.dot import build_dot
from harness.morse.dot_config import DotConfig
from harness.morse.dot_denoisers import DotDenoiser
from harness.morse.sampling import morse_sample
from harness.morse.schedule import plain, plan_from_counts
from harness.samplers import make_grid, make_sampler
from harness.seeds import make_generators, per_image_randn


class _Timed:
    """Wraps a model callable and accumulates the seconds spent inside it."""

    def __init__(self, fn):
        self.fn, self.seconds, self.calls = fn, 0.0, 0

    def __call__(self, *args):
        start = time.perf_counter()
        out = self.fn(*args)
        self.seconds += time.perf_counter() - start
        self.calls += 1
        return out


def _measure(schedule, sampler, dash_fn, dot_fn, shape, batch, repeats):
    dash_t, dot_t = _Timed(dash_fn), (_Timed(dot_fn) if dot_fn else None)
    total = 0.0
    for r in range(repeats + 1):  # the first run warms up and is not counted
        dash_t.seconds = 0.0 if r == 1 else dash_t.seconds
        if dot_t and r == 1:
            dot_t.seconds = 0.0
        generators = make_generators(range(batch))
        x_T = per_image_randn(shape, generators)
        start = time.perf_counter()
        morse_sample(x_T, schedule, sampler, dash_t, dot_t, generators)
        if r:
            total += time.perf_counter() - start
    model = dash_t.seconds + (dot_t.seconds if dot_t else 0.0)
    return total / repeats, model / repeats


def bench_morse(*, dash_source: str, sampler: str, batch_size: int, fine_steps: int, dash_steps: int, m: int,
                channels: str, repeats: int, dash_path: str | None = None) -> int:
    """The sampling loop's time beside its model forwards: plain jump sampling at ``dash_steps`` and Morse at
    ``fine_steps`` / ``dash_steps`` with a Dot of ``m`` extra blocks of ``channels`` (comma-separated) widths."""
    from harness.models.dash import load_dash

    dash = load_dash(dash_source, local_path=dash_path)
    dash_fn = DashDenoiser(dash.unet)
    morse = plan_from_counts("trailing", fine_steps, dash_steps, dash.noise)
    dot = build_dot(dash.unet, DotConfig(m=m, channels=tuple(int(c) for c in channels.split(","))))
    rows = []
    for label, schedule, dot_fn in (
        (f"plain, {dash_steps} Dash steps", plain(make_grid("trailing", dash_steps, dash.noise)), None),
        (f"Morse, {fine_steps} fine / {dash_steps} Dash steps", morse, DotDenoiser(dot.for_sampling())),
    ):
        sampler_fn = make_sampler(sampler, dash.noise, schedule.grid)
        total, model = _measure(schedule, sampler_fn, dash_fn, dot_fn, dash.sample_shape, batch_size, repeats)
        rows.append((label, total, model))
    print(f"sampling-loop overhead, {dash.source}, {sampler}, batch {batch_size}, "
          f"{torch.get_num_threads()} threads, mean of {repeats} runs")
    print(f"{'run':<40} {'loop s':>9} {'models s':>9} {'overhead':>9}")
    for label, total, model in rows:
        print(f"{label:<40} {total:9.3f} {model:9.3f} {100 * (total - model) / total:8.2f}%")
    return 0
