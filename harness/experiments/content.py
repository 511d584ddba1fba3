"""What an experiment reads from outside, as one content hash: no result outlives its inputs.

``content_stamp(experiment)`` is sha256 over the bytes of the Dash folders (UNet config, weights,
scheduler config), the Dots the experiment ships (dot.json, dot.safetensors) and the image folders it
reads (dataset, Dot data, FID references). The workflow gives it to the first job, `check_inputs`, as a
parameter: when any of those bytes change (weights replaced in place, an image edited), Snakemake's
params trigger reruns that job, which writes the hash into its record (work/<exp>/inputs.json), and every
job that reads the record (Dot training, samples, latency, metrics) runs again: Snakemake reruns a job
for a newer input only when the input's content changed (it checksums small files), so the hash must be
in the record, not only in the parameter. Timestamps alone would mislead both ways: a copy that
keeps an old mtime hides a change, a touch without one reruns everything. Each file's hash is cached
under .snakemake/ by (size, mtime, ctime, inode), which no write leaves unchanged, so a plan rereads
only what changed. An image folder of more than ``CONTENT_LIMIT`` files (ImageNet, LAION) enters with
each file's name, size and mtime instead, so that a first plan does not read gigabytes of images.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from harness.paths import DOT_META, DOT_WEIGHTS

CACHE = Path(".snakemake") / "harness-content-hashes.json"
CONTENT_LIMIT = 10_000


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


def input_files(experiment) -> dict[str, tuple[Path, bool]]:
    """label -> (file, whether its content is hashed) for the experiment's local Dash folders, shipped Dots
    and image folders, in a fixed order; a label names the file by its config entry and its path inside the
    folder, so moving the project leaves the stamp alone (what is not here yet, a hub id not downloaded or a
    dataset spec of the harness's own, adds nothing: `check_inputs` reports it missing)."""
    from harness.errors import HarnessError
    from harness.images import IMAGE_SUFFIXES
    from harness.models.dash import resolve_directory
    from harness.models.dash_folder import inspect_folder

    files: dict[str, tuple[Path, bool]] = {}
    parts = [None, *experiment.config["series"], *experiment.dots.values()]
    for source, path in dict.fromkeys(experiment.dash_location(part) for part in parts):
        if source == experiment.trained_dash_dir or source.startswith("config:"):
            continue
        try:
            folder = inspect_folder(path or resolve_directory(source), need_scheduler=False)
        except HarnessError:
            continue
        files.update({f"dash {source}: {p.relative_to(folder.directory)}": (p, True) for p in folder.files})
    for name, dot in experiment.dots.items():
        if dot.get("path"):
            files.update({f"dot {name}: {file}": (Path(dot["path"]) / file, True) for file in (DOT_META, DOT_WEIGHTS)})
    specs = [experiment.dataset["spec"], *(d.get(k) for d in experiment.dots.values() for k in ("data", "eval_data")),
             *(m.get("reference") for m in experiment.metrics.values())]
    for spec in dict.fromkeys(s for s in specs if s):
        if Path(spec).is_dir():
            images = sorted(p for p in Path(spec).rglob("*") if p.suffix.lower() in (*IMAGE_SUFFIXES, ".npz"))
            files.update({f"data {spec}: {p.relative_to(spec)}": (p, len(images) <= CONTENT_LIMIT) for p in images})
        elif Path(spec).is_file():
            files[f"data {spec}"] = (Path(spec), True)
    return {label: entry for label, entry in files.items() if entry[0].is_file()}


def content_stamp(experiment) -> str:
    """sha256 over the names and content hashes (or sizes and mtimes) of :func:`input_files`."""
    try:
        cache = json.loads(CACHE.read_text())
    except (OSError, ValueError):
        cache = {}
    size = len(cache)
    digest = hashlib.sha256()
    for label, (path, content) in input_files(experiment).items():
        stat = path.stat()
        digest.update(f"{label}|{file_sha256(path, cache) if content else (stat.st_size, stat.st_mtime_ns)}\n".encode())
    if len(cache) != size:
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        temporary = CACHE.with_name(f".{CACHE.name}.{os.getpid()}.tmp")
        temporary.write_text(json.dumps(cache))
        temporary.replace(CACHE)
    return digest.hexdigest()
