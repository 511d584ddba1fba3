"""Stand-in inputs of a rehearsal, in the real on-disk formats, at the locations the real run reads.

Each registered input (:mod:`harness.external`) names its writer and the writer's options
(``External.stand_in``); ``WRITERS`` maps a writer's name to a function ``(path, options, counts)``.
A newly registered input gets a stand-in by naming a writer in its registration (or registering a
new writer here), never by editing a switch. Dashes are written from their real architecture
(harness/models/configs) with random weights by diffusers' ``save_pretrained``: a model folder, or a
pipeline folder for text-to-image; a hub id is written as a Hugging Face cache snapshot (HF_HOME,
which the rehearsal points into its own tree), so the loader resolves it as it resolves a download.

Nothing is written where something already is; every stand-in is written under a temporary name and
renamed, so two jobs never see a half-written one.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from harness import external
from harness.errors import HarnessError
from harness.input_check import dash_sources, write_log
from harness.registry import Registry
from harness.rehearsal import settings

Writer = Callable[[Path, dict, dict], None]
WRITERS: Registry[Writer] = Registry("stand-in writer")
SEED = 0


def _rng(path: Path) -> np.random.Generator:
    """A generator seeded by the location: stand-ins are the same in every rehearsal."""
    return np.random.default_rng([SEED, int(hashlib.sha256(str(path).encode()).hexdigest()[:8], 16)])


def _image(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A smooth random RGB uint8 image (low-frequency noise, upsampled): not constant, not white noise."""
    coarse = rng.integers(0, 256, size=(4, 4, 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(coarse).resize((width, height), Image.BICUBIC))


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    """``write`` into a temporary sibling of ``path``, then renamed to it (a file or a folder). Where another job
    renamed its folder there first (two experiments' rehearsal_inputs jobs writing the same Dash side by side under
    -j2), that one stays: a stand-in is the same wherever it is written (seeded by its location)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write(scratch / path.name)
        try:
            os.replace(scratch / path.name, path)
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not path.is_dir():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _size(options: dict, counts: dict) -> int:
    """The stand-in's image size: the input's, or for images a pixel-space Dash trains on (``dash_data``) at most
    its Dash stand-in's (``counts["dash_size"]``, else ``max_sample_size``): the real check wants a Dash's
    training images at its sample size."""
    cap = counts.get("dash_size", counts["max_sample_size"])
    return min(options["size"], cap) if options.get("dash_data") else options["size"]


def stand_in_size(unet_config: dict, counts: dict, latent: bool = False) -> int:
    """A Dash stand-in's sample size: its own, at most ``max_sample_size`` (a latent Dash's: ``max_latent_size``),
    but never below what its Dots run on: their 2^m extra down blocks (at most ``dot_downsampling``) times what
    its UNet's sides must be divisible by (a 64 px, 5-level UNet2DModel stays at 64; a 256 px, 6-level one is
    written at 128; SD's UNet2DConditionModel takes any side)."""
    from harness.models.architectures import side_divisor

    floor = counts["dot_downsampling"] * side_divisor(unet_config)
    cap = counts["max_latent_size" if latent else "max_sample_size"]
    return min(unet_config["sample_size"], max(cap, floor))


@WRITERS.register("images")
def images(path: Path, options: dict, counts: dict) -> None:
    """A folder of ``counts["images"]`` images of the input's size (PNG, or ``suffix``; see _size)."""
    rng = _rng(path)
    path.mkdir(parents=True)
    width = _size(options, counts)
    height = options.get("height", width)
    for k in range(counts["images"]):
        Image.fromarray(_image(rng, height, width)).save(path / f"{k:012d}{options.get('suffix', '.png')}")


@WRITERS.register("imagenet-classes")
def imagenet_classes(path: Path, options: dict, counts: dict) -> None:
    """One folder per ImageNet-1k class, named by all 1,000 WordNet ids (timm's list, the one torchvision's
    ImageFolder order gives), ``counts["images"]`` images spread over them (class k gets image k mod 1000)."""
    from timm.data import ImageNetInfo

    wnids = ImageNetInfo("imagenet-1k").label_names()
    rng, size = _rng(path), _size(options, counts)
    for wnid in wnids:
        (path / wnid).mkdir(parents=True)
    for k in range(max(counts["images"], len(wnids))):
        Image.fromarray(_image(rng, size, size)).save(path / wnids[k % len(wnids)] / f"{k}.png")


