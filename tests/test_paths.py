"""Every file pattern is written once, in harness/paths.py: the rules' outputs and the experiment model read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness import paths
from harness.experiments import Workflow

ROOT = Path(__file__).resolve().parents[1]
RULE_FILES = [ROOT / "Snakefile", *sorted((ROOT / "workflows").glob("*.smk"))]
KEYWORDS = {"caption", "category", "subcategory"}  # report()'s labels, not paths


def output_blocks(text: str) -> list[str]:
    """The text of every ``output:`` section of a rule file (its lines indented below the keyword)."""
    blocks = []
    for match in re.finditer(r"^( +)output:\n((?:\1 +.*\n)+)", text, flags=re.M):
        blocks.append(match.group(2))
    return blocks


def literal_paths(block: str) -> list[str]:
    """String literals of an output section that name a file: all but report() labels, fill()'s wildcard
    values, the separators of an f-string joining patterns of harness.paths and a lone wildcard."""
    found = []
    for match in re.finditer(r"""(\w+=)?(f?)"([^"]*)\"""", block):
        keyword, is_f, text = match.group(1), match.group(2), match.group(3)
        if keyword and (keyword[:-1] in KEYWORDS or "fill(" in block[:match.start()].rsplit("\n", 1)[-1]):
            continue
        if is_f and not re.sub(r"\{paths\.[A-Z_]+\}", "", text).strip("/"):
            continue
        if re.fullmatch(r"\{\w+\}", text):  # any target at all (data.smk's unknown_target): no pattern
            continue
        found.append(text)
    return found


def test_every_rule_output_comes_from_the_path_module():
    blocks = {path.name: output_blocks(path.read_text()) for path in RULE_FILES}
    assert sum(len(b) for b in blocks.values()) >= 15  # every rule that writes a file is seen
    written = {name: [p for block in found for p in literal_paths(block)] for name, found in blocks.items()}
    assert not {name: found for name, found in written.items() if found}, "write these patterns in harness/paths.py"


def test_the_check_sees_a_pattern_written_in_a_rule():
    block = output_blocks('rule x:\n    output:\n        "work/{exp}/x.csv",\n        paths.RESULTS,\n    log:\n')[0]
    assert literal_paths(block) == ["work/{exp}/x.csv"]
    assert literal_paths('        f"{paths.DOT_DIR}/{paths.DOT_WEIGHTS}",\n        fill(paths.METRIC_ROW, metric="fid"),\n') == []


def test_fill_names_wildcards_and_pads_the_shard():
    assert paths.fill(paths.SHARD, exp="e", point="p", rep=0, shard=7) == "samples/e/p.r0.s007.npz"
    assert paths.fill(paths.METRIC_ROW, metric="fid") == "work/{exp}/metrics/{point}.r{rep}.fid.csv"
    with pytest.raises(KeyError):
        paths.fill(paths.RESULTS, dot="x")


def test_the_experiment_model_fills_the_rules_patterns():
    import yaml

    config = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())
    experiment = Workflow(config, ROOT).experiment("digits")
    point = experiment.sampled_points[0]
    assert experiment.shard(point, 0, 1) == paths.fill(paths.SHARD, exp="digits", point=point, rep=0, shard=1)
    assert experiment.targets()[1] == paths.fill(paths.RESULTS, exp="digits")
