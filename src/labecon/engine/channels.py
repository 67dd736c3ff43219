"""Bottom-up revenue channels besides the API: consumer, enterprise, cloud, licensing (DESIGN §4).

Pure functions over arrays: inputs are per-sample arrays of shape (samples,), months are the
engine's grid of month indices (consecutive integers, from the scenario start; they may
begin before 0), and outputs are (samples, months) or (samples, months, G). Every operation
is elementwise in the samples, so results do not depend on how samples are chunked.

Conventions shared by every channel:

- *Start.* A channel's stocks (subscribers, contracts) are given at the scenario start and
  the channel begins in month 0; grid months before 0 (kept for generations trained before
  the start) carry no consumer, enterprise or licensing revenue or tokens.
- *End-of-month stocks.* Month t's stock is S(t) = S(t-1) (1 - churn) + adds(t) with
  S(-1) = the stock at the start, and month t's revenue and tokens use S(t): a subscriber
  who joins in month t pays for month t; one who leaves in month t does not.
- *Attribution.* A channel's revenue and tokens are split over the generations on sale by
  their traffic shares (:func:`attribute`); in a month with no model on sale the channel
  has nothing to sell and earns nothing, so the company total of a channel is the sum over
  generations of the attributed array, never the unattributed channel total.
- *Rates.* Growth per year is converted exactly, (1 + r)^(t/12); amounts per year (fees,
  ACV) are flows per time, so a month's share of them is exactly 1/12.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from labecon.engine.compiled import sum_generations
from labecon.scenario.quantities import per_year_to_per_month

Array = NDArray[np.float64]
MONTHS_PER_YEAR = 12.0


# -- shared helpers ----------------------------------------------------------------------------


def _check_months(months: NDArray[np.int64]) -> None:
    if months.ndim != 1 or months.size == 0:
        raise ValueError("months must be a non-empty 1-d array of month indices")
    if np.any(np.diff(months) != 1) or months[0] > 0:
        raise ValueError("months must be consecutive month indices starting at or before 0")


def growth_path(start: Array, growth_per_year: Array, months: NDArray[np.int64]) -> Array:
    """x0 (1 + g)^(t/12) for the grid's months [unit of x0], shape (samples, months).

    The yearly rate is converted exactly to a monthly one (DESIGN §3). Months before 0 are
    extrapolated backwards; callers that start at month 0 mask them.
    """
    monthly = 1.0 + per_year_to_per_month(growth_per_year)
    return start[:, None] * monthly[:, None] ** months.astype(np.float64)[None, :]


def _stock(
    start: Array,
    adds: Array,
    churn: Array,
    months: NDArray[np.int64],
    joining: Array | None = None,
) -> Array:
    """S(t) = S(t-1) (1 - churn(t)) + adds(t), S(-1) = start; 0 before month 0.

    ``adds`` and ``churn`` are (samples, months) on the same grid as ``months``. In a
    market, customers ``joining`` in month t (from an acquired lab) join the stock before
    that month's churn: S(t) = (S(t-1) + J(t)) (1 - churn(t)) + adds(t).
    """
    _check_months(months)
    out = np.zeros_like(adds)
    stock = np.asarray(start, dtype=np.float64).copy()
    for i in range(int(np.searchsorted(months, 0)), months.size):
        if joining is not None:
            stock = stock + joining[:, i]
        stock = stock * (1.0 - churn[:, i]) + adds[:, i]
        out[:, i] = stock
    return out


def _leaving(churn: Array, months: NDArray[np.int64], exit_month: Array | None) -> Array:
    """Churn of 1 from the month a lab leaves its market: its customers go with it."""
    if exit_month is None:
        return churn
    return np.where(months[None, :] >= exit_month[:, None], 1.0, churn)


def _from_start(values: Array, months: NDArray[np.int64]) -> Array:
    """``values`` with the grid's months before the scenario start set to 0."""
    return np.where(months[None, :] >= 0, values, 0.0)


@dataclass(frozen=True)
class ChannelFlows:
    """A channel's company-wide flows before attribution, arrays (samples, months)."""

    revenue: Array  # [USD/month]
    tokens_mtok: Array  # [Mtok/month] served by the lab for the channel


# -- consumer subscriptions --------------------------------------------------------------------


