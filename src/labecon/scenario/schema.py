"""The scenario language: typed, validated sections of a scenario file (DESIGN §3–4).

Every numeric field is a :data:`~labecon.scenario.fields.Param` declared with
:class:`~labecon.scenario.fields.P` (kind, unit, range); see ``fields.py``. Inputs are named
by their dotted path, with list items by index: ``revenue.consumer.tiers.0.price_per_month``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from labecon.scenario.channels import (
    CloudPartners,
    Consumer,
    Elasticity,
    Enterprise,
    Licensing,
)
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
from labecon.scenario.quantities import Distribution

if TYPE_CHECKING:
    from labecon.scenario.citations import Citation


class Generations(Section):
    """The schedule and cost of model generations (DESIGN §4, 'Generations')."""

    count: int | None = Field(
        None,
        ge=1,
        le=120,
        description="Number of generations; default: as many as start training in the horizon.",
    )
    first_training_start_month: int = Field(
        0,
        ge=-240,
        description="Month (from the scenario start) when generation 0 starts training; "
        "negative for a model trained before the start.",
    )
    cadence_months: Annotated[
        Param, P(Months, "Months between the training starts of generations.", gt=0)
    ] = 12.0
    training_months: Annotated[
        Param, P(Months, "Duration of each training run [months].", gt=0)
    ] = 12.0
    first_training_cost: Annotated[
        Param, P(Money, "Final-run training cost of generation 0 [USD].", ge=0)
    ] = 100e6
    cost_multiplier: Annotated[
        Param, P(Number, "Final-run cost growth per generation [x per generation].", gt=0)
    ] = 1.0
    max_training_cost: (
        Annotated[
            Param, P(Money, "Plateau: cap on one final run's cost [USD]; none when omitted.", gt=0)
        ]
        | None
    ) = None
    experiment_overhead: Annotated[
        Param,
        P(
            Rate,
            "Research and experiment compute on top of the final run, as a share of it [fraction]; "
            "development spend = final run x (1 + overhead).",
            ge=0,
        ),
    ] = 0.0
    capability_gain: Annotated[
        Param,
        P(
            Number,
            "Capability of each generation relative to its predecessor [x]; it acts through "
            "revenue.api's price and demand capability exponents (and the overhang stall).",
            gt=0,
        ),
    ] = 1.0
    stop_escalating_after: (
        Annotated[
            Param,
            P(
                Number,
                "Overhang: after the stall, the lab stops escalating the training cost once this "
                "many generations have brought no gain; none (it keeps escalating) when omitted.",
                ge=0,
            ),
        ]
        | None
    ) = None
    capability_stall_after: (
        Annotated[
            Param,
            P(
                Number,
                "Overhang: generations after this index bring no capability gain; none when "
                "omitted.",
                ge=0,
            ),
        ]
        | None
    ) = None


class Reuse(Section):
    """Strategy: reuse model blocks so each later generation costs less to train."""

    saving: Annotated[
        Param,
        P(
            Rate,
            "Share of each later generation's training cost saved by reusing blocks of its "
            "predecessor [fraction]; generation 0 pays in full.",
            ge=0,
            le=1,
        ),
    ] = 0.0


class Routing(Section):
    """Strategy: route a share of traffic to a smaller distilled model."""

    share: Annotated[
        Param,
        P(
            Rate,
            "rho: share of each generation's tokens served by its distilled model.",
            ge=0,
            le=1,
        ),
    ] = 0.0
    size_factor: Annotated[
        Param,
        P(
            Rate,
            "kappa: serving cost per token of the distilled model relative to the full one "
            "[fraction].",
            ge=0,
            le=1,
        ),
    ] = 1.0
    price_discount: Annotated[
        Param, P(Rate, "Price cut on routed API tokens [fraction]; 0 = same price.", ge=0, le=1)
    ] = 0.0


class Internal(Section):
    """Strategy: deploy the model internally, in a venture of the lab's own (seed 004)."""

    gw: Annotated[Param, P(Number, "Compute diverted from serving to the venture [GW].", ge=0)] = (
        0.0
    )
    start_month: Annotated[
        Param, P(Months, "Month the venture starts [month from the scenario start].", ge=0)
    ] = 0.0
    edge_per_year: Annotated[
        Param,
        P(
            Money,
            "E: value of the edge a year to a firm that alone holds the capability [USD/year].",
            ge=0,
        ),
    ] = 0.0
    edge_growth_per_year: Annotated[
        Param, P(Rate, "Growth of the edge pool E [1/year].", gt=-1)
    ] = 0.0
    firms_at_start: Annotated[
        Param, P(Number, "n(0): firms holding the same capability at the start [firms].", ge=1)
    ] = 1.0
    new_firms_per_year: Annotated[
        Param,
        P(Number, "Rivals and open models that catch up each year [firms/year].", ge=0),
    ] = 0.0


