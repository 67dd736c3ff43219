"""Scenario sections of the bottom-up revenue channels besides the API (DESIGN §4).

Consumer subscriptions by tier, enterprise contracts, the cloud-partner channel, licensing
fees and the price elasticity of API token demand (seed 001: "API access ... consumer
subscriptions ... enterprise contracts ... cloud provider partnerships ... licensing").

Every channel is off by default: the optional sections (:class:`Consumer`,
:class:`Enterprise`, :class:`CloudPartners`, :class:`Licensing`) are meant to default to
``None`` in ``revenue`` and :class:`Elasticity` defaults to an elasticity of 0, so scenarios
without them earn exactly what they earned before. When a section is given, its fields
that are left out are 0 (no subscribers, no contracts, no fees, nothing sold via clouds),
except where a neutral value is not 0 (the open-source churn multiplier is 1).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import Field, field_validator

from labecon.scenario.fields import Money, Months, Number, P, Param, Rate, Section


class Tier(Section):
    """One consumer subscription tier, e.g. $20/month or $200/month (seed 001)."""

    name: str = Field(
        min_length=1, description="Name of the tier, unique within the consumer section."
    )
    price_per_month: Annotated[
        Param, P(Money, "Subscription price [USD/month per subscriber].", ge=0)
    ]
    subscribers: Annotated[
        Param, P(Number, "Paying subscribers at the scenario start [people].", ge=0)
    ] = 0.0
    new_subscribers_per_month: Annotated[
        Param, P(Number, "New subscribers in month 0 [people/month].", ge=0)
    ] = 0.0
    new_subscriber_growth_per_year: Annotated[
        Param, P(Rate, "Growth of the number of new subscribers a month [1/year].", gt=-1)
    ] = 0.0
    churn_per_month: Annotated[
        Param,
        P(Rate, "Share of subscribers who cancel each month [fraction/month].", ge=0, le=1),
    ] = 0.0
    tokens_per_subscriber_per_month: Annotated[
        Param,
        P(Number, "Tokens one subscriber uses in month 0 [Mtok/month per subscriber].", ge=0),
    ] = 0.0
    token_growth_per_year: Annotated[
        Param,
        P(
            Rate,
            "Growth of tokens per subscriber [1/year]; heavier use raises serving cost, not "
            "revenue (the price is fixed).",
            gt=-1,
        ),
    ] = 0.0


class Consumer(Section):
    """Consumer subscriptions: subscribers by tier at a fixed monthly price."""

    tiers: list[Tier] = Field(
        description="Subscription tiers (at least one), each with its price, subscribers, "
        "growth, churn and usage."
    )

    @field_validator("tiers")
    @classmethod
    def _tiers(cls, tiers: list[Tier]) -> list[Tier]:
        if not tiers:
            raise ValueError(
                "needs at least one tier; accepted: a list of tiers such as "
                "[{name: plus, price_per_month: 20, subscribers: 1000000}], or leave the "
                "consumer section out to switch the channel off"
            )
        repeated = sorted(name for name, n in Counter(t.name for t in tiers).items() if n > 1)
        if repeated:
            raise ValueError(
                "tier names must be unique; repeated: " + ", ".join(repr(n) for n in repeated)
            )
        return tiers


class Enterprise(Section):
    """Enterprise contracts: signed after a sales cycle, renewed at a growing ACV, churned."""

    contracts: Annotated[
        Param, P(Number, "Active contracts at the scenario start [contracts].", ge=0)
    ] = 0.0
    new_contracts_per_month: Annotated[
        Param,
        P(
            Number,
            "Contracts entering the sales cycle in month 0 [contracts/month]; each becomes "
            "active (paying) sales_cycle_months later.",
            ge=0,
        ),
    ] = 0.0
    new_contract_growth_per_year: Annotated[
        Param, P(Rate, "Growth of the number of new contracts a month [1/year].", gt=-1)
    ] = 0.0
    sales_cycle_months: Annotated[
        Param,
        P(Months, "Months from entering the sales cycle to a paying contract [months].", ge=0),
    ] = 0.0
    churn_per_month: Annotated[
        Param,
        P(Rate, "Share of active contracts lost each month [fraction/month].", ge=0, le=1),
    ] = 0.0
    open_source_churn_multiplier: Annotated[
        Param,
        P(
            Number,
            "Churn is multiplied by this once open-weight models have caught up with the newest "
            "model on sale (revenue.api.open_source_lag_months) [x]; 1 = no effect.",
            ge=1,
        ),
    ] = 1.0
    contract_value_per_year: Annotated[
        Param, P(Money, "Annual contract value (ACV) in month 0 [USD/year per contract].", ge=0)
    ] = 0.0
    contract_value_growth_per_year: Annotated[
        Param, P(Rate, "Growth of the annual contract value [1/year].", gt=-1)
    ] = 0.0
    tokens_per_contract_per_month: Annotated[
        Param, P(Number, "Tokens one contract uses in month 0 [Mtok/month per contract].", ge=0)
    ] = 0.0
    token_growth_per_year: Annotated[
        Param,
        P(Rate, "Growth of tokens per contract [1/year]; a cost, not a revenue driver.", gt=-1),
    ] = 0.0


class CloudPartners(Section):
    """API traffic sold through clouds (Bedrock, Vertex, Azure), which keep a share (seed 004)."""

    share_of_api: Annotated[
        Param,
        P(
            Rate,
            "Share of API traffic and revenue sold through cloud partners [fraction].",
            ge=0,
            le=1,
        ),
    ] = 0.0
    take: Annotated[
        Param,
        P(
            Rate,
            "The cloud's share of the revenue it sells [fraction]; never booked by the lab.",
            ge=0,
            le=1,
        ),
    ] = 0.0
    served_on_cloud_compute: Annotated[
        Param,
        P(
            Rate,
            "Share of cloud-sold tokens served on the cloud's own compute [fraction]; those "
            "cost the lab no inference.",
            ge=0,
            le=1,
        ),
    ] = 0.0


class Licensing(Section):
    """Fixed licensing fees for the right to use the lab's models in others' products."""

    fees_per_year: Annotated[Param, P(Money, "Licensing fees [USD/year].", ge=0)] = 0.0


class Elasticity(Section):
    """Price elasticity of API token demand: demand x (p / p_ref)^(-elasticity).

    p is the traffic-weighted average API price in the month and p_ref the price at which
    ``revenue.api.demand_mtok_per_month`` is quoted. The constant-elasticity form takes one
    number and has no unit: 0 = off; below 1, cheaper tokens raise volume less than the
    price falls (API revenue falls); 1 keeps spend constant; above 1, cheaper tokens raise
    spend (Jevons). It acts on the market's total demand through the average price; the
    split over generations stays the lifecycle's traffic shares, so there are no cross-price
    effects and no circularity (shares do not depend on demand).
    """

    price_elasticity: Annotated[
        Param,
        P(Number, "Price elasticity of token demand [-]; 0 = off (demand ignores price).", ge=0),
    ] = 0.0
    reference_price_per_mtok: (
        Annotated[
            Param,
            P(
                Money,
                "Price at which the demand input is quoted [USD/Mtok]; the API release price "
                "when omitted.",
                gt=0,
            ),
        ]
        | None
    ) = None