def subscribers(
    start: Array,
    new_per_month: Array,
    new_growth_per_year: Array,
    churn_per_month: Array,
    months: NDArray[np.int64],
    share: Array | None = None,
    joining: Array | None = None,
    exit_month: Array | None = None,
) -> Array:
    """Subscribers at the end of each month [people], shape (samples, months).

    S(t) = S(t-1) (1 - c) + A0 (1 + g)^(t/12), S(-1) = ``start``; 0 before month 0. With
    constant adds A and churn c > 0 the stock tends to A / c. In a market the adds are the
    market's times the lab's ``share`` (samples, months), subscribers of acquired labs join
    (``joining``), and all leave from the lab's own ``exit_month`` (samples,).
    """
    adds = _from_start(growth_path(new_per_month, new_growth_per_year, months), months)
    if share is not None:
        adds = adds * share
    churn = np.broadcast_to(churn_per_month[:, None], adds.shape)
    return _stock(start, adds, _leaving(churn, months, exit_month), months, joining)


@dataclass(frozen=True)
class TierInputs:
    """One consumer tier's inputs, each an array (samples,) (fields as in the scenario)."""

    price_per_month: Array  # [USD/month per subscriber]
    subscribers: Array  # at the start [people]
    new_subscribers_per_month: Array  # in month 0 [people/month]
    new_subscriber_growth_per_year: Array  # [1/year]
    churn_per_month: Array  # [fraction/month]
    tokens_per_subscriber_per_month: Array  # in month 0 [Mtok/month per subscriber]
    token_growth_per_year: Array  # [1/year]

    @classmethod
    def read(cls, value: Callable[[str], Array], prefix: str) -> TierInputs:
        """Read a tier's fields by dotted name, e.g. ``read(inputs.__getitem__, "...tiers.0")``."""
        names = cls.__dataclass_fields__
        return cls(**{name: value(f"{prefix}.{name}") for name in names})


@dataclass(frozen=True)
class ConsumerFlows(ChannelFlows):
    """Consumer revenue and tokens, plus subscribers over all tiers [people], (samples, months)."""

    subscribers: Array


def consumer_channel(
    tiers: Sequence[TierInputs],
    months: NDArray[np.int64],
    share: Array | None = None,
    joining: Array | None = None,
    exit_month: Array | None = None,
) -> ConsumerFlows:
    """Subscription revenue and tokens summed over tiers, (samples, months).

    revenue(t) = sum over tiers of price x S(t) [USD/month]; tokens(t) = sum of S(t) x
    tokens per subscriber x (1 + h)^(t/12) [Mtok/month]. Heavier use raises serving cost, not
    revenue (seed 001: "the average usage level tends to increase over time"). ``share``
    (samples, months): the lab's share of a market's new subscribers, in every tier;
    subscribers ``joining`` from acquired labs split over the tiers as new ones do; all
    leave from ``exit_month`` (samples,) when the lab leaves its market.
    """
    if not tiers:
        raise ValueError("consumer_channel needs at least one tier")
    revenue = tokens = people = None
    total_new = np.sum([tier.new_subscribers_per_month for tier in tiers], axis=0)
    for tier in tiers:
        tier_joining = None
        if joining is not None:
            weight = np.divide(
                tier.new_subscribers_per_month,
                total_new,
                out=np.full(total_new.shape, 1.0 / len(tiers)),
                where=total_new > 0,
            )
            tier_joining = joining * weight[:, None]
        stock = subscribers(
            tier.subscribers,
            tier.new_subscribers_per_month,
            tier.new_subscriber_growth_per_year,
            tier.churn_per_month,
            months,
            share,
            tier_joining,
            exit_month,
        )
        usage = growth_path(
            tier.tokens_per_subscriber_per_month, tier.token_growth_per_year, months
        )
        tier_revenue = stock * tier.price_per_month[:, None]
        tier_tokens = stock * usage
        revenue = tier_revenue if revenue is None else revenue + tier_revenue
        tokens = tier_tokens if tokens is None else tokens + tier_tokens
        people = stock if people is None else people + stock
    assert revenue is not None and tokens is not None and people is not None
    return ConsumerFlows(revenue=revenue, tokens_mtok=tokens, subscribers=people)


# -- enterprise contracts ----------------------------------------------------------------------