class TrainingFinance(Section):
    """Strategy: a financier pays part of each training run for a share of its revenue."""

    from_generation: int = Field(
        1, ge=0, description="k: the first generation financed (0 = the first one)."
    )
    share_of_training: Annotated[
        Param, P(Rate, "f: share of each financed run's training spend paid.", ge=0, le=1)
    ] = 0.0
    revenue_share: Annotated[
        Param,
        P(Rate, "sigma: share of the generation's revenue the financier receives.", ge=0, le=1),
    ] = 0.0
    cap_multiple: Annotated[
        Param,
        P(Number, "Receipts stop at this multiple of what the financier paid [x].", ge=1),
    ] = 2.0


class ComputeCredits(Section):
    """Strategy: a compute provider pays part of training in kind, for equity."""

    from_generation: int = Field(
        0, ge=0, description="The first generation whose training credits pay for."
    )
    share_of_training: Annotated[
        Param, P(Rate, "Share of training spend paid with credits [fraction].", ge=0, le=1)
    ] = 0.0


class OpenSourceEol(Section):
    """Strategy: release each generation openly at a commercial end of life (seed 000)."""

    after_months: Annotated[
        Param,
        P(
            Months,
            "Commercial life before the open release; its revenue then stops [months].",
            gt=0,
        ),
    ] = 24.0
    financier_cap_multiple: (
        Annotated[
            Param,
            P(
                Number,
                "The cap financiers accept with this guarantee [x]; none (unchanged) when omitted.",
                ge=1,
            ),
        ]
        | None
    ) = None


class Strategies(Section):
    """The strategies of the essays; each is off unless its section is given."""

    training_finance: TrainingFinance | None = None
    compute_credits: ComputeCredits | None = None
    open_source_eol: OpenSourceEol | None = None
    reuse: Reuse | None = None
    routing: Routing | None = None
    internal: Internal | None = None


class Lifecycle(Section):
    """How a released generation's traffic ramps up, is cannibalised and retires."""

    lifetime_months: Annotated[Param, P(Months, "Commercial life from release [months].", gt=0)] = (
        12.0
    )
    ramp_months: Annotated[
        Param,
        P(
            Months,
            "Months for a new model's traffic weight to ramp linearly to full; shares are "
            "relative, so a model alone on sale serves all traffic from release.",
            ge=0,
        ),
    ] = 0.0
    legacy_retention: Annotated[
        Param,
        P(
            Rate,
            "beta: weight of each older active model relative to the next newer one [fraction]; "
            "1 = equal shares, small = the successor takes almost everything.",
            gt=0,
            le=1,
        ),
    ] = 1.0


class TopDown(Section):
    """Top-down revenue: lifetime revenue as a multiple of the final-run training cost."""

    revenue_multiple: Annotated[
        Param, P(Number, "Lifetime revenue / final-run training cost [x].", ge=0)
    ] = 2.0
    inference_cost_share: Annotated[
        Param, P(Rate, "Inference (serving) cost as a share of revenue [fraction].", ge=0)
    ] = 0.0


