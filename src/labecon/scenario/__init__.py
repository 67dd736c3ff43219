"""Scenario files: the schema, quantities and distributions, loading and built-ins."""

from labecon.scenario.loading import (
    builtin_descriptions,
    builtin_names,
    from_mapping,
    load_scenario,
    validate,
)
from labecon.scenario.quantities import Distribution, Kind, parse_quantity
from labecon.scenario.schema import Scenario

__all__ = [
    "Distribution",
    "Kind",
    "Scenario",
    "builtin_descriptions",
    "builtin_names",
    "from_mapping",
    "load_scenario",
    "parse_quantity",
    "validate",
]