def open_weights_caught_up(
    release: NDArray[np.int64],
    on_sale: NDArray[np.bool_],
    lag_months: Array,
    months: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Whether open-weight models have caught up with the newest model on sale, (samples, months).

    True where some model is on sale and the newest of them was released at least
    round(lag) months ago (the same test as the API's open-source price cut); never when the
    lag is NaN (not given). ``release`` is (samples, G), ``on_sale`` (samples, months, G).
    Seed 004: open source can "catch up to the frontier in 6-12 months".
    """
    newest = np.where(on_sale, release[:, None, :].astype(np.float64), -np.inf).max(axis=2)
    age = months.astype(np.float64)[None, :] - newest  # +inf where no model is on sale
    lag = lag_months[:, None]
    known = ~np.isnan(lag)
    return on_sale.any(axis=2) & known & (age >= np.rint(np.where(known, lag, 0.0)))


@dataclass(frozen=True)
class EnterpriseFlows(ChannelFlows):
    """Enterprise revenue and tokens, plus active contracts [contracts], (samples, months)."""

    active_contracts: Array


def contract_activations(
    new_per_month: Array,
    new_growth_per_year: Array,
    sales_cycle_months: Array,
    months: NDArray[np.int64],
    share: Array | None = None,
) -> Array:
    """Contracts becoming active in month t [contracts/month], (samples, months).

    Contracts enter the sales cycle at N0 (1 + g)^(s/12) a month from month s = 0 and become
    active round(cycle) months later, so none activate before month round(cycle) (seed 001:
    enterprise contracts "are slow to close"). In a market the lab wins ``share`` (samples,
    months) of the market's contracts, at the month they enter the cycle.
    """
    lag = np.maximum(np.rint(sales_cycle_months), 0.0)[:, None]
    signed = months.astype(np.float64)[None, :] - lag  # month each activation entered the cycle
    monthly = 1.0 + per_year_to_per_month(new_growth_per_year)
    rate = new_per_month[:, None] * monthly[:, None] ** np.maximum(signed, 0.0)
    if share is not None:
        # The share in the month each contract entered the cycle (grid column of month s).
        column = np.clip(signed - months[0], 0, months.size - 1).astype(np.intp)
        rate = rate * np.take_along_axis(share, column, axis=1)
    return np.where(signed >= 0, rate, 0.0)


def enterprise_channel(
    contracts: Array,
    new_per_month: Array,
    new_growth_per_year: Array,
    sales_cycle_months: Array,
    churn_per_month: Array,
    open_source_churn_multiplier: Array,
    contract_value_per_year: Array,
    contract_value_growth_per_year: Array,
    tokens_per_contract_per_month: Array,
    token_growth_per_year: Array,
    caught_up: NDArray[np.bool_],
    months: NDArray[np.int64],
    share: Array | None = None,
    joining: Array | None = None,
    exit_month: Array | None = None,
) -> EnterpriseFlows:
    """Enterprise revenue, tokens and active contracts, (samples, months).

    C(t) = C(t-1) (1 - c(t)) + activations(t), C(-1) = ``contracts``, where c(t) = churn x
    multiplier (at most 1) in months where ``caught_up`` (samples, months) is true, else
    churn (seed 001: enterprises "migrating toward cheaper alternatives — open-source
    models"). revenue(t) = C(t) x ACV0 (1 + v)^(t/12) / 12 [USD/month]; the ACV of every
    active contract grows (repricing at renewal). tokens(t) = C(t) x tokens per contract x
    (1 + h)^(t/12) [Mtok/month].
    """
    activations = contract_activations(
        new_per_month, new_growth_per_year, sales_cycle_months, months, share
    )
    base = churn_per_month[:, None]
    raised = np.minimum(base * open_source_churn_multiplier[:, None], 1.0)
    churn = _leaving(np.where(caught_up, raised, base), months, exit_month)
    active = _stock(contracts, activations, churn, months, joining)
    value = growth_path(contract_value_per_year, contract_value_growth_per_year, months)
    usage = growth_path(tokens_per_contract_per_month, token_growth_per_year, months)
    return EnterpriseFlows(
        revenue=active * value / MONTHS_PER_YEAR,
        tokens_mtok=active * usage,
        active_contracts=active,
    )


# -- cloud partners, licensing -----------------------------------------------------------------


class CloudSplit(NamedTuple):
    """The API channel after the cloud partners' cut, same shape as the API arrays."""

    lab_revenue: Array  # revenue the lab books [USD/month]
    lab_served_tokens: Array  # tokens served on the lab's compute [Mtok/month]
    cloud_fee: Array  # revenue kept by clouds, never booked by the lab [USD/month]


def _per_sample(value: Array, like: Array) -> Array:
    return np.asarray(value, dtype=np.float64).reshape((-1,) + (1,) * (like.ndim - 1))


def cloud_split(
    api_revenue: Array,
    api_tokens: Array,
    share: Array,
    take: Array,
    served_on_cloud: Array,
) -> CloudSplit:
    """Split API revenue and tokens between the lab and its cloud partners.

    Share s of the API is sold through clouds, which keep take k of that revenue and serve
    share u of those tokens on their own compute (seed 004: serving "via API from
    Vertex/Bedrock/Azure and leaving a greater part of the revenue with the clouds"):
    lab revenue = R (1 - s k), cloud fee = R s k, lab-served tokens = T (1 - s u); the other
    T s u tokens cost the lab no inference. ``api_revenue`` and ``api_tokens`` are
    (samples, months[, G]); ``share``, ``take`` and ``served_on_cloud`` are (samples,).
    """
    s = _per_sample(share, api_revenue)
    fee = api_revenue * (s * _per_sample(take, api_revenue))
    cloud_served = api_tokens * (s * _per_sample(served_on_cloud, api_tokens))
    return CloudSplit(
        lab_revenue=api_revenue - fee,
        lab_served_tokens=api_tokens - cloud_served,
        cloud_fee=fee,
    )


def licensing_revenue(fees_per_year: Array, months: NDArray[np.int64]) -> Array:
    """Licensing fees [USD/month], (samples, months): fees per year / 12 from month 0.

    Seed 001: "granting companies the right to use models within their own products".
    """
    per_month = np.broadcast_to(
        (fees_per_year / MONTHS_PER_YEAR)[:, None], (len(fees_per_year), months.size)
    )
    return _from_start(per_month, months)


# -- price elasticity of API demand ------------------------------------------------------------


def average_price(revenue: Array, tokens_mtok: Array) -> Array:
    """Traffic-weighted average price over generations [USD/Mtok], (samples, months).

    sum_g revenue_g / sum_g tokens_g from (samples, months, G) arrays; NaN where no tokens
    are sold. It does not depend on the level of demand, only on shares and prices.
    """
    revenue_total = sum_generations(revenue)
    tokens_total = sum_generations(tokens_mtok)
    return np.divide(
        revenue_total,
        tokens_total,
        out=np.full_like(revenue_total, np.nan),
        where=tokens_total > 0,
    )


def demand_factor(average: Array, reference_price: Array, elasticity: Array) -> Array:
    """(p / p_ref)^(-elasticity) [-], (samples, months): the multiplier of token demand.

    Constant elasticity: lower prices, more tokens (elasticity 1: price halved, demand
    doubled). The factor is exactly 1 where the elasticity is 0 or the average price is
    not a positive number (no model on sale: nothing is sold anyway). ``average`` is
    (samples, months); ``reference_price`` (> 0) and ``elasticity`` (>= 0) are (samples,).
    """
    eps = elasticity[:, None]
    ref = reference_price[:, None]
    usable = (eps > 0) & (average > 0) & (ref > 0)
    ratio = np.divide(average, ref, out=np.ones_like(average), where=usable)
    return np.where(usable, ratio ** np.where(usable, -eps, 0.0), 1.0)


def elastic_demand(
    demand: Array, average: Array, reference_price: Array, elasticity: Array
) -> Array:
    """Token demand after the price response, demand x (p / p_ref)^(-elasticity) [Mtok/month].

    ``demand`` and ``average`` are (samples, months); see :func:`demand_factor`.
    """
    return demand * demand_factor(average, reference_price, elasticity)


# -- attribution to generations ----------------------------------------------------------------


def attribute(channel_total: Array, shares: Array) -> Array:
    """Split a channel's flow over generations by traffic share, (samples, months, G).

    out_g = total x w_g / sum_g w_g, so the generations add up to the total in every month
    where a model is on sale, whatever the shares' scale. Where no model is on sale (all
    shares 0) the channel has no product and every generation gets 0: the channel's company
    total is ``out.sum(axis=2)``, which is then 0 too, so generations + unattributed still
    equal the company total.
    """
    weight = sum_generations(shares)[:, :, None]
    normalised = np.divide(shares, weight, out=np.zeros(shares.shape), where=weight > 0)
    return channel_total[:, :, None] * normalised
