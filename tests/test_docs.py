"""The documentation a newcomer reads: a README of about 100 lines that starts with the two commands, an index
(docs/README.md) that reaches every file in docs/, and the offline-inputs table generated from the registry."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

from harness import external

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def reached(start: Path) -> set[Path]:
    """Every file reachable from ``start`` by relative Markdown links; a link to a folder reaches all in it."""
    seen, todo = set(), [start]
    while todo:
        page = todo.pop()
        if page in seen:
            continue
        seen.add(page)
        for target in LINK.findall(page.read_text()):
            if "://" in target:
                continue
            path = (page.parent / unquote(target)).resolve()
            if path.is_dir():
                seen |= {p for p in path.rglob("*") if p.is_file()}
            elif path.is_file():
                todo.append(path) if path.suffix == ".md" else seen.add(path)
    return seen


def offline_table() -> str:
    """The table of docs/inputs.md: one row per entry of harness/external.py's EXTERNALS."""
    cell = lambda text: text.replace("|", "\\|")  # noqa: E731
    rows = [f"| {cell(e.what)} | `{e.location}` | {cell(e.how_to)} |"
            for e in (external.get(name) for name in external.EXTERNALS)]
    return "\n".join(["| input | expected at | how to supply it offline |", "|---|---|---|", *rows])


def test_every_file_in_docs_is_reachable_from_the_index():
    missing = {p.relative_to(ROOT) for p in DOCS.rglob("*") if p.is_file()} - \
              {p.relative_to(ROOT) for p in reached(DOCS / "README.md")}
    assert not missing, f"link these from docs/README.md (or a page it links): {sorted(map(str, missing))}"


def test_the_readme_is_short_and_starts_with_the_two_commands():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 110
    blocks = re.findall(r"```\n(.*?)```", text, flags=re.S)
    assert blocks[0].strip() == "pip install -c constraints.txt -e '.[test]' && snakemake -j2"
    assert blocks[1].strip() == "pip install -c constraints.txt -e '.[test]' && pytest -q -n 2 --dist loadgroup"
    assert text.index("```") < text.index("\n## ")  # the commands come before any section
    assert "docs/README.md" in text


def test_the_offline_inputs_table_is_the_registry():
    assert offline_table() in (DOCS / "inputs.md").read_text(), \
        "docs/inputs.md's table is stale; replace it with tests/test_docs.py's offline_table():\n" + offline_table()


def test_the_link_walk_follows_pages_and_folders(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.csv").write_text("x")
    (tmp_path / "b.md").write_text("[folder](sub/) and [none](https://example.org/c.md)")
    (tmp_path / "README.md").write_text("[b](b.md#part)")
    (tmp_path / "lost.md").write_text("")
    found = {p.name for p in reached(tmp_path / "README.md")}
    assert found == {"README.md", "b.md", "a.csv"}
