"""Load Dash, the pre-trained diffusion model that Morse accelerates (see docs/CONTRACTS.md).

Sources:
- `digits`: the checkpoint shipped in `harness/assets/dash-digits/` (made by `harness train-dash`);
  `digits-cond`: its class-conditional sibling in `harness/assets/dash-digits-cond/` (digit labels,
  null class 10 for classifier-free guidance; `train-dash --num-classes 10 --label-dropout 0.1`);
- a local directory: a diffusers model folder (`config.json` + weights) or a pipeline folder
  (`unet/`, `scheduler/`, optionally `vae/`);
- a hub id such as `google/ddpm-cifar10-32`, read from the local Hugging Face cache only: the
  harness never downloads; `local_path` (the `--dash-path DIR` option) points at a copy instead;
- `config:<name>`: a packaged architecture (`harness/models/configs/<name>.json`) with seeded
  random weights, for latency timing and tests (`tiny-sd`, `tiny-sdxl` carry small text encoders).

Text-conditioned UNets come with their tokenizer(s) and CLIP text encoder(s) (pipeline folders:
`tokenizer/`, `text_encoder/`, and `tokenizer_2/`, `text_encoder_2/` for SDXL); `Dash.conditioner`
(harness/models/conditioning.py) turns conditions into the UNet's inputs. A class-conditional Dash
folder may hold a noise-aware classifier for classifier guidance (ADM-G), `classifier/classifier.pt2`:
a `torch.export` program classifier(x_t, t) -> logits with a dynamic batch (guided-diffusion's
EncoderUNetModel exported once with `torch.export.export` and `torch.export.save`).

The noise schedule and sampler settings (`Dash.noise`, see `harness.samplers.noise`) come from the
folder's scheduler config when it has one, else from the packaged config whose `source` is the hub id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from harness import external
from harness.assets import DASH_DIGITS, SHIPPED_DASH
from harness.errors import HarnessError
from harness.models import architectures
from harness.models.fingerprint import state_dict_sha256
from harness.samplers.noise import noise_settings

CONFIG_PREFIX = "config:"
DIGITS_SOURCE = "digits"
DIGITS_DIR = DASH_DIGITS
RANDOM_WEIGHTS_SEED = 0
PROMPT_TOKENS = 77  # CLIP's text length: the number of cross-attention states per prompt
CLASSIFIER_FILE = Path(external.CLASSIFIER_FILE)
TEXT_FOLDERS = (("tokenizer", "text_encoder"), ("tokenizer_2", "text_encoder_2"))  # a pipeline's, in order


@dataclass
class Dash:
    """A frozen diffusion UNet with the noise schedule it was trained with."""

    unet: torch.nn.Module
    noise: dict
    sample_shape: tuple[int, int, int]
    vae: torch.nn.Module | None
    source: str
    text_encoders: tuple = ()  # conditioning.TextEncoder per encoder, in the pipeline's order
    text_missing: str | None = None  # what is missing for prompts, when the encoders could not be read
    classifier: torch.nn.Module | None = None  # noise-aware classifier for classifier guidance (ADM-G)

    def denoiser(self, guidance=None, classifier_scale: float | None = None):
        """Dash's noise estimator (Eq. 2) under this guidance; with ``classifier_scale``, classifier-guided
        (the classifier is part of Dash, so its gradient is part of every Dash step)."""
        from harness.models.denoisers import ClassifierGuidance, DashDenoiser
        from harness.samplers.noise import NoiseSchedule

        if classifier_scale is None:
            return DashDenoiser(self.unet, guidance)
        if self.classifier is None:
            raise HarnessError(f"Dash {self.source} has no classifier for classifier guidance: expected "
                               f"{CLASSIFIER_FILE} in its folder (a torch.export program, classifier(x_t, t) -> logits)")
        if guidance is None or "class_labels" not in guidance.cond:
            raise HarnessError("classifier guidance needs class labels (--conditions labels:K)")
        classifier = ClassifierGuidance(self.classifier, classifier_scale, NoiseSchedule(self.noise).alphas_cumprod)
        return DashDenoiser(self.unet, guidance, classifier)

    @cached_property
    def conditioner(self):
        """The conditions this Dash takes and how they become its UNet's inputs."""
        from harness.models.conditioning import conditioner_for

        return conditioner_for(self)

    @cached_property
    def fingerprint(self) -> str:
        """sha256 over the UNet's weights (computed on first use: SD-size models take seconds)."""
        return state_dict_sha256(self.unet)

    def placeholder_conditioning(self, batch: int) -> dict:
        """Zero conditioning of the right shapes (text states, SDXL's added embeddings, class 0) for a batch.

        For timing and smoke tests of conditional UNets; an unconditional UNet takes none ({}).
        """
        config = self.unet.config
        like = next(self.unet.parameters())
        if "cross_attention_dim" not in config:
            classes = {"class_labels": torch.zeros(batch, dtype=torch.long, device=like.device)}
            return classes if config.get("num_class_embeds") else {}

        def zeros(*shape: int) -> torch.Tensor:
            return torch.zeros(*shape, device=like.device, dtype=like.dtype)

        conditioning = {"encoder_hidden_states": zeros(batch, PROMPT_TOKENS, config.cross_attention_dim)}
        if config.addition_embed_type == "text_time":
            from harness.models.conditioning import sdxl_time_ids

            num_time_ids = 6  # original size, crop top-left, target size
            text_dim = config.projection_class_embeddings_input_dim - num_time_ids * config.addition_time_embed_dim
            conditioning["added_cond_kwargs"] = {
                "text_embeds": zeros(batch, text_dim),
                "time_ids": sdxl_time_ids(self.sample_shape, batch, like),
            }
        if config.time_cond_proj_dim is not None:
            conditioning["timestep_cond"] = zeros(batch, config.time_cond_proj_dim)
        return conditioning


