"""A lab's place in a market, as the single-lab engine reads it (issue 7).

In a market (:mod:`labecon.market`) a lab's demand is its share of the market's: the market
sets the lab's demand inputs to the market's and hands the engine, for each contested
segment, the lab's share month by month. The engine multiplies the demand it computes by
that share: API tokens, consumer tiers' new subscribers, enterprise contracts entering the
sales cycle. A lab alone in its market holds a share of exactly 1 and x * 1.0 is x, so it
gets the single-lab numbers bit for bit. Without a Contest (every single-lab run) nothing
changes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Contest:
    """A lab's shares of each contested segment and what acquisitions bring or take.

    Shares are (samples, grid months) [fraction], on the lab's own grid (from min(0, first
    training start) to the horizon). None: the segment is not contested and the lab's own
    demand stands, or nothing joins or leaves.
    """

    api: Array | None = None
    consumer: Array | None = None
    enterprise: Array | None = None
    # Month the lab leaves the market (samples,), NaN: never; its customers leave with it.
    exit_month: Array | None = None
    # Customers joining from labs it acquires, (samples, grid months) [people], [contracts].
    consumer_joining: Array | None = None
    enterprise_joining: Array | None = None
    # Owned compute joining from labs it acquires, (samples, horizon months) [GW].
    owned_gw_joining: Array | None = None
    # A parent's credit line (samples,) [USD]: cash may fall this far below 0 before the lab
    # is insolvent (starts no new generation) and leaves the market.
    credit_usd: Array | None = None

    def rows(self, rows: NDArray[np.intp]) -> Contest:
        """The same contest for a subset of the samples."""
        return replace(
            self,
            **{
                name: None if values is None else values[rows]
                for name, values in vars(self).items()
            },
        )
