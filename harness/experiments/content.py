"""What an experiment reads from outside, as one content hash: no result outlives its inputs.

``content_stamp(experiment)`` is sha256 over the bytes of the Dash folders (UNet config, weights,
scheduler config), the Dots the experiment ships (dot.json, dot.safetensors) and the image folders it
reads (dataset, Dot data, FID references). The workflow gives it to the first job, `check_inputs`, as a
parameter: when any of those bytes change (weights replaced in place, an image edited), Snakemake's
params trigger reruns that job, and every job that reads its stamp (work/<exp>/inputs.json: Dot
training, samples, latency, metrics) runs again. Timestamps alone would mislead both ways: a copy that
keeps an old mtime hides a change, a touch without one reruns everything. Each file's hash is cached
under .snakemake/ by (size, mtime, ctime, inode), which no write leaves unchanged, so a plan rereads
only what changed.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

CACHE = Path(".snakemake") / "harness-content-hashes.json"


def file_sha256(path: Path, cache: dict) -> str:
    """sha256 of a file's bytes, from ``cache`` when its size, times and inode are as when it was hashed."""
    stat = path.stat()
    key = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{stat.st_ctime_ns}|{stat.st_ino}"
    if key not in cache:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        cache[key] = digest.hexdigest()
    return cache[key]


def input_files(experiment) -> list[Path]:
    """The files of the experiment's local Dash folders, shipped Dots and image folders, in a fixed order
    (what is not here yet, a hub id not downloaded or a dataset spec of the harness's own, adds nothing:
    `check_inputs` reports it missing)."""
    from harness.errors import HarnessError
    from harness.images import IMAGE_SUFFIXES
    from harness.models.dash import resolve_directory
    from harness.models.dash_folder import inspect_folder

    files: list[Path] = []
    parts = [None, *experiment.config["series"], *experiment.dots.values()]
    for source, path in dict.fromkeys(experiment.dash_location(part) for part in parts):
        if source == experiment.trained_dash_dir or source.startswith("config:"):
            continue
        try:
            folder = inspect_folder(path or resolve_directory(source), need_scheduler=False)
        except HarnessError:
            continue
        files += folder.files
    for dot in experiment.dots.values():
        if dot.get("path"):
            files += [Path(dot["path"]) / "dot.json", Path(dot["path"]) / "dot.safetensors"]
    specs = [experiment.dataset["spec"], *(d.get(k) for d in experiment.dots.values() for k in ("data", "eval_data")),
             *(m.get("reference") for m in experiment.metrics.values())]
    for spec in dict.fromkeys(s for s in specs if s):
        if Path(spec).is_dir():
            files += sorted(p for p in Path(spec).rglob("*") if p.suffix.lower() in (*IMAGE_SUFFIXES, ".npz"))
        elif Path(spec).is_file():
            files.append(Path(spec))
    return [f for f in dict.fromkeys(files) if f.is_file()]


def content_stamp(experiment) -> str:
    """sha256 over the names and content hashes of :func:`input_files` (the module docstring)."""
    try:
        cache = json.loads(CACHE.read_text())
    except (OSError, ValueError):
        cache = {}
    size = len(cache)
    digest = hashlib.sha256()
    for path in input_files(experiment):
        digest.update(f"{path}|{file_sha256(path, cache)}\n".encode())
    if len(cache) != size:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        temporary = CACHE.with_name(f".{CACHE.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(cache))
        temporary.replace(CACHE)
    return digest.hexdigest()
