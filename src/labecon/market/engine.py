"""One chunk of a market: the labs' engines coupled through the demand they share.

For each contested segment, each month, the market's demand splits between the labs' models
and the open-weight option by :mod:`labecon.market.choice`. A lab's capability is that of
its best model on sale (times its ``capability_scale``), so the generations it can afford
shape its share; its price is the list price of its newest model (API), its tiers' average
price (consumer) or its contract value (enterprise).

Exits feed back: a lab whose cash falls below minus its parent's credit leaves the market
that month; its later generations are cancelled and its customers choose again among the
others. Shares before an exit do not depend on it, so the chunk runs in passes: each fixes
the earliest new exit of every sample and runs again; a pass that finds a lab insolvent (it
starts no new generation) runs once more with its capability so reduced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine import lifecycle
from labecon.engine.contest import Contest
from labecon.engine.generations import Schedule, schedule
from labecon.engine.inputs import Inputs
from labecon.engine.revenue import frontier_capability
from labecon.engine.run import simulate_chunk
from labecon.ledger import Ledger
from labecon.market.choice import NO_HEIR, market_shares, utility
from labecon.market.loading import LoadedMarket
from labecon.sampler import Draws, Sampler, uniform_stream
from labecon.scenario.fields import Param
from labecon.scenario.quantities import Distribution

Array = NDArray[np.float64]


def lab_seed(seed: int, index: int) -> int:
    """The seed of lab ``index``: the market's for lab 0, one derived from it for the others.

    Lab 0 of a one-lab market so draws exactly what the lab alone draws with ``seed``.
    """
    if index == 0:
        return seed
    state = np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0]
    return int(state >> np.uint64(1))


def market_value(value: Param | None, stream: str, seed: int, start: int, count: int) -> Array:
    """Per-sample values of a market input [its unit]: drawn from its stream, or repeated."""
    if isinstance(value, Distribution):
        return value.ppf(uniform_stream(seed, "market." + stream, start, count))
    return np.full(count, np.nan if value is None else float(value))


@dataclass(frozen=True)
class MarketChunk:
    """One chunk of a market run."""

    months: NDArray[np.int64]  # the market grid: min over labs of the first month .. horizon
    ledgers: tuple[Ledger, ...]  # per lab
    draws: tuple[Draws, ...]  # per lab
    shares: dict[str, Array]  # segment -> (samples, grid months, labs + open) [fraction]
    exit_month: Array  # (samples, labs): month each lab left the market, NaN: never
    acquirer: NDArray[np.intp]  # (samples, labs): the lab that acquired it, or NO_HEIR
    passes: int


def simulate_market_chunk(loaded: LoadedMarket, seed: int, start: int, count: int) -> MarketChunk:
    """Samples ``start .. start+count-1`` of a market; draws depend on sample index only."""
    market = loaded.market
    labs = loaded.scenarios
    n = len(labs)
    # The market's uncertain demand is drawn as lab 0 draws it (its scenario holds those
    # inputs, under its own correlations): so a lab alone draws exactly what it draws alone.
    first_draws = Sampler(labs[0], seed, first_sample=start).draw(start, count)
    shared = {
        stream: first_draws[stream]
        if stream in first_draws
        else dist.ppf(uniform_stream(seed, stream, start, count))
        for stream, dist in loaded.uncertain.items()
    }
    draws: list[Draws] = []
    for i, scenario in enumerate(labs):
        overrides = {
            name: shared[link.stream] * link.factor if link.factor != 1.0 else shared[link.stream]
            for name, link in loaded.shared[i].items()
        }
        sampler = Sampler(scenario, lab_seed(seed, i), overrides, first_sample=start)
        draws.append(sampler.draw(start, count))
    inputs = [Inputs(s, d, count) for s, d in zip(labs, draws, strict=True)]
    plans = [schedule(x, s.generation_count) for x, s in zip(inputs, labs, strict=True)]
    first = min(min(0, s.generations.first_training_start_month) for s in labs)
    months = np.arange(first, market.horizon_months, dtype=np.int64)
    scale = np.stack(
        [
            market_value(
                lab.capability_scale, f"labs.{lab.name}.capability_scale", seed, start, count
            )
            for lab in market.labs
        ],
        axis=1,
    )
    credit = np.stack(
        [
            market_value(
                lab.parent_credit_usd, f"labs.{lab.name}.parent_credit_usd", seed, start, count
            )
            for lab in market.labs
        ],
        axis=1,
    )
    exit_month = np.full((count, n), np.nan)
    heir = np.full((count, n), NO_HEIR, dtype=np.intp)
    joining = {
        "consumer": np.zeros((count, n, months.size)),
        "enterprise": np.zeros((count, n, months.size)),
    }
    gw_joining = np.zeros((count, n, market.horizon_months))
    stopped = [np.zeros(plan.release.shape, dtype=bool) for plan in plans]
    compute_share = market_value(
        market.consolidation.compute_share, "consolidation.compute_share", seed, start, count
    )
    passes = 0
    while True:
        passes += 1
        # Generations a lab does not start: after it left the market, or after its own
        # engine found it insolvent (the previous pass's ledger; no exit needs it).
        cancelled = [
            (
                plan.training_start
                >= np.where(np.isnan(exit_month[:, i]), np.inf, exit_month[:, i])[:, None]
            )
            | stopped[i]
            for i, plan in enumerate(plans)
        ]
        on_sale = [
            lifecycle.active(plan, months, cancelled[i])
            & (
                months[None, :, None]
                < np.where(np.isnan(exit_month[:, i]), np.inf, exit_month[:, i])[:, None, None]
            )
            for i, plan in enumerate(plans)
        ]
        capability = np.stack(
            [
                scale[:, i, None] * frontier_capability(plans[i].capability, on_sale[i])
                for i in range(n)
            ],
            axis=2,
        )
        shares = _segment_shares(
            loaded, inputs, plans, on_sale, capability, months, exit_month, heir, seed, start, count
        )
        ledgers = tuple(
            simulate_chunk(
                labs[i],
                draws[i],
                count,
                _contest(
                    loaded,
                    shares,
                    capability,
                    months,
                    i,
                    (seed, start, count),
                    exit_month[:, i],
                    joining,
                    gw_joining[:, i],
                    credit[:, i] if market.labs[i].cloud_backed else None,
                ),
            )
            for i in range(n)
        )
        new_exit = _next_exit(ledgers, credit, exit_month, market.open_weight is not None)
        found = [ledger.cancelled for ledger in ledgers]
        settled = all(np.array_equal(a, b) for a, b in zip(found, stopped, strict=True))
        stopped = found
        if new_exit is None and settled:
            break
        if new_exit is None:
            if passes > 4 * (n + 1):  # pragma: no cover - a guard: each exit settles in two
                break
            continue  # insolvencies found this pass change capabilities: run once more
        fixed = ~np.isnan(new_exit) & np.isnan(exit_month)
        exit_month = new_exit
        _acquire(
            loaded,
            ledgers,
            fixed,
            (exit_month, heir, credit, compute_share),
            months,
            joining,
            gw_joining,
        )
    return MarketChunk(months, ledgers, tuple(draws), shares, exit_month, heir, passes)


def _next_exit(
    ledgers: tuple[Ledger, ...], credit: Array, exit_month: Array, open_weight: bool
) -> Array | None:
    """``exit_month`` with each sample's earliest new exit added, or None when there is none.

    A lab exits in the first month its cash is below minus its parent's credit, if anyone
    is left to serve its customers (another lab, or open-weight models): a lab alone in its
    market stays, as a single-lab run shows it.
    """
    count, n = exit_month.shape
    candidate = np.full((count, n), np.inf)
    others = np.isnan(exit_month).sum(axis=1) - 1 > 0
    for i, ledger in enumerate(ledgers):
        short = ledger.cash.cash < -credit[:, i, None]
        hit = short.any(axis=1) & np.isnan(exit_month[:, i]) & (others | open_weight)
        candidate[hit, i] = short[hit].argmax(axis=1)
    earliest = candidate.min(axis=1)
    rows = np.flatnonzero(np.isfinite(earliest))
    if rows.size == 0:
        return None
    out = exit_month.copy()
    first = candidate[rows] == earliest[rows, None]
    out[rows] = np.where(first, earliest[rows, None], out[rows])
    return out


def _acquire(
    loaded: LoadedMarket,
    ledgers: tuple[Ledger, ...],
    fixed: NDArray[np.bool_],
    state: tuple[Array, NDArray[np.intp], Array, Array],
    months: NDArray[np.int64],
    joining: dict[str, Array],
    gw_joining: Array,
) -> None:
    """Choose the acquirer of each exit just fixed, and move what passes to it (in place).

    The rule (``consolidation.acquirer``) looks at the month before the exit, which the exit
    does not change: ``largest-cloud-backed`` takes the cloud-backed lab (parent credit
    above 0) with the most revenue, ``highest-bidder`` the lab with the most cash (above 0),
    a lab's name that lab; none left, or ``none``: the lab winds down. The acquirer gets the
    target's subscribers and contracts of that month (they join before its churn) and
    ``compute_share`` of its owned compute from then on. ``state`` is (exit month, heir,
    parent credit, compute share) by sample and lab (the share by sample); ``heir`` and the
    joining arrays are filled in place.
    """
    exit_month, heir, credit, compute_share = state
    market = loaded.market
    rule = market.consolidation.acquirer
    names = loaded.names
    n = exit_month.shape[1]
    first = int(months[0])
    for row, target in zip(*np.nonzero(fixed), strict=True):
        month = int(exit_month[row, target])
        alive = [
            i
            for i in range(n)
            if i != target and (np.isnan(exit_month[row, i]) or exit_month[row, i] > month)
        ]
        before = max(month - 1, 0)
        choice = NO_HEIR
        if rule == "largest-cloud-backed":
            backed = [i for i in alive if credit[row, i] > 0]
            if backed:
                choice = max(backed, key=lambda i: ledgers[i].totals["revenue"][row, before])
        elif rule == "highest-bidder":
            bidders = [i for i in alive if ledgers[i].cash.cash[row, before] > 0]
            if bidders:
                choice = max(bidders, key=lambda i: ledgers[i].cash.cash[row, before])
        elif rule in names and names.index(rule) in alive:
            choice = names.index(rule)
        heir[row, target] = choice
        if choice == NO_HEIR:
            continue
        company = ledgers[target].company
        if month > 0:
            for segment, item in (
                ("consumer", "subscribers"),
                ("enterprise", "enterprise_contracts"),
            ):
                joining[segment][row, choice, month - first] += company[item][row, month - 1]
        gw_joining[row, choice, month:] += compute_share[row] * company["gw_owned"][row, month:]


def _newest_price(inputs: Inputs, plan: Schedule, on_sale: NDArray[np.bool_]) -> Array:
    """List price at release of each month's newest model on sale [USD/Mtok], (samples, T).

    p_g = release price x capability_g ^ price exponent (DESIGN §4, API channel); NaN
    where no model is on sale.
    """
    at_release = (
        inputs["revenue.api.release_price_per_mtok"][:, None]
        * plan.capability ** inputs["revenue.api.price_capability_exponent"][:, None]
    )
    count = on_sale.shape[2]
    newest = count - 1 - on_sale[:, :, ::-1].argmax(axis=2)
    price = np.take_along_axis(at_release, newest, axis=1)
    return np.where(on_sale.any(axis=2), price, np.nan)


def _consumer_price(inputs: Inputs, count: int) -> Array:
    """A lab's subscription price: its tiers' prices weighted by new subscribers [USD/month]."""
    tiers = inputs.scenario.revenue.consumer
    if tiers is None:
        return np.full(count, np.nan)
    prices = [
        inputs[f"revenue.consumer.tiers.{i}.price_per_month"] for i in range(len(tiers.tiers))
    ]
    weights = [
        inputs[f"revenue.consumer.tiers.{i}.new_subscribers_per_month"]
        for i in range(len(tiers.tiers))
    ]
    total = np.sum(weights, axis=0)
    weighted = np.sum([p * w for p, w in zip(prices, weights, strict=True)], axis=0)
    return np.divide(weighted, total, out=np.mean(prices, axis=0), where=total > 0)


def _segment_shares(
    loaded: LoadedMarket,
    inputs: list[Inputs],
    plans: list[Schedule],
    on_sale: list[NDArray[np.bool_]],
    capability: Array,
    months: NDArray[np.int64],
    exit_month: Array,
    heir: NDArray[np.intp],
    seed: int,
    start: int,
    count: int,
) -> dict[str, Array]:
    """Shares of each contested segment, (samples, months, labs [+ open weight])."""
    market = loaded.market
    n = len(plans)
    out: dict[str, Array] = {}
    frontier = capability.max(axis=2)
    open_weight = market.open_weight
    for name in market.segments.names():
        segment = getattr(market.segments, name)
        if name == "api":
            price = np.stack(
                [_newest_price(inputs[i], plans[i], on_sale[i]) for i in range(n)], axis=2
            )
        elif name == "consumer":
            price = np.broadcast_to(
                np.stack([_consumer_price(x, count) for x in inputs], axis=1)[:, None, :],
                (count, months.size, n),
            )
        else:
            value = np.stack(
                [x["revenue.enterprise.contract_value_per_year"] for x in inputs], axis=1
            )
            growth = np.stack(
                [x["revenue.enterprise.contract_value_growth_per_year"] for x in inputs], axis=1
            )
            years = np.maximum(months, 0)[None, :, None] / 12.0
            price = value[:, None, :] * (1.0 + growth[:, None, :]) ** years
        caps, prices = capability, price
        available = np.stack([s.any(axis=2) for s in on_sale], axis=2)
        exits, heirs = exit_month, heir
        if open_weight is not None and name in open_weight.segments:
            lag = np.rint(
                market_value(open_weight.lag_months, "open_weight.lag_months", seed, start, count)
            )
            column = np.arange(months.size)[None, :] - lag[:, None].astype(np.intp)
            lagged = np.where(
                column >= 0,
                np.take_along_axis(frontier, np.clip(column, 0, months.size - 1), axis=1),
                0.0,
            )
            unit = open_weight.price_per_mtok if name == "api" else open_weight.price_per_month
            open_price = market_value(unit, f"open_weight.{name}_price", seed, start, count)
            if name == "enterprise":
                open_price = open_price * 12.0  # a year of it, against a contract's yearly value
            caps = np.concatenate([caps, lagged[:, :, None]], axis=2)
            prices = np.concatenate(
                [prices, np.broadcast_to(open_price[:, None, None], (count, months.size, 1))],
                axis=2,
            )
            available = np.concatenate([available, (lagged > 0)[:, :, None]], axis=2)
            exits = np.concatenate([exits, np.full((count, 1), np.nan)], axis=1)
            heirs = np.concatenate([heirs, np.full((count, 1), NO_HEIR, dtype=np.intp)], axis=1)
        u = utility(
            caps,
            prices,
            market_value(
                segment.capability_premium,
                f"segments.{name}.capability_premium",
                seed,
                start,
                count,
            ),
            market_value(
                segment.price_sensitivity, f"segments.{name}.price_sensitivity", seed, start, count
            ),
        )
        inertia = market_value(segment.inertia, f"segments.{name}.inertia", seed, start, count)
        waits = np.arange(u.shape[2]) < n  # the labs, not the open-weight option
        out[name] = market_shares(
            u, available, inertia, exit_month=exits - months[0], heir=heirs, waits=waits
        )
    return out


def _contest(
    loaded: LoadedMarket,
    shares: dict[str, Array],
    capability: Array,
    months: NDArray[np.int64],
    index: int,
    draw: tuple[int, int, int],
    exit_month: Array,
    joining: dict[str, Array],
    gw_joining: Array,
    credit: Array | None,
) -> Contest:
    """Lab ``index``'s shares, exit month and what joins it from the labs it acquired.

    Arrays are on the lab's own grid (a suffix of the market's months).
    ``draw`` is (seed, first sample, count) of the chunk, for the market's own inputs.
    """
    seed, start, count = draw
    market = loaded.market
    lab_first = min(0, loaded.scenarios[index].generations.first_training_start_month)
    cut = slice(lab_first - int(months[0]), None)
    api = consumer = enterprise = None
    if "api" in shares:
        assert market.segments.api is not None
        exponent = market_value(
            market.segments.api.demand_capability_exponent,
            "segments.api.demand_capability_exponent",
            seed,
            start,
            count,
        )
        frontier = capability.max(axis=2)
        factor = np.where(frontier > 0, frontier, 1.0) ** exponent[:, None]
        api = (shares["api"][:, :, index] * factor)[:, cut]
    if "consumer" in shares:
        consumer = shares["consumer"][:, cut, index]
    if "enterprise" in shares:
        enterprise = shares["enterprise"][:, cut, index]
    gone = bool(np.any(~np.isnan(exit_month)))
    return Contest(
        api=api,
        consumer=consumer,
        enterprise=enterprise,
        exit_month=exit_month if gone else None,
        consumer_joining=_if_any(joining["consumer"][:, index, cut]),
        enterprise_joining=_if_any(joining["enterprise"][:, index, cut]),
        owned_gw_joining=_if_any(gw_joining),
        credit_usd=credit,
    )


def _if_any(values: Array) -> Array | None:
    """``values``, or None when all are 0 (nothing joins: the engine's arithmetic unchanged)."""
    return values if np.any(values) else None
