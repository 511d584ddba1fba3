"""Experiment configs: the files, their merge, shared blocks (`templates` / `extends`), the product
syntax of Morse points, and validation against config/schema.json with short messages.

The workflow's config (config/config.yaml, any --configfile and --config) names experiment files
(`experiment_files`, globs) and may override an experiment of a file key by key. Each experiment is
validated when it is first used (`Configs[name]`), so a typo in one file does not stop a run
that never touches that experiment; `harness check-configs` validates them all.
"""

from __future__ import annotations

import glob
import json
from collections.abc import Mapping
from pathlib import Path

import jsonschema
import yaml

from harness.errors import HarnessError
from harness.experiments.product import expand_morse

SCHEMA = Path(__file__).resolve().parents[2] / "config" / "schema.json"


def merged(base, override):
    """``override`` laid over ``base``: mappings merge key by key, anything else is replaced."""
    if not isinstance(base, dict) or not isinstance(override, dict):
        return override
    return {**base, **{key: merged(base.get(key), value) for key, value in override.items()}}


def schema() -> dict:
    return json.loads(SCHEMA.read_text())


def _where(where: str, path) -> str:
    return ".".join([where, *(str(p) for p in path)])


def _short(value, limit: int = 60) -> str:
    text = json.dumps(value) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def message(error: jsonschema.ValidationError) -> str:
    """One short sentence for a schema error: no schema dump, the offending value abridged."""
    key, kind, limit, value = (error.absolute_path[-1] if error.absolute_path else None), error.validator, \
        error.validator_value, error.instance
    if key == "lsd" and kind == "minimum":
        return f"{_short(value)} LSD is below 1: every run takes at least one Dash step, and one Dash step costs 1 LSD"
    if kind in ("minimum", "exclusiveMinimum"):
        return f"{_short(value)} is below the minimum {limit}" + (" (exclusive)" if kind == "exclusiveMinimum" else "")
    if kind in ("maximum", "exclusiveMaximum"):
        return f"{_short(value)} is above the maximum {limit}" + (" (exclusive)" if kind == "exclusiveMaximum" else "")
    if kind == "additionalProperties":
        unknown = sorted(set(value) - set(error.schema.get("properties", {})))
        return (f"unknown key(s) {', '.join(map(repr, unknown))}; known: {', '.join(sorted(error.schema.get('properties', {})))}")
    if kind == "enum":
        return f"{_short(value)} is not one of {', '.join(map(str, limit))}"
    if kind == "required":
        return error.message
    if kind in ("oneOf", "anyOf") and all(isinstance(a, dict) and "required" in a for a in limit):
        forms = " or ".join("{" + ", ".join(a["required"]) + "}" for a in limit)
        return f"{_short(value)} matches none of the accepted forms: {forms}"
    if kind == "type":
        return f"{_short(value)} is not of type {limit}"
    return f"{_short(value)} is not valid here ({kind} {_short(limit)})"


