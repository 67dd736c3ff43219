"""Load scenarios from YAML or TOML files, built-in names or mappings, with readable errors."""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from labecon.errors import MISSING, Problem, ScenarioError
from labecon.scenario.citations import resolve_facts
from labecon.scenario.fields import CrossFieldError, Section
from labecon.scenario.quantities import FAMILIES
from labecon.scenario.schema import Scenario

BUILTIN_PACKAGE = "labecon.scenario.builtin"
SUFFIXES = (".yaml", ".yml", ".toml")


def builtin_names() -> list[str]:
    """Names of the scenarios shipped with labecon, sorted."""
    folder = resources.files(BUILTIN_PACKAGE)
    return sorted(
        Path(entry.name).stem
        for entry in folder.iterdir()
        if entry.name.endswith(SUFFIXES) and not entry.name.startswith("_")
    )


def builtin_text(name: str) -> str:
    """The YAML source of a built-in scenario."""
    return resources.files(BUILTIN_PACKAGE).joinpath(f"{name}.yaml").read_text("utf-8")


def builtin_descriptions() -> dict[str, str]:
    """Built-in scenario name -> its one-line description."""
    out = {}
    for name in builtin_names():
        data = yaml.safe_load(builtin_text(name)) or {}
        out[name] = " ".join(str(data.get("description", "")).split())
    return out


def read_mapping(
    name_or_path: str | Path, _seen: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str]:
    """Read a scenario file or built-in into a plain mapping; returns (mapping, source label).

    A top-level ``extends: NAME_OR_PATH`` is resolved here: the base scenario is read (paths
    relative to the extending file) and the file's own values are merged over it.
    """
    data, source, folder = _read_one(name_or_path)
    return resolve_extends(data, source, folder, _seen), source


def resolve_extends(
    data: dict[str, Any], source: str, folder: Path | None, seen: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Merge ``data`` over the scenario it ``extends``, recursively; refuses cycles."""
    base_name = data.pop("extends", None)
    if base_name is None:
        return data
    if not isinstance(base_name, str) or not base_name.strip():
        raise ScenarioError(
            [Problem("extends", base_name, "must name a built-in scenario or a file path")],
            source=source,
        )
    target = base_name
    if folder is not None and Path(base_name).suffix.lower() in SUFFIXES:
        target = str(folder / base_name)
    if target in seen or target == source:
        chain = " -> ".join((*seen, source, target))
        raise ScenarioError([Problem("extends", base_name, f"forms a cycle: {chain}")], source)
    try:
        base, _ = read_mapping(target, (*seen, source))
    except ScenarioError as exc:
        raise ScenarioError(
            [Problem(f"extends -> {p.path}", p.value, p.message) for p in exc.problems],
            source=source,
        ) from None
    merged = deep_merge(base, data)
    # A variant is its own scenario: it does not inherit the base's name or description.
    for key in ("name", "description"):
        if key not in data:
            merged.pop(key, None)
    return merged


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``override`` over ``base``: mappings merge key by key; other values replace."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        # A distribution or a fact citation replaces a number or another distribution whole.
        if (
            isinstance(value, Mapping)
            and isinstance(current, Mapping)
            and not _is_distribution(value)
            and not _is_distribution(current)
        ):
            out[key] = deep_merge(current, value)
        else:
            out[key] = value
    return out


def _is_distribution(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(set(value) & {*FAMILIES, "fact"})


def _read_one(name_or_path: str | Path) -> tuple[dict[str, Any], str, Path | None]:
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix.lower() in SUFFIXES or path.exists():
        if not path.is_file():
            raise ScenarioError(
                [Problem("file", text_name, "no such scenario file")], source=text_name
            )
        try:
            raw = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError(
                [Problem("file", text_name, f"cannot be read: {exc}")], source=text_name
            ) from None
        data = parse_text(raw, toml=path.suffix.lower() == ".toml", source=text_name)
        return data, text_name, path.parent
    if text_name in builtin_names():
        return parse_text(builtin_text(text_name), toml=False, source=text_name), text_name, None
    close = difflib.get_close_matches(text_name, builtin_names(), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScenarioError(
        [
            Problem(
                "scenario",
                text_name,
                "is neither a scenario file (.yaml, .yml, .toml) nor a built-in scenario"
                f"{hint}; built-in: {', '.join(builtin_names())}",
            )
        ],
        source=text_name,
    )


def parse_text(text: str, *, toml: bool, source: str) -> dict[str, Any]:
    """Parse YAML or TOML text into a mapping, turning syntax errors into a ScenarioError."""
    try:
        data = tomllib.loads(text) if toml else yaml.safe_load(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise ScenarioError(
            [Problem("file", MISSING, f"is not valid {'TOML' if toml else 'YAML'}: {exc}")],
            source=source,
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ScenarioError(
            [Problem("file", MISSING, "must hold a mapping of sections at the top level")],
            source=source,
        )
    return dict(data)


def from_mapping(data: Mapping[str, Any], source: str | None = None) -> Scenario:
    """Validate a mapping into a :class:`Scenario`, reporting every problem at once.

    Fact citations (``{fact: ID}``) are resolved first and kept on ``Scenario.citations``.
    """
    resolved, citations = resolve_facts(dict(data), source)
    try:
        scenario = Scenario.model_validate(resolved)
    except ValidationError as exc:
        raise ScenarioError(_problems(exc), source=source) from None
    scenario._citations = tuple(citations)
    return scenario


def load_scenario(name_or_path: str | Path | Mapping[str, Any] | Scenario) -> Scenario:
    """Load a scenario from a built-in name, a YAML/TOML path, a mapping or a Scenario."""
    if isinstance(name_or_path, Scenario):
        return name_or_path
    if isinstance(name_or_path, Mapping):
        return from_mapping(resolve_extends(dict(name_or_path), "scenario", Path.cwd()))
    data, source = read_mapping(name_or_path)
    data.setdefault("name", Path(str(name_or_path)).stem)
    return from_mapping(data, source=source)


def validate(name_or_path: str | Path) -> list[Problem]:
    """Every problem of a scenario file or built-in, or an empty list when it is valid."""
    try:
        load_scenario(name_or_path)
    except ScenarioError as exc:
        return exc.problems
    return []


def _problems(exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = [str(part) for part in err["loc"]]
        path = ".".join(loc) or "scenario"
        kind = err["type"]
        value = err.get("input", MISSING)
        if kind == "extra_forbidden":
            message = _unknown_field(loc)
        elif kind == "value_error":
            cause = err.get("ctx", {}).get("error")
            if isinstance(cause, CrossFieldError):
                problems += [Problem(path, MISSING, message) for path, message in cause.problems]
                continue
            message = str(err["msg"]).removeprefix("Value error, ")
        elif kind == "missing":
            message = "is required"
            value = MISSING
        else:
            message = str(err["msg"])
            expected = err.get("ctx", {})
            if expected:
                message += f" ({', '.join(f'{k}={v}' for k, v in expected.items())})"
        problems.append(Problem(path, value, message))
    return problems


def _unknown_field(loc: list[str]) -> str:
    model: type[BaseModel] = Scenario
    for part in loc[:-1]:
        field = model.model_fields.get(part)
        annotation = getattr(field, "annotation", None) if field else None
        if isinstance(annotation, type) and issubclass(annotation, Section):
            model = annotation
        else:
            break
    accepted = list(model.model_fields)
    close = difflib.get_close_matches(loc[-1], accepted, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field; {hint}accepted: {', '.join(accepted)}"
