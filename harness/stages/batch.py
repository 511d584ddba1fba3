"""`harness batch`: run several stage command lines, in order, in one Python process.

Each COMMAND is one stage's command line as a single string ("sample --seeds 0-299 ... --out X").
Starting Python with torch and diffusers costs 7-14 s on a small CPU, more than sampling a 300-image
shard of the digits Dash: a workflow whose experiment sets `samples.batches` makes all its shards in
that many `batch` jobs, and its metrics in as many, instead of one process per shard. Each command
runs exactly as `python -m harness COMMAND` would; the first that fails stops the batch with its exit code.

Resuming (--keep DIR, with --outputs once per command): every stage writes under a temporary name and
renames, so a command's outputs exist only once complete. After each command succeeds its outputs are
hard-linked into DIR beside a record of its command line; a rerun of a batch that was killed or failed
skips every command whose record matches (same command line, same outputs, newer than every --inputs
file), puts its outputs back and runs only the rest. The links survive the workflow deleting the
declared outputs of an incomplete job before rerunning it. DIR is removed when every command has succeeded,
so a batch rerun for any other reason (a changed input, a forced rerun) runs everything.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

EXAMPLES = """
  python -m harness batch "sample --dash digits --steps 3 --seeds 0-99 --out a.npz" \\
      "sample --dash digits --steps 3 --seeds 100-199 --out b.npz"
  python -m harness batch --keep work/kept --inputs work/dot/dot.safetensors \\
      --outputs "a.npz a.json" --outputs "b.npz b.json" -- \\
      "sample --dash digits --dot work/dot --lsd 3 --N 4 --ratio 0.5 --seeds 0-99 --out a.npz" \\
      "sample --dash digits --dot work/dot --lsd 5 --N 4 --ratio 0.5 --seeds 0-99 --out b.npz"
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("commands", nargs="+", metavar="COMMAND",
                        help="one stage command line per argument, quoted (not `batch` itself)")
    parser.add_argument("--keep", type=Path, default=None, metavar="DIR",
                        help="folder keeping each finished command's outputs, so that a rerun skips it (needs --outputs)")
    parser.add_argument("--outputs", action="append", default=None, metavar="FILES",
                        help="the files one COMMAND writes, space-separated; once per COMMAND, in their order")
    parser.add_argument("--inputs", nargs="*", default=[], metavar="FILE",
                        help="files the commands read: outputs kept before one of them changed are made again "
                             "(put `--` before the commands)")


def run(args: argparse.Namespace) -> int:
    from harness.cli import main
    from harness.errors import HarnessError

    commands = [shlex.split(command) for command in args.commands]
    for words in commands:
        if not words or words[0] == "batch":
            raise HarnessError(f"not a stage command line: {shlex.join(words)!r}")
    if args.keep is not None and len(args.outputs or []) != len(commands):
        raise HarnessError(f"--keep needs --outputs once per command: {len(args.outputs or [])} for {len(commands)} commands")
    kept = _Kept(args.keep, args.inputs) if args.keep is not None else None
    for i, words in enumerate(commands, 1):
        outputs = args.outputs[i - 1].split() if kept else []
        if kept and kept.restore(i, args.commands[i - 1], outputs):
            print(f"[{i}/{len(commands)}] kept from an earlier run: harness {shlex.join(words)}", file=sys.stderr,
                  flush=True)
            continue
        began = time.perf_counter()
        print(f"[{i}/{len(commands)}] harness {shlex.join(words)}", file=sys.stderr, flush=True)
        code = main(words)
        if code:
            print(f"harness batch: command {i} of {len(commands)} failed (exit {code})", file=sys.stderr)
            return code
        if kept:
            kept.add(i, args.commands[i - 1], outputs)
        print(f"[{i}/{len(commands)}] done in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    if kept:
        shutil.rmtree(args.keep, ignore_errors=True)
    return 0


class _Kept:
    """The outputs of a batch's finished commands: ``<folder>/<i>/`` holds links to command i's outputs,
    ``<folder>/<i>.json`` its command line and output names, written after the links."""

    def __init__(self, folder: Path, inputs: list[str]):
        self.folder = folder
        self.newest_input = max((os.stat(f).st_mtime for f in inputs if os.path.exists(f)), default=0.0)

    def _files(self, i: int, outputs: list[str]) -> list[Path]:
        return [self.folder / str(i) / f"{k}.{Path(name).name}" for k, name in enumerate(outputs)]

    def add(self, i: int, command: str, outputs: list[str]) -> None:
        from harness.errors import HarnessError

        missing = [name for name in outputs if not os.path.exists(name)]
        if missing:
            raise HarnessError(f"command {i} did not write {', '.join(missing)} (its --outputs)")
        for name, kept in zip(outputs, self._files(i, outputs)):
            kept.parent.mkdir(parents=True, exist_ok=True)
            _place(Path(name), kept)
        record = self.folder / f"{i}.json"
        record.with_suffix(".tmp").write_text(json.dumps({"command": command, "outputs": outputs}))
        record.with_suffix(".tmp").replace(record)

    def restore(self, i: int, command: str, outputs: list[str]) -> bool:
        """Put command i's kept outputs back where it writes them; False when none are kept for this command line."""
        record = self.folder / f"{i}.json"
        try:
            if json.loads(record.read_text()) != {"command": command, "outputs": outputs}:
                return False
            if record.stat().st_mtime < self.newest_input:
                return False  # an input changed since: the kept outputs are stale
        except (OSError, ValueError):
            return False
        files = self._files(i, outputs)
        if not all(kept.exists() for kept in files):
            return False
        for name, kept in zip(outputs, files):
            if not (os.path.exists(name) and os.path.samefile(name, kept)):
                _place(kept, Path(name))
        return True


def _place(source: Path, target: Path) -> None:
    """Make ``target`` the file ``source`` is (a hard link; a copy across file systems), replacing it atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copy2(source, tmp)
    os.replace(tmp, target)
