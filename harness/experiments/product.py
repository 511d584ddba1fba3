"""The product syntax of a series' Morse entries, which the config loader and the rehearsal's reductions
both expand."""

from __future__ import annotations

import itertools


def expand_morse(entry: dict) -> list[dict]:
    """The product syntax: ``{lsd: [3, 5], ratio: [0.3, 0.5], N: 6}`` -> four points, lists varying
    fastest to the right; an entry without lists is itself."""
    keys = list(entry)
    values = [v if isinstance(v, list) else [v] for v in entry.values()]
    return [dict(zip(keys, combo)) for combo in itertools.product(*values)]
