"""`harness check`: are an experiment's inputs here? The first rule of every workflow run.

Checks, offline and without running any model, that the Dash weights can be found (the shipped
digits model, a local diffusers folder, or a hub id in the local Hugging Face cache), that every
dataset spec (datasets, FID references, Dot training data) opens with at least one image, that
the named files (Inception weights, captions) exist and that the CLIP weights can be found.
Whatever is missing is listed together in one message, each with how to supply it: for the
registered inputs (:mod:`harness.external`) the registry's own instructions. With
``--download cifar10`` (the workflow's ``allow_download: true``) a missing CIFAR-10 is fetched with
torchvision first. On success it writes a small JSON record of what was found (``--out``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from harness import external
from harness.errors import HarnessError

DOWNLOADS = ("cifar10",)
EXAMPLES = """
  python -m harness check --experiment digits --dash digits --data digits:16:train --out work/digits/inputs.json
  python -m harness check --experiment cifar --dash google/ddpm-cifar10-32 --data cifar10:data/cifar10:train \\
      --file data/weights/weights-inception-2015-12-05-6726825d.pth --out work/cifar/inputs.json
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--experiment", required=True, help="experiment name (for the messages and the record)")
    parser.add_argument("--dash", required=True, help="the experiment's Dash source (as `harness sample --dash`)")
    parser.add_argument("--dash-path", default=None, help="local folder holding that Dash's weights")
    parser.add_argument("--also-dash", action="append", default=[], metavar="SOURCE[=PATH]",
                        help="further Dash sources some series or Dots use (repeatable)")
    parser.add_argument("--data", action="append", default=[], metavar="SPEC",
                        help="dataset spec that must open (repeatable): digits:16:train, cifar10:ROOT:train, a folder")
    parser.add_argument("--dot-data", action="append", default=[], metavar="KEY=SPEC",
                        help="Dot training data (config key KEY): its images must have the Dash's size and channels (repeatable)")
    parser.add_argument("--shipped-dot", action="append", default=[], metavar="DIR",
                        help="a trained Dot the experiment ships: it must have been trained for this Dash (repeatable)")
    parser.add_argument("--file", action="append", default=[], metavar="PATH",
                        help="a file that must exist, e.g. feature-network weights for offline metrics (repeatable)")
    parser.add_argument("--clip", metavar="[MODEL]:[TAG]",
                        help="CLIP weights that must be found offline (empty parts: `harness clip`'s defaults)")
    parser.add_argument("--download", choices=DOWNLOADS, help="fetch this dataset with torchvision when it is missing")
    parser.add_argument("--how-to", default=None, help="hint on obtaining a dataset that harness/external.py does not register")
    parser.add_argument("--not-wired", default=None, metavar="WHY",
                        help="the experiment cannot run yet, for this reason: stop here (after listing missing inputs)")
    parser.add_argument("--content-sha256", default=None, metavar="SHA",
                        help="the inputs' content hash (harness/experiments/content.py), kept in the record: a new hash "
                             "changes the record, so every job that reads it runs again")
    parser.add_argument("--out", type=Path, required=True, help="JSON record of the inputs found")
    parser.add_argument("--log", type=Path, default=None, help="also write the outcome here (the message still goes to stderr)")


def _dash_problem(source: str, path: str | None) -> tuple[str | None, str | None]:
    """(where the weights are, None) or (None, what is missing and how to supply it)."""
    from harness.models import dash as dash_module

    if source.startswith(dash_module.CONFIG_PREFIX):
        return source, None
    try:
        directory = Path(path) if path else dash_module.resolve_directory(source)
    except HarnessError as err:
        return None, str(err)
    if not directory.is_dir():
        registered = external.at(directory)
        if registered:
            return None, registered.missing(directory, f" (Dash {source!r}, config key `dash.path`)")
        return None, (f"Dash {source!r}: --dash-path {directory} does not exist; point config key `dash.path` at a "
                      "diffusers model folder (config.json + weights) or a pipeline folder (unet/, scheduler/, vae/)")
    from harness.models.architectures import architecture_for_source
    from harness.models.dash_folder import inspect_folder

    try:
        inspect_folder(directory, source=source, need_scheduler=architecture_for_source(source) is None)
    except HarnessError as err:
        return None, str(err)
    return str(directory), None


def _dash_shape(source: str, where: str) -> tuple[int, int, int] | None:
    """(C, H, W) of the images the Dash samples, None for a latent Dash (its images are the VAE's)."""
    from harness.models import architectures
    from harness.models import dash as dash_module
    from harness.models.dash_folder import config_sample_shape, inspect_folder

    if source.startswith(dash_module.CONFIG_PREFIX):
        config = architectures.load_architecture(source[len(dash_module.CONFIG_PREFIX):])
        return None if config.get("vae") else config_sample_shape(config["unet"])
    folder = inspect_folder(where, source=source, need_scheduler=False)
    return None if folder.latent else folder.sample_shape


