"""Library functions take named arguments: no function outside harness/stages/ takes an argparse.Namespace, so
a notebook calls them without faking a command line (a stage is its parser and one call)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "harness"
COMMAND_LINE = {PACKAGE / "cli.py"}  # the command line itself: it builds the stages' parsers


def namespace_uses(source: str) -> list[str]:
    """Where a module takes or keeps a Namespace: a parameter called ``args``, an annotation naming
    ``Namespace``, or an import of argparse."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            arguments = node.args.posonlyargs + node.args.args + node.args.kwonlyargs
            name = getattr(node, "name", "lambda")
            found += [f"{name}({a.arg})" for a in arguments
                      if a.arg == "args" or (a.annotation is not None and "Namespace" in ast.unparse(a.annotation))]
        elif isinstance(node, ast.AnnAssign) and "Namespace" in ast.unparse(node.annotation):
            found.append(f"{ast.unparse(node.target)}: {ast.unparse(node.annotation)}")
        elif isinstance(node, ast.Import) and any(alias.name == "argparse" for alias in node.names):
            found.append("import argparse")
        elif isinstance(node, ast.ImportFrom) and node.module == "argparse":
            found.append("from argparse import ...")
    return found


def test_no_function_outside_the_stages_takes_a_namespace():
    library = [path for path in sorted(PACKAGE.rglob("*.py"))
               if "stages" not in path.relative_to(PACKAGE).parts and path not in COMMAND_LINE]
    found = {str(path.relative_to(PACKAGE.parent)): uses for path in library if (uses := namespace_uses(path.read_text()))}
    assert not found, f"library code that takes a Namespace (give it named arguments): {found}"


def test_the_check_sees_each_way_a_namespace_comes_in():
    source = ("import argparse\n"
              "def plan(args, noise): ...\n"
              "def draw(options: argparse.Namespace): ...\n"
              "class Context:\n    args: argparse.Namespace\n"
              "def fine(*, steps: int, grid: str): ...\n")
    assert namespace_uses(source) == ["import argparse", "plan(args)", "draw(options)", "args: argparse.Namespace"]
