"""Internal deployment: the lab uses its models in its own venture (seed 004).

GW diverted from serving run a venture (e.g. trading) whose edge is worth E a year to a
firm that alone holds it. Seed 004: "the total value of alpha/edge is inversely
proportional to the number of firms that have this edge ... the total amount that the edge
is worth goes down, and then it is split between the entities": with n(t) firms holding the
same capability the edge is worth E / n in total and the lab's share is E / n^2.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labecon.engine.inputs import Array
from labecon.scenario.quantities import per_year_to_per_month

MONTHS_PER_YEAR = 12.0


def firms_sharing(start: Array, new_per_year: Array, months: NDArray[np.int64]) -> Array:
    """n(t) = n_0 + k t / 12 firms holding the capability [firms], (samples, months).

    Rivals and open-weight models catch up at k new holders a year (seed 004: open
    competitors "catch up to the frontier in 6-12 months").
    """
    t = np.maximum(months.astype(np.float64), 0.0)[None, :]
    return np.maximum(start[:, None] + new_per_year[:, None] * t / MONTHS_PER_YEAR, 1.0)


def venture_revenue(
    edge_per_year: Array,
    edge_growth_per_year: Array,
    firms: Array,
    months: NDArray[np.int64],
    start_month: Array,
) -> Array:
    """The lab's venture revenue (E(t) / 12) / n(t)^2 [USD/month] from ``start_month`` on."""
    t = months.astype(np.float64)[None, :]
    edge = edge_per_year[:, None] * (1 + per_year_to_per_month(edge_growth_per_year)[:, None]) ** t
    running = t >= start_month[:, None]
    return np.where(running, edge / MONTHS_PER_YEAR / firms**2, 0.0)
