"""Conditions as data: what each image is conditioned on, tied to its seed exactly as its noise is.

A condition source is named by a spec (``harness sample --conditions SPEC``, config key
``conditions``), one registry entry per kind:

- ``none``: unconditional (the default);
- ``labels:K``: class labels uniform over K classes, image ``s``'s label drawn by a generator of its
  own seeded by ``s`` (so it depends on the seed only, never on the batch or the shard);
- ``labels-file:PATH``: one integer label per line, line ``s`` for seed ``s`` (0-based);
- ``prompts:PATH``: one prompt per line, line ``s`` for seed ``s`` (``harness coco-prompts`` writes
  such a file).

``ConditionSource.for_seeds(seeds)`` gives the batch's values: an int64 array of labels or a list
of prompts; the shard stores them (``labels`` or ``prompts``) beside its images.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from harness.errors import HarnessError
from harness.registry import Registry

NONE, LABELS, PROMPTS = "none", "labels", "prompts"  # kinds; LABELS and PROMPTS are also the shard's array names
FILE_SOURCES = ("labels-file", "prompts")  # sources that read a file: the workflow makes it an input
SOURCE_KINDS = {NONE: NONE, LABELS: LABELS, "labels-file": LABELS, PROMPTS: PROMPTS}  # source -> kind of condition
LABEL_STREAM = 0x4C41424C  # second word of a label's seed sequence, so labels and noise never share a stream

CONDITION_SOURCES: Registry = Registry("condition source")


@dataclass
class ConditionSource:
    """The conditions of every seed: ``kind`` (none, labels, prompts) and how to get seed ``s``'s value."""

    spec: str
    kind: str
    num_classes: int | None = None  # labels:K
    table: list = field(default_factory=list)  # file sources: line s for seed s
    sha256: str | None = None  # file sources: the file's digest, recorded in the shard

    def for_seeds(self, seeds: Sequence[int]):
        """The values of these seeds: None (unconditional), int64 labels, or a list of prompts."""
        if self.kind == NONE:
            return None
        if self.num_classes is not None:
            return np.array([_uniform_label(s, self.num_classes) for s in seeds], dtype=np.int64)
        beyond = [s for s in seeds if not 0 <= s < len(self.table)]
        if beyond:
            raise HarnessError(f"conditions {self.spec!r} hold {len(self.table)} lines; seed {beyond[0]} has none "
                               f"(line s is seed s's condition)")
        values = [self.table[s] for s in seeds]
        return np.array(values, dtype=np.int64) if self.kind == LABELS else values

    def record(self) -> dict:
        """What the shard meta records of the source."""
        return {"spec": self.spec, "kind": self.kind, "sha256": self.sha256}


def _uniform_label(seed: int, num_classes: int) -> int:
    """Seed s's class: uniform over ``num_classes``, from s's own generator (PCG64)."""
    return int(np.random.default_rng([int(seed), LABEL_STREAM]).integers(num_classes))


def _lines(path: str) -> tuple[list[str], str]:
    file = Path(path)
    if not file.is_file():
        raise HarnessError(f"conditions file {file} is missing")
    data = file.read_bytes()
    return data.decode().splitlines(), hashlib.sha256(data).hexdigest()


@CONDITION_SOURCES.register(NONE)
def _none(spec: str, argument: str) -> ConditionSource:
    return ConditionSource(spec, NONE)


@CONDITION_SOURCES.register(LABELS)
def _labels(spec: str, argument: str) -> ConditionSource:
    if not argument.isdigit() or int(argument) < 1:
        raise HarnessError(f"conditions {spec!r}: labels:K needs a positive number of classes K")
    return ConditionSource(spec, LABELS, num_classes=int(argument))


@CONDITION_SOURCES.register("labels-file")
def _labels_file(spec: str, argument: str) -> ConditionSource:
    lines, sha = _lines(argument)
    try:
        table = [int(line) for line in lines]
    except ValueError:
        raise HarnessError(f"conditions {spec!r}: a labels file holds one integer per line") from None
    return ConditionSource(spec, LABELS, table=table, sha256=sha)


@CONDITION_SOURCES.register(PROMPTS)
def _prompts(spec: str, argument: str) -> ConditionSource:
    lines, sha = _lines(argument)
    return ConditionSource(spec, PROMPTS, table=lines, sha256=sha)


def conditions_kind(spec: str | None) -> str:
    """The kind of condition (none, labels, prompts) a spec names, without reading its file."""
    name = (spec or NONE).partition(":")[0]
    if name not in SOURCE_KINDS:
        raise HarnessError(f"conditions {spec!r}: unknown condition source {name!r}; known: {', '.join(SOURCE_KINDS)}")
    return SOURCE_KINDS[name]


def conditions_file(spec: str | None) -> str | None:
    """The file a condition source reads (line s for seed s), or None."""
    name, _, argument = (spec or NONE).partition(":")
    return argument if name in FILE_SOURCES else None


def parse_conditions(spec: str | None) -> ConditionSource:
    """The source named by ``spec`` (``none``, ``labels:K``, ``labels-file:PATH``, ``prompts:PATH``)."""
    name, _, argument = (spec or NONE).partition(":")
    try:
        factory = CONDITION_SOURCES.get(name)
    except ValueError as err:
        raise HarnessError(f"conditions {spec!r}: {err}") from None
    return factory(spec or NONE, argument)