@WRITERS.register("cifar10")
def cifar10(path: Path, options: dict, counts: dict) -> None:
    """torchvision's cifar-10-batches-py: the five training batches, the test batch and batches.meta,
    pickled dicts with the real keys (data: uint8 (n, 3072) in CHW order, labels, filenames)."""
    from torchvision.datasets import CIFAR10

    rng, folder = _rng(path), path / CIFAR10.base_folder
    folder.mkdir(parents=True)
    n = counts["images"]
    for name, _md5 in CIFAR10.train_list + CIFAR10.test_list:
        data = np.stack([_image(rng, 32, 32).transpose(2, 0, 1).reshape(-1) for _ in range(n)])
        entry = {"batch_label": name, "labels": [int(v) for v in rng.integers(0, 10, n)], "data": data,
                 "filenames": [f"{name}_{k}.png" for k in range(n)]}
        (folder / name).write_bytes(pickle.dumps(entry))
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    meta = {"label_names": names, "num_cases_per_batch": n, "num_vis": 3072}
    (folder / CIFAR10.meta["filename"]).write_bytes(pickle.dumps(meta))


@WRITERS.register("coco-captions")
def coco_captions(path: Path, options: dict, counts: dict) -> None:
    """An MS-COCO captions file (info, images, annotations, licenses) with the real file's numbers of images
    and captions: every image has 5 captions, the remainder a sixth (25,014 over 5,000 in val2017)."""
    rng = _rng(path)
    words = ["a", "dog", "cat", "on", "the", "street", "with", "red", "blue", "table", "man", "woman", "near", "tree"]
    ids = sorted(int(v) for v in rng.choice(600_000, size=options["images"], replace=False))
    annotations = [{"image_id": ids[k % len(ids)], "id": k + 1,
                    "caption": " ".join(rng.choice(words, size=int(rng.integers(6, 12))))}
                   for k in range(options["captions"])]
    data = {"info": {"description": "harness rehearsal stand-in of captions_val2017.json", "year": 2017},
            "licenses": [], "images": [{"id": i, "file_name": f"{i:012d}.jpg", "height": 480, "width": 640}
                                       for i in ids],
            "annotations": annotations}
    path.write_text(json.dumps(data))


@WRITERS.register("img2dataset-files")
def img2dataset_files(path: Path, options: dict, counts: dict) -> None:
    """img2dataset's `files` output: shard folders 00000/ holding KEY.jpg beside KEY.txt (its caption) and KEY.json."""
    rng, shard = _rng(path), path / "00000"
    shard.mkdir(parents=True)
    for k in range(counts["images"]):
        key = f"00000{k:04d}"
        Image.fromarray(_image(rng, options["size"], options["size"])).save(shard / f"{key}.jpg")
        (shard / f"{key}.txt").write_text(f"a stand-in caption number {k}")
        (shard / f"{key}.json").write_text(json.dumps({"key": key, "caption": f"a stand-in caption number {k}",
                                                      "status": "success"}))


@WRITERS.register("inception")
def inception(path: Path, options: dict, counts: dict) -> None:
    """torch-fidelity's file format: a state_dict of its FeatureExtractorInceptionV3, here with random weights."""
    import torch

    from harness.metrics.extractors import FeatureExtractorInceptionV3Untrained

    torch.manual_seed(SEED)
    network = FeatureExtractorInceptionV3Untrained("inception-v3-compat", ["2048"])
    for module in network.modules():  # variance-preserving (He) weights: the default init's features all but vanish
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            torch.nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
    torch.save(network.state_dict(), path)


