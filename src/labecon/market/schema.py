"""A market scenario: several labs, an open-weight option and the demand they share (issue 7).

Each lab is a single-lab scenario (a built-in, a file or an inline mapping, ``extends``
allowed) plus what only a market needs: whether a parent stands behind it. The market holds
the demand of each contested segment, which replaces the labs' own: a lab's API demand, its
consumer tiers' new subscribers and its new enterprise contracts become its share of the
market's, by the choice model of :mod:`labecon.market.choice`.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from labecon.scenario.fields import (
    CrossFieldError,
    Money,
    Months,
    Number,
    P,
    Param,
    Rate,
    Section,
)

#: Segments a market can contest, each the demand of one revenue channel of its labs.
SEGMENTS = ("api", "consumer", "enterprise")
#: Rules that choose the acquirer of a lab that runs out of cash (besides a lab's name).
ACQUIRER_RULES = ("largest-cloud-backed", "highest-bidder", "none")


class Choice(Section):
    """How customers of a segment choose between models: logit on capability and price."""

    capability_premium: Annotated[
        Param,
        P(
            Number,
            "Weight of ln(capability) in a model's utility [-]; 0 = capability ignored.",
            ge=0,
        ),
    ] = 2.0
    price_sensitivity: Annotated[
        Param, P(Number, "Weight of -ln(price) in a model's utility [-]; 0 = price ignored.", ge=0)
    ] = 1.0
    inertia: Annotated[
        Param,
        P(
            Rate,
            "Share of the gap between customers' current split and their choice closed each "
            "month [fraction/month]; 1 = they switch at once.",
            gt=0,
            le=1,
        ),
    ] = 0.15


class ApiSegment(Choice):
    """Token demand shared by the labs' APIs and the open-weight option."""

    demand_mtok_per_month: Annotated[
        Param, P(Number, "Market token demand in month 0 [Mtok/month].", ge=0)
    ] = 0.0
    demand_growth_per_year: Annotated[
        Param, P(Rate, "Growth of market token demand [1/year].", gt=-1)
    ] = 0.0
    demand_ceiling_mtok_per_month: (
        Annotated[Param, P(Number, "Saturation level of token demand [Mtok/month].", gt=0)] | None
    ) = None
    demand_capability_exponent: Annotated[
        Param,
        P(Number, "Elasticity of demand to the market's frontier capability [-].", ge=0),
    ] = 0.0


class ConsumerSegment(Choice):
    """New paying subscribers shared by the labs' consumer products."""

    new_subscribers_per_month: Annotated[
        Param, P(Number, "New subscribers in the market in month 0 [people/month].", ge=0)
    ] = 0.0
    new_subscriber_growth_per_year: Annotated[
        Param, P(Rate, "Growth of new subscribers a month [1/year].", gt=-1)
    ] = 0.0


class EnterpriseSegment(Choice):
    """New enterprise contracts shared by the labs' enterprise sales."""

    new_contracts_per_month: Annotated[
        Param, P(Number, "Contracts entering sales cycles in month 0 [contracts/month].", ge=0)
    ] = 0.0
    new_contract_growth_per_year: Annotated[
        Param, P(Rate, "Growth of new contracts a month [1/year].", gt=-1)
    ] = 0.0


class Segments(Section):
    """The contested segments; a segment left out stays each lab's own (uncontested)."""

    api: ApiSegment | None = None
    consumer: ConsumerSegment | None = None
    enterprise: EnterpriseSegment | None = None

    def names(self) -> list[str]:
        """The segments this market contests, in SEGMENTS order."""
        return [name for name in SEGMENTS if getattr(self, name) is not None]


class OpenWeight(Section):
    """Open-weight models: capability trailing the frontier by a lag, priced near serving cost."""

    lag_months: Annotated[
        Param, P(Months, "Months the open-weight capability trails the frontier [months].", ge=0)
    ] = 12.0
    price_per_mtok: Annotated[
        Param,
        P(Money, "Price of open-weight tokens, about their serving cost [USD/Mtok].", gt=0),
    ] = 0.5
    price_per_month: Annotated[
        Param,
        P(
            Money,
            "Cost a month of an open-weight alternative to a subscription or a contract "
            "[USD/month per customer].",
            gt=0,
        ),
    ] = 5.0
    segments: list[str] = Field(
        default_factory=lambda: ["api", "enterprise"],
        description="Segments where open-weight models compete (consumers rarely self-host).",
    )


