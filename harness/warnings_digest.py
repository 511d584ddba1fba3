"""The warnings of one workflow run, gathered from its job logs (workflows/warnings.smk prints them)."""

from __future__ import annotations

import sys
from pathlib import Path

PREFIX = "warning: "


def gather(logs: Path, since: float) -> list[tuple[str, Path]]:
    """(warning, log) for each distinct ``warning: ...`` line in a log under ``logs`` written since ``since``."""
    found: dict[str, Path] = {}
    for log in sorted(logs.rglob("*.log")) if logs.is_dir() else ():
        if log.stat().st_mtime < since:
            continue
        for line in log.read_text(errors="replace").replace("\r", "\n").splitlines():
            if line.startswith(PREFIX):
                found.setdefault(line[len(PREFIX):], log)
    return list(found.items())


def run_warnings(since: float, logs: Path = Path("logs")) -> None:
    """Print the run's warnings to stderr, one line each, after a header."""
    found = gather(logs, since)
    if found:
        print(f"\n{len(found)} warning(s) in this run's logs:", file=sys.stderr)
        for text, log in found:
            print(f"  warning: {text} ({log})", file=sys.stderr)
