"""Scalar outcomes of a run, one value per sample, by name: the metrics users ask about.

Comparisons, sensitivity analyses and scenario discovery all name their outcome with these:
the run's metrics (breakeven month, capital need, P(insolvent), ...) and the operating income
of one calendar year (``operating_income_2027``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from labecon.errors import OptionError
from labecon.result import Result

Array = NDArray[np.float64]
Kind = Literal["money", "share", "probability", "month"]

# Metrics every comparison can report, in the order they are shown, with how each is read:
# money [USD] and share [fraction] by mean and quantiles; probability as the share of samples
# where it holds; month as the share of samples where it happens within the horizon.
BASE_METRICS: dict[str, Kind] = {
    "breakeven_month": "month",
    "cash_breakeven_month": "month",
    "capital_need_usd": "money",
    "equity_raised_usd": "money",
    "ending_cash_usd": "money",
    "ownership_at_horizon": "share",
    "insolvent": "probability",
    "insolvency_month": "month",
    "cumulative_operating_income_usd": "money",
}
# Operating income of one calendar year (expensed view), e.g. operating_income_2027: offered
# only when every scenario covers the same calendar months.
YEAR_METRIC_PREFIX = "operating_income_"


def metric_kind(name: str) -> Kind:
    """How a metric is read: 'money', 'share', 'probability' or 'month'."""
    if name in BASE_METRICS:
        return BASE_METRICS[name]
    if name.startswith(YEAR_METRIC_PREFIX) and name.removeprefix(YEAR_METRIC_PREFIX).isdigit():
        return "money"
    raise OptionError(
        f"metrics: {name!r} is not a metric; accepted: {', '.join(BASE_METRICS)}, "
        f"{YEAR_METRIC_PREFIX}YYYY"
    )


def accepted_metrics(years: Iterable[int]) -> list[str]:
    """Every metric name a comparison of scenarios covering ``years`` accepts, in order."""
    return [*BASE_METRICS, *(f"{YEAR_METRIC_PREFIX}{year}" for year in years)]


def metric_values(result: Result, name: str) -> Array:
    """Per-sample values of a metric, shape (samples,).

    Month metrics are month indexes from the scenario's start, NaN when the month is not
    reached within the horizon; ``insolvent`` is 0 or 1.
    """
    accepted = accepted_metrics(result.years)
    if name not in accepted:
        raise OptionError(f"metric: {name!r} is not a metric; accepted: {', '.join(accepted)}")
    if name.startswith(YEAR_METRIC_PREFIX):
        year = int(name.removeprefix(YEAR_METRIC_PREFIX))
        yearly = result.annual_samples("expensed", "operating_income")
        return np.asarray(yearly[:, result.years.index(year)], dtype=np.float64)
    return np.asarray(result.metric_values[name], dtype=np.float64)