def check(data: dict, where: str, definition: str | None = None) -> None:
    """Validate ``data`` against the schema (or one of its ``$defs``); the first error, one line,
    key path first, e.g. ``experiments.digits.samples.num: -5 is below the minimum 1``."""
    full = schema()
    target = {"$ref": f"#/$defs/{definition}", "$defs": full["$defs"]} if definition else full
    errors = sorted(jsonschema.Draft202012Validator(target).iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        best = jsonschema.exceptions.best_match(errors)
        raise HarnessError(f"{_where(where, best.absolute_path)}: {message(best)}")


def _resolve_templates(name: str, experiment: dict, templates: Mapping[str, dict], where: str) -> dict:
    """An experiment with its ``extends`` (a template name or a list of them) laid under it."""
    names = experiment.get("extends", [])
    names = [names] if isinstance(names, str) else names
    base: dict = {}
    for template in names:
        if template not in templates:
            raise HarnessError(f"{where}: experiment {name!r} extends {template!r}, which no file defines; "
                               f"known templates: {', '.join(sorted(templates)) or 'none'}")
        base = merged(base, templates[template])
    return merged(base, {k: v for k, v in experiment.items() if k != "extends"})


def _expanded(experiment: dict) -> dict:
    """The experiment with its Morse points' product syntax expanded (validated afterwards, so a
    message names the expanded point; malformed series are left for the schema to report)."""
    series = experiment.get("series")
    if not isinstance(series, list) or not all(isinstance(s, dict) and isinstance(s.get("morse", []), list) for s in series):
        return experiment
    expand = lambda entry: expand_morse(entry) if isinstance(entry, dict) else [entry]  # noqa: E731
    return {**experiment, "series": [{**s, "morse": [p for e in s.get("morse", []) for p in expand(e)]}
                                     if "morse" in s else s for s in series]}


class Configs(Mapping):
    """Experiment name -> its merged, validated, expanded config (a plain dict), checked on first use."""

    def __init__(self, raw: dict[str, dict], sources: dict[str, str], broken: dict[str, str] | None = None):
        self._raw, self._sources, self._checked = raw, sources, {}
        self.broken = dict(broken or {})  # a file or an experiment that could not be read -> why (raised when used)

    def __getitem__(self, name: str) -> dict:
        if name not in self._checked:
            if name in self.broken:
                raise HarnessError(self.broken[name])
            if name not in self._raw:
                unread = "".join(f"; {why}" for why in self.broken.values())
                raise HarnessError(f"no experiment {name!r}; known: {', '.join(sorted(self._raw))}{unread}")
            experiment = _expanded(self._raw[name])
            check(experiment, f"experiments.{name}", "experiment")
            self._checked[name] = experiment
        return self._checked[name]

    def __iter__(self):
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    def source(self, name: str) -> str:
        return self._sources.get(name, "the workflow config")

    def raw(self, name: str) -> dict:
        """The unvalidated config of ``name`` (what hashes and names are computed from)."""
        return self._raw[name]


def command_line_booleans(config: dict) -> dict:
    """``config`` with its boolean switches given as `--config KEY=true` made booleans, in place: Snakemake
    parses --config values with YAML's BaseLoader, which leaves `true` and `false` strings."""
    switches = [key for key, spec in schema()["properties"].items() if spec.get("type") == "boolean"]
    for key in switches:
        if isinstance(config.get(key), str) and config[key].lower() in ("true", "false"):
            config[key] = config[key].lower() == "true"
    return config


def load(config: dict, base: Path) -> Configs:
    """The experiments of the workflow ``config`` (files resolved against ``base``)."""
    top = {k: v for k, v in config.items() if k != "experiments"}
    check(top, "config")
    files: dict[str, tuple[dict, str]] = {}
    templates: dict[str, dict] = {}
    broken: dict[str, str] = {}  # an error in one file stops only the targets that need what it defines
    for pattern in config.get("experiment_files", []):
        full = pattern if Path(pattern).is_absolute() else str(Path(base) / pattern)
        for path in sorted(glob.glob(full)):
            try:
                data = _read_file(path)
            except HarnessError as err:
                broken[path] = str(err)
                continue
            for name, block in (data.get("templates") or {}).items():
                if name in templates:
                    broken[path] = f"{path}: template {name!r} is defined twice (first in another file)"
                templates.setdefault(name, block)
            for name, experiment in (data.get("experiments") or {}).items():
                if name in files:
                    broken[name] = f"experiment {name!r} is defined twice: {files[name][1]} and {path}"
                files.setdefault(name, (experiment, path))
    raw = {}
    for name, (experiment, path) in files.items():
        try:
            raw[name] = _resolve_templates(name, experiment, templates, path)
        except HarnessError as err:
            broken[name], raw[name] = str(err), {}
    for name, override in (config.get("experiments") or {}).items():
        raw[name] = merged(raw.get(name, {}), _resolve_templates(name, override, templates, "config"))
    if config.get("rehearsal"):  # the rehearsal's one override (config/rehearsal.yaml) over every experiment
        from harness.rehearsal.settings import rehearsed

        raw = {name: rehearsed(experiment) for name, experiment in raw.items()}
    for name in config.get("default_experiments", []):
        if name not in raw:
            raise HarnessError(f"default_experiments names {name!r}, which no config defines; known: {', '.join(sorted(raw))}")
    return Configs(raw, {name: path for name, (_, path) in files.items()}, broken)


def _read_file(path: str) -> dict:
    """One experiment file's YAML, or a one-line HarnessError naming the file and what is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except yaml.YAMLError as err:
        where = getattr(err, "problem_mark", None)
        line = f" (line {where.line + 1})" if where is not None else ""
        raise HarnessError(f"{path}{line} is not valid YAML: {getattr(err, 'problem', None) or err}") from None
    if not isinstance(data, dict):
        raise HarnessError(f"{path}: an experiment file holds a mapping (`experiments:`), not {type(data).__name__}")
    unknown = set(data) - {"experiments", "templates"}
    if unknown:
        raise HarnessError(f"{path}: unknown top-level key(s) {sorted(unknown)}; an experiment file holds "
                           "`experiments:` and optionally `templates:`")
    return data
