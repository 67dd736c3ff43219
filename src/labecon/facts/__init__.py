"""The fact base: every published figure labecon's scenarios rest on, with its source.

A fact is one figure (a value, a range or both) in a stated unit, as of a date, with the
title, publisher and (where public) link of where it was published, and a note on what it
measures. Facts ship in ``facts.yaml`` beside this module; facts derived from data shipped by
other packages (the fitted decline of API prices, see :mod:`labecon.facts.prices`) are added
when first asked for. Facts that disagree are all kept, each under its own id.

Scenarios cite facts with ``{fact: ID}`` (see :func:`resolve`), so that ``labecon explain``
can say where every input comes from.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from labecon.errors import LabeconError

#: Units a fact may be stated in. Money is in USD unless the unit says EUR.
UNITS: dict[str, str] = {
    "USD": "US dollars",
    "USD/year": "US dollars per year (a run rate is annualised revenue)",
    "USD/quarter": "US dollars per quarter",
    "USD/month": "US dollars per month",
    "USD/Mtok": "US dollars per million tokens",
    "USD/GW-year": "US dollars per gigawatt of AI compute held for a year",
    "USD/GW": "US dollars of capital expenditure per gigawatt",
    "USD/kg": "US dollars per kilogram (to orbit)",
    "USD/user-month": "US dollars per user per month",
    "USD/user-year": "US dollars per user per year",
    "EUR": "euros",
    "fraction": "a share between 0 and 1 (0.72 is 72%)",
    "fraction/year": "a share per year (0.6 is 60% a year)",
    "multiplier": "a ratio (2 is twice)",
    "multiplier/year": "a ratio per year (2.4 is x2.4 a year)",
    "months": "months",
    "years": "years",
    "GW": "gigawatts of power",
    "kW": "kilowatts of power",
    "W": "watts of power",
    "count": "a number of things",
}

_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")
_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$")
FACTS_PACKAGE = "labecon.facts"


class FactError(LabeconError, ValueError):
    """An unknown fact id, or a fact file that breaks the fact format."""


class Source(BaseModel):
    """Where a fact was published."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    url: str | None = None
    date: str | None = None

    def cite(self) -> str:
        """One line: "Title", Publisher (date) <url>."""
        when = f" ({self.date})" if self.date else ""
        link = f" <{self.url}>" if self.url else ""
        return f'"{self.title}", {self.publisher}{when}{link}'


class Fact(BaseModel):
    """One published figure: value and/or range [unit], as of a date, with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    unit: str
    as_of: str
    source: Source
    note: str = Field(min_length=1)
    tags: tuple[str, ...] = ()
    method: str | None = None  # how a derived fact was computed

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be lowercase letters, digits and . _ - (like 'nwc.run_rate')")
        return value

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"unknown unit {value!r}; accepted: {', '.join(UNITS)}")
        return value

    @field_validator("as_of", mode="before")
    @classmethod
    def _as_of(cls, value: Any) -> str:
        text = str(value)
        if not _DATE.match(text):
            raise ValueError("must be a date YYYY, YYYY-MM or YYYY-MM-DD")
        return text

    @model_validator(mode="after")
    def _figures(self) -> Fact:
        if (self.low is None) != (self.high is None):
            raise ValueError("give both low and high, or neither")
        if self.value is None and self.low is None:
            raise ValueError("needs a value, a range (low and high), or both")
        if self.low is not None and self.high is not None:
            if self.low > self.high:
                raise ValueError(f"low {self.low:g} is above high {self.high:g}")
            if self.value is not None and not self.low <= self.value <= self.high:
                raise ValueError(f"value {self.value:g} is outside [{self.low:g}, {self.high:g}]")
        return self

    @property
    def central(self) -> float:
        """The fact's value, or the geometric (arithmetic if not positive) middle of its range."""
        if self.value is not None:
            return self.value
        assert self.low is not None and self.high is not None
        if self.low > 0:
            return float((self.low * self.high) ** 0.5)
        return (self.low + self.high) / 2

    @property
    def has_range(self) -> bool:
        """Whether the fact gives a low-high range."""
        return self.low is not None

    def figure(self) -> str:
        """The value and range as text in the fact's unit, e.g. "3e+09 (2.5e+09 to 3.5e+09) USD"."""
        parts = []
        if self.value is not None:
            parts.append(_number(self.value))
        if self.low is not None and self.high is not None:
            span = f"{_number(self.low)} to {_number(self.high)}"
            parts.append(f"({span})" if parts else span)
        return f"{' '.join(parts)} {self.unit}"

    def matches(self, word: str) -> bool:
        """Whether ``word`` (case-insensitive) appears in the id, note, tags, unit or source."""
        needle = word.lower()
        haystack = " ".join(
            [
                self.id,
                self.note,
                self.unit,
                " ".join(self.tags),
                self.source.title,
                self.source.publisher,
                self.method or "",
            ]
        ).lower()
        return all(part in haystack for part in needle.split())


