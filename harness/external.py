"""External inputs: the one expected location of every weight file and dataset the harness does not ship.

Each entry names an input, where it is expected (relative to the run directory, the folder that
`snakemake` or `python -m harness` runs in), what it is, and how to supply it on a machine without
network. Paper configs name exactly these locations (a test keeps them equal); the stages that
read an input (`harness check`, the FID and CLIP loaders, `harness coco-prompts`, image sets) take
their default location and their "how to supply it" from here, so the docs, the configs and every
error message name the same file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from harness.registry import Registry


@dataclass(frozen=True)
class External:
    name: str
    location: str  # relative to the run directory
    what: str
    how_to: str  # where to get it and how to supply it offline
    stand_in: tuple = ()  # (writer, options) of its rehearsal stand-in (harness/rehearsal/stand_ins.py)

    @property
    def path(self) -> Path:
        return Path(self.location)

    def missing(self, where: str | Path | None = None, why: str = "") -> str:
        """One line: what is missing (at ``where``, default its location), ``why``, and how to supply it."""
        return f"{self.what} {where or self.location} is missing{why}. How to supply it: {self.how_to}"


EXTERNALS: Registry[External] = Registry("external input")

INCEPTION = "inception-weights"
CLIP_PREFIX = "clip-"
COCO_CAPTIONS = "coco-captions"

INCEPTION_URL = "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
CLIP_MODEL, CLIP_PRETRAINED = "ViT-g-14", "laion2b_s34b_b88k"  # the paper's CLIP score (open_clip names)
CLIP_REPO, CLIP_FILE = "laion/CLIP-ViT-g-14-laion2B-s34B-b88K", "open_clip_pytorch_model.bin"
CLIP_DIR = f"data/weights/{CLIP_REPO.split('/')[1]}"


def _add(name: str, location: str, what: str, how_to: str, stand_in: tuple = ()) -> None:
    EXTERNALS.register(name)(External(name, location, what, how_to, stand_in))


def _on_a_machine_with_network(command: str, location: str) -> str:
    return f"on a machine with network, `{command}`, then copy {location} here"


_INCEPTION_FILE = f"data/weights/{INCEPTION_URL.rsplit('/', 1)[1]}"
_add(INCEPTION, _INCEPTION_FILE, "Inception weights (torch-fidelity's TF-compatible InceptionV3, the FID network)",
     _on_a_machine_with_network(f"mkdir -p data/weights && curl -L -o {_INCEPTION_FILE} {INCEPTION_URL}", _INCEPTION_FILE)
     + " (or give another path with --extractor-weights, config key metrics.fid.extractor_weights)", stand_in=("inception", {}))
_add(f"{CLIP_PREFIX}{CLIP_MODEL}-{CLIP_PRETRAINED}", f"{CLIP_DIR}/{CLIP_FILE}",
     "CLIP weights (open_clip ViT-g-14, laion2b_s34b_b88k, for the CLIP score)",
     _on_a_machine_with_network(f"huggingface-cli download {CLIP_REPO} {CLIP_FILE} --local-dir {CLIP_DIR}", CLIP_DIR)
     + " (or copy the Hugging Face cache holding that repo, HF_HOME; or give another file with --clip-checkpoint,"
       " config key metrics.clip.weights)", stand_in=("open-clip", {"model": CLIP_MODEL}))
_add(COCO_CAPTIONS, "data/coco/annotations/captions_val2017.json",
     "MS-COCO 2017 validation captions (the text-to-image prompts)",
     _on_a_machine_with_network("curl -LO http://images.cocodataset.org/annotations/annotations_trainval2017.zip"
                                " && unzip annotations_trainval2017.zip -d data/coco", "data/coco/annotations"),
     stand_in=("coco-captions", {"images": 5000, "captions": 25014}))  # the real file's counts
_add("coco-val2017", "data/coco/val2017", "MS-COCO 2017 validation images (FID reference of the text-to-image runs)",
     _on_a_machine_with_network("curl -LO http://images.cocodataset.org/zips/val2017.zip && unzip val2017.zip -d data/coco",
                                "data/coco/val2017"),
     stand_in=("images", {"size": 640, "height": 480, "suffix": ".jpg"}))
_add("cifar10", "data/cifar10", "CIFAR-10 (torchvision's cifar-10-batches-py)",
     _on_a_machine_with_network("python -c \"import torchvision; torchvision.datasets.CIFAR10('data/cifar10', "
                                "download=True)\"", "data/cifar10")
     + "; or run the workflow once with `--config allow_download=true` on a machine with network",
     stand_in=("cifar10", {}))
_add("celeba64", "data/celeba64", "CelebA 64x64 training images",
     "put CelebA's aligned training images (img_align_celeba, https://mmlab.ie.cuhk.edu.hk/projects/CelebA.html), "
     "centre-cropped and resized to 64x64 as PNG/JPG files, under data/celeba64", stand_in=("images", {"size": 64, "dash_data": True}))
_add("imagenet64", "data/imagenet64", "ImageNet 64x64 training images",
     "put the downsampled ImageNet 64x64 training set (Imagenet64_train, https://image-net.org/download-images), "
     "written out as PNG files in one folder per class named by its WordNet id (data/imagenet64/n01440764/...: "
     "the class-conditional Dots read the labels from the folders), under data/imagenet64",
     stand_in=("imagenet-classes", {"size": 64, "dash_data": True}))
_add("celebahq256", "data/celebahq256", "CelebA-HQ 256x256 images",
     "put the 30,000 CelebA-HQ images resized to 256x256 (PNG/JPG) under data/celebahq256",
     stand_in=("images", {"size": 256, "dash_data": True}))
_add("lsun_church256", "data/lsun_church256", "LSUN Church 256x256 training images",
     "export LSUN church_outdoor_train (https://github.com/fyu/lsun) as images centre-cropped and resized to "
     "256x256 (PNG/JPG) under data/lsun_church256", stand_in=("images", {"size": 256, "dash_data": True}))
_add("laion_2m", "data/laion_2m", "Dot training data of the text-to-image experiments (about 2M LAION-5B images)",
     "download about 2M LAION-5B images at the Dash's resolution (512 for SD v1.4, 1024 for LCM-SDXL), e.g. with "
     "img2dataset (https://github.com/rom1504/img2dataset), and put the image-caption pairs (KEY.jpg beside KEY.txt, "
     "as img2dataset's `files` output) under data/laion_2m", stand_in=("img2dataset-files", {"size": 512}))


def _add_dash(name: str, what: str, origin: str, architecture: str | None = None) -> None:
    """A Dash without a diffusers release: its official checkpoint, converted, in models/<name>; ``architecture``
    names its packaged config when that config's `source` is another Dash's (one UNet, two Dashes)."""
    _add(name, f"models/{name}", f"Dash: {what}",
         f"convert the official checkpoint ({origin}) to a diffusers UNet folder (config.json + weights, and the "
         f"scheduler's scheduler_config.json) at models/{name}, or point the config key `dash.path` at one",
         stand_in=("dash", {"architecture": architecture} if architecture else {}))


_add_dash("ddim-celeba64", "DDIM's CelebA 64x64 model", "https://github.com/ermongroup/ddim")
_add_dash("score-sde-cifar10", "score_sde's CIFAR-10 continuous VP model (vp/cifar10_ddpmpp_continuous, checkpoint_8.pth; "
          "its layout: harness/models/configs/score-sde-cifar10-32.json)", "https://github.com/yang-song/score_sde_pytorch")
_add_dash("iddpm-imagenet64", "Improved DDPM's ImageNet 64x64 model", "https://github.com/openai/improved-diffusion")
_add_dash("adm-imagenet64-cond", "ADM's class-conditional ImageNet 64x64 model (64x64_diffusion.pt)",
          "https://github.com/openai/guided-diffusion")
_add_dash("adm-g-imagenet64", "ADM-G, ADM's ImageNet 64x64 model with its classifier (64x64_classifier.pt)",
          "https://github.com/openai/guided-diffusion", architecture="adm-imagenet64-cond-64")
CLASSIFIER_FILE = "classifier/classifier.pt2"  # in a Dash folder: the noise-aware classifier of classifier guidance
_add("adm-g-imagenet64-classifier", f"models/adm-g-imagenet64/{CLASSIFIER_FILE}",
     "ADM-G's noise-aware classifier, classifier(x_t, t) -> logits as a torch.export program",
     "with guided-diffusion (https://github.com/openai/guided-diffusion) installed, build its 64x64 classifier "
     "(`create_classifier(**args_to_dict(args, classifier_defaults().keys()))` with the flags of its README for "
     "64x64_classifier.pt), load the checkpoint, and `torch.export.save(torch.export.export(model.eval(), (x, t), "
     "dynamic_shapes=({0: batch}, {0: batch})), PATH)` with x of shape (2, 3, 64, 64), t int64 of shape (2,) and "
     "batch = torch.export.Dim('batch'); PATH is this location (a Dash folder's classifier/classifier.pt2)",
     stand_in=("adm-classifier", {"image_size": 64, "width": 128, "depth": 4, "channel_mult": [1, 2, 3, 4],
                                  "attention_ds": [2, 4, 8], "head_channels": 64, "classes": 1000}))  # its README's flags
_LCM_SDXL_DIR = "models/lcm-sdxl-pipeline"
_add("lcm-sdxl-pipeline", _LCM_SDXL_DIR,
     "Dash: LCM-SDXL as a pipeline folder (latent-consistency/lcm-sdxl's UNet with SDXL base's VAE, tokenizers "
     "and text encoders; the noise schedule comes from harness/models/configs/lcm-sdxl-unet.json)",
     _on_a_machine_with_network(
         "hf download stabilityai/stable-diffusion-xl-base-1.0 --include 'vae/*' 'tokenizer/*' 'tokenizer_2/*' "
         f"'text_encoder/*' 'text_encoder_2/*' --local-dir {_LCM_SDXL_DIR} && hf download latent-consistency/lcm-sdxl "
         f"--local-dir {_LCM_SDXL_DIR}/unet", _LCM_SDXL_DIR),
    stand_in=("dash", {"architecture": "lcm-sdxl-unet"}))


def get(name: str) -> External:
    return EXTERNALS.get(name)


def clip_weights(model: str, pretrained: str) -> External | None:
    """The registered weights file of an open_clip (model, pretrained tag), if any."""
    name = f"{CLIP_PREFIX}{model}-{pretrained}"
    return EXTERNALS.get(name) if name in EXTERNALS else None


def location_of(spec: str | Path) -> str:
    """The path a file, folder or dataset spec (``cifar10:ROOT:split``) reads, normalised."""
    text = str(spec)
    if text.startswith("cifar10:"):
        text = text[len("cifar10:") :].rpartition(":")[0]
    return str(PurePosixPath(text))


def at(spec: str | Path) -> External | None:
    """The registered input a path or dataset spec names, if any."""
    where = location_of(spec)
    return next((EXTERNALS.get(n) for n in EXTERNALS if EXTERNALS.get(n).location == where), None)