class Lab(Section):
    """One lab of the market: a single-lab scenario and its backing."""

    name: str = Field(min_length=1, description="The lab's name, unique in the market.")
    scenario: str | dict[str, Any] = Field(
        description="A built-in scenario, a scenario file, or the scenario inline (a mapping, "
        "``extends`` allowed). Its start and horizon are the market's."
    )
    capability_scale: Annotated[
        Param,
        P(
            Number,
            "Capability of the lab's generation 0 on the market's common scale [-] (its later "
            "generations gain on it as its scenario says).",
            gt=0,
        ),
    ] = 1.0
    parent_credit_usd: Annotated[
        Param,
        P(
            Money,
            "Credit a parent company stands ready to lend when the lab runs out of cash [USD]; "
            "0 = independent (seed 001: clouds 'can subsidize AI pricing using profits from "
            "their broader businesses').",
            ge=0,
        ),
    ] = 0.0

    @property
    def cloud_backed(self) -> bool:
        """Whether a parent stands behind the lab (a credit line that is not 0)."""
        value = self.parent_credit_usd
        return not (isinstance(value, float) and value == 0.0)


class Consolidation(Section):
    """What happens to a lab that runs out of cash and fails to raise."""

    acquirer: str = Field(
        "largest-cloud-backed",
        description="Who acquires it: 'largest-cloud-backed' (the cloud-backed lab with the "
        "most revenue), 'highest-bidder' (the lab with the most cash), a lab's name, or "
        "'none' (it winds down and its customers choose again).",
    )
    compute_share: Annotated[
        Param,
        P(
            Rate,
            "Share of the acquired lab's owned compute passing to the acquirer [fraction].",
            ge=0,
            le=1,
        ),
    ] = 0.5


class Market(Section):
    """A market: labs competing for shared demand, with open-weight models beside them."""

    kind: Literal["market"] = Field(
        "market", description="Marks the file as a market (a single-lab scenario has none)."
    )
    name: str = Field("market", description="Short name of the market.")
    description: str = Field("", description="What the market represents.")
    start: str = Field("2026-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM.")
    horizon_months: int = Field(120, ge=1, le=600, description="Months simulated.")
    segments: Segments = Segments()
    open_weight: OpenWeight | None = None
    labs: list[Lab] = Field(min_length=1, description="The labs, each a single-lab scenario.")
    consolidation: Consolidation = Consolidation()

    @model_validator(mode="after")
    def _cross_checks(self) -> Market:
        problems: list[tuple[str, str]] = []
        names = [lab.name for lab in self.labs]
        for i, name in enumerate(names):
            if name in names[:i]:
                problems.append(
                    (
                        f"labs.{i}.name",
                        f"{name!r} is already the name of labs.{names.index(name)}; accepted: "
                        "a name no other lab of the market has",
                    )
                )
        rule = self.consolidation.acquirer
        if rule not in ACQUIRER_RULES and rule not in names:
            close = difflib.get_close_matches(rule, [*ACQUIRER_RULES, *names], n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                (
                    "consolidation.acquirer",
                    f"{rule!r} is neither a rule nor a lab of the market; {hint}accepted: "
                    + ", ".join([*ACQUIRER_RULES, *names]),
                )
            )
        if self.open_weight is not None:
            contested = self.segments.names()
            for i, segment in enumerate(self.open_weight.segments):
                if segment not in contested:
                    why = (
                        "is not a segment"
                        if segment not in SEGMENTS
                        else "is not a segment of this market (its demand is not given)"
                    )
                    problems.append(
                        (
                            f"open_weight.segments.{i}",
                            f"{segment!r} {why}; accepted: "
                            + (", ".join(contested) or "none: the market contests no segment"),
                        )
                    )
        if problems:
            raise CrossFieldError(problems)
        return self
