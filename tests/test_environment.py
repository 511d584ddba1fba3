"""The pinned environment: every dependency is pinned in constraints.txt, and every install path
(README, .ci/run, environment.yml) goes through it, so a fresh machine gets the tested versions."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    found = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = line.split("==")
            found[canonicalize_name(name)] = version
    return found


def test_every_direct_dependency_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    pinned = pins()
    for line in requirements:
        req = Requirement(line)
        name = canonicalize_name(req.name)
        assert name in pinned, f"{req.name} is not pinned in constraints.txt (run `python .ci/pin`)"
        assert req.specifier.contains(pinned[name], prereleases=True), f"{req.name}=={pinned[name]} outside {req.specifier}"


def test_every_install_command_uses_the_constraints():
    readme_installs = re.findall(r"pip install[^\n`]*", (ROOT / "README.md").read_text())
    assert readme_installs and all("-c constraints.txt" in c for c in readme_installs), readme_installs
    assert "-c constraints.txt" in (ROOT / ".ci" / "run").read_text()
    assert "-c constraints.txt" in (ROOT / "environment.yml").read_text()
