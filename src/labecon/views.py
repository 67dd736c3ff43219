"""Accounting views derived from a ledger (DESIGN §5), per sample.

- expensed: training is an expense when spent (the conventional P&L of seed 003);
- capitalised: each generation's development spend is an asset amortised evenly over its
  commercial life from release ("if you consider each model to be a company");
- cash: operating cash flow, equity raised, the cash balance, ownership, insolvency;
- compute: tokens served and GW in use;
- per generation: the model as a company — lifetime revenue, inference, training, profit,
  ROI multiple, payback, NPV, IRR, and working-capital recovery (seed 000).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from labecon import finance
from labecon.engine.compiled import sum_generations, sum_months
from labecon.engine.inputs import Inputs
from labecon.engine.lifecycle import spread
from labecon.ledger import CHANNEL_ITEMS, UNATTRIBUTED_COSTS, Ledger
from labecon.sampler import EVENT_PREFIX, Draws
from labecon.scenario.schema import Scenario

Array = NDArray[np.float64]


class Aggregate(StrEnum):
    """How monthly values of an item roll up into a year."""

    FLOW = "sum"  # money per month: the year's total
    STOCK = "last"  # balances: the value at the year's last month
    LEVEL = "mean"  # rates of use (GW): the year's average


VIEWS: dict[str, dict[str, Aggregate]] = {
    "expensed": {
        "revenue": Aggregate.FLOW,
        "inference_cost": Aggregate.FLOW,
        "gross_profit": Aggregate.FLOW,
        "training_cost": Aggregate.FLOW,
        "talent_cost": Aggregate.FLOW,
        "sga_cost": Aggregate.FLOW,
        "other_cost": Aggregate.FLOW,
        "idle_compute_cost": Aggregate.FLOW,
        "compute_premium_cost": Aggregate.FLOW,
        "operating_income": Aggregate.FLOW,
        "revenue_share_cost": Aggregate.FLOW,
        "interest_cost": Aggregate.FLOW,
        "net_income": Aggregate.FLOW,
    },
    "capitalised": {
        "revenue": Aggregate.FLOW,
        "inference_cost": Aggregate.FLOW,
        "gross_profit": Aggregate.FLOW,
        "amortisation": Aggregate.FLOW,
        "talent_cost": Aggregate.FLOW,
        "sga_cost": Aggregate.FLOW,
        "other_cost": Aggregate.FLOW,
        "idle_compute_cost": Aggregate.FLOW,
        "compute_premium_cost": Aggregate.FLOW,
        "operating_income": Aggregate.FLOW,
        "capitalised_training": Aggregate.FLOW,
        "unamortised_training": Aggregate.STOCK,
    },
    "cash": {
        "operating_cash_flow": Aggregate.FLOW,
        "equity_raised": Aggregate.FLOW,
        "financier_funding": Aggregate.FLOW,
        "compute_credits": Aggregate.FLOW,
        "debt_drawn": Aggregate.FLOW,
        "debt_repaid": Aggregate.FLOW,
        "financing_cash_flow": Aggregate.FLOW,
        "net_cash_flow": Aggregate.FLOW,
        "cash": Aggregate.STOCK,
        "ownership": Aggregate.STOCK,
        "insolvent": Aggregate.STOCK,
    },
    "channels": {
        "revenue_top_down": Aggregate.FLOW,
        "revenue_api": Aggregate.FLOW,
        "revenue_consumer": Aggregate.FLOW,
        "revenue_enterprise": Aggregate.FLOW,
        "revenue_licensing": Aggregate.FLOW,
        "revenue_internal": Aggregate.FLOW,
        "cloud_fee": Aggregate.FLOW,
        "forgone_api_revenue": Aggregate.FLOW,
        "revenue_incl_cloud_fee": Aggregate.FLOW,
        "subscribers": Aggregate.STOCK,
        "enterprise_contracts": Aggregate.STOCK,
    },
    "watch": {
        "revenue_growth": Aggregate.STOCK,
        "cost_growth": Aggregate.STOCK,
        "growth_ratio": Aggregate.STOCK,
        "gross_margin": Aggregate.STOCK,
        "burn_multiple": Aggregate.STOCK,
        "enterprise_revenue_per_contract": Aggregate.STOCK,
        "cost_per_mtok": Aggregate.STOCK,
        "inference_cost_per_mtok": Aggregate.STOCK,
        "cost_per_subscriber": Aggregate.STOCK,
    },
    "compute": {
        "tokens_mtok": Aggregate.FLOW,
        "gw_inference": Aggregate.LEVEL,
        "gw_inference_needed": Aggregate.LEVEL,
        "gw_training": Aggregate.LEVEL,
        "gw_total": Aggregate.LEVEL,
        "gw_needed": Aggregate.LEVEL,
        "gw_owned": Aggregate.LEVEL,
        "gw_rented": Aggregate.LEVEL,
        "gw_idle": Aggregate.LEVEL,
        "served_share": Aggregate.LEVEL,
        "gw_revenue_buys": Aggregate.LEVEL,
    },
}

GENERATION_COLUMNS = (
    "training_start_month",
    "release_month",
    "training_cost_usd",
    "lifetime_revenue_usd",
    "lifetime_inference_cost_usd",
    "lifetime_gross_profit_usd",
    "lifetime_profit_usd",
    "roi_multiple",
    "payback_months",
    "npv_usd",
    "irr_per_year",
    "recovery_required_monthly_usd",
    "recovery_months",
    "financier_funding_usd",
    "revenue_share_paid_usd",
    "lab_profit_usd",
)

METRICS = (
    "breakeven_month",
    "cash_breakeven_month",
    "capital_need_usd",
    "capital_to_breakeven_usd",
    "insolvent",
    "insolvency_month",
    "equity_raised_usd",
    "ending_cash_usd",
    "ownership_at_horizon",
    "cumulative_operating_income_usd",
)


@dataclass(frozen=True)
class SampleViews:
    """Per-sample results of one chunk: what Result keeps (the ledger itself is dropped)."""

    statements: dict[str, dict[str, Array]]  # view -> item -> (samples, months)
    generations: dict[str, Array]  # column -> (samples, G)
    metrics: dict[str, Array]  # metric -> (samples,)
    inputs: dict[str, Array]  # uncertain input -> (samples,)
    # (samples, months, G): revenue by generation, summed over samples by ResultBuilder (its
    # mean feeds the layer cakes); not stored per sample.
    revenue_by_generation: Array


def expensed(ledger: Ledger) -> dict[str, Array]:
    """The expensed view: training an expense when spent (seed 003), (samples, months) [USD]."""
    return _expensed(ledger)[0]


def _expensed(ledger: Ledger) -> tuple[dict[str, Array], Array]:
    """The expensed view and the costs no generation carries (opex) [USD/month]."""
    revenue = ledger.company_total("revenue")
    inference = ledger.company_total("inference_cost")
    training = ledger.company_total("training_cost")
    other = {k: ledger.company[k] for k in UNATTRIBUTED_COSTS}
    opex = sum(other.values(), np.zeros_like(revenue))
    gross = revenue - inference
    expensed_income = gross - training - opex
    shares_paid = ledger.company["revenue_share_cost"]
    interest = ledger.company["interest_cost"]
    view = {
        "revenue": revenue,
        "inference_cost": inference,
        "gross_profit": gross,
        "training_cost": training,
        **other,
        "operating_income": expensed_income,
        "revenue_share_cost": shares_paid,
        "interest_cost": interest,
        # Net income and operating cash flow agree: training is expensed, interest is paid.
        "net_income": expensed_income - shares_paid - interest,
    }
    return view, opex


def statements(ledger: Ledger) -> dict[str, dict[str, Array]]:
    """The expensed, capitalised, cash and compute views of a ledger, (samples, months)."""
    w = ledger.window
    expensed_view, opex = _expensed(ledger)
    revenue = expensed_view["revenue"]
    inference = expensed_view["inference_cost"]
    training = expensed_view["training_cost"]
    other = {k: expensed_view[k] for k in UNATTRIBUTED_COSTS}
    gross = expensed_view["gross_profit"]

    amortisation_by_gen = amortisation(ledger)
    amort = sum_generations(amortisation_by_gen, w.start)
    spend_before = ledger.by_generation["training_cost"][:, : -ledger.first_month or 0, :]
    amort_before = amortisation_by_gen[:, : -ledger.first_month or 0, :]
    opening = spend_before.sum(axis=(1, 2)) - amort_before.sum(axis=(1, 2))
    balance = opening[:, None] + np.cumsum(training - amort, axis=1)

    cash = ledger.cash
    operating_cash = expensed_view["net_income"]
    company = ledger.company
    financing_in = (
        cash.equity_raised
        + company["financier_funding"]
        + company["compute_credits"]
        + company["debt_drawn"]
        - company["debt_repaid"]
    )
    views = {
        "expensed": expensed_view,
        "capitalised": {
            "revenue": revenue,
            "inference_cost": inference,
            "gross_profit": gross,
            "amortisation": amort,
            **other,
            "operating_income": gross - amort - opex,
            "capitalised_training": training,
            "unamortised_training": balance,
        },
        "cash": {
            "operating_cash_flow": operating_cash,
            "equity_raised": cash.equity_raised,
            "financier_funding": ledger.company["financier_funding"],
            "compute_credits": ledger.company["compute_credits"],
            "debt_drawn": company["debt_drawn"],
            "debt_repaid": company["debt_repaid"],
            "financing_cash_flow": financing_in,
            "net_cash_flow": operating_cash + financing_in,
            "cash": cash.cash,
            "ownership": cash.ownership,
            "insolvent": cash.insolvent.astype(np.float64),
        },
        "channels": {
            **{item: ledger.company[item] for item in CHANNEL_ITEMS},
            "revenue_incl_cloud_fee": revenue + ledger.company["cloud_fee"],
        },
        "compute": compute_view(ledger),
    }
    views["watch"] = watch_view(views, ledger)
    return views


def trailing_year(monthly: Array) -> Array:
    """Sum of the last 12 months, NaN until 12 months exist, (samples, months)."""
    cumulative = np.cumsum(monthly, axis=1)
    out = np.full_like(monthly, np.nan)
    if monthly.shape[1] >= 12:
        out[:, 11] = cumulative[:, 11]
        out[:, 12:] = cumulative[:, 12:] - cumulative[:, :-12]
    return out


def year_on_year(trailing: Array) -> Array:
    """Growth of a trailing-12-month sum over the year before [fraction], NaN when undefined."""
    out = np.full_like(trailing, np.nan)
    before, now = trailing[:, :-12], trailing[:, 12:]
    with np.errstate(invalid="ignore"):
        out[:, 12:] = np.divide(now, before, out=np.full_like(now, np.nan), where=before > 0) - 1
    return out


def _ratio(numerator: Array, denominator: Array) -> Array:
    with np.errstate(invalid="ignore"):
        return np.divide(
            numerator,
            denominator,
            out=np.full_like(numerator, np.nan),
            where=denominator > 0,
        )


def watch_view(views: dict[str, dict[str, Array]], ledger: Ledger) -> dict[str, Array]:
    """What to watch (seed 001): revenue growth against cost growth, margins, burn, unit costs.

    Seed 001: "the ratio of revenue growth to cost growth. If revenue is growing faster than
    costs, the companies are on a path to profitability"; "the trajectory of average revenue
    per customer in the enterprise segment". Seed 002: high fixed, low marginal cost, so the
    average cost per token falls as the lab scales. Growth figures compare the trailing 12
    months with the 12 before (NaN in the first two years); the burn multiple is the
    trailing year's burn over the annualised revenue added in that year.
    """
    expensed = views["expensed"]
    revenue = expensed["revenue"]
    costs = revenue - expensed["operating_income"]
    revenue_ttm, costs_ttm = trailing_year(revenue), trailing_year(costs)
    revenue_growth, cost_growth = year_on_year(revenue_ttm), year_on_year(costs_ttm)
    burn = np.maximum(-trailing_year(views["cash"]["operating_cash_flow"]), 0.0)
    new_arr = np.full_like(revenue, np.nan)
    new_arr[:, 12:] = 12 * (revenue[:, 12:] - revenue[:, :-12])
    tokens = ledger.company["tokens_mtok"]
    return {
        "revenue_growth": revenue_growth,
        "cost_growth": cost_growth,
        "growth_ratio": _ratio(1 + revenue_growth, 1 + cost_growth),
        "gross_margin": _ratio(revenue - expensed["inference_cost"], revenue),
        "burn_multiple": _ratio(burn, new_arr),
        "enterprise_revenue_per_contract": _ratio(
            12 * ledger.company["revenue_enterprise"], ledger.company["enterprise_contracts"]
        ),
        "cost_per_mtok": _ratio(costs, tokens),
        "inference_cost_per_mtok": _ratio(expensed["inference_cost"], tokens),
        "cost_per_subscriber": _ratio(costs, ledger.company["subscribers"]),
    }


def compute_view(ledger: Ledger) -> dict[str, Array]:
    """Tokens and GW: in use, needed, held, rented, idle; and what revenue could buy."""
    company = ledger.company
    needed = company["gw_training"] + company["gw_inference_needed"]
    in_use = company["gw_training"] + company["gw_inference"]
    return {
        "tokens_mtok": company["tokens_mtok"],
        "gw_inference": company["gw_inference"],
        "gw_inference_needed": company["gw_inference_needed"],
        "gw_training": company["gw_training"],
        "gw_total": in_use,
        "gw_needed": needed,
        "gw_owned": company["gw_owned"],
        "gw_rented": company["gw_rented"],
        "gw_idle": np.maximum(company["gw_owned"] - in_use, 0.0),
        "served_share": np.divide(
            company["gw_inference"],
            company["gw_inference_needed"],
            out=np.ones_like(needed),
            where=company["gw_inference_needed"] > 0,
        ),
        "gw_revenue_buys": company["gw_revenue_buys"],
    }


def amortisation(ledger: Ledger) -> Array:
    """Straight-line amortisation of each generation over its commercial life [USD/month].

    Development spend of g is amortised evenly over months r_g .. r_g + L - 1, the life
    over which Amodei's "each model as a company" earns its revenue (seed 003).
    """
    plan = ledger.schedule
    months = np.arange(ledger.first_month, ledger.horizon)[None, :, None]
    on_sale = (plan.release[:, None, :] <= months) & (months < plan.retire[:, None, :])
    per_month = np.where(ledger.cancelled, 0.0, plan.development_cost / plan.lifetime)
    return spread(on_sale, per_month)


def lifetime(ledger: Ledger) -> dict[str, Array]:
    """The generations table's timing and lifetime totals, (samples, G); NaN where not trained.

    When each generation trained and was released [month index], and its lifetime totals
    [USD]. The columns of :func:`generations` without the discounted and timed ones (NPV, IRR,
    payback): what the dashboard's preview draws.
    """
    return _not_trained_nan(ledger, _lifetime(ledger))


def _lifetime(ledger: Ledger) -> dict[str, Array]:
    plan = ledger.schedule
    training_total = sum_months(ledger.by_generation["training_cost"])
    revenue_total = sum_months(ledger.by_generation["revenue"])
    inference_total = sum_months(ledger.by_generation["inference_cost"])
    return {
        "training_start_month": plan.training_start.astype(np.float64),
        "release_month": plan.release.astype(np.float64),
        "training_cost_usd": training_total,
        "lifetime_revenue_usd": revenue_total,
        "lifetime_inference_cost_usd": inference_total,
        "lifetime_gross_profit_usd": revenue_total - inference_total,
        "lifetime_profit_usd": revenue_total - inference_total - training_total,
    }


def _not_trained_nan(ledger: Ledger, table: dict[str, Array]) -> dict[str, Array]:
    """``table`` with NaN for the generations a sample does not train (cancelled or late)."""
    absent = ledger.cancelled | (ledger.schedule.training_start >= ledger.horizon)
    return {k: np.where(absent, np.nan, v) for k, v in table.items()}


def generations(ledger: Ledger, scenario: Scenario, draws: Draws) -> dict[str, Array]:
    """The model-as-company table per sample, (samples, G); NaN for generations not trained."""
    plan = ledger.schedule
    revenue = ledger.by_generation["revenue"]
    inference = ledger.by_generation["inference_cost"]
    training = ledger.by_generation["training_cost"]
    gross = revenue - inference
    profit = gross - training
    release_col = plan.release - ledger.first_month
    start_col = plan.training_start - ledger.first_month
    totals = _lifetime(ledger)
    training_total = totals["training_cost_usd"]
    revenue_total = totals["lifetime_revenue_usd"]
    inference_total = totals["lifetime_inference_cost_usd"]
    nothing = np.zeros_like(revenue_total)
    funded = (
        sum_months(ledger.by_generation["financier_paid"])
        if "financier_paid" in ledger.by_generation
        else nothing
    )
    shared = (
        sum_months(ledger.by_generation["revenue_share"])
        if "revenue_share" in ledger.by_generation
        else nothing
    )
    inputs = Inputs(scenario, draws, ledger.samples)
    rate = inputs["analysis.discount_rate_per_year"]
    recovery = inputs["analysis.recovery_months"]
    span, life = window_spans(scenario, revenue.shape[1])
    profit_window = finance.windows(profit, start_col, span)  # from training start
    table = {
        **totals,
        # A model not yet on sale by the horizon has no return to speak of yet.
        "roi_multiple": np.divide(
            revenue_total,
            training_total,
            out=np.full_like(revenue_total, np.nan),
            where=(training_total > 0) & (plan.release < ledger.horizon),
        ),
        "payback_months": finance.months_to_reach(
            finance.windows(gross, release_col, life), training_total
        ),
        "npv_usd": finance.present_value(profit_window, rate),
        "irr_per_year": finance.irr_per_year(profit_window),
        "recovery_required_monthly_usd": training_total / recovery[:, None],
        "financier_funding_usd": funded,
        "revenue_share_paid_usd": shared,
        # The lab's own result on the model: profit, plus training others paid, less shares.
        "lab_profit_usd": revenue_total - inference_total - training_total + funded - shared,
        "recovery_months": finance.months_to_reach(
            finance.windows(revenue, release_col, life), training_total
        ),
    }
    return _not_trained_nan(ledger, table)


def window_spans(scenario: Scenario, grid_months: int) -> tuple[int, int]:
    """Months read per generation: (training + life, for IRR; life, for payback).

    A generation has flows only while it trains and while it is on sale; both spans are
    fixed by the scenario, not by the samples of a chunk, so results do not depend on the
    chunk size (a sum's rounding depends on its length). Uncertain durations read the grid.
    """
    duration = scenario.generations.training_months
    lifetime = scenario.lifecycle.lifetime_months
    if isinstance(duration, float) and isinstance(lifetime, float):
        life = min(grid_months, max(round(lifetime), 1))
        return min(grid_months, max(round(duration), 1) + life), life
    return grid_months, grid_months


def first_month_positive_ttm(monthly: Array) -> Array:
    """First month whose trailing 12-month sum is > 0 (needs 12 full months), else NaN."""
    months = monthly.shape[1]
    if months < 12:
        return np.full(monthly.shape[0], np.nan)
    cumulative = np.cumsum(monthly, axis=1)
    ttm = cumulative[:, 11:] - np.concatenate(
        [np.zeros((monthly.shape[0], 1)), cumulative[:, :-12]], axis=1
    )
    positive = ttm > 0
    return np.where(positive.any(axis=1), positive.argmax(axis=1) + 11.0, np.nan)


def capital_until(flow: Array, month: Array) -> Array:
    """Peak cumulative burn up to and including ``month`` [USD]; NaN where it never comes.

    The capital a lab must raise before it breaks even (DESIGN §1, question 8).
    """
    columns = np.arange(flow.shape[1])[None, :]
    until = np.where(np.isnan(month), -1, month)[:, None]
    cumulative = np.where(columns <= until, np.cumsum(flow, axis=1), np.inf)
    need = -np.minimum(cumulative.min(axis=1), 0.0)
    return np.where(np.isnan(month), np.nan, need)


def metrics(views: dict[str, dict[str, Array]], ledger: Ledger) -> dict[str, Array]:
    """Per-sample metrics (DESIGN §5): breakeven, capital need, insolvency, raises."""
    expensed = views["expensed"]["operating_income"]
    cash_view = views["cash"]
    flow = cash_view["operating_cash_flow"]
    breakeven = first_month_positive_ttm(expensed)
    return {
        "breakeven_month": breakeven,
        "cash_breakeven_month": first_month_positive_ttm(flow),
        "capital_need_usd": -np.minimum(np.cumsum(flow, axis=1).min(axis=1), 0.0),
        "capital_to_breakeven_usd": capital_until(flow, breakeven),
        "insolvent": ledger.cash.insolvent[:, -1].astype(np.float64),
        "insolvency_month": ledger.cash.insolvency_month,
        "equity_raised_usd": cash_view["equity_raised"].sum(axis=1),
        "ending_cash_usd": cash_view["cash"][:, -1],
        "ownership_at_horizon": cash_view["ownership"][:, -1],
        "cumulative_operating_income_usd": expensed.sum(axis=1),
    }


def sample_views(ledger: Ledger, scenario: Scenario, draws: Draws) -> SampleViews:
    """Reduce one chunk's ledger to the per-sample results a Result keeps."""
    views = statements(ledger)
    revenue = ledger.by_generation["revenue"][:, ledger.window, :]
    return SampleViews(
        statements=views,
        generations=generations(ledger, scenario, draws),
        metrics=metrics(views, ledger),
        inputs={k: v for k, v in draws.items() if not k.startswith(EVENT_PREFIX)},
        revenue_by_generation=revenue,
    )
