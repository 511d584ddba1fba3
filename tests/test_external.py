"""One name for each external input: the paper configs, the libraries, the docs and `harness check`
all name the locations of harness/external.py, and check lists every missing input at once."""

from __future__ import annotations

import re

import open_clip
import pytest
from open_clip.constants import HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME
from torch_fidelity.feature_extractor_inceptionv3 import URL_INCEPTION_V3

from harness import external
from harness.cli import main
from harness.errors import HarnessError
from harness.images import open_images
from config_helpers import ROOT, offline, paper_configs


def config_inputs():
    """(experiment, config key, value) for every path or dataset spec a paper config reads from outside."""
    for name, e in paper_configs().items():
        if offline(e):
            continue
        yield name, "dataset.spec", e["dataset"]["spec"]
        for part in [e, *e["series"], *e.get("dots", {}).values()]:
            if (part.get("dash") or {}).get("path"):
                yield name, "dash.path", part["dash"]["path"]
                if part.get("classifier_scale"):  # a classifier-guided Dash's folder holds its classifier
                    yield name, "dash.path + classifier", f"{part['dash']['path']}/{external.CLASSIFIER_FILE}"
        for metric, settings in e["metrics"].items():
            for key in ("reference", "extractor_weights", "annotations", "weights"):
                if settings.get(key):
                    yield name, f"metrics.{metric}.{key}", settings[key]
        for dot in e.get("dots", {}).values():
            for key in ("data", "eval_data"):
                if dot.get(key):
                    yield name, f"dots.{key}", dot[key]


ROLES = {"metrics.fid.extractor_weights": external.INCEPTION, "metrics.clip.annotations": external.COCO_CAPTIONS}


def test_paper_configs_name_the_registered_locations():
    named = set()
    for name, key, value in config_inputs():
        registered = external.at(value)
        assert registered is not None, f"{name}: {key} = {value!r} is not a location of harness/external.py"
        assert key not in ROLES or registered.name == ROLES[key], f"{name}: {key} = {value!r}"
        named.add(registered.name)
    for name, e in paper_configs().items():
        clip = e["metrics"].get("clip")
        if clip and not clip.get("weights"):
            registered = external.clip_weights(clip["model"], clip["pretrained"])
            assert registered is not None, f"{name}: CLIP {clip['model']} {clip['pretrained']} has no registered weights"
            named.add(registered.name)
    assert named == set(external.EXTERNALS), "registered inputs that no paper config reads"


def test_registry_agrees_with_the_libraries_that_read_the_files():
    inception = external.get(external.INCEPTION)
    assert external.INCEPTION_URL == URL_INCEPTION_V3
    assert inception.path.name == URL_INCEPTION_V3.rsplit("/", 1)[1]
    hf_hub = open_clip.get_pretrained_cfg("ViT-g-14", "laion2b_s34b_b88k")["hf_hub"]
    assert hf_hub.rstrip("/") == external.CLIP_REPO
    assert external.CLIP_FILE in (HF_SAFE_WEIGHTS_NAME, HF_WEIGHTS_NAME)


def test_docs_name_every_registered_location():
    section, metrics_doc = (ROOT / "docs" / "inputs.md").read_text(), (ROOT / "docs" / "metrics.md").read_text()
    for name in external.EXTERNALS:
        assert external.get(name).location in section, f"docs/inputs.md lacks {name}"
    clip = external.clip_weights("ViT-g-14", "laion2b_s34b_b88k")
    for registered in (external.get(external.INCEPTION), clip, external.get(external.COCO_CAPTIONS)):
        assert registered.location in metrics_doc, f"docs/metrics.md lacks {registered.name}"


def test_check_lists_every_missing_input_with_its_how_to_in_one_message(tmp_path, monkeypatch, capsys):
    """An experiment with everything missing: Dash folder, dataset, Dot data, Inception, captions, CLIP."""
    monkeypatch.chdir(tmp_path)  # an empty run directory
    monkeypatch.setattr("harness.metrics.clip_model.try_to_load_from_cache", lambda repo, name: None)
    inputs = ["ddim-celeba64", "celeba64", "laion_2m", external.INCEPTION, external.COCO_CAPTIONS]
    where = {name: external.get(name).location for name in inputs}
    code = main(["check", "--experiment", "many", "--dash", "models/x", "--dash-path", where["ddim-celeba64"],
                 "--data", where["celeba64"], "--data", where["laion_2m"], "--data", "digits:16:train",
                 "--file", where[external.INCEPTION], "--file", where[external.COCO_CAPTIONS],
                 "--clip", "ViT-g-14:laion2b_s34b_b88k", "--out", str(tmp_path / "inputs.json")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("cannot run:") == 1 and not (tmp_path / "inputs.json").exists()
    clip = external.clip_weights("ViT-g-14", "laion2b_s34b_b88k")
    for registered in [external.get(name) for name in inputs] + [clip]:
        assert registered.location in err and registered.how_to in err, registered.name
    assert err.count("\n  - ") == len(inputs) + 1  # one line per missing input, digits present


@pytest.mark.parametrize("name", ["celeba64", "cifar10"])
def test_a_missing_registered_dataset_says_how_to_supply_it_wherever_it_is_read(tmp_path, monkeypatch, name):
    monkeypatch.chdir(tmp_path)
    spec = "cifar10:data/cifar10:train" if name == "cifar10" else external.get(name).location
    with pytest.raises(HarnessError, match=re.escape(external.get(name).how_to)):
        open_images(spec)  # the one loader of the metrics, Dot training and check
    (tmp_path / "data" / name).mkdir(parents=True)  # there but empty: the loader's reason, then how to supply it
    with pytest.raises(HarnessError, match=re.escape(external.get(name).how_to)):
        open_images(spec)
