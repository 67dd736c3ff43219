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

from labecon.engine.compiled import FUNDING_POLICIES, cash_months
from labecon.engine.inputs import Array, Inputs
from labecon.sampler import RAISE_OUTCOME


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
    """Run the cash balance month by month (compiled: :func:`compiled.cash_months`).

    ``other_financing`` is cash in from financiers [USD/month]; ``equity_in_kind`` is
    training paid with compute credits [USD/month], cash-neutral (it pays an expense already
    in the operating cash flow) but diluting at the month's pre-money valuation (not at all
    where that valuation is zero). ``credit`` (samples,) [USD] is a parent's credit line (in a
    market): the lab is insolvent only once its cash is below minus the credit.
    """
    funding = inputs.scenario.capital.funding
    n, months = operating_cash_flow.shape
    cash = np.empty((n, months))
    raised = np.empty((n, months))
    ownership = np.empty((n, months))
    insolvent = np.empty((n, months), dtype=bool)
    trigger = inputs["capital.funding.runway_trigger_months"]
    size = inputs["capital.funding.raise_months"]
    multiple = inputs["capital.funding.valuation_multiple"]
    floor = inputs["capital.funding.min_pre_money"]
    window = funding.burn_window_months
    most = inputs["capital.funding.max_dilution_per_round"]
    # Selling share d of the post-money company raises d / (1 - d) of the pre-money value.
    largest = np.nan_to_num(inputs["capital.funding.max_raise"], nan=np.inf)
    appetite = most / np.maximum(1 - most, 1e-12)
    outcome = inputs.event(RAISE_OUTCOME)
    success = inputs["capital.funding.raise_success_probability"]
    extra = np.zeros((n, months)) if other_financing is None else other_financing
    ipo_month = ipo_amount = ipo_multiple = None
    if inputs.scenario.capital.ipo is not None:
        ipo_month = np.rint(inputs["capital.ipo.month"])
        ipo_amount = inputs["capital.ipo.amount"]
        ipo_multiple = inputs["capital.ipo.valuation_multiple"]
    in_kind = np.zeros((n, months)) if equity_in_kind is None else equity_in_kind
    cash_months(
        operating_cash_flow,
        extra,
        in_kind,
        revenue,
        np.empty((n, months)) if outcome is None else outcome,
        outcome is not None,
        inputs["capital.starting_cash"],
        trigger,
        size,
        multiple,
        floor,
        most,
        largest,
        appetite,
        success,
        window,
        FUNDING_POLICIES.get(funding.policy, -1),
        np.empty(n) if ipo_month is None else ipo_month,
        np.empty(n) if ipo_amount is None else ipo_amount,
        np.empty(n) if ipo_multiple is None else ipo_multiple,
        ipo_month is not None,
        np.empty(n) if credit is None else credit,
        credit is not None,
        cash,
        raised,
        ownership,
        insolvent,
    )
    first = np.where(insolvent.any(axis=1), insolvent.argmax(axis=1), np.nan)
    return CashPath(cash, raised, ownership, insolvent, first.astype(np.float64))
