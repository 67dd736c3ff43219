"""Where each input of a scenario comes from: a cited fact, the scenario file, or a default."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from labecon.scenario.fields import Param
from labecon.scenario.loading import from_mapping, read_mapping
from labecon.scenario.quantities import Distribution
from labecon.scenario.schema import Scenario

COLUMNS = ("input", "value", "p5", "p50", "p95", "origin", "facts", "sources")


def explain(name_or_path: str | Path) -> pd.DataFrame:
    """One row per numeric input: its value (or 5/50/95% quantiles) and where it comes from.

    ``origin`` is ``fact`` when the input cites the fact base (``facts`` lists the ids and how
    they are used, ``sources`` their citations), ``scenario`` when the file (or the scenario it
    extends) sets it, and ``default`` when labecon's default applies.
    """
    raw, source = read_mapping(name_or_path)
    raw.setdefault("name", Path(str(name_or_path)).stem)
    scenario = from_mapping(raw, source=source)
    return explain_scenario(scenario, raw)


def explain_scenario(scenario: Scenario, raw: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The table of :func:`explain` for a loaded scenario and the mapping it came from."""
    by_input: dict[str, list[Any]] = {}
    for citation in scenario.citations:
        by_input.setdefault(citation.input, []).append(citation)
    rows = []
    for name, value in scenario.inputs():
        cited = by_input.get(name, [])
        if cited:
            origin = "fact"
        elif raw is not None and _present(raw, name):
            origin = "scenario"
        else:
            origin = "default"
        rows.append(
            {
                "input": name,
                **_figures(value),
                "origin": origin,
                "facts": "; ".join(
                    f"{c.fact.id} ({c.describe()}"
                    + (f", for {c.path.removeprefix(name + '.')}" if c.path != name else "")
                    + ")"
                    for c in cited
                ),
                "sources": "; ".join(dict.fromkeys(c.fact.source.cite() for c in cited)),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _figures(value: Param) -> dict[str, Any]:
    if isinstance(value, Distribution):
        return {
            "value": value.label(),
            "p5": value.quantile(0.05),
            "p50": value.quantile(0.5),
            "p95": value.quantile(0.95),
        }
    return {"value": f"{value:g}", "p5": value, "p50": value, "p95": value}


def _present(raw: Mapping[str, Any], dotted: str) -> bool:
    node: Any = raw
    for part in dotted.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return False
    return True
