"""A damaged file, in any form, is one line naming it and the command that remakes it.

Workflow outputs (shards, metric rows, FID statistics, latency tables, Dot checkpoints) are written
under temporary names and renamed, so damage comes from outside: a disk, a copy, a hand edit. Whatever
the reader raises (a truncated zip, a bad CRC, invalid JSON, an empty CSV, a safetensors header), the
file is named with `snakemake -f`, which remakes exactly that file; the next run of the target then
redoes what was computed from it.
"""

from __future__ import annotations

import contextlib
import zipfile
import zlib
from pathlib import Path
from typing import Iterator

from harness.errors import HarnessError

DAMAGE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error)


def _safetensors_error() -> tuple[type, ...]:
    try:
        from safetensors import SafetensorError

        return (SafetensorError,)
    except ImportError:
        return ()


def damaged(path: str | Path, err: BaseException) -> HarnessError:
    reason = f"{type(err).__name__}: {err}".strip().splitlines()[0][:160]
    return HarnessError(f"{path} is damaged ({reason}): remake it with `snakemake -j1 -f {path}`, then run your "
                        "target again (it redoes what was computed from the file)")


@contextlib.contextmanager
def reading(path: str | Path) -> Iterator[None]:
    """Any error reading ``path`` in the block (a HarnessError aside) becomes :func:`damaged`'s one line."""
    try:
        yield
    except HarnessError:
        raise
    except (*DAMAGE, *_safetensors_error()) as err:
        raise damaged(path, err) from None


def read_csv(path: str | Path, required: tuple[str, ...] = ()):
    """A CSV the workflow wrote (a metric row, a latency table): one line when it is damaged or lacks columns."""
    import pandas as pd

    with reading(path):
        rows = pd.read_csv(path)
        missing = [column for column in required if column not in rows.columns]
        if missing or rows.empty:
            raise ValueError("no rows" if rows.empty else f"no column {', '.join(missing)}")
    return rows