@WRITERS.register("open-clip")
def open_clip_weights(path: Path, options: dict, counts: dict) -> None:
    """open_clip's checkpoint format (a state_dict of the configured architecture), random weights."""
    import open_clip
    import torch

    torch.manual_seed(SEED)
    torch.save(open_clip.create_model(options["model"], pretrained=None).state_dict(), path)


@WRITERS.register("adm-classifier")
def adm_classifier(path: Path, options: dict, counts: dict) -> None:
    """ADM-G's classifier (:mod:`.adm_classifier`, the registered flags) with random weights, exported as the
    registered `torch.export` file; at the Dash stand-in's sample size (at most ``counts["max_sample_size"]``)."""
    import torch

    from harness.rehearsal.adm_classifier import EncoderUNet, export

    size = min(options["image_size"], counts["max_sample_size"])
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(SEED)
        model = EncoderUNet(**{**options, "image_size": size})
    export(model, path, image_size=size)


@WRITERS.register("dash")
def dash(path: Path, options: dict, counts: dict) -> None:
    """A Dash of its real architecture (``options["architecture"]``) with random weights: see write_dash."""
    write_dash(path, options["architecture"], counts)


def write_dash(path: Path, architecture: str, counts: dict) -> None:
    """The packaged architecture's UNet (at its ``stand_in_size``; a latent Dash, one whose config has a `vae`,
    at the latent cap) with seeded random weights, by ``save_pretrained``, with its scheduler config: a diffusers model folder, or a
    pipeline folder (unet/, scheduler/, vae/, text encoders and tokenizers) when it has a VAE or text
    encoders (its own, or those of its ``pipeline`` block: the hub pipeline's other parts). Each part is
    built, written and released before the next (SDXL's: 10.3 GB of UNet and 3.3 GB of text encoders)."""
    from harness.models import architectures

    config = architectures.load_architecture(architecture)
    unet_config = dict(config["unet"])
    if isinstance(unet_config.get("sample_size"), int):
        unet_config["sample_size"] = stand_in_size(unet_config, counts, latent=bool(config.get("vae")))
    parts = {**config, **(config.get("pipeline") or {})}  # a hub pipeline's VAE and text encoders, as configs
    pipeline = (parts.get("vae") or {}).get("_class_name") == "AutoencoderKL" or bool(parts.get("text_encoders"))
    architectures.build_unet(unet_config, seed=SEED).save_pretrained(path / "unet" if pipeline else path)
    scheduler = path / "scheduler" if pipeline else path
    scheduler.mkdir(parents=True, exist_ok=True)
    (scheduler / "scheduler_config.json").write_text(json.dumps(config["scheduler"], indent=1))
    vae = architectures.build_vae(parts, seed=SEED)
    if vae is not None:
        vae.save_pretrained(path / "vae")
    del vae
    for k, (tokenizer_dir, encoder_dir) in enumerate((("tokenizer", "text_encoder"), ("tokenizer_2", "text_encoder_2"))):
        encoder = architectures.build_text_encoder(parts, k, seed=SEED)
        if encoder is not None:
            encoder.tokenizer.save_pretrained(path / tokenizer_dir)
            encoder.model.save_pretrained(path / encoder_dir)


def _write(entry: external.External, where: Path, counts: dict, **extra) -> str | None:
    """Write ``entry``'s stand-in at ``where`` unless something is there; what was written, or None."""
    if where.exists():
        return None
    if not entry.stand_in:
        raise HarnessError(f"the registered input {entry.name!r} names no stand-in writer (harness/external.py)")
    name, options = entry.stand_in
    _atomic(where, lambda scratch: WRITERS.get(name)(scratch, {**options, **extra}, counts))
    return f"{entry.name}: {where}"


def dash_architecture(source: str, entry: external.External | None) -> str | None:
    """The packaged architecture of a Dash: its registration's, the config whose `source` is the hub id, the
    registered name or location, else the one config named `<registered name>-<size>`."""
    from harness.models import architectures

    if entry is not None and entry.stand_in and entry.stand_in[1].get("architecture"):
        return entry.stand_in[1]["architecture"]
    names = {source} | ({entry.name, entry.location} if entry else set())
    for name in architectures.architecture_names():
        if architectures.load_architecture(name)["source"] in names:
            return name
    prefixed = [n for n in architectures.architecture_names() if entry and n.startswith(f"{entry.name}-")]
    return prefixed[0] if len(prefixed) == 1 else None


