"""Training the small digits Dash (`harness train-dash`, harness/stages/train_dash.py), a pixel-space DDPM UNet, on CPU.

Standard DDPM training (Ho et al. 2020): noise a training digit to a uniform random timestep with
diffusers' `DDPMScheduler.add_noise` and regress the added noise (epsilon prediction, MSE), with
AdamW, a warm-up + cosine learning rate and an EMA of the weights. The defaults are the recipe of
the shipped model (`harness/assets/dash-digits/`). With `--num-classes K` the UNet is
class-conditional in the diffusers way (`num_class_embeds = K + 1`, the digit label as
`class_labels`); index K is the null class, classifier-free guidance's unconditional input, and
`--label-dropout p` replaces each training label by it with probability p (Ho & Salimans 2022), as
the shipped `harness/assets/dash-digits-cond/` was trained. The output folder gets:

- `config.json` + `diffusion_pytorch_model.safetensors`: the EMA weights (`save_pretrained`),
- `scheduler_config.json`: the noise schedule, so `load_dash(OUT)` needs nothing else,
- `loss.csv`: the loss log; `train_config.json`: the commands, hyper-parameters and wall time,
- `checkpoints/last.pt`: the resumable state (written every `--checkpoint-every` steps).

`--resume` restores model, optimizer, learning-rate schedule, EMA and random state from that
checkpoint and trains on up to `--steps` (which may be raised to extend a finished run).
"""

from __future__ import annotations

import copy
import json
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F

from harness.errors import HarnessError
from harness.paths import DASH_TRAIN_CONFIG
from harness.shards import atomic_write
from harness.step_log import StepLog

CHECKPOINT = Path("checkpoints") / "last.pt"
LOSS_LOG = "loss.csv"
LOSS_COLUMNS = ("step", "loss", "lr", "elapsed_s")
WEIGHT_DECAY = 0.0
GRAD_CLIP_NORM = 1.0
EMA_POWER = 2 / 3  # EMA warm-up: decay = 1 - (1 + step) ** -power, capped at --ema-decay


@dataclass
class _Training:
    """Everything a training run carries from step to step, and all that a checkpoint restores."""

    config: dict
    noise_scheduler: object
    unet: torch.nn.Module
    optimizer: torch.optim.Optimizer
    lr_schedule: torch.optim.lr_scheduler.LRScheduler
    ema: object
    generator: torch.Generator
    step: int = 0
    elapsed_s: float = 0.0
    commands: list = field(default_factory=list)

    def checkpoint(self) -> dict:
        return {
            "config": self.config, "step": self.step, "elapsed_s": self.elapsed_s, "commands": self.commands,
            "unet": self.unet.state_dict(), "optimizer": self.optimizer.state_dict(),
            "lr_schedule": self.lr_schedule.state_dict(), "ema": self.ema.state_dict(),
            "generator": self.generator.get_state(),
        }


@dataclass(frozen=True)
class TrainDashOptions:
    """`harness train-dash`'s options by name, in its parser's order (harness/stages/train_dash.py owns the defaults)."""

    config: str  # a packaged architecture name or a JSON file of that layout
    out: Path
    steps: int
    batch_size: int
    lr: float
    warmup_steps: int
    ema_decay: float
    seed: int
    image_size: int
    checkpoint_every: int
    log_every: int
    num_classes: int  # K > 0: class-conditional, null class K
    label_dropout: float
    resume: bool = False
    threads: int | None = None
    command_line: tuple[str, ...] = ()  # the argv as typed (harness.cli), not an option


def train_dash(options: TrainDashOptions) -> int:
    from harness.data.digits import load_digits_labels, load_digits_tensor

    training = _start(options)
    images = load_digits_tensor(training.config["unet"]["sample_size"], "train")
    labels = load_digits_labels("train")
    options.out.mkdir(parents=True, exist_ok=True)
    log = StepLog(options.out / LOSS_LOG, LOSS_COLUMNS, training.step)
    _train(training, images, labels, log, options)
    _save_model(training, log, len(images), options)
    print(f"train-dash: {training.step} steps in {training.elapsed_s / 60:.1f} min, "
          f"final loss {_last_loss(log):.4f}; model in {options.out}")
    return 0