class Api(Section):
    """Bottom-up API revenue: token demand x lab share x price per token."""

    demand_mtok_per_month: Annotated[
        Param, P(Number, "Market token demand at the scenario start [Mtok/month].", ge=0)
    ] = 0.0
    demand_growth_per_year: Annotated[
        Param, P(Rate, "Growth of market token demand [1/year].", gt=-1)
    ] = 0.0
    demand_ceiling_mtok_per_month: (
        Annotated[
            Param,
            P(
                Number,
                "Saturation level of market token demand [Mtok/month]: growth slows logistically "
                "towards it; none (exponential growth) when omitted.",
                gt=0,
            ),
        ]
        | None
    ) = None
    demand_capability_exponent: Annotated[
        Param,
        P(
            Number,
            "Demand scales with the newest model's capability to this power [-]; 0 = no effect.",
        ),
    ] = 0.0
    lab_share: Annotated[
        Param, P(Rate, "The lab's share of market token demand [fraction].", ge=0, le=1)
    ] = 1.0
    release_price_per_mtok: Annotated[
        Param, P(Money, "Blended list price of a new frontier model [USD/Mtok].", ge=0)
    ] = 10.0
    price_capability_exponent: Annotated[
        Param,
        P(
            Number,
            "Release price scales with capability to this power [-]; 0 = flat.",
        ),
    ] = 0.0
    price_decline_per_year: Annotated[
        Param, P(Rate, "Fall of a model's price while it is sold [1/year].", ge=0, le=1)
    ] = 0.0
    open_source_lag_months: (
        Annotated[
            Param,
            P(
                Months,
                "Months after release when open-weight models catch up; none when omitted.",
                ge=0,
            ),
        ]
        | None
    ) = None
    open_source_price_cut: Annotated[
        Param, P(Rate, "Further price cut once open-weight models catch up [fraction].", ge=0, le=1)
    ] = 0.0
    open_source_share_loss: Annotated[
        Param,
        P(Rate, "Share of traffic lost once open-weight models catch up [fraction].", ge=0, le=1),
    ] = 0.0
    elasticity: Elasticity = Elasticity()


class Revenue(Section):
    """Which revenue mode the scenario uses, and its parameters."""

    mode: Literal["top_down", "bottom_up"] = "top_down"
    consumer: Consumer | None = None
    enterprise: Enterprise | None = None
    cloud_partners: CloudPartners | None = None
    licensing: Licensing | None = None
    top_down: TopDown = TopDown()
    api: Api = Api()


class Inference(Section):
    """Serving cost from compute (bottom-up mode)."""

    cost_per_gw_year: Annotated[
        Param,
        P(
            Money,
            "All-in cost of owning and running 1 GW of AI compute for a year [USD/GW-year].",
            ge=0,
        ),
    ] = 13.5e9
    reference_mtok_per_gw_month: Annotated[
        Param,
        P(
            Number,
            "Tokens one GW serves in a month for the reference model at the start [Mtok/GW-month].",
            gt=0,
        ),
    ] = 3.0e8
    reference_training_cost: Annotated[
        Param, P(Money, "Final-run cost of the reference model for serving throughput [USD].", gt=0)
    ] = 1e9
    efficiency_gain_per_year: Annotated[
        Param,
        P(Rate, "Serving throughput gain per year from hardware and software [1/year].", gt=-1),
    ] = 0.0
    size_exponent: Annotated[
        Param,
        P(
            Number,
            "Serving cost per token scales as (final-run cost / reference)^exponent [-].",
            ge=0,
        ),
    ] = 0.0


