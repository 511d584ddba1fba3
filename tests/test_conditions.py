"""Conditional generation (issue 11): conditions tied to seeds, CFG, text Dashes, Dot over guidance scales."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from harness.cli import main
from harness.conditions import parse_conditions
from harness.errors import HarnessError
from harness.models.dash import load_dash
from harness.models.denoisers import DashDenoiser, Guidance
from harness.shards import read_shard

from conftest import TINY_UNET

NUM_CLASSES = 10
PROMPTS = ["a red cube on a table", "a photo of a cat", "", "blue sky over a field", "two dogs"]


@pytest.fixture(scope="session")
def class_dash_dir(tmp_path_factory):
    """A class-conditional tiny Dash (the harness convention: num_class_embeds = K + 1, null class K)."""
    from diffusers import DDPMScheduler, UNet2DModel

    directory = tmp_path_factory.mktemp("class_dash")
    torch.manual_seed(0)
    UNet2DModel(**TINY_UNET, num_class_embeds=NUM_CLASSES + 1).save_pretrained(directory)
    DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=True).save_config(directory)
    return directory


@pytest.fixture
def prompts_file(tmp_path):
    path = tmp_path / "prompts.txt"
    path.write_text("".join(p + "\n" for p in PROMPTS))
    return path


def test_labels_and_prompts_are_tied_to_seeds(prompts_file):
    labels = parse_conditions(f"labels:{NUM_CLASSES}")
    every = labels.for_seeds(range(1000))
    assert labels.for_seeds([7, 3, 500]).tolist() == [every[7], every[3], every[500]]
    assert set(every.tolist()) == set(range(NUM_CLASSES))  # uniform over the classes: all appear
    prompts = parse_conditions(f"prompts:{prompts_file}")
    assert prompts.for_seeds([3, 0]) == [PROMPTS[3], PROMPTS[0]]
    with pytest.raises(HarnessError, match="seed 5 has none"):
        prompts.for_seeds([4, 5])
    with pytest.raises(HarnessError, match="unknown condition source 'caption'"):
        parse_conditions("caption:x")


def test_cfg_at_scale_one_is_the_conditional_estimate_and_scales_per_image_mix_alike(class_dash_dir):
    dash = load_dash(str(class_dash_dir))
    x, labels = torch.randn(3, *dash.sample_shape), np.array([1, 4, 9])
    conditional = DashDenoiser(dash.unet, dash.conditioner.guidance(labels, None))(x, 500)
    at_one = dash.conditioner.guidance(labels, 1.0)
    guided_1 = DashDenoiser(dash.unet, at_one)(x, 500)
    assert torch.allclose(guided_1, conditional, atol=1e-5)
    assert at_one.branches == 1 and dash.conditioner.guidance(labels, torch.tensor([1.0, 2.0, 1.0])).branches == 2
    unconditional = DashDenoiser(dash.unet, Guidance(dash.conditioner.null(3)))(x, 500)
    assert not torch.allclose(unconditional, conditional, atol=1e-4)  # the null class is an input of its own
    per_image = DashDenoiser(dash.unet, dash.conditioner.guidance(labels, torch.tensor([2.0, 5.0, 7.5])))(x, 500)
    for i, w in enumerate([2.0, 5.0, 7.5]):
        expected = unconditional[i] + w * (conditional[i] - unconditional[i])
        assert torch.allclose(per_image[i], expected, atol=1e-4)


def _sample(dash, out, seeds, batch, *extra):
    assert main(["sample", "--dash", dash, "--seeds", seeds, "--batch-size", str(batch), "--out", str(out),
                 *extra]) == 0
    return read_shard(out)


def test_class_conditional_shards_store_labels_and_an_image_depends_on_its_seed_only(class_dash_dir, tmp_path):
    options = ["--conditions", f"labels:{NUM_CLASSES}", "--guidance-scale", "3", "--sampler", "ddpm", "--steps", "4"]
    whole = _sample(str(class_dash_dir), tmp_path / "all.npz", "0-5", 6, *options)
    part = _sample(str(class_dash_dir), tmp_path / "part.npz", "2-5", 3, *options)
    assert np.array_equal(part.images, whole.images[2:])
    assert whole.conditions["labels"].tolist() == parse_conditions(f"labels:{NUM_CLASSES}").for_seeds(range(6)).tolist()
    assert whole.meta["guidance_scale"] == 3.0 and whole.meta["conditions"]["kind"] == "labels"
    plain = _sample(str(class_dash_dir), tmp_path / "plain.npz", "0-5", 6, *options[:2], "--sampler", "ddpm", "--steps", "4")
    assert not np.array_equal(plain.images, whole.images) and plain.meta["guidance_scale"] is None


@pytest.mark.parametrize("dash,extra,message", [
    ("class", [], "takes class labels"),
    ("class", ["--conditions", "prompts:{prompts}"], "takes class labels"),
    ("plain", ["--conditions", "labels:3"], "takes no conditions"),
    ("plain", ["--guidance-scale", "2"], "unconditional: --guidance-scale"),
])
def test_conditions_that_do_not_fit_the_dash_fail_before_sampling(class_dash_dir, tiny_dash_dir, prompts_file, tmp_path,
                                                                  capsys, dash, extra, message):
    source = str(class_dash_dir if dash == "class" else tiny_dash_dir)
    extra = [e.format(prompts=prompts_file) for e in extra]
    assert main(["sample", "--dash", source, "--steps", "2", "--seeds", "0-1", "--out", str(tmp_path / "x.npz"),
                 *extra]) == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()


def test_tiny_sd_oracle_identity_under_guidance_and_batch_independence(prompts_file, tmp_path):
    """The issue's check: Morse with the ideal Dot (2 Dash of 6 points) gives the images of 6 plain
    steps at the same prompts and scale; the prompts are stored; batch size does not change an image."""
    options = ["--conditions", f"prompts:{prompts_file}", "--guidance-scale", "7.5"]
    morse = _sample("config:tiny-sd", tmp_path / "m.npz", "0-3", 4, *options, "--dot", "oracle",
                    "--fine-steps", "6", "--dash-steps", "2")
    plain = _sample("config:tiny-sd", tmp_path / "p.npz", "0-3", 4, *options, "--steps", "6")
    assert np.array_equal(morse.images, plain.images)
    assert morse.conditions["prompts"].tolist() == PROMPTS[:4]
    assert morse.images.shape == (4, 32, 32, 3)  # decoded by the tiny VAE
    split = _sample("config:tiny-sd", tmp_path / "s.npz", "2-3", 1, *options, "--steps", "6")
    # batched matrix products may round differently by batch size: at most one level of 255
    assert np.abs(split.images.astype(int) - plain.images[2:].astype(int)).max() <= 1
    unguided = _sample("config:tiny-sd", tmp_path / "u.npz", "0-3", 4, options[0], options[1], "--steps", "6")
    assert not np.array_equal(unguided.images, plain.images)


def test_tiny_sdxl_prompt_path_with_added_embeddings(prompts_file, tmp_path):
    """LCM-SDXL-shaped: two encoders, pooled text_embeds and time_ids; no CFG (LCM's w is distilled in)."""
    dash = load_dash("config:tiny-sdxl")
    guidance = dash.conditioner.guidance(PROMPTS[:2], None)
    assert guidance.branches == 1
    assert guidance.cond["encoder_hidden_states"].shape == (2, 77, 64)
    assert guidance.cond["added_cond_kwargs"]["text_embeds"].shape == (2, 16)
    assert guidance.cond["added_cond_kwargs"]["time_ids"].tolist()[0] == [128, 128, 0, 0, 128, 128]
    shard = _sample("config:tiny-sdxl", tmp_path / "x.npz", "0-1", 2, "--conditions", f"prompts:{prompts_file}",
                    "--sampler", "lcm", "--grid", "lcm", "--steps", "2")
    assert shard.images.shape == (2, 32, 32, 3) and shard.meta["guidance_scale"] is None
    guided = dash.conditioner.guidance(PROMPTS[:2], 4.0)  # SDXL proper: CFG against zeroed text inputs
    assert guided.branches == 2 and not guided.uncond["encoder_hidden_states"].any()
    assert not guided.uncond["added_cond_kwargs"]["text_embeds"].any()


def test_dot_trained_over_guidance_scales_sees_the_scale(class_dash_dir, tmp_path, capsys):
    from harness.morse.checkpoint import load_dot

    out = tmp_path / "dot"
    assert main(["train-dot", "--dash", str(class_dash_dir), "--data", "digits:16:train", "--eval-data", "digits:16:heldout",
                 "--guidance-scales", "2", "10", "--steps", "3", "--batch-size", "4", "--extra-blocks", "1",
                 "--channels", "16", "--lora-rank", "2", "--lr", "0.01", "--warmup", "1", "--out", str(out)]) == 0
    meta = json.loads((out / "dot.json").read_text())
    assert meta["dot_config"]["conditions"] == "labels" and meta["dot_config"]["guidance_scales"] == [2.0, 10.0]
    assert meta["heldout"]["pairs"] > 0
    dash = load_dash(str(class_dash_dir))
    dot = load_dot(out, dash, conditions="labels", guidance_scale=5.0)
    x = torch.randn(2, *dash.sample_shape)
    labels = {"class_labels": torch.tensor([3, 7])}
    at = {w: dot(x, x, x, torch.tensor(600), torch.tensor(500), guidance_scale=torch.tensor([w, w]), **labels)
          for w in (2.0, 9.0)}
    assert not torch.allclose(at[2.0], at[9.0])
    with pytest.raises(HarnessError, match="trained with conditions 'labels', this run has 'none'"):
        load_dot(out, load_dash(str(class_dash_dir)), conditions="none")
    with pytest.raises(HarnessError, match=r"guidance scales \[2, 10\]: pass --guidance-scale"):
        load_dot(out, load_dash(str(class_dash_dir)), conditions="labels")
    shard = _sample(str(class_dash_dir), tmp_path / "m.npz", "0-3", 4, "--conditions", f"labels:{NUM_CLASSES}",
                    "--guidance-scale", "4", "--dot", str(out), "--fine-steps", "4", "--dash-steps", "2")
    assert shard.meta["dot"] == str(out) and shard.images.shape == (4, 16, 16, 1)


class _TinyClassifier(torch.nn.Module):
    """A noise-aware classifier(x_t, t) -> logits, as guided-diffusion's, exported with torch.export."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, NUM_CLASSES, 3, padding=1)

    def forward(self, x, t):
        return (self.conv(x) * x).mean((2, 3)) * (1 + t.float()[:, None] / 1000)


@pytest.fixture
def classifier_dash_dir(class_dash_dir, tmp_path):
    import shutil

    directory = tmp_path / "adm_g"
    shutil.copytree(class_dash_dir, directory)
    (directory / "classifier").mkdir()
    torch.manual_seed(1)
    batch = torch.export.Dim("batch")
    program = torch.export.export(_TinyClassifier(), (torch.randn(2, 1, 16, 16), torch.tensor([1, 2])),
                                  dynamic_shapes=({0: batch}, {0: batch}))
    torch.export.save(program, str(directory / "classifier" / "classifier.pt2"))
    return directory


def test_classifier_guidance_is_part_of_dash(classifier_dash_dir, class_dash_dir, tmp_path, capsys):
    """Dhariwal & Nichol's Algorithm 2: eps - s sqrt(1 - alpha_bar_t) grad log p(y | x_t); timed inside Dash's step."""
    from harness.latency import steps
    from harness.samplers.noise import NoiseSchedule

    dash = load_dash(str(classifier_dash_dir))
    x, labels, t = torch.randn(2, *dash.sample_shape), np.array([2, 5]), 400
    guidance = dash.conditioner.guidance(labels, None)
    plain = dash.denoiser(guidance)(x, t)
    assert torch.allclose(dash.denoiser(guidance, 0.0)(x, t), plain)
    x_in = x.clone().requires_grad_(True)
    log_p = torch.log_softmax(dash.classifier(x_in, torch.full((2,), t)), -1)[[0, 1], [2, 5]].sum()
    grad = torch.autograd.grad(log_p, x_in)[0]
    sigma = (1 - NoiseSchedule(dash.noise).alphas_cumprod[t]).sqrt().float()
    assert torch.allclose(dash.denoiser(guidance, 2.0)(x, t), plain - 2.0 * sigma * grad, atol=1e-5)

    calls = []
    dash.classifier.register_forward_hook(lambda *a: calls.append(1))
    steps.dash_step(dash, 2, None, 1.0)()
    assert calls == [1]
    shard = _sample(str(classifier_dash_dir), tmp_path / "g.npz", "0-1", 2, "--conditions", f"labels:{NUM_CLASSES}",
                    "--classifier-scale", "1", "--steps", "3")
    assert shard.meta["classifier_scale"] == 1.0
    assert main(["sample", "--dash", str(class_dash_dir), "--conditions", f"labels:{NUM_CLASSES}", "--classifier-scale",
                 "1", "--steps", "3", "--seeds", "0-1", "--out", str(tmp_path / "x.npz")]) == 1
    assert "no classifier for classifier guidance" in capsys.readouterr().err


def test_a_dot_learns_the_classifier_guided_estimate(classifier_dash_dir, tmp_path):
    """ADM-G's Dot (Fig. 6): train-dot with --classifier-scale trains against the guided Dash."""
    out = tmp_path / "dot"
    assert main(["train-dot", "--dash", str(classifier_dash_dir), "--data", "digits:16:train", "--classifier-scale", "1",
                 "--steps", "2", "--batch-size", "4", "--extra-blocks", "1", "--channels", "16", "--lora-rank", "2",
                 "--out", str(out)]) == 0
    assert json.loads((out / "dot.json").read_text())["training"]["classifier_scale"] == 1.0
    shard = _sample(str(classifier_dash_dir), tmp_path / "m.npz", "0-1", 2, "--conditions", f"labels:{NUM_CLASSES}",
                    "--classifier-scale", "1", "--dot", str(out), "--fine-steps", "4", "--dash-steps", "2")
    assert shard.meta["classifier_scale"] == 1.0 and shard.images.shape == (2, 16, 16, 1)


def test_class_folders_give_labels_in_sorted_folder_order(tmp_path):
    """ImageNet's layout (ROOT/<wnid>/*.png): sorted folder names are the class indices the ADM models use."""
    from PIL import Image

    from harness.data.labelled import load_class_folders

    for wnid, count, value in (("n02", 2, 200), ("n01", 1, 100)):
        (tmp_path / wnid).mkdir()
        for i in range(count):
            Image.new("RGB", (24, 20), (value, 0, 0)).save(tmp_path / wnid / f"{i}.png")
    (tmp_path / "n01" / "notes.txt").write_text("not an image")
    images, labels, classes = load_class_folders(str(tmp_path), 8)
    assert classes == ["n01", "n02"] and labels.tolist() == [0, 1, 1]
    assert images.shape == (3, 8, 8, 3) and images[0, 4, 4, 0] == 100 and images[2, 4, 4, 0] == 200
    (tmp_path / "empty").mkdir()
    with pytest.raises(HarnessError, match="expected ROOT/<class>"):
        load_class_folders(str(tmp_path / "empty"), 8)
    with pytest.raises(HarnessError, match="are missing"):
        load_class_folders(str(tmp_path / "absent"), 8)


def test_a_pipeline_folder_supplies_the_text_encoders_and_names_the_missing_ones(tmp_path, prompts_file, capsys):
    """LCM-SDXL's layout: unet/, vae/, tokenizer(_2)/, text_encoder(_2)/ and no scheduler/ (the packaged
    config's schedule). The folder's encoders give the same states as the Dash they were saved from."""
    import shutil

    built = load_dash("config:tiny-sdxl")
    folder = tmp_path / "pipeline"
    built.unet.save_pretrained(folder / "unet")
    built.vae.save_pretrained(folder / "vae")
    for k, encoder in enumerate(built.text_encoders):
        suffix = "" if k == 0 else "_2"
        encoder.tokenizer.save_pretrained(folder / f"tokenizer{suffix}")
        encoder.model.save_pretrained(folder / f"text_encoder{suffix}")
    loaded = load_dash("latent-consistency/lcm-sdxl", local_path=folder)
    assert loaded.noise["set_alpha_to_one"] is False and loaded.vae is not None  # lcm-sdxl-unet.json's schedule
    ours, theirs = (d.conditioner.guidance(PROMPTS[:2], None).cond for d in (built, loaded))
    assert torch.allclose(ours["encoder_hidden_states"], theirs["encoder_hidden_states"], atol=1e-5)
    assert torch.allclose(ours["added_cond_kwargs"]["text_embeds"], theirs["added_cond_kwargs"]["text_embeds"], atol=1e-5)

    shutil.rmtree(folder / "text_encoder_2")
    assert main(["sample", "--dash", "latent-consistency/lcm-sdxl", "--dash-path", str(folder), "--conditions",
                 f"prompts:{prompts_file}", "--sampler", "lcm", "--grid", "lcm", "--steps", "1", "--seeds", "0",
                 "--out", str(tmp_path / "x.npz")]) == 1
    assert f"{folder / 'text_encoder_2'}" in capsys.readouterr().err
