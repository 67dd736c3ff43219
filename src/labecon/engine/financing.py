"""Financing of training runs (seed 000, "External funding"): financiers and compute credits.

A financier pays share f of each generation's training spend from generation k on and
receives share sigma of that generation's revenue until its receipts reach ``cap`` times
what it paid ("capital providers could fund specific training ... in exchange for expected
downstream returns"). Compute credits pay share c of training in kind, for equity
("infrastructure providers could extend in-kind financing via compute ... credits").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labecon.engine.inputs import Array
from labecon.scenario.quantities import per_year_to_per_month


def from_generation(count: int, first: int) -> Array:
    """1.0 for generations >= ``first``, else 0.0, shape (1, 1, G)."""
    return (np.arange(count) >= first).astype(np.float64)[None, None, :]


@dataclass(frozen=True)
class FinancierFlows:
    """Per generation (samples, months, G): what the financier pays and receives [USD/month]."""

    paid: Array
    received: Array


def financier(
    training_spend: Array,
    revenue: Array,
    share: Array,
    revenue_share: Array,
    cap_multiple: Array,
    first: int,
) -> FinancierFlows:
    """A financier's payments into, and revenue share out of, each generation from ``first``.

    Receipts are sigma x revenue until cumulative receipts reach cap x cumulative payments:
    received(<=t) = min(sum sigma R, cap x sum paid), so they stop exactly at the cap.
    """
    mask = from_generation(training_spend.shape[2], first)
    paid = training_spend * (share[:, None, None] * mask)
    owed = np.cumsum(revenue * (revenue_share[:, None, None] * mask), axis=1)
    ceiling = np.cumsum(paid, axis=1) * cap_multiple[:, None, None]
    cumulative = np.minimum(owed, ceiling)
    received = np.diff(cumulative, axis=1, prepend=0.0)
    return FinancierFlows(paid=paid, received=np.maximum(received, 0.0))


def compute_credits(training_spend: Array, share: Array, first: int) -> Array:
    """Training paid in kind by compute credits [USD/month], (samples, months, G)."""
    mask = from_generation(training_spend.shape[2], first)
    return training_spend * (share[:, None, None] * mask)


@dataclass(frozen=True)
class DebtFlows:
    """Cash flows of a lab's loans, arrays (samples, months) [USD/month]."""

    drawn: Array
    repaid: Array
    interest: Array


def debt(month: Array, amount: Array, rate_per_year: Array, term: Array, months: int) -> DebtFlows:
    """One loan: drawn in ``month``, interest on the balance each later month, bullet repayment.

    Interest of month t is the monthly rate (exact conversion of the yearly rate) on the
    principal outstanding during it, paid at the month's end; the principal is repaid at
    ``month + term``, the month its last interest is paid.
    """
    t = np.arange(months)[None, :]
    start = np.rint(month)[:, None]
    end = start + np.maximum(np.rint(term), 1)[:, None]
    outstanding = (t > start) & (t <= end)
    monthly = per_year_to_per_month(rate_per_year)[:, None]
    principal = amount[:, None]
    return DebtFlows(
        drawn=np.where(t == start, principal, 0.0),
        repaid=np.where(t == end, principal, 0.0),
        interest=np.where(outstanding, principal * monthly, 0.0),
    )