def _start(options: TrainDashOptions) -> _Training:
    """A fresh run, or with --resume the state of OUT's checkpoint."""
    from diffusers import DDPMScheduler
    from diffusers.optimization import get_cosine_schedule_with_warmup
    from diffusers.training_utils import EMAModel

    from harness.models import architectures

    state = _load_checkpoint(options.out) if options.resume else None
    config = state["config"] if state else _training_config(options)
    noise_scheduler = DDPMScheduler.from_config(config["scheduler"])
    if noise_scheduler.config.prediction_type != "epsilon":
        raise HarnessError(f"train-dash trains epsilon prediction, not {noise_scheduler.config.prediction_type!r}")
    unet = architectures.build_unet(config["unet"], seed=options.seed).train()
    optimizer = torch.optim.AdamW(unet.parameters(), lr=options.lr, weight_decay=WEIGHT_DECAY)
    training = _Training(
        config=config,
        noise_scheduler=noise_scheduler,
        unet=unet,
        optimizer=optimizer,
        lr_schedule=get_cosine_schedule_with_warmup(optimizer, options.warmup_steps, options.steps),
        ema=EMAModel(unet.parameters(), decay=options.ema_decay, use_ema_warmup=True, power=EMA_POWER),
        generator=torch.Generator().manual_seed(options.seed),
    )
    if state:
        unet.load_state_dict(state["unet"])
        optimizer.load_state_dict(state["optimizer"])
        training.lr_schedule.load_state_dict(state["lr_schedule"])
        training.ema.load_state_dict(state["ema"])
        training.generator.set_state(state["generator"])
        training.step, training.elapsed_s, training.commands = state["step"], state["elapsed_s"], state["commands"]
    training.commands = training.commands + [_command_line(options)]
    return training


def _train(
    training: _Training, images: torch.Tensor, labels: torch.Tensor, log: StepLog, options: TrainDashOptions
) -> None:
    """Optimizer steps up to --steps: noise, predict the noise, MSE, AdamW, EMA; log and checkpoint."""
    from harness.progress import progress

    unet, generator = training.unet, training.generator
    num_timesteps = training.noise_scheduler.config.num_train_timesteps
    num_classes = _num_classes(training.config)
    started, running = time.perf_counter() - training.elapsed_s, []
    with progress(total=options.steps, initial=training.step, desc="train-dash", unit="step") as bar:
        while training.step < options.steps:
            picked = torch.randint(len(images), (options.batch_size,), generator=generator)
            clean = images[picked]
            noise = torch.randn(clean.shape, generator=generator)
            timesteps = torch.randint(num_timesteps, (options.batch_size,), generator=generator)
            noisy = training.noise_scheduler.add_noise(clean, noise, timesteps)
            class_labels = _dropped_labels(labels[picked], num_classes, options.label_dropout, generator)
            loss = F.mse_loss(unet(noisy, timesteps, class_labels=class_labels).sample, noise)
            training.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(unet.parameters(), GRAD_CLIP_NORM)
            training.optimizer.step()
            training.lr_schedule.step()
            training.ema.step(unet.parameters())
            training.step += 1
            training.elapsed_s = time.perf_counter() - started
            running.append(loss.item())
            bar.update(1)
            if training.step % options.log_every == 0 or training.step == options.steps:
                mean_loss = sum(running) / len(running)
                log.write(training.step, f"{mean_loss:.6f}", f"{training.lr_schedule.get_last_lr()[0]:.3e}", f"{training.elapsed_s:.1f}")
                bar.set_postfix(loss=f"{mean_loss:.4f}")
                running = []
            if training.step % options.checkpoint_every == 0 or training.step == options.steps:
                _save_checkpoint(options.out, training.checkpoint())


def _num_classes(config: dict) -> int:
    """K of a class-conditional UNet config (num_class_embeds = K + 1, the null class last); 0 if unconditional."""
    return (config["unet"].get("num_class_embeds") or 1) - 1