def write_hub_dash(repo_id: str, architecture: str, counts: dict) -> str | None:
    """A hub id's Dash as a snapshot of the Hugging Face cache (HF_HUB_CACHE), as `hf download` leaves it."""
    from huggingface_hub import constants

    repo = Path(constants.HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}"
    if (repo / "refs" / "main").is_file():
        return None
    revision = hashlib.sha1(f"rehearsal {repo_id} {architecture}".encode()).hexdigest()
    _atomic(repo / "snapshots" / revision, lambda scratch: write_dash(scratch, architecture, counts))
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(revision)
    return f"{repo_id}: {repo}"


def write_stand_ins(*, dashes: list[tuple[str, str | None]], data: list[str], files: list[str], clip: str | None,
                    counts: dict) -> list[str]:
    """Stand-ins for what `harness check` would check (the same arguments): Dashes (source, local path),
    dataset specs, files and CLIP weights ("model:tag"), where missing; the lines of what was written."""
    from harness.metrics import clip_model
    from harness.models import architectures
    from harness.models import dash as dash_module

    written, sizes = [], []  # sizes: of the pixel-space Dash stand-ins (their training images are written at it)
    for source, path in dashes:
        if source.startswith(dash_module.CONFIG_PREFIX) or source in dash_module.SHIPPED_DASH or \
                (path is None and Path(source).is_dir()):
            continue  # packaged, shipped, or trained by the workflow: nothing comes from outside
        entry = external.at(path) if path else None
        architecture = dash_architecture(source, entry)
        if architecture is None:
            raise HarnessError(f"Dash {source!r}: no packaged architecture (harness/models/configs/*.json) names it, "
                               "so the rehearsal cannot write its stand-in: add its config")
        config = architectures.load_architecture(architecture)
        if config["vae"] is None and not (config.get("pipeline") or {}).get("vae") and \
                isinstance(config["unet"].get("sample_size"), int):
            sizes.append(stand_in_size(config["unet"], counts))
        if entry is not None:
            written.append(_write(entry, Path(path), counts, architecture=architecture))
        elif path and not Path(path).exists():
            _atomic(Path(path), lambda scratch: write_dash(scratch, architecture, counts))
            written.append(f"{source}: {path}")
        elif not path:
            written.append(write_hub_dash(source, architecture, counts))
    for location in [*data, *files]:
        entry = external.at(location)
        if entry is not None:
            written.append(_write(entry, Path(external.location_of(location)),
                                  {**counts, "dash_size": sizes[0]} if sizes else counts))
    if clip is not None:
        model, _, tag = clip.partition(":")
        entry = external.clip_weights(model or clip_model.DEFAULT_MODEL, tag or clip_model.DEFAULT_PRETRAINED)
        if entry is not None:
            written.append(_write(entry, entry.path, counts))
    return [line for line in written if line]


def rehearsal_inputs(*, experiment: str, out: Path, log: Path | None = None, dash: str, dash_path: str | None = None,
                     also_dash: list[str] = (), data: list[str] = (), files: list[str] = (), clip: str | None = None
                     ) -> list[str]:
    """`harness rehearsal-inputs`: ``write_stand_ins`` for the inputs `harness check` would check (the same
    arguments), at the sizes of config/rehearsal.yaml; the record of what was written goes to ``out`` (and ``log``)."""
    counts = {**settings.load()["stand_ins"],
              **{key: settings.load()[key] for key in ("max_sample_size", "max_latent_size", "dot_downsampling")}}
    written = write_stand_ins(dashes=dash_sources(dash, dash_path, also_dash), data=list(data), files=list(files),
                              clip=clip, counts=counts)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"experiment": experiment, "written": written}, indent=1) + "\n")
    write_log(log, "\n".join(written) or "every stand-in was already there")
    print(f"experiment {experiment!r}: {len(written)} stand-in input(s) written -> {out}")
    return written