def _number(value: float) -> str:
    magnitude = abs(value)
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if magnitude >= size:
            return f"{value / size:.4g}{suffix}"
    return f"{value:.4g}"


class FactBase(Mapping[str, Fact]):
    """Facts by id; ``get`` of an unknown id raises :class:`FactError` with close matches."""

    def __init__(self, facts: Iterable[Fact]) -> None:
        self._facts: dict[str, Fact] = {}
        for fact in facts:
            if fact.id in self._facts:
                raise FactError(f"fact id {fact.id!r} is used twice; ids must be unique")
            self._facts[fact.id] = fact

    def __getitem__(self, fact_id: str) -> Fact:
        try:
            return self._facts[fact_id]
        except KeyError:
            raise FactError(unknown_fact_message(fact_id, self._facts)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts)

    def __len__(self) -> int:
        return len(self._facts)

    def search(self, word: str | None = None) -> list[Fact]:
        """Facts whose id, note, tags, unit or source contain every word of ``word``."""
        return [f for f in self._facts.values() if word is None or f.matches(word)]


def unknown_fact_message(fact_id: object, known: Iterable[str]) -> str:
    """Message for an unknown fact id, naming the closest ids and how to list them."""
    close = difflib.get_close_matches(str(fact_id), list(known), n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown fact id {fact_id!r}{hint} (list them with `labecon facts --search WORD`)"


def parse_facts(entries: Any, source: str) -> list[Fact]:
    """Validate a list of fact mappings; raises :class:`FactError` naming each bad entry."""
    if not isinstance(entries, list):
        raise FactError(f"{source}: must hold a list of facts at the top level")
    facts, problems = [], []
    for number, entry in enumerate(entries):
        label = entry.get("id", f"#{number}") if isinstance(entry, Mapping) else f"#{number}"
        try:
            facts.append(Fact.model_validate(entry))
        except ValidationError as exc:
            for err in exc.errors(include_url=False):
                field = ".".join(str(part) for part in err["loc"]) or "fact"
                problems.append(f"fact {label}: {field}: {err['msg']}")
    if problems:
        raise FactError(f"{source}: {len(problems)} problem(s):\n  - " + "\n  - ".join(problems))
    return facts


@functools.cache
def _shipped() -> tuple[Fact, ...]:
    text = resources.files(FACTS_PACKAGE).joinpath("facts.yaml").read_text("utf-8")
    return tuple(parse_facts(yaml.safe_load(text), "facts.yaml"))


@functools.cache
def _derived() -> tuple[Fact, ...]:
    from labecon.facts import prices  # the price data is loaded only when a fact needs it

    return tuple(parse_facts(prices.derived_facts(), "genai-prices data"))


def load_facts(*, derived: bool = True) -> FactBase:
    """The fact base: the shipped facts and (with ``derived``) those fitted from price data."""
    return FactBase((*_shipped(), *(_derived() if derived else ())))


def get_fact(fact_id: str) -> Fact:
    """The fact with this id; raises :class:`FactError` naming close ids when unknown.

    Derived facts are computed only when a shipped id does not match.
    """
    shipped = {f.id: f for f in _shipped()}
    if fact_id in shipped:
        return shipped[fact_id]
    return load_facts()[fact_id]


def search_facts(word: str | None = None) -> list[Fact]:
    """Facts whose text contains every word of ``word`` (all facts when None)."""
    return load_facts().search(word)


__all__ = [
    "UNITS",
    "Fact",
    "FactBase",
    "FactError",
    "Source",
    "get_fact",
    "load_facts",
    "search_facts",
]
