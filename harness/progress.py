"""Progress bars of the long stages: tqdm on stderr with rate and ETA, silent when stderr is not a
terminal (workflow logs stay free of bar redraws)."""

from __future__ import annotations

import sys

from tqdm import tqdm


def progress(iterable=None, *, desc: str, total: int | None = None, unit: str = "it", initial: int = 0,
             quiet: bool = False) -> tqdm:
    """A bar over ``iterable`` (or one to ``update`` by hand); ``quiet`` silences it (e.g. on ranks > 0)."""
    return tqdm(iterable, desc=desc, total=total, unit=unit, initial=initial, file=sys.stderr,
                disable=True if quiet else None, dynamic_ncols=True)
