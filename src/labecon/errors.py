"""Errors users can catch; each carries the field path, the bad value and what is accepted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem in a scenario: where it is, what was given, and what is wrong."""

    path: str
    value: Any
    message: str

    def __str__(self) -> str:
        shown = _show(self.value)
        given = f" (given: {shown})" if shown is not None else ""
        return f"{self.path}: {self.message}{given}"


def _show(value: Any) -> str | None:
    if value is _MISSING:
        return None
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_MISSING = object()


class LabeconError(Exception):
    """Base of labecon's own errors."""


class ProblemsError(LabeconError, ValueError):
    """Input with problems; ``problems`` lists every one, ``source`` names the file or name."""

    #: What the problems are in, for the message ("the scenario", "the calibration").
    subject = "the input"

    def __init__(self, problems: list[Problem], source: str | None = None) -> None:
        self.problems = problems
        self.source = source
        head = f"{source}: " if source else ""
        count = len(problems)
        lines = [f"{head}{count} problem{'s' if count != 1 else ''} in {self.subject}:"]
        lines += [f"  - {p}" for p in problems]
        super().__init__("\n".join(lines))


class ScenarioError(ProblemsError):
    """A scenario that cannot be loaded or is invalid; ``problems`` lists every problem found."""

    subject = "the scenario"


class OptionError(LabeconError, ValueError):
    """A bad argument to a labecon function (an unknown view, statistic, sample count...)."""


MISSING = _MISSING
