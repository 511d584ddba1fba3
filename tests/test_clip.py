"""CLIP score: the formula, determinism on a tiny random-weight open_clip model, offline weights,
and the MS-COCO prompts subset."""

from __future__ import annotations

import csv
import json

import numpy as np
import open_clip
import pytest
import torch

from harness import external
from harness.cli import main
from harness.errors import HarnessError
from harness.images import resize_image
from harness.metrics import clip_model
from harness.metrics.clip_model import clip_scores, load_scorer, resolve_checkpoint
from harness.metrics.prompts import read_prompts, select_captions
from metrics_helpers import TINY_CLIP as TINY
from metrics_helpers import tiny_clip_checkpoint, write_shards

@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return tiny_clip_checkpoint(tmp_path_factory.mktemp("clip"))


def test_score_is_100_times_clamped_cosine():
    images = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 4.0], [1.0, 1.0]])
    texts = torch.tensor([[5.0, 0.0], [1.0, 0.0], [4.0, 3.0], [-1.0, -1.0]])
    np.testing.assert_allclose(clip_scores(images, texts).numpy(), [100.0, 0.0, 96.0, 0.0], atol=1e-9)


def test_tiny_model_scores_are_deterministic_and_batch_independent(tiny_clip):
    images = np.random.default_rng(0).integers(0, 256, (6, 16, 16, 3), dtype=np.uint8)
    prompts = [f"a photo of the digit {i}" for i in range(6)]
    one = load_scorer(TINY, "none", tiny_clip, offline=True, device="cpu")
    two = load_scorer(TINY, "none", tiny_clip, offline=True, device="cpu")
    whole = one.scores(images, prompts)
    halves = torch.cat([two.scores(images[:2], prompts[:2]), two.scores(images[2:], prompts[2:])])
    # float32: batches of 6 and of 2 + 4 take different matmul kernels (summation orders) on CPU
    torch.testing.assert_close(whole, halves, rtol=2e-5, atol=2e-5)
    assert (whole >= 0).all() and (whole > 0).any() and (whole <= 100).all()
    assert one.weights_sha256 != "none" and one.preprocess_label == "bicubic-shortest-32-centercrop-openai-mean-std"
    random_a, random_b = (load_scorer(TINY, "none", None, offline=True, device="cpu") for _ in range(2))
    torch.testing.assert_close(random_a.scores(images, prompts), random_b.scores(images, prompts))
    assert random_a.weights_sha256 == "none"


def test_clip_stage_pairs_seed_with_prompt_line_and_writes_a_row(tmp_path, tiny_clip):
    images = np.random.default_rng(1).integers(0, 256, (5, 24, 24, 1), dtype=np.uint8)
    write_shards(tmp_path / "s", images, np.array([4, 0, 3, 1, 2]), per_shard=3)
    (tmp_path / "prompts.txt").write_text("".join(f"caption number {i}\n" for i in range(5)))
    args = ["clip", str(tmp_path / "s"), "--prompts", str(tmp_path / "prompts.txt"), "--num-samples", "5",
            "--model", TINY, "--clip-checkpoint", str(tiny_clip), "--image-size", "32", "--device", "cpu", "--offline"]
    assert main([*args, "--out", str(tmp_path / "a.csv")]) == 0
    with open(tmp_path / "a.csv") as handle:
        row = next(csv.DictReader(handle))
    scorer = load_scorer(TINY, "none", tiny_clip, offline=True, device="cpu")
    order = np.array([1, 3, 4, 2, 0])  # rows of `images` holding seeds 0..4
    resized = np.stack([resize_image(img, 32) for img in images[order]])
    expected = scorer.scores(resized, [f"caption number {i}" for i in range(5)]).mean()
    # float32 on CPU: the stage scores in batches of another shape than this direct call, and oneDNN
    # picks its matmul kernel (and summation order) by shape, so the two means agree to a few float32
    # ulps per reduction (4e-6 relative seen with torch 2.14), not bit for bit
    assert float(row["clip_score"]) == pytest.approx(float(expected), rel=2e-5)
    assert row["clip_model"] == TINY and row["clip_pretrained"] == "checkpoint"
    assert row["clip_resize"] == "square-crop+pil-bicubic-32"
    assert row["clip_prompts_sha256"] == read_prompts(tmp_path / "prompts.txt")[1] and row["num_samples"] == "5"
    assert main([*args, "--num-samples", "6", "--out", str(tmp_path / "b.csv")]) == 1


