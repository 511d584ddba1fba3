"""`harness batch`: run several stage command lines, in order, in one Python process.

Each COMMAND is one stage's command line as a single string ("sample --seeds 0-299 ... --out X").
Starting Python with torch and diffusers costs 7-14 s on a small CPU, more than sampling a 300-image
shard of the digits Dash: a workflow whose experiment sets `samples.batches` makes all its shards in
that many `batch` jobs, and its metrics in as many, instead of one process per shard. Each command
runs exactly as `python -m harness COMMAND` would; the first that fails stops the batch with its
exit code, and outputs already written stay (every stage writes under a temporary name and renames).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

EXAMPLES = """
  python -m harness batch "sample --dash digits --steps 3 --seeds 0-99 --out a.npz" \\
      "sample --dash digits --steps 3 --seeds 100-199 --out b.npz"
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("commands", nargs="+", metavar="COMMAND",
                        help="one stage command line per argument, quoted (not `batch` itself)")


def run(args: argparse.Namespace) -> int:
    from harness.cli import main
    from harness.errors import HarnessError

    commands = [shlex.split(command) for command in args.commands]
    for words in commands:
        if not words or words[0] == "batch":
            raise HarnessError(f"not a stage command line: {shlex.join(words)!r}")
    for i, words in enumerate(commands, 1):
        began = time.perf_counter()
        print(f"[{i}/{len(commands)}] harness {shlex.join(words)}", file=sys.stderr, flush=True)
        code = main(words)
        if code:
            print(f"harness batch: command {i} of {len(commands)} failed (exit {code})", file=sys.stderr)
            return code
        print(f"[{i}/{len(commands)}] done in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    return 0