def load_dash(
    source: str,
    *,
    local_path: str | Path | None = None,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float32,
) -> Dash:
    """Load Dash from `source` (see the module docstring); `local_path` overrides where weights are read."""
    if source.startswith(CONFIG_PREFIX):
        config = architectures.load_architecture(source[len(CONFIG_PREFIX) :])
        unet = architectures.build_unet(config["unet"], seed=RANDOM_WEIGHTS_SEED, device=device, dtype=dtype)
        noise, vae = noise_settings(config["scheduler"]), architectures.build_vae(config, seed=RANDOM_WEIGHTS_SEED, dtype=dtype)
        text = architectures.build_text_encoders(config, seed=RANDOM_WEIGHTS_SEED, dtype=dtype)
        classifier = None
        text_missing = None if text or "cross_attention_dim" not in config["unet"] else \
            f"the packaged config {source} has no text encoders (timing only)"
    else:
        directory = Path(local_path) if local_path is not None else resolve_directory(source)
        unet, vae = _read_model_directory(directory, dtype)
        noise = scheduler_settings(source, local_path=directory)
        text, text_missing = _read_text_encoders(directory, unet.config, dtype) if "cross_attention_dim" in unet.config \
            else ([], None)
        classifier_file = directory / CLASSIFIER_FILE
        classifier = torch.export.load(str(classifier_file)).module() if classifier_file.is_file() else None
    unet = _frozen(unet, device)
    vae = _frozen(vae, device) if vae is not None else None
    text = tuple(type(e)(e.tokenizer, _frozen(e.model, device)) for e in text)
    return Dash(unet=unet, noise=noise, sample_shape=architectures.sample_shape(unet), vae=vae, source=source,
                text_encoders=text, text_missing=text_missing,
                classifier=classifier.to(device).requires_grad_(False) if classifier is not None else None)


def _frozen(module: torch.nn.Module, device) -> torch.nn.Module:
    """The module on device, in eval mode, without gradients."""
    return module.to(device).eval().requires_grad_(False)


def resolve_directory(source: str) -> Path:
    """The local folder holding `source`: the shipped digits model, a path, or a cached hub snapshot."""
    if source in SHIPPED_DASH:
        directory, options = SHIPPED_DASH[source]
        if not (directory / "config.json").is_file():
            raise HarnessError(
                f"the shipped {source} Dash is missing from {directory}; rebuild it (its train_config.json "
                f"records the recipe): `python -m harness train-dash --out {directory} {options}`"
            )
        return directory
    if Path(source).is_dir():
        return Path(source)
    if source.count("/") != 1 or Path(source).exists():
        raise HarnessError(
            f"unknown Dash source {source!r}: expected a shipped one ({', '.join(SHIPPED_DASH)}), a local model directory, "
            f"a Hugging Face hub id (owner/name) or `{CONFIG_PREFIX}<name>` with a packaged name "
            f"({', '.join(architectures.architecture_names())})"
        )
    return _cached_snapshot(source)


