"""The ledger: the one place where simulated money and compute live (DESIGN §2).

Per-generation line items cover the whole simulated grid, which starts at the earliest
training start (possibly before the scenario start) and ends at the horizon; company line
items cover the scenario's months 0..T-1 (the "window"). Every view is derived from here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine.capital import CashPath
from labecon.engine.compiled import sum_generations
from labecon.engine.generations import Schedule

Array = NDArray[np.float64]

#: Per-generation items, arrays (samples, grid months, G) [USD/month]; the financing ones
#: only when a scenario finances training.
GENERATION_ITEMS = (
    "revenue",
    "inference_cost",
    "training_cost",
    "financier_paid",  # training paid by financiers
    "revenue_share",  # revenue paid to financiers
)
#: Company costs not attributed to a generation [USD/month]; generations' profits minus
#: these equal the expensed operating income.
UNATTRIBUTED_COSTS = (
    "talent_cost",
    "sga_cost",
    "other_cost",
    "idle_compute_cost",  # owned GW not in use, paid all the same
    "compute_premium_cost",  # premium on GW rented above owned capacity
)
#: Company revenue by channel [USD/month]; they sum to the company's revenue.
REVENUE_CHANNELS = (
    "revenue_top_down",
    "revenue_api",
    "revenue_consumer",
    "revenue_enterprise",
    "revenue_licensing",
    "revenue_internal",  # the lab's own venture (internal deployment)
)
#: Channel items over the window, arrays (samples, months).
CHANNEL_ITEMS = (
    *REVENUE_CHANNELS,
    "cloud_fee",  # API revenue kept by cloud partners, never booked [USD/month]
    "forgone_api_revenue",  # what GW diverted to the venture would have earned serving
    "subscribers",  # consumer subscribers, all tiers [people]
    "enterprise_contracts",  # active enterprise contracts [contracts]
)
#: Financing items over the window [USD/month].
FINANCING_ITEMS = (
    "financier_funding",  # training paid by financiers (cash in)
    "revenue_share_cost",  # revenue shares paid to financiers (cash out, below operating income)
    "compute_credits",  # training paid in kind by compute credits, for equity
    "debt_drawn",  # loans drawn (cash in)
    "debt_repaid",  # principal repaid (cash out)
    "interest_cost",  # interest paid (below operating income)
)
#: Company items over the window, arrays (samples, months).
COMPANY_ITEMS = (
    *UNATTRIBUTED_COSTS,
    "tokens_mtok",  # tokens served [Mtok/month]
    "gw_inference",  # compute busy serving [GW]
    "gw_inference_needed",  # compute inference demand would need [GW]
    "gw_training",  # compute drawn by training [GW]
    "gw_owned",  # capacity held [GW]
    "gw_rented",  # capacity rented above owned [GW]
    "gw_revenue_buys",  # GW the month's revenue would pay for at the price of compute [GW]
    *CHANNEL_ITEMS,
    *FINANCING_ITEMS,
)


@dataclass(frozen=True)
class Ledger:
    """Named line items of one chunk of samples."""

    first_month: int  # month index (from the scenario start) of grid column 0, <= 0
    horizon: int  # T: months in the window
    schedule: Schedule
    cancelled: NDArray[np.bool_]  # (samples, G): never trained because the lab ran out of cash
    by_generation: dict[str, Array]
    company: dict[str, Array]
    cash: CashPath
    # Per-generation items already summed over generations by the engine, over the window:
    # the same sums, not computed twice (see company_total).
    totals: dict[str, Array] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        # The tuples above are the ledger's contract: every view reads these names.
        unknown = set(self.by_generation) - set(GENERATION_ITEMS)
        if (
            set(self.company) != set(COMPANY_ITEMS)
            or unknown
            or "revenue" not in self.by_generation
        ):
            raise ValueError(
                "ledger items differ from ledger.GENERATION_ITEMS / COMPANY_ITEMS: "
                f"{sorted(set(self.company) ^ set(COMPANY_ITEMS) | unknown)}"
            )

    @property
    def samples(self) -> int:
        """Number of samples in this chunk."""
        return int(self.cancelled.shape[0])

    @property
    def window(self) -> slice:
        """Grid columns of the scenario's months 0..T-1."""
        return slice(-self.first_month, None)

    def company_total(self, item: str) -> Array:
        """A per-generation item summed over generations, over the window [USD/month]."""
        if item in self.totals:
            return self.totals[item]
        return sum_generations(self.by_generation[item], self.window.start)

    def with_rows(self, rows: NDArray[np.intp], other: Ledger) -> Ledger:
        """The ledger with the given sample rows replaced by ``other``'s (same order)."""

        def put(target: NDArray[np.generic], source: NDArray[np.generic]) -> NDArray[np.generic]:
            out = target.copy()
            out[rows] = source
            return out

        return Ledger(
            first_month=self.first_month,
            horizon=self.horizon,
            schedule=self.schedule,
            cancelled=put(self.cancelled, other.cancelled),  # type: ignore[arg-type]
            by_generation={
                k: put(v, other.by_generation[k])  # type: ignore[misc]
                for k, v in self.by_generation.items()
            },
            company={k: put(v, other.company[k]) for k, v in self.company.items()},  # type: ignore[misc]
            totals={
                k: put(v, other.company_total(k))  # type: ignore[misc]
                for k, v in self.totals.items()
            },
            cash=CashPath(
                **{  # type: ignore[arg-type]
                    f.name: put(getattr(self.cash, f.name), getattr(other.cash, f.name))
                    for f in dataclasses.fields(CashPath)
                }
            ),
        )