def _dropped_labels(labels: torch.Tensor, num_classes: int, dropout: float, generator: torch.Generator):
    """Class labels with each replaced by the null class K with probability `dropout` (CFG training,
    Ho & Salimans 2022, Algorithm 1); None for an unconditional UNet."""
    if not num_classes:
        return None
    dropped = torch.rand(len(labels), generator=generator) < dropout
    return torch.where(dropped, torch.full_like(labels, num_classes), labels)


def _save_model(training: _Training, log: StepLog, num_images: int, options: TrainDashOptions) -> None:
    """The EMA weights (save_pretrained, safetensors), the noise schedule and train_config.json."""
    final = copy.deepcopy(training.unet).eval()
    training.ema.copy_to(final.parameters())
    final.save_pretrained(options.out, safe_serialization=True)
    training.noise_scheduler.save_pretrained(options.out)
    _write_json(options.out / DASH_TRAIN_CONFIG, {
        "commands": training.commands,
        "hyperparameters": {
            "config": options.config, "steps": training.step, "batch_size": options.batch_size, "lr": options.lr,
            "lr_schedule": "cosine with linear warm-up", "warmup_steps": options.warmup_steps,
            "optimizer": "AdamW", "weight_decay": WEIGHT_DECAY, "grad_clip_norm": GRAD_CLIP_NORM,
            "ema_decay": options.ema_decay, "ema_power": EMA_POWER, "seed": options.seed,
            "image_size": training.config["unet"]["sample_size"], "loss": "MSE on epsilon",
            "threads": torch.get_num_threads(),
            "num_classes": _num_classes(training.config), "label_dropout": options.label_dropout,
            "null_class": _num_classes(training.config) or None,
        },
        "dataset": {"name": "scikit-learn digits, train split", "images": num_images},
        "parameters": sum(p.numel() for p in final.parameters()),
        "final_loss": _last_loss(log),
        "wall_time_s": round(training.elapsed_s, 1),
        "versions": {"torch": torch.__version__, "diffusers": _version("diffusers")},
        "architecture": training.config,
    })


def _command_line(options: TrainDashOptions) -> str:
    """This invocation as a shell command with every option spelled out."""
    words = ["python", "-m", "harness", "train-dash"]
    for key, value in vars(options).items():
        if key == "command_line":  # the argv as typed (harness.cli), not an option
            continue
        option = "--" + key.replace("_", "-")
        if isinstance(value, bool):
            words += [option] if value else []
        elif value is not None:
            words += [option, str(value)]
    return shlex.join(words)


def _training_config(options: TrainDashOptions) -> dict:
    """The architecture config to train, its sample size set to --image-size."""
    from harness.models import architectures

    if options.image_size % 8 != 0:
        raise HarnessError(f"--image-size must be a multiple of 8, got {options.image_size}")
    config = architectures.load_architecture(options.config)
    config["unet"]["sample_size"] = options.image_size
    config["sample_shape"] = [config["unet"]["in_channels"], options.image_size, options.image_size]
    if options.num_classes < 0 or not 0 <= options.label_dropout < 1:
        raise HarnessError(f"--num-classes must be >= 0 and --label-dropout in [0, 1), got "
                           f"{options.num_classes} and {options.label_dropout}")
    if options.num_classes:
        config["unet"]["num_class_embeds"] = options.num_classes + 1  # the null class, index K, is CFG's unconditional input
    return config


def _load_checkpoint(out: Path) -> dict:
    path = out / CHECKPOINT
    if not path.is_file():
        raise HarnessError(f"--resume: no checkpoint at {path}; start without --resume")
    return torch.load(path, map_location="cpu", weights_only=False)


def _save_checkpoint(out: Path, state: dict) -> None:
    """Write the resumable state atomically (a crash mid-write leaves the previous checkpoint)."""
    atomic_write(out / CHECKPOINT, lambda f: torch.save(state, f))


def _last_loss(log: StepLog) -> float:
    return float(log.last["loss"]) if log.last else float("nan")


def _write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(data, indent=2) + "\n")


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
