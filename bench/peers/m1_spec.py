"""Model M1, "a lab as a company, with uncertainty": the definition every M1 implementation shares.

The model, monthly over 120 months, with model generations g = 0..9:

* first_training_cost_usd  C0 ~ lognormal, 90% interval [$50M, $200M] [USD]
* cost_multiplier          m  ~ lognormal, 90% interval [2, 5] per generation [-]
* revenue_multiple         R  ~ lognormal, 90% interval [1, 3] lifetime revenue / training cost [-]

Generation g costs C_g = C0 * m**g [USD]. It trains during months [12g, 12g + 12) and spends
C_g / 12 [USD] in each of them (no experiment overhead, no other costs). It is released at month
12(g + 1) and earns R * C_g / 12 [USD] in each of the 12 months [12(g + 1), 12(g + 2)), after
which it retires; revenue falling after month 119 is outside the horizon. Starting cash is 0.

    operating income(month) = revenue(month) - training spend(month)   [USD]

In labecon terms: top-down revenue mode with `revenue_multiple` R, a 12-month lifecycle at a flat
rate, no overhead, no other costs, starting cash 0 (built-in scenario ``bench-m1``).

Every implementation produces the monthly operating income per sample, an array of shape
(samples, 120) in USD, and hands it to :func:`summarise`, so the statistics are computed the
same way for all of them.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

GENERATIONS = 10
MONTHS_PER_YEAR = 12
YEARS = 10
MONTHS = MONTHS_PER_YEAR * YEARS  # 120
TRAINING_RUN_MONTHS = 12
REVENUE_LIFETIME_MONTHS = 12

# z such that P(Z <= z) = 0.95 for a standard normal Z, i.e. scipy.stats.norm.ppf(0.95).
# Written out so the definition does not depend on SciPy.
Z_95 = 1.6448536269514722


class Interval90(NamedTuple):
    """A 90% interval: 5th and 95th percentile, in the quantity's own unit."""

    p5: float
    p95: float


FIRST_TRAINING_COST_USD = Interval90(50e6, 200e6)  # C0 [USD]
COST_MULTIPLIER = Interval90(2.0, 5.0)  # m, per generation [-]
REVENUE_MULTIPLE = Interval90(1.0, 3.0)  # R, lifetime revenue / training cost [-]


def lognormal_parameters(interval: Interval90) -> tuple[float, float]:
    """Return (mu, sigma) of the underlying normal of a lognormal with this 90% interval.

    ln X ~ Normal(mu, sigma) with ln p5 = mu - Z_95 * sigma and ln p95 = mu + Z_95 * sigma.
    """
    if not 0.0 < interval.p5 < interval.p95:
        raise ValueError(f"need 0 < p5 < p95, got {interval}")
    log_p5, log_p95 = math.log(interval.p5), math.log(interval.p95)
    mu = (log_p5 + log_p95) / 2.0
    sigma = (log_p95 - log_p5) / (2.0 * Z_95)
    return mu, sigma


def yearly_income_usd(monthly_income_usd: np.ndarray) -> np.ndarray:
    """Sum monthly operating income (samples, 120) [USD] into calendar years (samples, 10) [USD]."""
    monthly = _checked(monthly_income_usd)
    return monthly.reshape(len(monthly), YEARS, MONTHS_PER_YEAR).sum(axis=2)


def capital_need_usd(monthly_income_usd: np.ndarray, rows_per_block: int = 65_536) -> np.ndarray:
    """Per sample, -min(lowest cumulative operating income over the months, 0) [USD].

    The cumulative sum is taken in blocks of rows so that it needs little memory beyond the input.
    """
    monthly = _checked(monthly_income_usd)
    need = np.empty(len(monthly))
    for start in range(0, len(monthly), rows_per_block):
        block = monthly[start : start + rows_per_block]
        lowest_cumulative = np.cumsum(block, axis=1).min(axis=1)
        need[start : start + len(block)] = -np.minimum(lowest_cumulative, 0.0)
    return need


def summarise(monthly_income: np.ndarray) -> dict[str, Any]:
    """Statistics of M1 from the monthly operating income, an array (samples, 120) [USD].

    Returns a JSON-ready dict:

    * ``samples``: number of samples
    * ``year_income_p5``, ``year_income_p50``, ``year_income_p95``, ``year_income_mean``: per
      calendar year y = 0..9, the percentiles and mean of yearly operating income (sum of the
      year's 12 months) [USD]
    * ``p_year_profitable``: per year, the share of samples with yearly income > 0 [-]
    * ``capital_need_p50``, ``capital_need_p95``: percentiles of the capital need
      -min(min over months of cumulative income, 0) [USD]

    Percentiles use NumPy's default (linear interpolation between order statistics).
    """
    yearly = yearly_income_usd(monthly_income)
    need = capital_need_usd(monthly_income)
    year_p5, year_p50, year_p95 = np.percentile(yearly, [5.0, 50.0, 95.0], axis=0)
    need_p50, need_p95 = np.percentile(need, [50.0, 95.0])
    return {
        "samples": len(yearly),
        "year_income_p5": _floats(year_p5),
        "year_income_p50": _floats(year_p50),
        "year_income_p95": _floats(year_p95),
        "year_income_mean": _floats(yearly.mean(axis=0)),
        "p_year_profitable": _floats((yearly > 0.0).mean(axis=0)),
        "capital_need_p50": float(need_p50),
        "capital_need_p95": float(need_p95),
    }


def standard_errors(monthly_income: np.ndarray) -> dict[str, list[float]]:
    """Monte Carlo standard errors of the per-year statistics in :func:`summarise` [USD].

    Used only to judge whether two implementations agree; not timed.

    * ``year_income_mean``: sample standard deviation / sqrt(n).
    * ``year_income_p50``: asymptotic SE of a sample quantile, sqrt(p (1 - p) / n) / f(q), with
      the inverse density 1 / f(q) estimated by the difference quotient of the empirical quantile
      function over p +- h (Siddiqui's estimator), bandwidth h = n**(-1/3) (Hall-Sheather order).
    * ``p_year_profitable`` needs none here: the runner uses the binomial SE of the pooled share.
    """
    yearly = yearly_income_usd(monthly_income)
    samples = len(yearly)
    mean_se = yearly.std(axis=0, ddof=1) / math.sqrt(samples)
    bandwidth = min(samples ** (-1.0 / 3.0), 0.25)
    below, above = np.percentile(yearly, [100 * (0.5 - bandwidth), 100 * (0.5 + bandwidth)], axis=0)
    inverse_density = (above - below) / (2.0 * bandwidth)
    median_se = inverse_density * math.sqrt(0.25 / samples)
    return {"year_income_mean": _floats(mean_se), "year_income_p50": _floats(median_se)}


def _checked(monthly_income_usd: np.ndarray) -> np.ndarray:
    monthly = np.asarray(monthly_income_usd, dtype=float)
    if monthly.ndim != 2 or monthly.shape[1] != MONTHS or len(monthly) == 0:
        raise ValueError(
            f"expected monthly income of shape (samples, {MONTHS}), got {monthly.shape}"
        )
    return monthly


def _floats(values: np.ndarray) -> list[float]:
    return [float(value) for value in values]
