"""Are an experiment's inputs here? The check behind `harness check` (harness/stages/check.py), beside the
registry of what the harness reads from outside (harness/external.py), whose instructions it gives.

Offline and without running any model: the Dash weights can be found (the shipped digits model, a local
diffusers folder, or a hub id in the local Hugging Face cache), every dataset spec opens with at least one
image, the named files exist and the CLIP weights can be found; with ``download="cifar10"`` a missing CIFAR-10
is fetched with torchvision first.
"""

from __future__ import annotations

import json
from pathlib import Path

from harness import external
from harness.errors import HarnessError

DOWNLOADS = ("cifar10",)


def dash_sources(dash: str, dash_path: str | None, also_dash: list[str]) -> list[tuple[str, str | None]]:
    """Each Dash an experiment uses once, as (source, local path): its own and ``also_dash``'s SOURCE[=PATH]."""
    dashes = [(dash, dash_path)] + [tuple(s.split("=", 1)) if "=" in s else (s, None) for s in also_dash]
    return list(dict.fromkeys(dashes))


def write_log(path: Path | None, text: str) -> None:
    """``text`` as the file ``path`` (nothing when None): a workflow rule's log of its outcome."""
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")


def check_and_record(*, experiment: str, out: Path, log: Path | None = None, **inputs) -> dict:
    """`harness check`: ``check_inputs(experiment=experiment, **inputs)``; every problem in one error (one problem: one
    line), also written to ``log``; else the record of what was found written to ``out`` (and ``log``) and returned."""
    found, problems = check_inputs(experiment=experiment, **inputs)
    if problems:
        lines = f" {problems[0]}" if len(problems) == 1 else "".join(f"\n  - {p}" for p in problems)
        message = f"experiment {experiment!r} cannot run:{lines}"
        write_log(log, f"harness check: error: {message}")
        raise HarnessError(message)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(found, indent=1) + "\n")
    write_log(log, json.dumps(found, indent=1))
    print(f"experiment {experiment!r}: inputs present -> {out}")
    return found


def check_inputs(*, experiment: str, dash: str, dash_path: str | None = None, also_dash: list[str] = (),
                 data: list[str] = (), dot_data: list[str] = (), shipped_dot: list[str] = (), files: list[str] = (),
                 clip: str | None = None, download: str | None = None, how_to: str | None = None,
                 not_wired: str | None = None, content_sha256: str | None = None) -> tuple[dict, list[str]]:
    """(what was found, every problem with how to fix it) for the inputs of ``experiment`` (the options of
    `harness check`: ``also_dash`` as SOURCE[=PATH], ``dot_data`` as KEY=SPEC)."""
    problems: list[str] = []
    found: dict = {"experiment": experiment, "dash": {}, "data": {}, "files": [],
                   **({"content_sha256": content_sha256} if content_sha256 else {})}
    for source, path in dash_sources(dash, dash_path, also_dash):
        where, problem = _dash_problem(source, path)
        if problem:
            problems.append(problem)
        else:
            found["dash"][source] = where
    for spec in dict.fromkeys(data):
        count, problem = _data_problem(spec, download, how_to)
        if problem:
            problems.append(problem)
        else:
            found["data"][spec] = count
    shape = None
    if dash in found["dash"] and (dot_data or shipped_dot):
        shape = _dash_shape(dash, found["dash"][dash])
    for entry in dict.fromkeys(dot_data):
        key, _, spec = entry.partition("=")
        if shape is not None and spec in found["data"]:
            from harness.data.shapes import training_shape_problem

            problem = training_shape_problem(spec, shape, key)
            if problem:
                problems.append(problem)
    for directory in dict.fromkeys(shipped_dot) if dash in found["dash"] else ():
        problem = _shipped_dot_problem(directory, dash, dash_path)
        if problem:
            problems.append(problem)
    for path in dict.fromkeys(files):
        problem = _file_problem(path)
        if problem:
            problems.append(problem)
        else:
            found["files"].append(path)
    if clip is not None:
        where, problem = _clip_problem(clip)
        if problem:
            problems.append(problem)
        else:
            found["clip"] = where
    if not_wired:
        problems.append(f"the harness cannot run this experiment yet: {not_wired}")
    return found, problems


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
