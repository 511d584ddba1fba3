"""CLIP score with open_clip: weights resolved offline-safely, preprocessing pinned, the score formula.

CLIP score (Hessel et al. 2021, as used for text-to-image FID/CLIP trade-offs) of an image and
its prompt is ``100 * max(cos(E_image, E_text), 0)``, averaged over images. The model is any
open_clip architecture (ViT-g-14 by default) with a pretrained tag (``laion2b_s34b_b88k``
default, ``laion2b_s12b_b42k`` available) or a local checkpoint file. Tag weights are looked up
at their registered location (:mod:`harness.external`) and then in the Hugging Face cache; missing
and offline is an error naming the expected file and how to supply it. Preprocessing is not taken from the model's metadata but pinned here:
bicubic resize of the shortest side, centre crop to the model's input size, OpenAI mean/std.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open_clip
import torch
from huggingface_hub import try_to_load_from_cache
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME, OPENAI_DATASET_MEAN, OPENAI_DATASET_STD

from harness import external
from harness.errors import HarnessError
from harness.images import to_pil
from harness.metrics.sha import file_sha256

DEFAULT_MODEL, DEFAULT_PRETRAINED = external.CLIP_MODEL, external.CLIP_PRETRAINED
RANDOM = "none"  # pretrained tag meaning random weights (tests, timing)
INTERPOLATION, RESIZE_MODE = "bicubic", "shortest"


def clip_scores(image_embeddings: torch.Tensor, text_embeddings: torch.Tensor) -> torch.Tensor:
    """Per-pair score 100 * max(cos, 0) of matching rows of two (n, d) embedding batches."""
    cos = torch.nn.functional.cosine_similarity(image_embeddings.double(), text_embeddings.double(), dim=1)
    return 100.0 * cos.clamp(min=0)


def resolve_checkpoint(model: str, pretrained: str, checkpoint: Path | None, offline: bool) -> str | None:
    """A local weights file for (model, pretrained tag), or None for random weights."""
    if checkpoint is not None:
        if not Path(checkpoint).is_file():
            raise HarnessError(f"CLIP checkpoint {checkpoint} does not exist (--clip-checkpoint)")
        return str(checkpoint)
    if pretrained == RANDOM:
        return None
    cfg = open_clip.get_pretrained_cfg(model, pretrained)
    if not cfg:
        known = ", ".join(open_clip.list_pretrained_tags_by_model(model)) or "none"
        raise HarnessError(f"open_clip has no pretrained tag {pretrained!r} for {model}; known: {known}")
    registered = external.clip_weights(model, pretrained)
    if registered is not None and registered.path.is_file():
        return str(registered.path)
    repo, filename = os.path.split(cfg["hf_hub"]) if cfg.get("hf_hub") else ("", "")
    candidates = [filename] if filename else [HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME]
    for name in candidates if repo else []:
        cached = try_to_load_from_cache(repo, name)
        if isinstance(cached, str):
            return cached
    if offline:
        in_cache = f"{repo}/{candidates[-1]}" if repo else cfg.get("url", "")
        why = f" (and {in_cache} is not in the local Hugging Face cache; --offline forbids downloading)"
        if registered is not None:
            raise HarnessError(registered.missing(why=why))
        raise HarnessError(f"CLIP weights for {model} {pretrained} are missing{why}: pass the file with --clip-checkpoint")
    return open_clip.download_pretrained(cfg)


@dataclass
class ClipScorer:
    model: torch.nn.Module
    tokenizer: object
    preprocess: object
    device: torch.device
    weights_sha256: str
    preprocess_label: str  # the pinned preprocessing, for the row

    @torch.no_grad()
    def scores(self, images: np.ndarray, prompts: list[str]) -> torch.Tensor:
        """uint8 (n, H, W, C) images and their n prompts -> n CLIP scores."""
        pixels = torch.stack([self.preprocess(to_pil(img)) for img in images])
        image_embeddings = self.model.encode_image(pixels.to(self.device))
        text_embeddings = self.model.encode_text(self.tokenizer(prompts).to(self.device))
        return clip_scores(image_embeddings, text_embeddings).cpu()


def load_scorer(model: str, pretrained: str, checkpoint: Path | None, offline: bool, device: str) -> ClipScorer:
    weights = resolve_checkpoint(model, pretrained, checkpoint, offline)
    if weights is None:
        torch.manual_seed(0)  # random weights: one fixed network
    try:
        network = open_clip.create_model(model, pretrained=weights, device=device, precision="fp32")
    except RuntimeError as err:
        raise HarnessError(f"open_clip could not build {model} from {weights or 'random weights'}: {err}") from None
    network.eval()
    size = network.visual.image_size
    size = size[0] if isinstance(size, (tuple, list)) else size
    preprocess = open_clip.image_transform(
        size,
        is_train=False,
        mean=OPENAI_DATASET_MEAN,
        std=OPENAI_DATASET_STD,
        resize_mode=RESIZE_MODE,
        interpolation=INTERPOLATION,
    )
    sha = file_sha256(Path(weights)) if weights else RANDOM
    label = f"{INTERPOLATION}-{RESIZE_MODE}-{size}-centercrop-openai-mean-std"
    return ClipScorer(network, open_clip.get_tokenizer(model), preprocess, torch.device(device), sha, label)