def _cached_snapshot(repo_id: str) -> Path:
    """The locally cached snapshot of a hub repo; never touches the network."""
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except LocalEntryNotFoundError:
        raise HarnessError(
            f"Dash {repo_id!r} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and the "
            "harness never downloads at run time. Either pass a local copy with `--dash-path DIR` "
            "(config key `dash.path`): a diffusers model folder (config.json + weights) or a pipeline "
            f"folder (unet/, scheduler/, vae/); or pre-download it on a machine with network, "
            f"`huggingface-cli download {repo_id}` (huggingface_hub >= 1.0: `hf download {repo_id}`), "
            "and copy the cache (HF_HOME) here."
        ) from None


def scheduler_settings(source: str, *, local_path: str | Path | None = None) -> dict:
    """``Dash.noise`` of `source` without loading its weights: the folder's scheduler config, else
    the packaged config's (the workflow plans budgets with it)."""
    if source.startswith(CONFIG_PREFIX):
        return noise_settings(architectures.load_architecture(source[len(CONFIG_PREFIX) :])["scheduler"])
    directory = Path(local_path) if local_path is not None else resolve_directory(source)
    pipeline = (directory / "unet" / "config.json").is_file()
    scheduler_file = directory / "scheduler" / "scheduler_config.json" if pipeline else directory / "scheduler_config.json"
    if scheduler_file.is_file():
        return noise_settings(json.loads(scheduler_file.read_text()))
    return noise_settings(_packaged_scheduler(source, directory))


def _read_model_directory(directory: Path, dtype: torch.dtype):
    """(unet, vae or None) from a diffusers model or pipeline folder."""
    if (directory / "unet" / "config.json").is_file():
        unet_dir, vae_dir = directory / "unet", directory / "vae"
    elif (directory / "config.json").is_file():
        unet_dir, vae_dir = directory, None
    else:
        raise HarnessError(
            f"no diffusers model in {directory}: expected config.json + weights, or a pipeline folder with unet/"
        )
    unet_config = json.loads((unet_dir / "config.json").read_text())
    try:
        unet_cls = architectures.unet_class(unet_config)
        unet = unet_cls.from_pretrained(unet_dir, torch_dtype=dtype, local_files_only=True)
        has_vae = vae_dir is not None and (vae_dir / "config.json").is_file()
        vae = _read_vae(vae_dir, dtype) if has_vae else None
    except (OSError, ValueError) as err:
        raise HarnessError(f"cannot load the diffusers model in {directory}: {err}") from err
    return unet, vae


def _read_text_encoders(directory: Path, unet_config, dtype: torch.dtype) -> tuple[list, str | None]:
    """The pipeline folder's tokenizer/text encoder pairs (two for SDXL), or what is missing of them."""
    from transformers import AutoTokenizer, CLIPTextModel, CLIPTextModelWithProjection

    from harness.models.conditioning import TextEncoder

    count = 2 if unet_config.get("addition_embed_type") == "text_time" else 1
    folders = TEXT_FOLDERS[:count]
    missing = [str(directory / name) for pair in folders for name in pair if not (directory / name).is_dir()]
    if missing:
        return [], (f"{', '.join(missing)} (a pipeline folder holds them beside unet/: pass the whole pipeline "
                    "snapshot with --dash-path)")
    classes = (CLIPTextModel, CLIPTextModelWithProjection)[:count] if count == 2 else (CLIPTextModel,)
    encoders = []
    for (tokenizer_dir, encoder_dir), cls in zip(folders, classes):
        try:
            tokenizer = AutoTokenizer.from_pretrained(directory / tokenizer_dir, local_files_only=True)
            model = cls.from_pretrained(directory / encoder_dir, torch_dtype=dtype, local_files_only=True)
        except (OSError, ValueError) as err:
            raise HarnessError(f"cannot load the text encoder in {directory / encoder_dir}: {err}") from err
        encoders.append(TextEncoder(tokenizer, model))
    return encoders, None


def _read_vae(vae_dir: Path, dtype: torch.dtype) -> torch.nn.Module:
    """The pipeline's AutoencoderKL, which maps latents to pixels."""
    from diffusers import AutoencoderKL

    return AutoencoderKL.from_pretrained(vae_dir, torch_dtype=dtype, local_files_only=True)


def _packaged_scheduler(source: str, directory: Path) -> dict:
    """The noise schedule of the packaged config for `source`, for folders that ship none."""
    config = architectures.architecture_for_source(source)
    if config is None:
        raise HarnessError(
            f"{directory} has no scheduler_config.json and {source!r} matches no packaged config: add the "
            "scheduler config to the folder, or pass the hub id as the source with `--dash-path` for the folder"
        )
    return config["scheduler"]