class Compute(Section):
    """Compute capacity: owned GW, and what happens to demand above it (DESIGN §4)."""

    capacity: Literal["unconstrained", "rent", "hard"] = Field(
        "unconstrained",
        description="unconstrained: compute is bought as used; rent: owned GW are paid "
        "whether used or not and demand above them is rented at rent_premium; hard: owned GW "
        "are paid whether used or not and inference beyond them is not served (revenue lost).",
    )
    owned_gw: Annotated[
        Param, P(Number, "Capacity held at the start, training and serving [GW].", ge=0)
    ] = 0.0
    owned_gw_growth_per_year: Annotated[
        Param, P(Rate, "Growth of owned capacity [1/year].", gt=-1)
    ] = 0.0
    owned_gw_max: (
        Annotated[Param, P(Number, "Ceiling on owned capacity [GW]; none when omitted.", ge=0)]
        | None
    ) = None
    rent_premium: Annotated[
        Param,
        P(Rate, "Extra price of rented GW over owned ones [fraction of cost_per_gw_year].", ge=0),
    ] = 0.0


class Talent(Section):
    """Headcount and loaded cost per head, both growing."""

    headcount: Annotated[Param, P(Number, "Employees at the start [people].", ge=0)] = 0.0
    headcount_growth_per_year: Annotated[Param, P(Rate, "Headcount growth [1/year].", gt=-1)] = 0.0
    loaded_cost_per_head: Annotated[
        Param, P(Money, "Salary, equity and overhead per employee [USD/year].", ge=0)
    ] = 0.0
    cost_growth_per_year: Annotated[
        Param, P(Rate, "Growth of loaded cost per head [1/year].", gt=-1)
    ] = 0.0


class Sga(Section):
    """Selling, general and administrative cost: fixed plus a share of revenue."""

    fixed_per_year: Annotated[Param, P(Money, "Fixed SG&A [USD/year].", ge=0)] = 0.0
    share_of_revenue: Annotated[
        Param, P(Rate, "Variable SG&A [fraction of revenue].", ge=0, le=1)
    ] = 0.0


class Costs(Section):
    """Operating costs other than training and inference."""

    talent: Talent = Talent()
    sga: Sga = Sga()
    other_infrastructure_per_year: Annotated[
        Param,
        P(Money, "Infrastructure beyond compute: storage, networking, offices [USD/year].", ge=0),
    ] = 0.0


class Funding(Section):
    """How the lab raises equity."""

    policy: Literal["none", "runway", "unlimited"] = Field(
        "runway",
        description="none: never raise; runway: raise when runway falls below the trigger; "
        "unlimited: always cover any shortfall, with no valuation or dilution (the worked "
        "examples' assumption); a runway raise needs a pre-money valuation above zero.",
    )
    runway_trigger_months: Annotated[
        Param, P(Months, "Raise when cash < this many months of trailing burn [months].", ge=0)
    ] = 12.0
    raise_months: Annotated[
        Param,
        P(
            Months,
            "Size of a raise in months of trailing burn, plus any cash shortfall, then cut "
            "to max_dilution_per_round and max_raise [months].",
            gt=0,
        ),
    ] = 24.0
    valuation_multiple: Annotated[
        Param, P(Number, "Pre-money valuation as a multiple of annualised revenue (ARR) [x].", gt=0)
    ] = 20.0
    min_pre_money: Annotated[
        Param, P(Money, "Floor on the pre-money valuation, e.g. before revenue [USD].", ge=0)
    ] = 0.0
    max_dilution_per_round: Annotated[
        Param,
        P(
            Rate,
            "Largest share of the company sold in one round [fraction]; a raise is cut to "
            "fit, so investors' appetite, not the burn, can bind.",
            gt=0,
            le=1,
        ),
    ] = 1.0
    raise_success_probability: Annotated[
        Param,
        P(
            Rate,
            "Chance that a round the runway rule calls for closes in a given month [fraction]; "
            "a failed round is tried again the next month while the trigger holds.",
            ge=0,
            le=1,
        ),
    ] = 1.0
    max_raise: (
        Annotated[
            Param, P(Money, "Largest amount one round can raise [USD]; none when omitted.", gt=0)
        ]
        | None
    ) = None
    burn_window_months: int = Field(
        3, ge=1, le=24, description="Months averaged to measure trailing burn."
    )


