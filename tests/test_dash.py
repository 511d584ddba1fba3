"""Dash loading (`harness.models.dash`) and the `train-dash` stage."""

from __future__ import annotations

import csv
import json
import socket

import pytest
import torch

from harness.cli import main
from harness.errors import HarnessError
from harness.models import architectures
from harness.models.dash import DIGITS_DIR, load_dash
from harness.models.fingerprint import state_dict_sha256
from harness.samplers.noise import SETTINGS, noise_settings

TINY_UNET = {
    "_class_name": "UNet2DModel",
    "sample_size": 8,
    "in_channels": 1,
    "out_channels": 1,
    "layers_per_block": 1,
    "block_out_channels": [8, 16],
    "norm_num_groups": 4,
    "down_block_types": ["DownBlock2D", "AttnDownBlock2D"],
    "up_block_types": ["AttnUpBlock2D", "UpBlock2D"],
}


def _tiny_unet():
    return architectures.build_unet(TINY_UNET, seed=1)


def test_uncached_hub_id_fails_fast_naming_the_id_and_the_option(tmp_path, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    attempts = []
    monkeypatch.setattr(socket.socket, "connect", lambda self, address: attempts.append(address))
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: attempts.append(address))

    with pytest.raises(HarnessError) as error:
        load_dash("google/ddpm-cifar10-32")
    message = str(error.value)
    assert "google/ddpm-cifar10-32" in message
    assert "--dash-path" in message and "download google/ddpm-cifar10-32" in message
    assert attempts == []


def test_unknown_source_lists_the_choices():
    with pytest.raises(HarnessError, match="config:<name>"):
        load_dash("no-such-model")
    with pytest.raises(HarnessError, match="ddpm-cifar10-32"):
        load_dash("config:no-such-config")


@pytest.mark.parametrize("name", architectures.architecture_names())
def test_packaged_config_builds_with_its_documented_parameter_count(name):
    config = architectures.load_architecture(name)
    dash = load_dash(f"config:{name}", device="meta")
    assert sum(p.numel() for p in dash.unet.parameters()) == config["parameters"]
    assert list(dash.sample_shape) == config["sample_shape"]
    assert set(dash.noise) == set(SETTINGS)


def test_ddpm_cifar10_matches_the_published_model():
    config = architectures.load_architecture("ddpm-cifar10-32")
    assert round(config["parameters"] / 1e6, 1) == 35.7
    settings = noise_settings(config["scheduler"])
    assert {k: settings[k] for k in ("num_train_timesteps", "beta_start", "beta_end", "beta_schedule",
                                     "prediction_type")} == {
        "num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02,
        "beta_schedule": "linear", "prediction_type": "epsilon",
    }
    # the published scheduler config: DDPM's fixed_large variance and clipping, which the samplers honour
    assert settings["variance_type"] == "fixed_large" and settings["clip_sample"] is True


@pytest.mark.parametrize("name", ["sd-v1-4-unet", "lcm-sdxl-unet"])
def test_conditional_unets_run_on_placeholder_conditioning(name):
    dash = load_dash(f"config:{name}", device="meta", dtype=torch.float16)
    x = torch.zeros(2, *dash.sample_shape, device="meta", dtype=torch.float16)
    out = dash.unet(x, torch.tensor([999, 500], device="meta"), **dash.placeholder_conditioning(2)).sample
    assert out.shape == x.shape


def test_random_weights_are_seeded_and_frozen():
    first, second = load_dash("config:digits"), load_dash("config:digits")
    assert first.fingerprint == second.fingerprint
    assert not first.unet.training
    assert not any(p.requires_grad for p in first.unet.parameters())
    x = torch.randn(2, *first.sample_shape)
    assert first.unet(x, torch.tensor([10, 900])).sample.shape == x.shape


def test_local_model_folder_round_trip(tmp_path):
    from diffusers import DDPMScheduler

    unet = _tiny_unet()
    unet.save_pretrained(tmp_path, safe_serialization=True)
    DDPMScheduler(beta_schedule="squaredcos_cap_v2").save_pretrained(tmp_path)

    dash = load_dash(str(tmp_path))
    assert dash.fingerprint == state_dict_sha256(unet)
    assert dash.sample_shape == (1, 8, 8)
    assert dash.noise["beta_schedule"] == "squaredcos_cap_v2"
    assert dash.vae is None


def test_hub_id_with_local_path_takes_the_packaged_noise_schedule(tmp_path):
    pipeline = tmp_path / "pipeline"
    _tiny_unet().save_pretrained(pipeline / "unet")

    dash = load_dash("CompVis/stable-diffusion-v1-4", local_path=pipeline)
    assert dash.source == "CompVis/stable-diffusion-v1-4"
    assert dash.noise["beta_schedule"] == "scaled_linear" and dash.noise["beta_end"] == 0.012

    with pytest.raises(HarnessError, match="no scheduler_config.json"):
        load_dash(str(pipeline))


def test_folder_without_a_model_is_a_harness_error(tmp_path):
    with pytest.raises(HarnessError, match="no diffusers model"):
        load_dash(str(tmp_path))


def test_train_dash_runs_and_resumes_from_its_checkpoint(tmp_path):
    config = architectures.load_architecture("digits")
    config["unet"] = TINY_UNET
    config_file = tmp_path / "tiny.json"
    config_file.write_text(json.dumps(config))
    out = tmp_path / "out"
    common = ["train-dash", "--config", str(config_file), "--out", str(out), "--batch-size", "4",
              "--image-size", "8", "--log-every", "1", "--checkpoint-every", "3", "--threads", "1"]

    assert main(common + ["--steps", "3"]) == 0
    assert torch.load(out / "checkpoints" / "last.pt", weights_only=False)["step"] == 3
    assert main(common + ["--steps", "5", "--resume"]) == 0

    assert torch.load(out / "checkpoints" / "last.pt", weights_only=False)["step"] == 5
    with (out / "loss.csv").open() as handle:
        assert [int(row["step"]) for row in csv.DictReader(handle)] == [1, 2, 3, 4, 5]
    record = json.loads((out / "train_config.json").read_text())
    assert len(record["commands"]) == 2 and "--resume" in record["commands"][1].split()
    assert record["hyperparameters"]["steps"] == 5 and record["wall_time_s"] > 0
    assert load_dash(str(out)).sample_shape == (1, 8, 8)


def test_resume_without_checkpoint_is_a_harness_error(tmp_path, capsys):
    assert main(["train-dash", "--out", str(tmp_path), "--resume"]) == 1
    assert "no checkpoint" in capsys.readouterr().err


@pytest.mark.skipif(not (DIGITS_DIR / "config.json").is_file(), reason="the digits checkpoint is not built yet")
def test_shipped_digits_dash_loads():
    dash = load_dash("digits")
    assert dash.sample_shape == (1, 16, 16)
    assert dash.noise["num_train_timesteps"] == 1000 and dash.noise["prediction_type"] == "epsilon"
