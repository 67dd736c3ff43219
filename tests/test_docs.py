"""docs/scenario.md documents every scenario field, and its opening example is valid."""

from __future__ import annotations

import re
import tomllib
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from pydantic import BaseModel

import labecon
from labecon.scenario.schema import Scenario

DOC = Path(__file__).parents[1] / "docs" / "scenario.md"


def _models_in(annotation: object) -> Iterator[type[BaseModel]]:
    """Scenario sections reachable through an annotation (Section, list[Section], X | None)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models_in(arg)


def dotted_fields(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field of ``model`` and of its nested sections, as dotted names."""
    for name, field in model.model_fields.items():
        path = prefix + name
        yield path
        for section in _models_in(field.annotation):
            yield from dotted_fields(section, path + ".")


def _doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def _first_block(language: str) -> str:
    match = re.search(rf"^```{language}\n(.*?)^```", _doc_text(), re.MULTILINE | re.DOTALL)
    assert match, f"{DOC} has no ```{language} block"
    return match.group(1)


def test_walk_reaches_nested_sections() -> None:
    names = set(dotted_fields(Scenario))
    assert {
        "horizon_months",
        "generations.cost_multiplier",
        "revenue.api.price_decline_per_year",
        "capital.funding.max_dilution_per_round",
        "costs.talent.headcount",
        "correlations.rank",
    } <= names


def test_every_scenario_field_is_documented() -> None:
    text = _doc_text()
    missing = [name for name in dotted_fields(Scenario) if f"`{name}`" not in text]
    assert not missing, (
        f"{len(missing)} scenario field(s) missing from {DOC} (write each as `dotted.name` "
        "with its meaning, unit, default, range and formula): " + ", ".join(missing)
    )


def test_opening_yaml_example_is_valid() -> None:
    scenario = labecon.load_scenario(yaml.safe_load(_first_block("yaml")))
    assert scenario.name == "my-lab"
    assert list(scenario.uncertain_inputs())


def test_toml_example_is_the_same_scenario() -> None:
    from_yaml = labecon.load_scenario(yaml.safe_load(_first_block("yaml")))
    from_toml = labecon.load_scenario(tomllib.loads(_first_block("toml")))
    assert from_toml == from_yaml


@pytest.mark.parametrize("name", labecon.scenario.builtin_names())
def test_every_builtin_is_listed(name: str) -> None:
    assert f"`{name}`" in _doc_text()


def test_walk_handles_optional_and_list_annotations() -> None:
    class Inner(BaseModel):
        leaf: int = 0

    class Outer(BaseModel):
        maybe: Inner | None = None
        many: list[Inner] = []

    assert list(dotted_fields(Outer)) == ["maybe", "maybe.leaf", "many", "many.leaf"]
