"""Revenue by generation: top-down (multiple of training cost) or bottom-up API tokens.

Top-down reproduces the model-as-company worked example (seed 003: "a model that costs
$100 million ... makes $200 million of revenue"): generation g earns
``revenue_multiple`` * C_g over its life, spread in proportion to its traffic share.
After a capability stall (overhang) a generation earns on the capability it delivers,
i.e. on the cost of the last generation that improved.

Bottom-up API revenue: tokens_g(t) = D(t) * share * w_g(t) * (1 - open-source loss) and
price_g(t) = P * q_g^e * (1 - decline)^(months since release / 12) * (1 - open-source cut).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine import compiled
from labecon.engine.contest import Contest
from labecon.engine.generations import Schedule
from labecon.engine.inputs import Array, Inputs
from labecon.engine.lifecycle import Ages
from labecon.scenario.quantities import per_year_to_per_month


def revenue_basis(final_run_cost: Array, stall_after: Array) -> Array:
    """Cost whose multiple a generation earns [USD]: C_g, or C_K after a stall at K."""
    count = final_run_cost.shape[1]
    g = np.arange(count)[None, :]
    stall = np.where(np.isnan(stall_after), count, np.floor(stall_after)).astype(np.int64)
    index = np.minimum(g, stall[:, None])
    return np.take_along_axis(final_run_cost, index, axis=1)


def top_down_revenue(basis: Array, multiple: Array, shares: Array, life_weight: Array) -> Array:
    """revenue_g(t) = R * basis_g * w_g(t) / sum over g's planned life of w_g [USD/month]."""
    per_unit = np.divide(
        multiple[:, None] * basis,
        life_weight,
        out=np.zeros_like(basis),
        where=life_weight > 0,
    )
    return shares * per_unit[:, None, :]


@dataclass(frozen=True)
class ApiTraffic:
    """Bottom-up API tokens and revenue by generation, arrays (samples, months, G)."""

    tokens_mtok: Array  # [Mtok/month]
    revenue: Array  # [USD/month]
    # Their sums over generations (samples, months), for compiled.generation_total.
    tokens_total: Array
    revenue_total: Array


def market_demand(start: Array, growth_per_year: Array, ceiling: Array, t: Array) -> Array:
    """Market token demand D(t) [Mtok/month], shape (samples, months).

    Exponential, D0 (1+g)^(t/12), or with a ceiling K the logistic curve with the same
    initial growth, K / (1 + (K/D0 - 1) (1+g)^(-t/12)). A ceiling bounds growth only: when
    demand shrinks (g <= 0) it declines exponentially whatever the ceiling; so it does before
    the start when demand starts above its ceiling.
    """
    growth = compiled.outer_power(1 + per_year_to_per_month(growth_per_year), t)
    d0 = start[:, None]
    k = ceiling[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        logistic = k / (1 + (k / d0 - 1) / growth)
    # Extrapolated back before the start, a logistic that begins above its ceiling has a
    # pole; there demand follows the exponential, which meets it at month 0.
    logistic_applies = (
        ~np.isnan(k) & (d0 > 0) & (growth_per_year[:, None] > 0) & ((t[None, :] >= 0) | (d0 <= k))
    )
    return np.where(logistic_applies, logistic, d0 * growth)


def frontier_capability(capability: Array, on_sale: NDArray[np.bool_]) -> Array:
    """Capability of the best model on sale in each month [-], shape (samples, months).

    0 where none is on sale (the maximum over generations, :func:`compiled.frontier`).
    """
    best, _ = compiled.frontier(capability, on_sale)
    return best


def api_traffic(
    inputs: Inputs,
    schedule: Schedule,
    months: NDArray[np.int64],
    shares: Array,
    on_sale: NDArray[np.bool_],
    ages: Ages | None = None,
    contest: Contest | None = None,
) -> ApiTraffic:
    """Tokens and revenue of the API channel (DESIGN §4, bottom-up).

    ``ages`` are the cells' months since release if already known (:meth:`Ages.of`). In a
    market, ``contest.api`` multiplies the lab's token demand by its share of the market's.
    """
    t = months.astype(np.float64)
    demand = market_demand(
        inputs["revenue.api.demand_mtok_per_month"],
        inputs["revenue.api.demand_growth_per_year"],
        inputs["revenue.api.demand_ceiling_mtok_per_month"],
        t,
    )
    exponent = inputs["revenue.api.demand_capability_exponent"][:, None]
    # Demand grows with the best capability on sale q: x q^e (x 1 while none is): q^e read
    # from a table of each generation's, the same ** on the same numbers.
    best, which = compiled.frontier(schedule.capability, on_sale)
    powered = np.take_along_axis(schedule.capability**exponent, np.maximum(which, 0), axis=1)
    demand = demand * np.where(best > 0, powered, 1.0**exponent)
    lab_tokens = demand * inputs["revenue.api.lab_share"][:, None]
    if contest is not None and contest.api is not None:
        lab_tokens = lab_tokens * contest.api

    age = Ages.of(schedule, months) if ages is None else ages
    decline = per_year_to_per_month(-inputs["revenue.api.price_decline_per_year"])
    price_at_release = (
        inputs["revenue.api.release_price_per_mtok"][:, None]
        * schedule.capability ** inputs["revenue.api.price_capability_exponent"][:, None]
    )
    # Tables by age (Ages), read by every cell: the decline factor (1 + d)^age, and where
    # open weights have caught up the price and traffic kept. Only ages 0 .. life - 1 are
    # on sale; a cell of another age has no traffic (share 0), so its price multiplies 0:
    # the table holds 1.0 there rather than a ** per sample and age nothing reads.
    declined = np.ones((decline.size, age.values.size))
    life = int((schedule.retire - schedule.release).max(initial=1))
    sold = (age.values >= 0) & (age.values < life)
    declined[:, sold] = (1 + decline[:, None]) ** age.values[sold]
    open_weights = inputs.given("revenue.api.open_source_lag_months")
    price_kept = share_kept = declined
    if open_weights:
        lag = np.rint(inputs["revenue.api.open_source_lag_months"])
        caught_up = age.values >= lag[:, None]
        price_kept = np.where(
            caught_up, 1 - inputs["revenue.api.open_source_price_cut"][:, None], 1.0
        )
        share_kept = np.where(
            caught_up, 1 - inputs["revenue.api.open_source_share_loss"][:, None], 1.0
        )
    tokens, cells_revenue, tokens_total, revenue_total = compiled.api_cells(
        lab_tokens,
        shares,
        price_at_release,
        schedule.release,
        months,
        age.first,
        declined,
        open_weights,
        price_kept,
        share_kept,
    )
    return ApiTraffic(tokens, cells_revenue, tokens_total, revenue_total)
