"""One chunk of samples through the whole model: schedule → traffic → revenue → costs → cash.

Insolvency feeds back into the schedule (an insolvent lab starts no new generation), so a
chunk runs in two passes: the first with every generation planned, the second, only for
samples that became insolvent, with the generations they could not start cancelled. Both
passes agree up to the month of insolvency, so the second changes nothing before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine import (
    capital,
    channels,
    compiled,
    compute,
    financing,
    inference,
    internal,
    lifecycle,
    opex,
    revenue,
)
from labecon.engine.bottom_up import BottomUp, bottom_up
from labecon.engine.compiled import sum_generations, sum_months
from labecon.engine.contest import Contest
from labecon.engine.generations import Schedule, schedule
from labecon.engine.inputs import Array, Inputs
from labecon.ledger import CHANNEL_ITEMS, REVENUE_CHANNELS, UNATTRIBUTED_COSTS, Ledger
from labecon.sampler import Draws
from labecon.scenario.schema import Scenario


def simulate_chunk(
    scenario: Scenario, draws: Draws, count: int, contest: Contest | None = None
) -> Ledger:
    """Simulate ``count`` samples whose input draws are ``draws``; returns their ledger.

    ``contest``: the lab's shares of a market's demand (:mod:`labecon.market`); None alone.
    """
    inputs = Inputs(scenario, draws, count)
    plan = schedule(inputs, scenario.generation_count)
    none_cancelled = np.zeros(plan.release.shape, dtype=bool)
    life_weight = planned = None
    if _top_down(scenario):
        planned = _planned_shares(inputs, plan)
        life_weight = sum_months(planned)
        if scenario.strategies.open_source_eol is not None:
            # The multiple is earned over the natural life; an open release cuts it short.
            natural = schedule(inputs, scenario.generation_count, open_release=False)
            life_weight = sum_months(_planned_shares(inputs, natural))
        planned = planned[:, : len(_grid(scenario)), :]
    ledger = _simulate(inputs, plan, none_cancelled, life_weight, planned, contest)
    stop = ledger.cash.insolvency_month
    cancelled = plan.training_start > np.where(np.isnan(stop), np.inf, stop)[:, None]
    rows = np.flatnonzero(cancelled.any(axis=1))
    if rows.size == 0:
        return ledger
    again = _simulate(
        inputs.subset(rows),
        _take(plan, rows),
        cancelled[rows],
        None if life_weight is None else life_weight[rows],
        contest=None if contest is None else contest.rows(rows),
    )
    return ledger.with_rows(rows, again)


def _top_down(scenario: Scenario) -> bool:
    return scenario.revenue.mode == "top_down"


def _grid(scenario: Scenario) -> NDArray[np.int64]:
    first = min(0, scenario.generations.first_training_start_month)
    return np.arange(first, scenario.horizon_months, dtype=np.int64)


def _planned_shares(inputs: Inputs, plan: Schedule) -> Array:
    """Traffic shares with every generation planned, (samples, months, G).

    They run from the grid's start to the end of the last life; their sum over months
    weighs top-down revenue.
    """
    first = min(0, inputs.scenario.generations.first_training_start_month)
    end = max(inputs.scenario.horizon_months, int(plan.retire.max()))
    months = np.arange(first, end, dtype=np.int64)
    shares = lifecycle.traffic_shares(
        plan,
        months,
        np.zeros(plan.release.shape, dtype=bool),
        inputs["lifecycle.ramp_months"],
        inputs["lifecycle.legacy_retention"],
    )
    return shares


def _take(plan: Schedule, rows: NDArray[np.intp]) -> Schedule:
    return Schedule(**{k: v[rows] for k, v in vars(plan).items()})


def _window_total(flows: Array | None, window: slice, like: Array) -> Array:
    """Sum over generations of a per-generation flow over the window; zeros when absent."""
    return np.zeros_like(like) if flows is None else sum_generations(flows, window.start)


@dataclass(frozen=True)
class Financed:
    """Financing of training by generation (samples, grid months, G) [USD/month]."""

    paid: Array | None  # by financiers into the lab; None without training finance
    received: Array | None  # by financiers out of the generation's revenue
    credits: Array | None  # training paid in kind with compute credits


def _financing(inputs: Inputs, training: Array, revenue: Array) -> Financed:
    """Financier flows and compute credits of the strategies a scenario turns on."""
    strategies = inputs.scenario.strategies
    paid = received = credits = None
    if strategies.training_finance is not None:
        t = "strategies.training_finance."
        cap = inputs[t + "cap_multiple"]
        if strategies.open_source_eol is not None and inputs.given(
            "strategies.open_source_eol.financier_cap_multiple"
        ):
            # The open-release guarantee is what lets financiers accept a lower cap.
            cap = inputs["strategies.open_source_eol.financier_cap_multiple"]
        flows = financing.financier(
            training,
            revenue,
            inputs[t + "share_of_training"],
            inputs[t + "revenue_share"],
            cap,
            strategies.training_finance.from_generation,
        )
        paid, received = flows.paid, flows.received
    if strategies.compute_credits is not None:
        credits = financing.compute_credits(
            training,
            inputs["strategies.compute_credits.share_of_training"],
            strategies.compute_credits.from_generation,
        )
    return Financed(paid, received, credits)


@dataclass(frozen=True)
class Venture:
    """Internal venture flows: revenue and GW by generation, API revenue forgone."""

    revenue: Array  # (samples, grid months, G) [USD/month]
    gw: Array  # (samples, grid months, G) [GW]
    forgone: Array  # (samples, grid months) [USD/month]


def _internal_venture(
    inputs: Inputs,
    months: NDArray[np.int64],
    shares: Array,
    revenue_so_far: Array,
    gw_so_far: Array,
) -> Venture:
    """The venture's revenue and compute, attributed to the models on sale by traffic share.

    Its GW are taken from serving: the API revenue they would have earned at the current
    models' average revenue per GW is shown beside it as ``forgone_api_revenue``.
    """
    v = "strategies.internal."
    firms = internal.firms_sharing(
        inputs[v + "firms_at_start"], inputs[v + "new_firms_per_year"], months
    )
    revenue_total = internal.venture_revenue(
        inputs[v + "edge_per_year"],
        inputs[v + "edge_growth_per_year"],
        firms,
        months,
        np.rint(inputs[v + "start_month"]),
    )
    start = np.rint(inputs[v + "start_month"])[:, None]
    gw_total = np.where(months[None, :] >= start, inputs[v + "gw"][:, None], 0.0)
    gw = channels.attribute(gw_total, shares)
    serving_gw = sum_generations(gw_so_far)
    per_gw = np.divide(  # [USD/month per GW]
        sum_generations(revenue_so_far),
        serving_gw,
        out=np.zeros_like(serving_gw),
        where=serving_gw > 0,
    )
    return Venture(
        revenue=channels.attribute(revenue_total, shares),
        gw=gw,
        forgone=sum_generations(gw) * per_gw,
    )


def channel_totals(
    flows: BottomUp | None,
    window: slice,
    revenue: Array,
    served: Array | None,
    venture: Venture | None = None,
) -> dict[str, Array]:
    """Company revenue by channel, the clouds' cut and customer counts over the window.

    Top-down revenue is not split by channel and shows as ``revenue_top_down``; channels a
    scenario does not use are zero. Under a hard compute cap each channel keeps what needs
    none of the lab's compute and loses the unserved share of the rest, as its generations do.
    """
    out = dict.fromkeys(CHANNEL_ITEMS, np.zeros_like(revenue))
    if venture is not None:
        out["revenue_internal"] = sum_generations(venture.revenue, window.start)
        out["forgone_api_revenue"] = venture.forgone[:, window]
    if flows is None:
        out["revenue_top_down"] = revenue - out["revenue_internal"]
        return out
    out.update({name: values[:, window] for name, values in flows.by_channel.items()})
    if served is not None:
        # The clouds' cut shrinks with the tokens sold through them that the lab serves.
        for name in (*REVENUE_CHANNELS, "cloud_fee"):
            fixed = flows.fixed_by_channel.get(name)
            kept = 0.0 if fixed is None else fixed[:, window]
            out[name] = kept + (out[name] - kept) * served
    return out


def training_spend(
    plan: Schedule, months: NDArray[np.int64], cancelled: NDArray[np.bool_]
) -> tuple[Array, Array]:
    """Development spend of each generation, evenly over its training window [USD/month].

    And its sum over generations (samples, months), for :func:`compiled.generation_total`.
    """
    return compiled.training_cells(
        plan.training_start,
        plan.training_months,
        cancelled,
        plan.development_cost / plan.training_months,
        months,
    )


def _simulate(
    inputs: Inputs,
    plan: Schedule,
    cancelled: NDArray[np.bool_],
    life_weight: Array | None,
    shares: Array | None = None,
    contest: Contest | None = None,
) -> Ledger:
    scenario = inputs.scenario
    months = _grid(scenario)
    first = int(months[0])
    window = slice(-first, None)
    horizon = scenario.horizon_months
    ages = on_sale = None
    if shares is None or life_weight is None:
        ages = lifecycle.Ages.of(plan, months)
        on_sale = lifecycle.active(plan, months, cancelled)
    if shares is None:
        shares = lifecycle.traffic_shares(
            plan,
            months,
            cancelled,
            inputs["lifecycle.ramp_months"],
            inputs["lifecycle.legacy_retention"],
            ages,
            on_sale,
        )
    price = inference.cost_per_gw_month(inputs)  # [USD/GW-month]
    # Sums over generations a kernel gave with its cells (None: sum the cells).
    revenue_total: Array | None = None
    tokens_total: Array | None = None
    gw_total: Array | None = None
    inference_total: Array | None = None
    if life_weight is not None:
        basis = revenue.revenue_basis(plan.scale_cost, inputs["generations.capability_stall_after"])
        gen_revenue = revenue.top_down_revenue(
            basis, inputs["revenue.top_down.revenue_multiple"], shares, life_weight
        )
        serving_share = inputs["revenue.top_down.inference_cost_share"]
        serving_share = serving_share * inference.routing_factor(inputs)
        gen_tokens = np.zeros(gen_revenue.shape)  # calloc: no pass over the array
        # Without a serving cost, finite revenue (>= 0) times 0 is +0.0, and so are the GW:
        # zeros, not a product, a division and their sums over generations.
        serving_free = bool(np.all(serving_share == 0) and np.all(np.isfinite(gen_revenue)))
        if serving_free:
            gen_inference, gen_gw = np.zeros(gen_revenue.shape), np.zeros(gen_revenue.shape)
        else:
            gen_inference = gen_revenue * serving_share[:, None, None]
            gen_gw = np.divide(
                gen_inference,
                price[:, None, None],
                out=np.zeros(gen_inference.shape),
                where=price[:, None, None] > 0,
            )
        flows = None
    else:
        assert on_sale is not None
        serving_free = False
        flows = bottom_up(inputs, plan, months, shares, on_sale, ages, contest)
        gen_revenue = flows.revenue
        gen_tokens = flows.lab_tokens
        gen_gw, gen_inference, gw_total, inference_total = inference.serving(
            inputs, plan, months, gen_tokens, price
        )
        revenue_total, tokens_total = flows.revenue_total, flows.tokens_total
    venture = None
    if scenario.strategies.internal is not None:
        venture = _internal_venture(inputs, months, shares, gen_revenue, gen_gw)
        serving_free = False
        gen_revenue = gen_revenue + venture.revenue
        gen_gw = gen_gw + venture.gw
        gen_inference = gen_inference + venture.gw * price[:, None, None]
        revenue_total = tokens_total = gw_total = inference_total = None  # cells changed
    gen_training, training_total = training_spend(plan, months, cancelled)
    window_training = compiled.generation_total(training_total, gen_training, window.start)
    gw_training = inference.training_gw(inputs, window_training)
    gw_needed = (
        np.zeros_like(window_training)
        if serving_free
        else compiled.generation_total(gw_total, gen_gw, window.start)
    )
    mode = scenario.compute.capacity
    owned = compute.owned_gw(
        inputs["compute.owned_gw"],
        inputs["compute.owned_gw_growth_per_year"],
        inputs["compute.owned_gw_max"],
        months[window].astype(np.float64),
    )
    if contest is not None and contest.owned_gw_joining is not None:
        owned = owned + contest.owned_gw_joining  # compute of labs it acquired
    if mode == "unconstrained":
        owned = np.zeros_like(owned)
    use = compute.allocate(mode, owned, gw_training, gw_needed)
    if mode == "hard":
        # Unserved demand earns nothing and costs nothing, in every generation alike; what the
        # lab books on tokens its clouds serve, and licensing, need none of its compute.
        served = use.served_share[:, :, None]
        fixed = 0.0 if flows is None else flows.fixed_revenue[:, window, :]
        gen_revenue[:, window, :] = fixed + (gen_revenue[:, window, :] - fixed) * served
        for flow in (gen_inference, gen_tokens):
            flow[:, window, :] *= served
        revenue_total = tokens_total = inference_total = None  # cells changed in place

    financed = _financing(inputs, gen_training, gen_revenue)
    company_revenue = compiled.generation_total(revenue_total, gen_revenue, window.start)
    channel_items = channel_totals(
        flows, window, company_revenue, use.served_share if mode == "hard" else None, venture
    )
    window_months = months[window]
    company = {
        "talent_cost": opex.talent_cost(inputs, window_months),
        "sga_cost": opex.sga_cost(inputs, company_revenue),
        "other_cost": opex.other_cost(inputs, horizon),
        "idle_compute_cost": use.idle_gw * price[:, None],
        "compute_premium_cost": use.rented_gw * (price * inputs["compute.rent_premium"])[:, None],
        # Top-down revenue sells no tokens: zeros, not a sum of zeros.
        "tokens_mtok": (
            np.zeros_like(company_revenue)
            if flows is None
            else compiled.generation_total(tokens_total, gen_tokens, window.start)
        ),
        "gw_inference": use.gw_inference,
        "gw_inference_needed": gw_needed,
        "gw_training": gw_training,
        "gw_owned": owned,
        "gw_rented": use.rented_gw,
        # Seed 004: "$44bn in annualized revenue ... is enough for maybe 3-4 GW": revenue
        # as customers pay it, including the clouds' cut.
        "gw_revenue_buys": np.divide(
            company_revenue + channel_items["cloud_fee"],
            price[:, None],
            out=np.zeros_like(company_revenue),
            where=price[:, None] > 0,
        ),
        **channel_items,
    }

    company["financier_funding"] = _window_total(financed.paid, window, company_revenue)
    company["revenue_share_cost"] = _window_total(financed.received, window, company_revenue)
    company["compute_credits"] = _window_total(financed.credits, window, company_revenue)
    loans = [
        financing.debt(
            inputs[f"capital.debt.{i}.month"],
            inputs[f"capital.debt.{i}.amount"],
            inputs[f"capital.debt.{i}.rate_per_year"],
            inputs[f"capital.debt.{i}.term_months"],
            horizon,
        )
        for i in range(len(scenario.capital.debt))
    ]
    zero = np.zeros_like(company_revenue)
    company["debt_drawn"] = sum((loan.drawn for loan in loans), zero)
    company["debt_repaid"] = sum((loan.repaid for loan in loans), zero)
    company["interest_cost"] = sum((loan.interest for loan in loans), zero)
    unattributed = sum(company[item] for item in UNATTRIBUTED_COSTS)
    company_inference = (
        np.zeros_like(company_revenue)
        if serving_free
        else compiled.generation_total(inference_total, gen_inference, window.start)
    )
    operating_cash_flow = (
        company_revenue
        - company_inference
        - window_training
        - unattributed
        - company["revenue_share_cost"]
        - company["interest_cost"]
    )
    return Ledger(
        first_month=first,
        horizon=horizon,
        schedule=plan,
        cancelled=cancelled,
        by_generation={
            "revenue": gen_revenue,
            "inference_cost": gen_inference,
            "training_cost": gen_training,
            **(
                {"financier_paid": financed.paid, "revenue_share": financed.received}
                if financed.paid is not None and financed.received is not None
                else {}
            ),
        },
        company=company,
        cash=capital.cash_path(
            inputs,
            operating_cash_flow,
            company_revenue,
            company["financier_funding"] + company["debt_drawn"] - company["debt_repaid"],
            company["compute_credits"],
            None if contest is None else contest.credit_usd,
        ),
        totals={
            "revenue": company_revenue,
            "inference_cost": company_inference,
            "training_cost": window_training,
        },
    )
