"""Scenario inputs that cite the fact base: ``{fact: ID}`` in place of a number.

A citation is a mapping with the key ``fact`` and optionally:

- ``dist``: how the fact becomes the input. ``value`` (the default when the fact has a value)
  takes the fact's value, ``low`` and ``high`` an end of its range; ``lognormal`` or
  ``normal`` take the fact's range as their 90%
  interval (``lognormal`` is the default for a fact that only has a range, as the shorthand
  ``"LOW to HIGH"``); ``uniform`` spreads evenly over the range; ``triangular`` and ``pert``
  peak at the value within the range.
- ``times``: a positive factor (a number or a fraction ``"1/12"``) applied to the fact
  first, to change its unit, e.g. ``times: 1/12`` for a yearly figure used per month. A
  fact's unit must suit the input's kind (money, rate, months, number) unless ``times``
  converts it; say why in a comment.
- ``min``/``max``: truncation, as for any distribution.

Citations are replaced by plain values before validation; each one is kept as a
:class:`Citation`, so ``labecon explain`` can say which input comes from which source. A
citation may also stand for one parameter of a distribution, e.g.
``{uniform: {low: {fact: A}, high: {fact: B}}}`` to span two facts that disagree.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from labecon.errors import Problem, ScenarioError
from labecon.facts import Fact, FactError, get_fact
from labecon.scenario.fields import P, Section
from labecon.scenario.quantities import Kind

DISTS = ("value", "low", "high", "lognormal", "normal", "uniform", "triangular", "pert")
_KEYS = {"fact", "dist", "times", "min", "max"}


def unit_fits(kind: Kind, unit: str) -> bool:
    """Whether a fact in ``unit`` may stand for an input of ``kind``.

    Money takes USD units, rates take fractions, months take months; a plain number takes
    any unit but money and months.
    """
    if kind is Kind.MONEY:
        return unit.startswith("USD")
    if kind is Kind.RATE:
        return unit in {"fraction", "fraction/year"}
    if kind is Kind.MONTHS:
        return unit == "months"
    return not unit.startswith(("USD", "EUR")) and unit != "months"


@dataclass(frozen=True)
class Citation:
    """An input (or a distribution's parameter) taken from a fact."""

    path: str
    fact: Fact
    dist: str
    times: float

    @property
    def input(self) -> str:
        """The dotted name of the scenario input the citation feeds."""
        parts = self.path.split(".")
        for cut in range(len(parts), 0, -1):
            if field_meta(parts[:cut]) is not None:
                return ".".join(parts[:cut])
        return self.path

    def describe(self) -> str:
        """How the fact is used, e.g. "value x 0.0833" or "range as lognormal 90% interval"."""
        scale = f" x {self.times:g}" if self.times != 1 else ""
        if self.dist in ("value", "low", "high"):
            return f"{'value' if self.dist == 'value' else self.dist + ' end of the range'}{scale}"
        if self.dist in ("lognormal", "normal"):
            return f"range{scale} as a {self.dist} 90% interval"
        if self.dist == "uniform":
            return f"range{scale} as a uniform"
        return f"value and range{scale} as a {self.dist}"


def resolve_facts(
    data: dict[str, Any], source: str | None
) -> tuple[dict[str, Any], list[Citation]]:
    """Replace every ``{fact: ...}`` in ``data`` by its value; returns (data, citations).

    Raises :class:`ScenarioError` listing every unknown id, bad option or unit mismatch.
    """
    citations: list[Citation] = []
    problems: list[Problem] = []
    resolved = _resolve(data, "", citations, problems)
    if problems:
        raise ScenarioError(problems, source=source)
    return resolved, citations


def _resolve(value: Any, path: str, citations: list[Citation], problems: list[Problem]) -> Any:
    if isinstance(value, Mapping):
        if "fact" in value:
            return _cite(value, path, citations, problems)
        return {
            key: _resolve(item, f"{path}.{key}" if path else str(key), citations, problems)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [
            _resolve(item, f"{path}.{index}", citations, problems)
            for index, item in enumerate(value)
        ]
    return value


def _cite(
    ref: Mapping[str, Any], path: str, citations: list[Citation], problems: list[Problem]
) -> Any:
    extra = set(ref) - _KEYS
    if extra:
        problems.append(
            Problem(
                path,
                dict(ref),
                f"unknown key(s) {sorted(extra)} in a fact citation; "
                f"accepted: {', '.join(sorted(_KEYS))}",
            )
        )
        return None
    fact_id = ref["fact"]
    try:
        fact = get_fact(str(fact_id))
    except FactError as exc:
        problems.append(Problem(f"{path}.fact", fact_id, str(exc)))
        return None
    dist = ref.get("dist", "value" if fact.value is not None else "lognormal")
    times = factor(ref.get("times", 1.0))
    if times is None:
        problems.append(
            Problem(f"{path}.times", ref["times"], 'must be a number > 0 or a fraction "A/B"')
        )
        return None
    problem = _check(fact, dist, path, ref)
    if problem is None and "times" not in ref:
        problem = _check_kind(fact, path)
    if problem is not None:
        problems.append(problem)
        return None
    citations.append(Citation(path, fact, str(dist), times))
    return _value(fact, str(dist), times, ref)


def factor(value: Any) -> float | None:
    """A positive factor from a number or a fraction string "A/B"; None if it is neither."""
    if isinstance(value, str) and value.count("/") == 1:
        top, bottom = value.split("/")
        try:
            number = float(top) / float(bottom)
        except (ValueError, ZeroDivisionError):
            return None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    else:
        return None
    return number if number > 0 and number != float("inf") else None


def _check(fact: Fact, dist: Any, path: str, ref: Mapping[str, Any]) -> Problem | None:
    if dist not in DISTS:
        return Problem(f"{path}.dist", dist, f"unknown; accepted: {', '.join(DISTS)}")
    if dist == "value":
        if fact.value is None:
            return Problem(
                f"{path}.dist",
                dist,
                f"fact {fact.id!r} gives only a range ({fact.figure()}); accepted: "
                "low, high, or lognormal, normal or uniform over it",
            )
        if "min" in ref or "max" in ref:
            return Problem(path, dict(ref), "min/max truncate a distribution, not a value")
        return None
    if dist in ("low", "high") and ("min" in ref or "max" in ref):
        return Problem(path, dict(ref), "min/max truncate a distribution, not a value")
    if not fact.has_range:
        return Problem(
            f"{path}.dist",
            dist,
            f"fact {fact.id!r} gives a value but no range ({fact.figure()}); accepted: value",
        )
    if dist in ("triangular", "pert") and fact.value is None:
        return Problem(f"{path}.dist", dist, f"fact {fact.id!r} has no value to peak at")
    if dist == "lognormal" and (fact.low or 0) <= 0:
        return Problem(f"{path}.dist", dist, f"fact {fact.id!r} has a range that is not positive")
    return None


def _check_kind(fact: Fact, path: str) -> Problem | None:
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        meta = field_meta(parts[:cut])
        if meta is None:
            continue
        if not unit_fits(meta.kind, fact.unit):
            return Problem(
                path,
                {"fact": fact.id},
                f"fact {fact.id!r} is in {fact.unit} but this input is a {meta.kind.value} "
                f"({meta.kind.accepted}); cite a fact in a matching unit",
            )
        return None
    return Problem(path, {"fact": fact.id}, "is not a numeric input; facts stand only for numbers")


def _value(fact: Fact, dist: str, times: float, ref: Mapping[str, Any]) -> Any:
    if dist == "value":
        assert fact.value is not None
        return fact.value * times
    assert fact.low is not None and fact.high is not None
    low, high = fact.low * times, fact.high * times
    if dist in ("low", "high"):
        return low if dist == "low" else high
    if dist in ("lognormal", "normal"):
        out: dict[str, Any] = {dist: {"p5": low, "p95": high}}
    elif dist == "uniform":
        out = {"uniform": {"low": low, "high": high}}
    else:
        assert fact.value is not None
        out = {dist: {"low": low, "mode": fact.value * times, "high": high}}
    for bound in ("min", "max"):
        if bound in ref:
            out[bound] = ref[bound]
    return out


def field_meta(parts: list[str]) -> P | None:
    """The :class:`P` metadata of the scenario field at ``parts``, or None if not numeric."""
    from labecon.scenario.schema import Scenario

    model: type[BaseModel] = Scenario
    index = 0
    while index < len(parts):
        field = model.model_fields.get(parts[index])
        if field is None:
            return None
        if index == len(parts) - 1:
            return _p_of(field.metadata, field.annotation)
        section = _section_type(field.annotation)
        if section is None:
            return None
        model = section
        index += 1
        if index < len(parts) and parts[index].isdigit() and _is_list(field.annotation):
            index += 1
    return None


def _p_of(metadata: list[Any], annotation: Any) -> P | None:
    """The P in a field's metadata, or in an ``Annotated[Param, P(...)] | None`` annotation."""
    found = next((m for m in metadata if isinstance(m, P)), None)
    if found is not None:
        return found
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Annotated:
            found = next((m for m in arg.__metadata__ if isinstance(m, P)), None)
            if found is not None:
                return found
    return None


def _section_type(annotation: Any) -> type[Section] | None:
    if isinstance(annotation, type) and issubclass(annotation, Section):
        return annotation
    for arg in typing.get_args(annotation):
        found = _section_type(arg)
        if found is not None:
            return found
    return None


def _is_list(annotation: Any) -> bool:
    if typing.get_origin(annotation) is list:
        return True
    return any(_is_list(arg) for arg in typing.get_args(annotation))
