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
from labecon.scenario.schema import Scenario, Section

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


def read_mapping(name_or_path: str | Path) -> tuple[dict[str, Any], str]:
    """Read a scenario file or built-in into a plain mapping; returns (mapping, source label)."""
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
        return parse_text(raw, toml=path.suffix.lower() == ".toml", source=text_name), text_name
    if text_name in builtin_names():
        return parse_text(builtin_text(text_name), toml=False, source=text_name), text_name
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
    """Validate a mapping into a :class:`Scenario`, reporting every problem at once."""
    try:
        return Scenario.model_validate(dict(data))
    except ValidationError as exc:
        raise ScenarioError(_problems(exc), source=source) from None


def load_scenario(name_or_path: str | Path | Mapping[str, Any] | Scenario) -> Scenario:
    """Load a scenario from a built-in name, a YAML/TOML path, a mapping or a Scenario."""
    if isinstance(name_or_path, Scenario):
        return name_or_path
    if isinstance(name_or_path, Mapping):
        return from_mapping(name_or_path)
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
            message = str(err["msg"]).removeprefix("Value error, ")
            if not loc and ": " in message:
                # A whole-scenario check already names its field(s) in its message.
                for part in message.split("; "):
                    field, _, rest = part.partition(": ")
                    problems.append(Problem(field, MISSING, rest))
                continue
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
