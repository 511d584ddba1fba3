"""`harness fid`: rows, refusal of too few samples, the reference-statistics cache and its key,
and weights that are missing offline."""

from __future__ import annotations

import csv
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

from harness import provenance
from harness.cli import main
from harness.errors import HarnessError
from harness.images import open_images
from harness.metrics.extractors import INCEPTION, make_extractor, resolve_inception_weights
from harness.metrics.reference import reference_key, reference_stats
from harness.metrics.sha import file_sha256
from PIL import Image

from config_helpers import paper_configs
from metrics_helpers import random_digitsnet, write_shards


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return random_digitsnet(tmp_path_factory.mktemp("w") / "digitsnet-random.safetensors")


@pytest.fixture
def no_network(monkeypatch):
    """Any download attempt fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)


def read_row(path):
    with open(path) as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1
    return rows[0]


def fid_cli(samples, out, weights, refstats, *extra):
    return main(["fid", *samples, "--ref", "digits:16:heldout", "--out", str(out), "--extractor", "digitsnet",
                 "--extractor-weights", str(weights), "--refstats-dir", str(refstats), "--device", "cpu", *extra])


def test_fid_stage_writes_a_contract_row_and_ignores_shard_layout(tmp_path, weights):
    digits = open_images("digits:16:train").images[:300]
    seeds = np.random.default_rng(0).permutation(300)
    write_shards(tmp_path / "a", digits, seeds, per_shard=100)
    b = write_shards(tmp_path / "b", digits, seeds, per_shard=37)
    assert fid_cli([str(tmp_path / "a")], tmp_path / "a.csv", weights, tmp_path / "ref", "--num-samples", "250") == 0
    assert fid_cli([str(p) for p in b], tmp_path / "b.csv", weights, tmp_path / "ref", "--num-samples", "250",
                   "--batch-size", "64") == 0
    row_a, row_b = read_row(tmp_path / "a.csv"), read_row(tmp_path / "b.csv")
    assert float(row_a["fid"]) == pytest.approx(float(row_b["fid"]), rel=1e-9)  # same 250 seeds, other shards
    assert float(row_a["fid"]) > 0
    assert row_a["experiment"] == "digits" and row_a["point"] == "ddim-10" and row_a["dash_steps"] == "10"
    assert row_a["num_samples"] == "250" and row_a["seeds"] == "0-249"
    assert row_a["fid_feature_extractor"] == "digitsnet" and row_a["fid_backend"] == "torch-fidelity"
    assert row_a["fid_backend_version"] and row_a["fid_resize"] == "none+bilinear-antialias-16"
    assert row_a["fid_reference_count"] == "180" and len(row_a["fid_reference_sha256"]) == 64
    assert len(list((tmp_path / "ref").glob("digitsnet-*.npz"))) == 1  # computed once, reused
    assert row_a["fid_extractor_sha256"] == file_sha256(weights)


def test_fid_stage_refuses_fewer_samples_than_required(tmp_path, weights, capsys):
    write_shards(tmp_path / "s", open_images("digits:16:train").images[:50], np.arange(50), per_shard=50)
    assert fid_cli([str(tmp_path / "s")], tmp_path / "x.csv", weights, tmp_path / "ref", "--num-samples", "51") == 1
    assert "fewer than the 51 required" in capsys.readouterr().err
    assert not (tmp_path / "x.csv").exists()


def test_reference_key_changes_with_one_image_and_with_the_extractor(tmp_path, weights):
    folder = tmp_path / "ref-images"
    folder.mkdir()
    digits = open_images("digits:16:heldout").images[:20]
    for i, img in enumerate(digits):
        Image.fromarray(img[..., 0]).save(folder / f"{i:03d}.png")
    extractor = make_extractor("digitsnet", weights)
    first = reference_stats(open_images(str(folder)), extractor, tmp_path / "cache", batch_size=8)
    assert first.count == 20 and first.path.is_file()
    again = reference_stats(open_images(str(folder)), extractor, tmp_path / "cache", batch_size=8)
    assert again.key == first.key and np.array_equal(again.sigma, first.sigma)

    changed = digits[7, ..., 0].copy()
    changed[3, 3] ^= 0x10
    Image.fromarray(changed).save(folder / "007.png")
    second = reference_stats(open_images(str(folder)), extractor, tmp_path / "cache", batch_size=8)
    assert second.key != first.key and not np.array_equal(second.mu, first.mu)

    other = make_extractor("digitsnet", random_digitsnet(tmp_path / "other.safetensors", seed=1))
    assert reference_key(open_images(str(folder)), other, None) != second.key
    assert reference_key(open_images(str(folder)), extractor, 32) != second.key  # resize is part of the key


def test_inception_weights_missing_offline_name_the_file_the_configs_expect(tmp_path, monkeypatch, no_network, capsys):
    expected = {e["metrics"]["fid"]["extractor_weights"] for e in paper_configs().values()
                if e["metrics"].get("fid", {}).get("extractor") == "inception-v3-compat"}
    assert len(expected) == 1
    expected = expected.pop()
    monkeypatch.chdir(tmp_path)  # a run directory without the weights
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    with pytest.raises(HarnessError) as err:
        make_extractor("inception-v3-compat", offline=True)
    assert expected in str(err.value) and INCEPTION.how_to in str(err.value)
    with pytest.raises(HarnessError, match="nope.pth is missing .*--extractor-weights.*How to supply it"):
        make_extractor("inception-v3-compat", weights=tmp_path / "nope.pth", offline=True)
    write_shards(tmp_path / "s", np.zeros((4, 8, 8, 1), np.uint8), np.arange(4), per_shard=4)
    code = main(["fid", str(tmp_path / "s"), "--ref", "digits:16:heldout", "--num-samples", "4", "--out",
                 str(tmp_path / "x.csv"), "--extractor", "inception-v3-compat", "--offline", "--device", "cpu"])
    assert code == 1 and expected in capsys.readouterr().err
    Path(expected).parent.mkdir(parents=True)
    Path(expected).write_bytes(b"weights")  # following the message: the file the configs name is the one used
    assert resolve_inception_weights(None, offline=True) == Path(expected)


def test_untrained_inception_builds_without_network(no_network):
    extractor = make_extractor("inception-v3-untrained")
    assert isinstance(extractor.network, FeatureExtractorInceptionV3) and extractor.layer == "2048"
    assert extractor.network.fc.weight.shape == (1008, 2048)  # torch-fidelity's architecture, weights random
    assert extractor.provenance(None)["fid_extractor_sha256"] == "untrained"


def test_unknown_extractor_lists_the_known_ones():
    with pytest.raises(HarnessError, match="digitsnet"):
        make_extractor("nope")


def test_fid_from_partial_statistics_of_two_machines_equals_one_pass(tmp_path, weights, capsys):
    digits = open_images("digits:16:train").images[:200]
    write_shards(tmp_path / "m1", digits[:120], np.arange(120), per_shard=60)
    write_shards(tmp_path / "m2", digits[120:], np.arange(120, 200), per_shard=80)
    common = ["--extractor", "digitsnet", "--extractor-weights", str(weights), "--device", "cpu"]
    for machine in ("m1", "m2"):
        out = str(tmp_path / f"{machine}.fidstats")
        assert main(["fid-stats", str(tmp_path / machine), "--out", out, *common]) == 0
    partials = [str(tmp_path / "m1.fidstats"), str(tmp_path / "m2.fidstats")]
    assert fid_cli(partials, tmp_path / "merged.csv", weights, tmp_path / "ref", "--num-samples", "200") == 0
    shards = sorted(str(p) for p in tmp_path.glob("m?/*.npz"))
    assert fid_cli(shards, tmp_path / "direct.csv", weights, tmp_path / "ref", "--num-samples", "200") == 0
    merged, direct = read_row(tmp_path / "merged.csv"), read_row(tmp_path / "direct.csv")
    assert float(merged["fid"]) == pytest.approx(float(direct["fid"]), rel=1e-9)
    # the same identity and features; provenance (time, the command line's hash) says which run made each row
    made_by = {"fid", *provenance.COLUMNS}
    assert {k: v for k, v in merged.items() if k not in made_by} == {k: v for k, v in direct.items() if k not in made_by}

    capsys.readouterr()
    assert fid_cli(partials, tmp_path / "x.csv", weights, tmp_path / "ref", "--num-samples", "150") == 1
    assert "not the 150 required" in capsys.readouterr().err
    resized = ["--num-samples", "200", "--image-size", "32"]
    assert fid_cli(partials, tmp_path / "x.csv", weights, tmp_path / "ref", *resized) == 1
    assert "not the requested" in capsys.readouterr().err


def test_fid_row_and_fid_statistics_called_from_python_give_the_stages_fid(tmp_path, weights, capsys):
    from harness.metrics.fid import fid_row
    from harness.metrics.fid_stats import fid_statistics

    write_shards(tmp_path / "s", open_images("digits:16:train").images[:100], np.arange(100), per_shard=50)
    assert fid_cli([str(tmp_path / "s")], tmp_path / "stage.csv", weights, tmp_path / "ref", "--num-samples", "100") == 0
    common = dict(extractor="digitsnet", extractor_weights=weights, device="cpu")
    assert fid_statistics([str(tmp_path / "s")], tmp_path / "all.fidstats", **common) == 100
    row = fid_row(samples=[str(tmp_path / "all.fidstats")], ref="digits:16:heldout", num_samples=100,
                  refstats_dir=tmp_path / "ref", **common)
    assert float(row["fid"]) == pytest.approx(float(read_row(tmp_path / "stage.csv")["fid"]), rel=1e-9)
    assert (row["num_samples"], row["seeds"], row["fid_feature_extractor"]) == (100, "0-99", "digitsnet")
    with pytest.raises(HarnessError, match="must end in .fidstats"):
        fid_statistics([str(tmp_path / "s")], tmp_path / "all.npz", **common)
    with pytest.raises(HarnessError, match="FID on 1 samples is undefined"):
        fid_row(samples=[str(tmp_path / "s")], ref="digits:16:heldout", num_samples=1, refstats_dir=tmp_path / "ref",
                **common)


def test_fid_against_reference_statistics_in_a_file_equals_fid_against_the_images(tmp_path, weights, capsys):
    write_shards(tmp_path / "s", open_images("digits:16:train").images[:200], np.arange(200), per_shard=200)
    assert fid_cli([str(tmp_path / "s")], tmp_path / "images.csv", weights, tmp_path / "ref", "--num-samples", "200") == 0
    ours = next((tmp_path / "ref").glob("digitsnet-*.npz"))  # the cached statistics of digits:16:heldout
    with np.load(ours) as data:
        np.savez(tmp_path / "published.npz", mu=data["mu"], sigma=data["sigma"])  # as EDM publishes: mu, sigma
        np.savez(tmp_path / "with_meta.npz", mu=data["mu"], sigma=data["sigma"], meta=data["meta"])

    def fid(ref, *extra):
        return main(["fid", str(tmp_path / "s"), "--ref", str(ref), "--num-samples", "200", "--out",
                     str(tmp_path / "f.csv"), "--extractor-weights", str(weights), "--device", "cpu", *extra])

    assert fid(tmp_path / "with_meta.npz", "--extractor", "digitsnet") == 0
    row = read_row(tmp_path / "f.csv")
    assert float(row["fid"]) == pytest.approx(float(read_row(tmp_path / "images.csv")["fid"]), rel=1e-9)
    assert row["fid_reference"] == str(tmp_path / "with_meta.npz")
    assert row["fid_reference_sha256"] == file_sha256(tmp_path / "with_meta.npz")
    capsys.readouterr()
    # statistics that record no extractor are Inception-v3 pool3 (EDM, clean-fid): another extractor is refused
    assert fid(tmp_path / "published.npz", "--extractor", "digitsnet") == 1
    assert "use --extractor inception-v3-compat, not digitsnet" in capsys.readouterr().err
    # our own file computed with other weights is refused by name
    other = random_digitsnet(tmp_path / "other.safetensors", seed=1)
    assert main(["fid", str(tmp_path / "s"), "--ref", str(tmp_path / "with_meta.npz"), "--num-samples", "200", "--out",
                 str(tmp_path / "g.csv"), "--extractor", "digitsnet", "--extractor-weights", str(other),
                 "--device", "cpu"]) == 1
    assert "computed with other features: fid_extractor_sha256" in capsys.readouterr().err
    np.savez(tmp_path / "broken.npz", mu=np.zeros(3))
    assert fid(tmp_path / "broken.npz", "--extractor", "digitsnet") == 1
    assert "no sigma in it" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()
