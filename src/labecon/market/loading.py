"""Load a market: validate it, then each lab's scenario as the market runs it.

A lab's scenario takes the market's start and horizon, and for each contested segment the
market's demand in place of its own (:mod:`labecon.market.schema`):

- ``api``: the lab's token demand, its growth and ceiling are the market's; its
  ``lab_share`` is 1 and its ``demand_capability_exponent`` 0 (the market applies the
  exponent to the market's frontier and passes it with the lab's share);
- ``consumer``: tier i's new subscribers are the market's times the tier's weight
  w_i = its own new subscribers / those of all the lab's tiers, growing at the market's rate;
- ``enterprise``: new contracts and their growth are the market's.

Uncertain market inputs are drawn once for every lab, from streams named after the lab
field they replace (so lab 0 of a one-lab market draws exactly what the lab alone would).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from labecon.errors import MISSING, Problem, ScenarioError
from labecon.market.schema import Lab, Market
from labecon.scenario.fields import Param
from labecon.scenario.loading import (
    _problems,
    from_mapping,
    parse_text,
    read_mapping,
    resolve_extends,
)
from labecon.scenario.quantities import Distribution
from labecon.scenario.schema import Scenario

BUILTIN_MARKETS = Path(__file__).parent / "builtin"

#: Market demand field -> the lab field it replaces (and the stream it is drawn from).
API_FIELDS = {
    "demand_mtok_per_month": "revenue.api.demand_mtok_per_month",
    "demand_growth_per_year": "revenue.api.demand_growth_per_year",
    "demand_ceiling_mtok_per_month": "revenue.api.demand_ceiling_mtok_per_month",
}
ENTERPRISE_FIELDS = {
    "new_contracts_per_month": "revenue.enterprise.new_contracts_per_month",
    "new_contract_growth_per_year": "revenue.enterprise.new_contract_growth_per_year",
}
CONSUMER_NEW = "revenue.consumer.tiers.0.new_subscribers_per_month"
CONSUMER_GROWTH = "revenue.consumer.tiers.0.new_subscriber_growth_per_year"


class MarketError(ScenarioError):
    """A market that cannot be loaded or is invalid; ``problems`` lists every problem."""

    subject = "the market"


@dataclass(frozen=True)
class Shared:
    """A lab input set from a market input: value = market draw x ``factor``."""

    stream: str  # the market input's stream (and key in the market's draws)
    factor: float = 1.0


@dataclass(frozen=True)
class LoadedMarket:
    """A market with each lab's scenario as it runs in the market."""

    market: Market
    scenarios: tuple[Scenario, ...]
    # Uncertain market inputs by stream name, drawn once per sample for every lab.
    uncertain: dict[str, Distribution] = field(default_factory=dict)
    # Per lab: lab input name -> the market input it takes (only uncertain ones).
    shared: tuple[dict[str, Shared], ...] = ()

    @property
    def names(self) -> list[str]:
        """The labs' names, in the market's order."""
        return [lab.name for lab in self.market.labs]


def builtin_market_names() -> list[str]:
    """Names of the markets shipped with labecon."""
    return sorted(p.stem for p in BUILTIN_MARKETS.glob("*.yaml"))


def is_market(name_or_path: str | Path | Mapping[str, Any]) -> bool:
    """Whether a name, file or mapping is a market (``kind: market``) rather than a scenario."""
    if isinstance(name_or_path, Mapping):
        return name_or_path.get("kind") == "market"
    if str(name_or_path) in builtin_market_names():
        return True
    path = Path(str(name_or_path))
    if path.is_file() and path.suffix.lower() in (".yaml", ".yml"):
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            return False
        return isinstance(data, Mapping) and data.get("kind") == "market"
    return False


def load_market(source: str | Path | Mapping[str, Any] | LoadedMarket) -> LoadedMarket:
    """Load a market from a built-in name, a YAML file, a mapping, reporting every problem."""
    if isinstance(source, LoadedMarket):
        return source
    folder: Path | None = Path.cwd()
    label = "market"
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        label = str(source)
        if label in builtin_market_names():
            path = BUILTIN_MARKETS / f"{label}.yaml"
            folder = None
        else:
            path = Path(label)
            folder = path.parent
            if not path.is_file():
                raise MarketError(
                    [Problem("file", label, "no such market file or built-in market")], label
                )
        data = parse_text(path.read_text("utf-8"), toml=False, source=label)
        data.setdefault("name", path.stem)
    try:
        market = Market.model_validate(data)
    except ValidationError as exc:
        raise MarketError(_problems(exc), source=label) from None
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    uncertain: dict[str, Distribution] = {}
    shared: list[dict[str, Shared]] = []
    for i, lab in enumerate(market.labs):
        try:
            scenario, lab_shared = _lab_scenario(market, lab, folder, uncertain)
        except ScenarioError as exc:
            problems += [
                Problem(f"labs.{i}.scenario.{p.path}", p.value, p.message) for p in exc.problems
            ]
            continue
        scenarios.append(scenario)
        shared.append(lab_shared)
    if problems:
        raise MarketError(problems, source=label)
    return LoadedMarket(market, tuple(scenarios), uncertain, tuple(shared))


