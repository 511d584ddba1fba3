"""The one image loader: specs, seed order, deterministic subsets, fingerprints, resizing."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from harness.errors import HarnessError
from harness.images import open_images, resize_image, resize_label, to_rgb_tensor
from metrics_helpers import write_shards


def collect(images, batch_size=7, resize=None):
    parts = list(images.batches(batch_size, resize))
    return np.concatenate([ids for ids, _ in parts]), np.concatenate([x for _, x in parts])


def test_digits_spec_reads_the_split():
    images = open_images("digits:16:heldout")
    ids, x = collect(images)
    assert x.shape == (180, 16, 16, 1) and x.dtype == np.uint8
    assert list(ids) == list(range(180))


@pytest.mark.parametrize("spec", ["digits:12:train", "digits:16:nosplit", "digits:16", "nothing-here"])
def test_bad_specs_are_harness_errors(spec):
    with pytest.raises(HarnessError):
        open_images(spec)


def test_cifar10_missing_root_is_a_clear_error(tmp_path):
    with pytest.raises(HarnessError, match="CIFAR-10 not found"):
        open_images(f"cifar10:{tmp_path}:train")


def test_shards_are_read_in_seed_order_and_first_n_takes_the_smallest_seeds(tmp_path):
    rng = np.random.default_rng(0)
    seeds = rng.permutation(40) + 100
    images = rng.integers(0, 256, (40, 8, 8, 1), dtype=np.uint8)
    write_shards(tmp_path, images, seeds, per_shard=15)
    by_seed = dict(zip(seeds.tolist(), images))
    ids, x = collect(open_images(str(tmp_path)).first(25))
    assert sorted(ids) == list(range(100, 125))
    for seed, img in zip(ids, x):
        np.testing.assert_array_equal(img, by_seed[int(seed)])
    with pytest.raises(HarnessError, match="fewer than the 41 required"):
        open_images(str(tmp_path)).first(41)


def test_shard_list_and_directory_agree_and_meta_is_checked(tmp_path):
    images = np.zeros((6, 4, 4, 1), dtype=np.uint8)
    paths = write_shards(tmp_path, images, np.arange(6), per_shard=3)
    shards = open_images([str(p) for p in paths])
    assert shards.meta()["seeds"] == [0, 5] and shards.meta()["point"] == "ddim-10"
    other = write_shards(tmp_path / "other", images[:3], np.arange(6, 9), per_shard=3, meta={"point": "ddim-20"})
    with pytest.raises(HarnessError, match="another point"):
        open_images([str(paths[0]), str(other[0])]).meta()


def test_duplicate_seeds_are_refused(tmp_path):
    images = np.zeros((4, 4, 4, 1), dtype=np.uint8)
    write_shards(tmp_path, images, np.array([0, 1, 1, 2]), per_shard=2)
    with pytest.raises(HarnessError, match="seed 1"):
        open_images(str(tmp_path))


def test_image_folder_decodes_grey_and_rgb_and_fingerprint_follows_content(tmp_path):
    rng = np.random.default_rng(1)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)).save(tmp_path / f"{i}.png")
    folder = open_images(str(tmp_path))
    _, x = collect(folder)
    assert x.shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(x[1], np.asarray(Image.open(tmp_path / "1.png")))
    before = folder.fingerprint()
    assert open_images(str(tmp_path)).fingerprint() == before
    changed = x[2].copy()
    changed[0, 0, 0] ^= 1
    Image.fromarray(changed).save(tmp_path / "2.png")
    assert open_images(str(tmp_path)).fingerprint() != before


def test_resize_crops_the_centre_square_then_pil_bicubic_and_is_labelled():
    x = np.random.default_rng(2).integers(0, 256, (16, 16, 1), dtype=np.uint8)
    expected = np.asarray(Image.fromarray(x[:, :, 0]).resize((32, 32), Image.BICUBIC))
    np.testing.assert_array_equal(resize_image(x, 32)[:, :, 0], expected)
    wide = np.random.default_rng(3).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    np.testing.assert_array_equal(resize_image(wide, 20), wide[:, 5:25])  # crop only: already 20 high
    assert resize_label(None) == "none" and resize_label(256) == "square-crop+pil-bicubic-256"
    _, y = collect(open_images("digits:8:heldout"), resize=16)
    assert y.shape == (180, 16, 16, 1)


def test_folder_of_mixed_sizes_needs_a_resize(tmp_path):
    Image.fromarray(np.zeros((10, 14, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.full((12, 12, 3), 200, np.uint8)).save(tmp_path / "b.jpg")
    with pytest.raises(HarnessError, match="--image-size"):
        collect(open_images(str(tmp_path)))
    _, x = collect(open_images(str(tmp_path)), resize=8)
    assert x.shape == (2, 8, 8, 3)


def test_to_rgb_tensor_repeats_grey():
    x = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3, 1)
    t = to_rgb_tensor(x)
    assert t.shape == (2, 3, 3, 3)
    assert all((t[:, c] == t[:, 0]).all() for c in range(3))


def test_shards_of_one_point_made_at_other_times_or_commits_merge():
    from harness.images import common_meta

    one = {"point": "ddim_s5", "sampler": "ddim", "seeds": [0, 9], "created_utc": "2026-01-01T00:00:00+00:00",
           "git_commit": "a" * 40, "device_name": "cpu"}
    two = {**one, "seeds": [10, 19], "created_utc": "2026-02-01T00:00:00+00:00", "git_commit": "b" * 40,
           "device_name": "gpu"}
    assert common_meta([one, two], ["one", "two"]) == {"point": "ddim_s5", "sampler": "ddim"}
    with pytest.raises(HarnessError, match="another point"):
        common_meta([one, {**two, "sampler": "ddpm"}], ["one", "two"])