class Loan(Section):
    """A loan drawn in one month, paying interest monthly and repaid in full at term."""

    month: Annotated[Param, P(Months, "Month the loan is drawn [month from the start].", ge=0)] = (
        0.0
    )
    amount: Annotated[Param, P(Money, "Principal [USD].", ge=0)] = 0.0
    rate_per_year: Annotated[
        Param, P(Rate, "Interest rate [1/year], compounded monthly.", ge=0)
    ] = 0.08
    term_months: Annotated[
        Param, P(Months, "Months until the principal is repaid in one payment.", gt=0)
    ] = 60.0


class Ipo(Section):
    """A listing in a given month: a priced round, at a multiple of annualised revenue."""

    month: Annotated[Param, P(Months, "Month of the IPO [month from the start].", ge=0)] = 36.0
    amount: Annotated[Param, P(Money, "Cash raised in the IPO [USD].", ge=0)] = 0.0
    valuation_multiple: Annotated[
        Param, P(Number, "Pre-money valuation as a multiple of ARR at the IPO [x].", gt=0)
    ] = 25.0


class Capital(Section):
    """Starting cash, the funding policy, debt and an IPO."""

    starting_cash: Annotated[Param, P(Money, "Cash at the scenario start [USD].")] = 0.0
    funding: Funding = Funding()
    debt: list[Loan] = Field(default_factory=list, description="Loans, each repaid at term.")
    ipo: Ipo | None = None


class Analysis(Section):
    """Settings of the views and metrics."""

    discount_rate_per_year: Annotated[
        Param, P(Rate, "Discount rate for generation NPV [1/year].", gt=-1)
    ] = 0.10
    recovery_months: Annotated[
        Param,
        P(
            Months,
            "Working capital: months over which a generation should recover its training cost.",
            gt=0,
        ),
    ] = 3.0


class Correlation(Section):
    """A rank correlation between two uncertain inputs (Gaussian copula)."""

    between: tuple[str, str] = Field(
        description="Two input names, e.g. generations.cost_multiplier"
    )
    rank: float = Field(ge=-1, le=1, description="Spearman rank correlation in [-1, 1].")

    @field_validator("between")
    @classmethod
    def _distinct(cls, value: tuple[str, str]) -> tuple[str, str]:
        if value[0] == value[1]:
            raise ValueError(f"an input cannot be correlated with itself: {value[0]!r}")
        return value


