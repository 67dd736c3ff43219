"""Cash, equity raises and insolvency (DESIGN §4, 'Cash and capital').

cash(t) = cash(t-1) + operating cash flow(t) + equity raised(t). Under the ``runway``
policy the lab raises ``raise_months`` of trailing burn (plus any shortfall) when cash
falls below ``runway_trigger_months`` of burn, at a pre-money valuation of ARR times
``valuation_multiple`` (seed 001: capital "filled, so far, by an extraordinary influx of
investment"); existing holders are diluted by raise / (pre-money + raise), at most
``max_dilution_per_round`` (seed 004: "only about ~another round of capital left"). A sample whose
cash is below zero after the month's funding is insolvent from then on and raises no more.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine.inputs import Array, Inputs
from labecon.sampler import RAISE_OUTCOME

MONTHS_PER_YEAR = 12.0


@dataclass(frozen=True)
class CashPath:
    """Month-end cash and financing, arrays (samples, months) unless noted."""

    cash: Array  # [USD], end of month
    equity_raised: Array  # [USD/month]
    ownership: Array  # share of the company held by the holders at the start [fraction]
    insolvent: NDArray[np.bool_]
    insolvency_month: Array  # first insolvent month, NaN when never; shape (samples,)


def cash_path(
    inputs: Inputs,
    operating_cash_flow: Array,
    revenue: Array,
    other_financing: Array | None = None,
    equity_in_kind: Array | None = None,
    credit: Array | None = None,
) -> CashPath:
    """Run the cash balance month by month, vectorised over samples.

    ``other_financing`` is cash in from financiers [USD/month]; ``equity_in_kind`` is
    training paid with compute credits [USD/month], cash-neutral (it pays an expense already
    in the operating cash flow) but diluting at the month's pre-money valuation (not at all
    where that valuation is zero). ``credit`` (samples,) [USD] is a parent's credit line (in a
    market): the lab is insolvent only once its cash is below minus the credit.
    """
    funding = inputs.scenario.capital.funding
    n, months = operating_cash_flow.shape
    cash = np.empty((n, months))
    raised = np.zeros((n, months))
    ownership = np.empty((n, months))
    insolvent = np.zeros((n, months), dtype=bool)
    balance = inputs["capital.starting_cash"].copy()
    held = np.ones(n)
    broke = np.zeros(n, dtype=bool)
    trigger = inputs["capital.funding.runway_trigger_months"]
    size = inputs["capital.funding.raise_months"]
    multiple = inputs["capital.funding.valuation_multiple"]
    floor = inputs["capital.funding.min_pre_money"]
    window = funding.burn_window_months
    most = inputs["capital.funding.max_dilution_per_round"]
    # Selling share d of the post-money company raises d / (1 - d) of the pre-money value.
    largest = np.nan_to_num(inputs["capital.funding.max_raise"], nan=np.inf)
    appetite = most / np.maximum(1 - most, 1e-12)
    trailing = np.cumsum(operating_cash_flow, axis=1)
    outcome = inputs.event(RAISE_OUTCOME)
    success = inputs["capital.funding.raise_success_probability"]
    extra = np.zeros((n, months)) if other_financing is None else other_financing
    ipo_month = ipo_amount = ipo_multiple = None
    if inputs.scenario.capital.ipo is not None:
        ipo_month = np.rint(inputs["capital.ipo.month"])
        ipo_amount = inputs["capital.ipo.amount"]
        ipo_multiple = inputs["capital.ipo.valuation_multiple"]
    in_kind = np.zeros((n, months)) if equity_in_kind is None else equity_in_kind
    for t in range(months):
        balance = balance + operating_cash_flow[:, t] + extra[:, t] + in_kind[:, t]
        if in_kind[:, t].any():
            valued = np.maximum(revenue[:, t] * MONTHS_PER_YEAR * multiple, floor)
            issued = in_kind[:, t]
            # Without a valuation (no revenue, no floor) the equity cannot be priced: the
            # credits are recorded but dilute no one; set min_pre_money to price them.
            held = held * (
                1
                - np.divide(
                    issued, valued + issued, out=np.zeros(n), where=(issued > 0) & (valued > 0)
                )
            )
        if funding.policy == "unlimited":
            amount = np.maximum(-balance, 0.0)
        elif funding.policy == "runway":
            lo = max(0, t - window + 1)
            flow = trailing[:, t] - (trailing[:, lo - 1] if lo > 0 else 0.0)
            burn = np.maximum(-flow / (t - lo + 1), 0.0)
            pre_money = np.maximum(revenue[:, t] * MONTHS_PER_YEAR * multiple, floor)
            wants = ~broke & (burn > 0) & (balance < trigger * burn) & (pre_money > 0)
            if outcome is not None:
                # Seed 004: "only about ~another round of capital left": rounds can fail.
                wants &= outcome[:, t] < success
            amount = np.where(wants, size * burn + np.maximum(-balance, 0.0), 0.0)
            sellable = np.where(most < 1, appetite * pre_money, np.inf)
            amount = np.minimum(np.minimum(amount, sellable), largest)
            dilution = np.divide(amount, pre_money + amount, out=np.zeros(n), where=amount > 0)
            held = held * (1 - dilution)
        else:
            amount = np.zeros(n)
        if ipo_month is not None and ipo_amount is not None and ipo_multiple is not None:
            # Seed 004: "If they go public, this level of funding can continue."
            listing = (ipo_month == t) & ~broke
            pre_money = np.maximum(revenue[:, t] * MONTHS_PER_YEAR * ipo_multiple, floor)
            sold = np.where(listing & (pre_money > 0), ipo_amount, 0.0)
            held = held * (1 - np.divide(sold, pre_money + sold, out=np.zeros(n), where=sold > 0))
            amount = amount + sold
        balance = balance + amount
        raised[:, t] = amount
        broke = broke | (balance < (0.0 if credit is None else -credit))
        cash[:, t] = balance
        ownership[:, t] = held
        insolvent[:, t] = broke
    first = np.where(insolvent.any(axis=1), insolvent.argmax(axis=1), np.nan)
    return CashPath(cash, raised, ownership, insolvent, first.astype(np.float64))