def _lab_mapping(lab: Lab, folder: Path | None) -> dict[str, Any]:
    if isinstance(lab.scenario, str):
        target = lab.scenario
        if folder is not None and Path(target).suffix.lower() in (".yaml", ".yml", ".toml"):
            target = str(folder / target)
        data, _ = read_mapping(target)
        return data
    return resolve_extends(dict(lab.scenario), lab.name, folder)


def _lab_scenario(
    market: Market, lab: Lab, folder: Path | None, uncertain: dict[str, Distribution]
) -> tuple[Scenario, dict[str, Shared]]:
    """The lab's scenario with the market's calendar and demand, and its shared inputs."""
    data = _lab_mapping(lab, folder)
    data["name"] = lab.name
    data["start"] = market.start
    data["horizon_months"] = market.horizon_months
    base = from_mapping(data, source=lab.name)  # the lab as written, validated
    segments = market.segments
    contested = segments.names()
    if contested and base.revenue.mode != "bottom_up":
        raise ScenarioError(
            [
                Problem(
                    "revenue.mode",
                    base.revenue.mode,
                    "a lab competes for a market's demand only with bottom-up revenue; "
                    "accepted: bottom_up (or a market that contests no segment)",
                )
            ],
            source=lab.name,
        )
    revenue = data.setdefault("revenue", {})
    lab_shared: dict[str, Shared] = {}

    if segments.api is not None:
        api = revenue.setdefault("api", {})
        for market_name, lab_name in API_FIELDS.items():
            api[market_name] = _shared(
                getattr(segments.api, market_name), 1.0, lab_name, lab_name, uncertain, lab_shared
            )
        api["lab_share"] = 1.0
        api["demand_capability_exponent"] = 0.0
    if segments.enterprise is not None:
        _require(base.revenue.enterprise, "enterprise", lab.name, "an enterprise section")
        enterprise = revenue.setdefault("enterprise", {})
        for market_name, lab_name in ENTERPRISE_FIELDS.items():
            value = getattr(segments.enterprise, market_name)
            enterprise[market_name] = _shared(value, 1.0, lab_name, lab_name, uncertain, lab_shared)
    if segments.consumer is not None:
        _require(base.revenue.consumer, "consumer", lab.name, "a consumer section with tiers")
        assert base.revenue.consumer is not None
        tiers = base.revenue.consumer.tiers
        own = [_middle(t.new_subscribers_per_month) for t in tiers]
        total = sum(own)
        weights = (
            [1.0]
            if len(tiers) == 1
            else [(x / total if total > 0 else 1.0 / len(tiers)) for x in own]
        )
        raw_tiers = revenue["consumer"]["tiers"]
        for i, weight in enumerate(weights):
            name = f"revenue.consumer.tiers.{i}."
            new = segments.consumer.new_subscribers_per_month
            growth = segments.consumer.new_subscriber_growth_per_year
            raw_tiers[i]["new_subscribers_per_month"] = _shared(
                new, weight, name + "new_subscribers_per_month", CONSUMER_NEW, uncertain, lab_shared
            )
            raw_tiers[i]["new_subscriber_growth_per_year"] = _shared(
                growth,
                1.0,
                name + "new_subscriber_growth_per_year",
                CONSUMER_GROWTH,
                uncertain,
                lab_shared,
            )
    return from_mapping(data, source=lab.name), lab_shared


def _require(section: object, segment: str, lab: str, accepted: str) -> None:
    """Refuse a lab without the channel of a segment its market contests."""
    if section is None:
        raise ScenarioError(
            [
                Problem(
                    f"revenue.{segment}",
                    MISSING,
                    f"is required: the market contests the {segment} segment; accepted: {accepted}",
                )
            ],
            source=lab,
        )


def _shared(
    value: Param | None,
    weight: float,
    lab_name: str,
    stream: str,
    uncertain: dict[str, Distribution],
    lab_shared: dict[str, Shared],
) -> Any:
    """The raw value of lab input ``lab_name``, set to the market's ``value`` x ``weight``.

    An uncertain value is registered under ``stream``: drawn once per sample for every lab.
    """
    if isinstance(value, Distribution):
        uncertain.setdefault(stream, value)
        lab_shared[lab_name] = Shared(stream, weight)
        return value.to_dict()
    return None if value is None else value * weight


def _middle(value: Param) -> float:
    return value.median if isinstance(value, Distribution) else float(value)
