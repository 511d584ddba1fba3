"""The architecture of a Dot model, as data: what `harness train-dot`, `harness latency` and the
workflow agree on (defaults defined once, here). Light: importable without torch, so command-line
help stays fast; the model itself is harness.morse.dot.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

TRAJECTORY_INPUTS = ("x_ts", "z_ts", "t_s")  # Table 4: the observations at Dash's last point
ORACLE, ZERO = "oracle", "zero"  # `--dot` values: the ideal Dot (Dash at every point) and the zero residual
TRAJECTORY_SOURCES = ("dash", "last")  # where they come from: Eq. 5 (Dash's last point) or Eq. 7 (either model's)
UNIFORM_PAIRS, PLANNED_PAIRS = "uniform", "planned"  # `train.pairs`: Algorithm 1's whole range, or the Dot steps
PAIR_SOURCES = (UNIFORM_PAIRS, PLANNED_PAIRS)         # of the Morse schedules the experiment runs (--schedules)
REFERENCE_DOTS = (ORACLE, ZERO)  # the ideal and the floor a trained Dot lies between (reference curves)
# LoRA targets: the convolutions of the pre-trained ResNet blocks and the attention projections.
DEFAULT_LORA_TARGETS = r".*(resnets\.\d+\.conv[12]|\.(to_q|to_k|to_v|to_out\.0))$"


@dataclass
class DotConfig:
    """Architecture of a Dot model (appendix A.2: m = 2, channels (96, 160) and LoRA rank 64 for SD)."""

    variant: str = "shared"  # "shared" (trainable blocks), "bilinear", "independent"
    m: int = 2  # extra down/up-sampling blocks: the shared network runs at 1/4^m of the pixels
    channels: tuple[int, ...] = (32, 64)  # width of each extra block, outermost first
    independent_channels: tuple[int, ...] = (32, 64)  # the independent variant's UNet widths, one per level
    lora_rank: int = 8  # 0 switches LoRA off
    lora_targets: str = DEFAULT_LORA_TARGETS
    inputs: tuple[str, ...] = TRAJECTORY_INPUTS  # which trajectory observations Dot sees
    # > 0: eta is scaled by (t_s - t_i) / gap_scale, so the residual vanishes as t_i -> t_s (it
    # must: z_ti = z_ts at zero gap) and the network's output has one scale at short and long gaps
    gap_scale: float = 0.0
    conditions: str = "none"  # what Dot is conditioned on, as its Dash: none, labels or prompts (harness.conditions)
    # trained over guidance scales w ~ U[lo, hi] (the paper's appendix for SD: [2, 10]): Dot then predicts
    # the guided estimate, w an input embedded into its time embedding; None: Dot is not trained with CFG
    guidance_scales: tuple[float, float] | None = None

    def __post_init__(self):
        self.channels = tuple(int(c) for c in self.channels)
        self.inputs = tuple(self.inputs)
        self.independent_channels = tuple(int(c) for c in self.independent_channels)
        unknown = set(self.inputs) - set(TRAJECTORY_INPUTS)
        if unknown:
            raise ValueError(f"unknown Dot inputs {sorted(unknown)}; known: {TRAJECTORY_INPUTS}")
        if self.variant in ("shared", "independent") and len(self.channels) != self.m:
            raise ValueError(f"give one channel count per extra block: m={self.m}, channels={self.channels}")
        if self.m < 0:
            raise ValueError("m must be >= 0")
        self.gap_scale = float(self.gap_scale)
        if self.gap_scale < 0:
            raise ValueError("gap_scale must be >= 0 (0: no gap scaling)")
        if self.conditions not in ("none", "labels", "prompts"):
            raise ValueError(f"unknown Dot conditions {self.conditions!r}; known: none, labels, prompts")
        if self.guidance_scales is not None:
            self.guidance_scales = tuple(float(w) for w in self.guidance_scales)
            if len(self.guidance_scales) != 2 or self.guidance_scales[0] > self.guidance_scales[1]:
                raise ValueError(f"guidance_scales is a range (lo, hi), lo <= hi; got {self.guidance_scales}")
            if self.conditions == "none":
                raise ValueError("guidance_scales needs a conditional Dot (conditions: labels or prompts)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "DotConfig":
        return cls(**data)


# The architecture a config's Dot block sets: every DotConfig field but ``lora_targets`` (fixed),
# ``conditions`` (Dash's) and ``guidance_scales`` (a training range, with an option of its own); each
# with its `harness train-dot` option, --<field> but for m. In field order: the order of the options on
# the workflow's train_dot command lines (another order would make Snakemake retrain every Dot).
# m is the paper's name (Sec. 2.2, appendix A.2) and the config key; its option is --extra-blocks, the name the
# shipped Dots' recorded commands (harness/assets/dot-*/*/dot.json, README.md) and every workflow's train_dot
# command line carry: renaming it would change those command lines, so Snakemake would retrain every Dot. This
# is the one place the two names meet (docs/glossary.md, "m").
OPTION_NAMES = {"m": "--extra-blocks"}
ARCHITECTURE: dict[str, str] = {f.name: OPTION_NAMES.get(f.name, "--" + f.name.replace("_", "-")) for f in fields(DotConfig)
                                if f.name not in ("lora_targets", "conditions", "guidance_scales")}


# How Algorithm 1 trains Dot: the plain residual loss (every pair weighted alike), pairs over the whole range,
# one per image, x_to one sampler step from z_ts, and eta unscaled. Each entry: a training setting and its Algorithm 1 value.
ALGORITHM_1 = {"loss_weight": "none", "gap_scale": 0.0, "max_gap": None, "groups": None, "pairs": UNIFORM_PAIRS,
               "rollout": 1}


def departures_from_algorithm_1(settings: dict) -> list[str]:
    """The training settings (a Dot config block with its ``train`` entries, or a dot.json's ``training``)
    that depart from Algorithm 1, as ``key value``; empty when Dot is trained by Algorithm 1 exactly."""
    flat = {**settings, **(settings.get("train") or {})}
    if flat.get("schedules"):  # a dot.json: train-dot's --schedules are the config's `pairs: planned`
        flat["pairs"] = PLANNED_PAIRS
    same = lambda key, value: value is None or value == ALGORITHM_1[key] or (key == "gap_scale" and not value)  # noqa: E731
    return [f"{key} {flat[key]:g}" if isinstance(flat[key], float) else f"{key} {flat[key]}"
            for key in ALGORITHM_1 if not same(key, flat.get(key))]
