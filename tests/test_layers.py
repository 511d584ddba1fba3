"""The package's import layers: named once here (bottom first), checked over every import in harness/.

A module may import from its own layer and the layers below it, never from a layer above, and no
chain of imports (module-level or inside a function) may lead back to where it started. A module
belongs to the layer of the longest entry naming it or a package above it.
"""

from __future__ import annotations

import ast
from pathlib import Path


PACKAGE = Path(__file__).resolve().parent.parent / "harness"

LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("foundation", ("harness", "harness.errors", "harness.registry", "harness.progress", "harness.seeds",
                    "harness.damage", "harness.shards", "harness.conditions", "harness.external", "harness.assets",
                    "harness.provenance", "harness.warnings_digest", "harness.paths",
                    "harness.rehearsal")),  # the rehearsal switch (its __init__: ENV, active(), BANNER)
    ("inputs", ("harness.data", "harness.images", "harness.samplers")),
    ("models", ("harness.models", "harness.metrics")),  # Dash and the metrics' networks
    ("morse", ("harness.morse",)),  # Dot, its training and Morse sampling (Algorithms 1, 2)
    ("jobs", ("harness.latency", "harness.input_check")),
    ("analysis", ("harness.analysis",)),  # the mathematics of Sec. 3.1
    ("report", ("harness.report",)),  # pages, figures, tables drawn from it
    ("experiments", ("harness.experiments", "harness.rehearsal.settings", "harness.rehearsal.stand_ins",
                     "harness.rehearsal.gpu_check")),
    ("stages", ("harness.stages", "harness.cli", "harness.__main__")),
)


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The harness modules ``name`` imports anywhere in its file (``from pkg import module`` names the module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.split(".")[: len(package.split(".")) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found |= {f"{module}.{a.name}" if f"{module}.{a.name}" in MODULES else module for a in node.names}
    return {module for module in found if module in MODULES and module != name}


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def layer_of(module: str) -> int:
    matches = [(len(entry), rank) for rank, (_, entries) in enumerate(LAYERS) for entry in entries
               if module == entry or module.startswith(entry + ".")]
    if not matches:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")
    return max(matches)[1]


def test_every_module_has_a_layer():
    for module in MODULES:
        layer_of(module)


def upward(imports: dict[str, set[str]]) -> list[str]:
    """Every import from a lower layer to a higher one, as one line each."""
    return [f"{a} ({LAYERS[layer_of(a)][0]}) imports {b} ({LAYERS[layer_of(b)][0]})"
            for a, targets in sorted(imports.items()) for b in sorted(targets) if layer_of(b) > layer_of(a)]


def cycle(imports: dict[str, set[str]]) -> list[str]:
    """One chain of imports that returns to its start (empty when there is none)."""
    done: set[str] = set()

    def visit(module: str, path: list[str]) -> list[str]:
        if module in path:
            return path[path.index(module):] + [module]
        if module not in done:
            for target in sorted(imports.get(module, ())):
                found = visit(target, path + [module])
                if found:
                    return found
            done.add(module)
        return []

    return next((found for found in (visit(module, []) for module in sorted(imports)) if found), [])


def test_no_import_runs_up_a_layer():
    found = upward(IMPORTS)
    assert not found, "\n".join(found)


def test_no_import_cycle():
    found = cycle(IMPORTS)
    assert not found, "import cycle: " + " -> ".join(found)


def test_the_checks_find_an_upward_import_and_a_cycle():
    assert "harness.errors" in IMPORTS["harness.cli"]  # `from harness.errors import HarnessError` is seen
    assert upward({"harness.models.dash": {"harness.morse.dot"}}) == [
        "harness.models.dash (models) imports harness.morse.dot (morse)"]
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) == []
    assert layer_of("harness.rehearsal") < layer_of("harness.rehearsal.settings")
