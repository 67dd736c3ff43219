"""Building blocks of scenario sections: numeric fields with units and ranges, the base section.

Every numeric field is a :data:`Param`: a float or a :class:`~labecon.scenario.quantities.
Distribution`. Fields are declared as ``Annotated[Param, P(kind, description, ge=...)]``,
which fixes the field's kind (money, rate, number, months) and its admissible range; a
distribution whose support leaves that range is refused with a message that says how to
truncate it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic_core import CoreSchema, core_schema

from labecon.scenario.quantities import (
    FAMILIES,
    Distribution,
    Kind,
    QuantityError,
    parse_quantity,
)

Param = float | Distribution

# Editor-side patterns; they admit every form the parser accepts (the parser has the last word).
_NUMBER_TEXT = r"-?\s*[\d.,_]+([eE][+-]?\d+)?"
_NUMBER = {"anyOf": [{"type": "number"}, {"type": "string", "pattern": rf"^\s*{_NUMBER_TEXT}\s*$"}]}
_SCALAR_SCHEMA: dict[str, dict[str, Any]] = {
    "money": {
        "anyOf": [
            {"type": "number"},
            {
                "type": "string",
                "pattern": r"^\s*-?\s*([Uu][Ss][Dd]\s*)?\$?\s*[\d.,_]+([eE][+-]?\d+)?\s*"
                r"[a-zA-Z]*\s*$",
            },
        ]
    },
    "rate": {
        "anyOf": [
            {"type": "number"},
            {"type": "string", "pattern": rf"^\s*{_NUMBER_TEXT}\s*%?\s*$"},
        ]
    },
    "number": _NUMBER,
    "months": _NUMBER,
}


def _json_schema(kind: Kind, description: str) -> dict[str, Any]:
    scalar = _SCALAR_SCHEMA[kind.value]
    dist_props = {
        family: {
            "type": "object",
            "description": "parameters: " + " or ".join("{" + ", ".join(s) + "}" for s in sets),
        }
        for family, sets in FAMILIES.items()
    }
    distribution = {
        "type": "object",
        "properties": {**dist_props, "min": scalar, "max": scalar},
        "additionalProperties": False,
        "minProperties": 1,
    }
    shorthand = {"type": "string", "pattern": r"^.+\s+to\s+.+$"}
    return {"anyOf": [scalar, shorthand, distribution], "description": description}


def _support(value: Param) -> tuple[float, float]:
    if isinstance(value, Distribution):
        return value.quantile(0.0), value.quantile(1.0)
    return value, value


@dataclass(frozen=True)
class P:
    """Metadata of a numeric scenario field: its kind, meaning and admissible range.

    Used as ``Annotated[Param, P(Kind.MONEY, "Training cost [USD].", ge=0)]``; pydantic
    calls :meth:`validate` on the raw value and shows :meth:`json_schema` to editors.
    """

    kind: Kind
    description: str
    ge: float | None = None
    gt: float | None = None
    le: float | None = None

    def validate(self, value: Any) -> Param:
        """Parse ``value`` and check it (or its distribution's support) against the bounds."""
        try:
            parsed = parse_quantity(value, self.kind)
        except QuantityError as exc:
            raise ValueError(str(exc)) from None
        low, high = _support(parsed)
        uncertain = isinstance(parsed, Distribution)
        rule = seen = None
        if self.ge is not None and low < self.ge:
            rule, seen = f"must be >= {self.ge:g}", low
        elif self.gt is not None and (low < self.gt if uncertain else low <= self.gt):
            rule, seen = f"must be > {self.gt:g}", low
        elif self.le is not None and high > self.le:
            rule, seen = f"must be <= {self.le:g}", high
        if rule is not None:
            if uncertain:
                hint = "max" if "<=" in rule else "min"
                raise ValueError(
                    f"{rule}, but this distribution can reach {seen:g}; truncate it with "
                    f"{hint}: or choose a family whose support fits"
                )
            raise ValueError(f"{rule}, got {seen:g}")
        return parsed

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate,
            serialization=core_schema.plain_serializer_function_ser_schema(_serialise),
        )

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return _json_schema(self.kind, self.description)


def _serialise(value: Param) -> Any:
    return value.to_dict() if isinstance(value, Distribution) else value


class CrossFieldError(ValueError):
    """Problems found by checks across fields, each with its own field path."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))


class Section(BaseModel):
    """Base of every scenario section: unknown fields are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


Money = Kind.MONEY
Rate = Kind.RATE
Number = Kind.NUMBER
Months = Kind.MONTHS
