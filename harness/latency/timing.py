"""One generic timer for "one sampling step": warm-up, repeats, median and interquartile range.

The paper measures latency per sampling step of Dash and of Dot (Table 5) and defines
N = Dash latency / Dot latency (Sec. 3.1). On a GPU each repeat is bracketed by CUDA events and the
device is synchronised before reading them; on a CPU each repeat is timed with ``perf_counter``.
The callable is run under ``torch.no_grad``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from harness.progress import progress


@dataclass(frozen=True)
class Timing:
    """Seconds per call: median and quartiles over ``repeats`` timed calls after ``warmup`` calls."""

    median_s: float
    q1_s: float
    q3_s: float
    warmup: int
    repeats: int

    @property
    def iqr_s(self) -> float:
        return self.q3_s - self.q1_s


def _cuda_seconds(fn: Callable[[], object]) -> float:
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    fn()
    end.record()
    torch.cuda.synchronize()
    return start.elapsed_time(end) / 1000.0


def _cpu_seconds(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def time_callable(fn: Callable[[], object], device: torch.device, *, warmup: int = 3, repeats: int = 20,
                  label: str = "timing") -> Timing:
    """Time ``fn()`` (one step) ``repeats`` times after ``warmup`` untimed calls (a progress bar named ``label``)."""
    if repeats < 1 or warmup < 0:
        raise ValueError("repeats must be >= 1 and warmup >= 0")
    cuda = device.type == "cuda"
    clock = _cuda_seconds if cuda else _cpu_seconds
    with torch.no_grad():
        for _ in range(warmup):
            fn()
        if cuda:
            torch.cuda.synchronize()
        samples = np.array([clock(fn) for _ in progress(range(repeats), desc=label, unit="step")])
    q1, median, q3 = np.percentile(samples, [25, 50, 75])
    return Timing(float(median), float(q1), float(q3), warmup, repeats)