def _shipped_dot_problem(directory: str, source: str, path: str | None) -> str | None:
    """None when the shipped Dot at ``directory`` was trained for this Dash (dot.json's dash_fingerprint)."""
    from harness.morse.checkpoint import read_meta
    from harness.models.dash import load_dash

    try:
        meta = read_meta(Path(directory))
    except HarnessError as err:
        return str(err)
    fingerprint = load_dash(source, local_path=path).fingerprint
    if meta.get("dash_fingerprint") != fingerprint:
        return (f"the shipped Dot {directory} was trained for another Dash (dot.json dash_fingerprint "
                f"{str(meta.get('dash_fingerprint'))[:12]}, this Dash {fingerprint[:12]}): remove config key "
                f"`dots.<name>.path` to train a Dot for this Dash in the run, or retrain it for this Dash with "
                f"`python -m harness train-dot --out {directory}` (its options: dot.json)")
    return None


def _download(name: str, spec: str) -> None:
    if name == "cifar10":
        parts = spec.split(":")
        if len(parts) < 2 or parts[0] != "cifar10":
            raise HarnessError(f"--download cifar10 needs a cifar10:ROOT:split spec, got {spec!r}")
        import torchvision

        for train in (True, False):
            torchvision.datasets.CIFAR10(parts[1], train=train, download=True)


def _data_problem(spec: str, download: str | None, how_to: str | None) -> tuple[int | None, str | None]:
    from harness.images import open_images

    try:
        return len(open_images(spec)), None
    except HarnessError as first:
        if download and spec.startswith(f"{download}:"):
            try:
                _download(download, spec)
                return len(open_images(spec)), None
            except Exception as err:  # noqa: BLE001 - any failure is reported with the hint below
                first = HarnessError(f"{first}; the download failed too ({err})")
        if external.at(spec):
            return None, str(first)  # the loader's message already says how to supply it
        hint = how_to or (
            "put the images there (a folder of PNG/JPG, or cifar-10-batches-py under the cifar10 root); "
            "for CIFAR-10 on a machine with network, run the workflow once with `--config allow_download=true`"
        )
        return None, f"dataset {spec!r}: {first}. How to supply it: {hint}"


def _file_problem(path: str) -> str | None:
    if Path(path).is_file():
        return None
    registered = external.at(path)
    if registered:
        return registered.missing(path)
    return (f"file {path} is missing (read offline): download it once on a machine with network and copy it there, "
            "or change the config key that names it")


def _clip_problem(spec: str) -> tuple[str | None, str | None]:
    """(the CLIP weights file, None) or (None, what is missing and how to supply it)."""
    from harness.metrics import clip_model

    model, _, tag = spec.partition(":")
    try:
        return clip_model.resolve_checkpoint(model or clip_model.DEFAULT_MODEL, tag or clip_model.DEFAULT_PRETRAINED,
                                             None, offline=True), None
    except HarnessError as err:
        return None, str(err)


def run(args: argparse.Namespace) -> int:
    problems: list[str] = []
    found: dict = {"experiment": args.experiment, "dash": {}, "data": {}, "files": [],
                   **({"content_sha256": args.content_sha256} if args.content_sha256 else {})}
    dashes = [(args.dash, args.dash_path)] + [tuple(s.split("=", 1)) if "=" in s else (s, None) for s in args.also_dash]
    for source, path in dict.fromkeys(dashes):
        where, problem = _dash_problem(source, path)
        if problem:
            problems.append(problem)
        else:
            found["dash"][source] = where
    for spec in dict.fromkeys(args.data):
        count, problem = _data_problem(spec, args.download, args.how_to)
        if problem:
            problems.append(problem)
        else:
            found["data"][spec] = count
    shape = None
    if args.dash in found["dash"] and (args.dot_data or args.shipped_dot):
        shape = _dash_shape(args.dash, found["dash"][args.dash])
    for entry in dict.fromkeys(args.dot_data):
        key, _, spec = entry.partition("=")
        if shape is not None and spec in found["data"]:
            from harness.data.shapes import training_shape_problem

            problem = training_shape_problem(spec, shape, key)
            if problem:
                problems.append(problem)
    for directory in dict.fromkeys(args.shipped_dot) if args.dash in found["dash"] else ():
        problem = _shipped_dot_problem(directory, args.dash, args.dash_path)
        if problem:
            problems.append(problem)
    for path in dict.fromkeys(args.file):
        problem = _file_problem(path)
        if problem:
            problems.append(problem)
        else:
            found["files"].append(path)
    if args.clip is not None:
        where, problem = _clip_problem(args.clip)
        if problem:
            problems.append(problem)
        else:
            found["clip"] = where
    if args.not_wired:
        problems.append(f"the harness cannot run this experiment yet: {args.not_wired}")
    if problems:
        lines = f" {problems[0]}" if len(problems) == 1 else "".join(f"\n  - {p}" for p in problems)
        message = f"experiment {args.experiment!r} cannot run:{lines}"  # one problem: one line
        _log(args.log, f"harness check: error: {message}")
        raise HarnessError(message)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=1) + "\n")
    _log(args.log, json.dumps(found, indent=1))
    print(f"experiment {args.experiment!r}: inputs present -> {args.out}")
    return 0


def _log(path: Path | None, text: str) -> None:
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
