"""Dot checkpoints: the trainable weights as safetensors, the config and provenance as JSON.

Only Dot's own layers and LoRA weights are stored; Dash's frozen weights are not copied. A
checkpoint names the Dash it was trained against (source and weight fingerprint), and loading
it against another Dash, or into a differently shaped Dot, fails with a clear error.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save

from harness.damage import reading
from harness.errors import HarnessError
from harness.morse.dot import DotModel, build_dot
from harness.morse.dot_config import DotConfig
from harness.paths import DOT_META, DOT_WEIGHTS
from harness.shards import atomic_write



def save_dot(directory: Path, dot: DotModel, meta: dict) -> None:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().contiguous().cpu() for k, v in dot.trainable_state_dict().items()}
    atomic_write(directory / DOT_WEIGHTS, lambda f: f.write(save(state)))
    full = {**meta, "dot_config": dot.config.to_dict()}
    atomic_write(directory / DOT_META, lambda f: f.write(json.dumps(full, indent=1).encode()))


def read_meta(directory: Path) -> dict:
    path = Path(directory) / DOT_META
    if not path.exists():
        raise HarnessError(f"no Dot checkpoint at {directory} (missing {DOT_META}); train one with `harness train-dot --out {directory}`")
    with reading(path):
        return json.loads(path.read_text())


def check_conditions(directory: Path, config: DotConfig, conditions: str, guidance_scale: float | None) -> None:
    """A HarnessError when a run's conditions or guidance do not fit the Dot: a conditional Dot for an
    unconditional run or the reverse, or a Dot trained over guidance scales run without one."""
    if config.conditions != conditions:
        raise HarnessError(f"Dot checkpoint {directory} was trained with conditions {config.conditions!r}, "
                           f"this run has {conditions!r}: train a Dot for these conditions")
    if config.guidance_scales is not None and guidance_scale is None:
        lo, hi = config.guidance_scales
        raise HarnessError(f"Dot checkpoint {directory} was trained over guidance scales [{lo:g}, {hi:g}]: "
                           "pass --guidance-scale")


def load_dot(directory: Path, dash, conditions: str = "none", guidance_scale: float | None = None) -> DotModel:
    """Rebuild the Dot recorded in ``directory`` around ``dash`` and load its trained weights, on the device
    and in the dtype of Dash's UNet (Dot's own layers and LoRA are built on the CPU in float32), ready to sample
    (``DotModel.for_sampling``: LoRA merged). The run's ``conditions`` kind and ``guidance_scale`` are checked
    against what the Dot was trained with."""
    meta = read_meta(directory)
    check_conditions(directory, DotConfig.from_dict(meta["dot_config"]), conditions, guidance_scale)
    check_dash(directory, meta, dash)
    like = next(dash.unet.parameters())  # before build_dot adds Dot's own layers and LoRA to the UNet
    dot = build_dot(dash.unet, DotConfig.from_dict(meta["dot_config"]))
    load_weights(directory, dot)
    return dot.to(device=like.device, dtype=like.dtype).for_sampling()


def check_dash(directory: Path, meta: dict, dash) -> None:
    """A HarnessError when the Dot in ``directory`` was trained against another Dash (weight fingerprint)."""
    if meta.get("dash_fingerprint") != dash.fingerprint:
        raise HarnessError(
            f"Dot checkpoint {directory} was trained against Dash {meta.get('dash_source')!r} "
            f"(fingerprint {str(meta.get('dash_fingerprint'))[:12]}), not the loaded {dash.source!r} "
            f"(fingerprint {dash.fingerprint[:12]}): pass the Dash it was trained with, or retrain Dot"
        )


def load_weights(directory: Path, dot: DotModel) -> None:
    """Dot's trained weights (its own layers and LoRA) from ``directory`` into ``dot``, which must have their shapes."""
    with reading(Path(directory) / DOT_WEIGHTS):
        state = load_file(str(Path(directory) / DOT_WEIGHTS))
    expected = dot.trainable_state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(state) & set(expected) if state[k].shape != expected[k].shape)
    if missing or unexpected or wrong:
        raise HarnessError(
            f"Dot checkpoint {directory} does not fit its recorded architecture: "
            f"{len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} mis-shaped tensors "
            f"(first: {(missing + unexpected + wrong)[0]})"
        )
    dot.load_state_dict(state, strict=False)
