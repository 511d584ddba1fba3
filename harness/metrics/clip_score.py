"""The CLIP score of one point's images against their prompts (open_clip), as its results row."""

from __future__ import annotations

from pathlib import Path

import open_clip

from harness import provenance
from harness.errors import HarnessError
from harness.images import open_images, resize_label
from harness.metrics.clip_model import load_scorer
from harness.metrics.prompts import read_prompts
from harness.metrics.rows import identity_columns, sample_meta
from harness.progress import progress


def clip_score_row(*, samples: list[str], num_samples: int, prompts_file: Path, model: str, pretrained: str,
                   clip_checkpoint: Path | None, offline: bool, device: str, image_size: int | None, batch_size: int,
                   command_line: list[str] = ()) -> dict:
    """The mean CLIP score of the first ``num_samples`` images of ``samples``, image s against prompt s of
    ``prompts_file`` (its columns: docs/metrics.md), with the provenance of the stage run by ``command_line``."""
    samples = open_images(samples).first(num_samples)
    prompts, prompts_sha256 = read_prompts(prompts_file)
    if int(samples.ids.max()) >= len(prompts) or int(samples.ids.min()) < 0:
        seeds = f"{samples.ids.min()}-{samples.ids.max()}"
        raise HarnessError(f"seeds {seeds} fall outside the {len(prompts)} prompts of {prompts_file}")
    scorer = load_scorer(model, pretrained, clip_checkpoint, offline, device)
    resize = image_size or None
    total = 0.0
    with progress(desc=f"CLIP score of {samples.name}", total=len(samples), unit="img") as bar:
        for seeds, images in samples.batches(batch_size, resize):
            total += float(scorer.scores(images, [prompts[s] for s in seeds]).sum())
            bar.update(len(seeds))
    score = total / len(samples)
    row = {
        **identity_columns(sample_meta(samples), samples.ids),
        "clip_score": score,
        "clip_model": model,
        "clip_pretrained": "checkpoint" if clip_checkpoint else pretrained,
        "clip_weights_sha256": scorer.weights_sha256,
        "clip_backend": "open_clip",
        "clip_backend_version": open_clip.__version__,
        "clip_preprocess": scorer.preprocess_label,
        "clip_resize": resize_label(resize),
        "clip_prompts": str(prompts_file),
        "clip_prompts_sha256": prompts_sha256,
        **provenance.columns(list(command_line), sample_meta(samples).get("experiment"), device),
    }
    return row