class Scenario(Section):
    """A whole scenario: one lab, its generations, revenue, costs and capital."""

    extends: str | None = Field(
        None,
        description="A built-in scenario or file this one is a variant of; resolved when the "
        "file is loaded (its values are merged over the base's).",
    )
    name: str = Field("scenario", description="Short name of the scenario.")
    description: str = Field("", description="What the scenario represents.")
    start: str = Field("2026-01", pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM.")
    horizon_months: int = Field(120, ge=1, le=600, description="Months simulated.")
    generations: Generations = Generations()
    lifecycle: Lifecycle = Lifecycle()
    revenue: Revenue = Revenue()
    inference: Inference = Inference()
    compute: Compute = Compute()
    costs: Costs = Costs()
    capital: Capital = Capital()
    strategies: Strategies = Strategies()
    analysis: Analysis = Analysis()
    correlations: list[Correlation] = Field(default_factory=list)
    _citations: tuple[Citation, ...] = PrivateAttr(default=())

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The inputs this scenario takes from the fact base, as loaded (``{fact: ID}``)."""
        return self._citations

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        problems: list[tuple[str, str]] = []
        uncertain = dict(self.uncertain_inputs())
        known = [n for n, _ in self.inputs()]
        for i, corr in enumerate(self.correlations):
            for name in corr.between:
                if name in uncertain:
                    continue
                close = difflib.get_close_matches(name, known, n=1)
                why = (
                    f"{name!r} is a fixed number, not a distribution"
                    if name in known
                    else f"{name!r} is not an input"
                    + (f" (did you mean {close[0]!r}?)" if close else "")
                )
                problems.append((f"correlations.{i}.between", f"{why}; accepted: uncertain inputs"))
        if not problems:
            try:
                check_positive_definite(self.correlations)
            except ValueError as exc:
                problems.append(("correlations", str(exc)))
        if self.generations.count is None and isinstance(
            self.generations.cadence_months, Distribution
        ):
            problems.append(
                (
                    "generations.count",
                    "is required when generations.cadence_months is uncertain",
                )
            )
        count = (
            None
            if isinstance(self.generations.cadence_months, Distribution)
            and (self.generations.count is None)
            else self.generation_count
        )
        for name in ("training_finance", "compute_credits"):
            section = getattr(self.strategies, name)
            if section is not None and count is not None and section.from_generation >= count:
                problems.append(
                    (
                        f"strategies.{name}.from_generation",
                        f"generation {section.from_generation} does not exist; accepted: 0 to "
                        f"{count - 1} (the scenario has {count} generations)",
                    )
                )
        if problems:
            raise CrossFieldError(problems)
        return self

    def inputs(self) -> Iterator[tuple[str, Param]]:
        """Every numeric input as (dotted name, value), in declaration order."""
        yield from _walk(self, "")

    def uncertain_inputs(self) -> Iterator[tuple[str, Distribution]]:
        """The inputs that are distributions, as (dotted name, distribution)."""
        for name, value in self.inputs():
            if isinstance(value, Distribution):
                yield name, value

    @property
    def generation_count(self) -> int:
        """G: the number of generations simulated."""
        gens = self.generations
        if gens.count is not None:
            return gens.count
        cadence = gens.cadence_months
        assert not isinstance(cadence, Distribution)
        span = self.horizon_months - gens.first_training_start_month
        # The engine rounds cadences to whole months (at least one); count from the same.
        return max(1, math.ceil(span / max(round(cadence), 1)))


def _walk(model: BaseModel, prefix: str) -> Iterator[tuple[str, Param]]:
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(value, Section):
            yield from _walk(value, path + ".")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, Section):
                    yield from _walk(item, f"{path}.{index}.")
        elif isinstance(value, Distribution) or (isinstance(value, float) and name != "rank"):
            yield path, value


def check_positive_definite(correlations: list[Correlation]) -> None:
    """Refuse a set of rank correlations whose matrix is not positive definite."""
    if not correlations:
        return
    names, matrix = correlation_matrix(correlations)
    eigenvalues = np.linalg.eigvalsh(matrix)
    if eigenvalues.min() <= 1e-10:
        raise ValueError(
            "the matrix over "
            + ", ".join(names)
            + f" is not positive definite (smallest eigenvalue {eigenvalues.min():.3g}); "
            "accepted: correlations that can hold together, e.g. weaken the strongest ones"
        )


def correlation_matrix(correlations: list[Correlation]) -> tuple[list[str], np.ndarray]:
    """Names and the Pearson matrix of the normal copula for given rank correlations.

    A Spearman rank correlation rho_s of the inputs equals a normal correlation
    2 sin(pi rho_s / 6) of the copula's normals (Pearson 1907; Kruskal 1958).
    """
    names: list[str] = []
    for corr in correlations:
        for name in corr.between:
            if name not in names:
                names.append(name)
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for corr in correlations:
        i, j = index[corr.between[0]], index[corr.between[1]]
        matrix[i, j] = matrix[j, i] = 2 * math.sin(math.pi * corr.rank / 6)
    return names, matrix