def test_missing_clip_weights_offline_name_the_file_and_how_to_supply_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a run directory without the weights
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(clip_model, "try_to_load_from_cache", lambda repo, name: None)  # an empty HF cache

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(open_clip, "download_pretrained", refuse)
    with pytest.raises(HarnessError) as err:
        resolve_checkpoint("ViT-g-14", "laion2b_s34b_b88k", None, offline=True)
    message = str(err.value)
    registered = external.clip_weights("ViT-g-14", "laion2b_s34b_b88k")
    assert registered.location in message and registered.how_to in message
    assert "laion/CLIP-ViT-g-14-laion2B-s34B-b88K" in message and "open_clip_pytorch_model.bin" in message
    assert "--clip-checkpoint" in message
    with pytest.raises(HarnessError, match="laion2b_s12b_b42k"):
        resolve_checkpoint("ViT-g-14", "no-such-tag", None, offline=True)
    with pytest.raises(HarnessError, match="does not exist"):
        resolve_checkpoint("ViT-g-14", "laion2b_s34b_b88k", tmp_path / "nope.bin", offline=True)


def test_clip_weights_at_the_registered_location_come_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(clip_model, "try_to_load_from_cache", lambda repo, name: "/elsewhere/" + name)
    registered = external.clip_weights("ViT-g-14", "laion2b_s34b_b88k")
    assert resolve_checkpoint("ViT-g-14", "laion2b_s34b_b88k", None, offline=True).startswith("/elsewhere/")
    registered.path.parent.mkdir(parents=True)
    registered.path.write_bytes(b"weights")
    assert resolve_checkpoint("ViT-g-14", "laion2b_s34b_b88k", None, offline=True) == registered.location


def test_cached_clip_weights_are_found_without_download(tmp_path, monkeypatch):
    cached = tmp_path / "open_clip_model.safetensors"
    cached.write_bytes(b"weights")
    monkeypatch.setattr(
        clip_model, "try_to_load_from_cache", lambda repo, name: str(cached) if name == cached.name else None
    )
    assert resolve_checkpoint("ViT-g-14", "laion2b_s12b_b42k", None, offline=True) == str(cached)


def test_coco_prompts_subset_is_fixed_by_the_seed(tmp_path):
    captions = [{"id": 100 - i, "image_id": i, "caption": f" A  cat\nnumber {i} "} for i in range(50)]
    annotations = {"annotations": captions}
    first = select_captions(annotations, 20, seed=0)
    assert first == select_captions(annotations, 20, seed=0)
    assert first != select_captions(annotations, 20, seed=1)
    assert len(set(first)) == 20 and all("\n" not in c and "  " not in c for c in first)
    with pytest.raises(HarnessError, match="fewer than the 51"):
        select_captions(annotations, 51, seed=0)
    (tmp_path / "captions_val2014.json").write_text(json.dumps(annotations))
    out = tmp_path / "prompts.txt"
    source = str(tmp_path / "captions_val2014.json")
    assert main(["coco-prompts", "--annotations", source, "--num", "20", "--out", str(out)]) == 0
    prompts, sha = read_prompts(out)
    assert prompts == first and json.loads(out.with_suffix(".json").read_text())["sha256"] == sha


def test_write_prompts_called_from_python_writes_the_draw_and_its_record(tmp_path, capsys):
    from harness.metrics.prompts import write_prompts

    annotations = {"annotations": [{"id": i, "image_id": i, "caption": f"caption {i}"} for i in range(30)]}
    source = tmp_path / "captions.json"
    source.write_text(json.dumps(annotations))
    record = write_prompts(source, tmp_path / "p.txt", num=10, seed=3)
    prompts, sha = read_prompts(tmp_path / "p.txt")
    assert prompts == select_captions(annotations, 10, seed=3) and record["sha256"] == sha
    assert json.loads((tmp_path / "p.json").read_text()) == record and record["seed"] == 3
    with pytest.raises(HarnessError, match="--annotations"):
        write_prompts(tmp_path / "absent.json", tmp_path / "q.txt", num=10)
