"""Identity of the device a latency was measured on: GPU via nvidia-ml-py, else the CPU model.

Also the backend flags that change latency (TF32, cuDNN autotuning), recorded beside each timing so
a Table 5 row can be reproduced on the same card (paper, Appendix "N under different GPUs").
"""

from __future__ import annotations

import re

import torch

from harness.provenance import cpu_model


def slug(text: str) -> str:
    """A file-name-safe lower-case form: 'NVIDIA GeForce RTX 3090' -> 'nvidia-geforce-rtx-3090'."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def _nvml_identity(index: int) -> dict:
    import pynvml  # nvidia-ml-py

    pynvml.nvmlInit()
    try:
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        name = pynvml.nvmlDeviceGetName(handle)
        name = name.decode() if isinstance(name, bytes) else name
        driver = pynvml.nvmlSystemGetDriverVersion()
        return {
            "device_name": name,
            "driver": driver.decode() if isinstance(driver, bytes) else driver,
            "memory_total_mib": pynvml.nvmlDeviceGetMemoryInfo(handle).total // 2**20,
            "sm_clock_max_mhz": pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_SM),
            "mem_clock_max_mhz": pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM),
        }
    finally:
        pynvml.nvmlShutdown()


def identify(device: torch.device) -> dict:
    """Device columns of a latency row; ``device`` is the slug that names its CSV."""
    info = {
        "device_kind": device.type,
        "cpu_model": cpu_model(),
        "cpu_threads": torch.get_num_threads(),
        "driver": None, "memory_total_mib": None, "sm_clock_max_mhz": None, "mem_clock_max_mhz": None,
    }
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        info.update(_nvml_identity(index))
        info["device"] = slug(info["device_name"])
    else:
        info["device_name"] = info["cpu_model"]
        info["device"] = f"cpu-{slug(info['cpu_model'])}-{info['cpu_threads']}t"
    return info


def backend_flags() -> dict:
    """The TF32 / cuDNN switches in force."""
    return {
        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32,
        "tf32_cudnn": torch.backends.cudnn.allow_tf32,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
    }

