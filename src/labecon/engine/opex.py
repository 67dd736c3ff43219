"""Operating costs besides training and inference: talent, SG&A, other infrastructure.

Talent = headcount(t) * loaded cost per head(t) / 12, both compounding per year (seed 001:
"total compensation expense likely runs into the hundreds of millions of dollars
annually"). SG&A = fixed + a share of revenue.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labecon.engine.compiled import outer_power
from labecon.engine.inputs import Array, Inputs
from labecon.scenario.quantities import per_year_to_per_month

MONTHS_PER_YEAR = 12.0


def talent_cost(inputs: Inputs, months: NDArray[np.int64]) -> Array:
    """Loaded cost of staff [USD/month], shape (samples, months)."""
    t = months.astype(np.float64)
    heads = inputs["costs.talent.headcount"][:, None] * outer_power(
        1 + per_year_to_per_month(inputs["costs.talent.headcount_growth_per_year"]), t
    )
    per_head = inputs["costs.talent.loaded_cost_per_head"][:, None] * outer_power(
        1 + per_year_to_per_month(inputs["costs.talent.cost_growth_per_year"]), t
    )
    return heads * per_head / MONTHS_PER_YEAR


def sga_cost(inputs: Inputs, revenue: Array) -> Array:
    """SG&A = fixed per year / 12 + share of revenue [USD/month]."""
    fixed = inputs["costs.sga.fixed_per_year"][:, None] / MONTHS_PER_YEAR
    return fixed + inputs["costs.sga.share_of_revenue"][:, None] * revenue


def other_cost(inputs: Inputs, month_count: int) -> Array:
    """Other infrastructure [USD/month], shape (samples, months)."""
    per_month = inputs["costs.other_infrastructure_per_year"] / MONTHS_PER_YEAR
    return np.repeat(per_month[:, None], month_count, axis=1)
