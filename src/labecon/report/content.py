"""What the reports show, computed from a Result: bands, layers, one model's life, units.

The HTML page and the workbook both read these tables, so a figure in a chart and the same
figure in a sheet come from one computation. Nothing here draws, formats or writes a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labecon.ledger import REVENUE_CHANNELS
from labecon.result import _QUANTILE, Result, statistic
from labecon.scenario.explain import explain_scenario
from labecon.scenario.quantities import Distribution

Array = NDArray[np.float64]
#: Quantiles of a fan chart: the p5–p95 band, the p25–p75 band and the median line.
FAN_STATS = ("p5", "p25", "p50", "p75", "p95")
#: Statistics the statement sheets show for each item, the median first.
STATEMENT_STATS = ("p50", "p5", "p95")


class Unit(StrEnum):
    """What an item measures, which decides its number format and axis label."""

    USD = "USD"
    USD_PER_UNIT = "USD per unit"  # small prices: USD per Mtok, per subscriber
    SHARE = "share"  # fractions shown as percentages
    MULTIPLE = "multiple"  # ratios shown as 1.23x
    GW = "GW"
    COUNT = "count"  # tokens, subscribers, contracts
    MONTHS = "months"


_SHARES = {
    "ownership",
    "insolvent",
    "served_share",
    "revenue_growth",
    "cost_growth",
    "gross_margin",
    "irr_per_year",
    "share_trained",
    "share_released",
    "share_paid_back",
}
_MULTIPLES = {"growth_ratio", "burn_multiple", "roi_multiple"}
_COUNTS = {"tokens_mtok", "subscribers", "enterprise_contracts"}
_UNIT_PRICES = {"cost_per_mtok", "inference_cost_per_mtok", "cost_per_subscriber"}
_MONTHS = {"payback_months", "recovery_months"}


def item_unit(item: str) -> Unit:
    """The unit of a statement item, generation column or metric, by its name."""
    if item in _SHARES:
        return Unit.SHARE
    if item in _MULTIPLES:
        return Unit.MULTIPLE
    if item in _COUNTS:
        return Unit.COUNT
    if item in _UNIT_PRICES:
        return Unit.USD_PER_UNIT
    if item in _MONTHS:
        return Unit.MONTHS
    if item.startswith("gw_"):
        return Unit.GW
    return Unit.USD


# -- fan charts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Fan:
    """Monthly quantiles of one quantity over samples, for a fan chart."""

    key: str  # a stable id, e.g. "revenue"
    title: str
    unit: Unit
    per: str  # "month" for flows, "" for balances and levels
    quantiles: pd.DataFrame  # index: months (Period), columns: FAN_STATS


def quantiles(values: Array, stats: tuple[str, ...]) -> dict[str, Array]:
    """Several statistics over samples (axis 0) at once, equal to :func:`statistic` each.

    Without NaN, one partition serves every quantile, which is what makes the monthly
    sheets of a large run quick; with NaN, each statistic is taken on its own.
    """
    wanted = [s for s in stats if s != "mean"]
    if values.shape[0] == 0 or np.isnan(values).any() or not wanted:
        return {stat: statistic(values, stat) for stat in stats}
    levels = [_QUANTILE[s] for s in wanted]
    found = dict(zip(wanted, np.quantile(values, levels, axis=0), strict=True))
    return {stat: found[stat] if stat in found else statistic(values, stat) for stat in stats}


def monthly_quantiles(values: Array, index: pd.PeriodIndex) -> pd.DataFrame:
    """p5, p25, p50, p75, p95 by month of per-sample values (samples, months)."""
    return pd.DataFrame(quantiles(values, FAN_STATS), index=index)


def statement(
    result: Result, view: str, stats: tuple[str, ...], monthly: bool
) -> dict[str, pd.DataFrame]:
    """A view's items by month or year, one frame per statistic (as Result.monthly/annual)."""
    index = result.months if monthly else pd.Index(result.years, name="year")
    by_item = {
        item: quantiles(
            result.samples(view, item) if monthly else result.annual_samples(view, item), stats
        )
        for item in result.statements[view]
    }
    return {
        stat: pd.DataFrame({item: by_item[item][stat] for item in by_item}, index=index)
        for stat in stats
    }


def total_costs(result: Result) -> Array:
    """Per-sample total costs by month, training expensed: revenue − operating income [USD]."""
    expensed = result.statements["expensed"]
    return expensed["revenue"] - expensed["operating_income"]


def fans(result: Result) -> list[Fan]:
    """The five fan charts: revenue, total costs, operating income, cash and GW in use."""
    months = result.months
    expensed, cash = result.statements["expensed"], result.statements["cash"]
    series: list[tuple[str, str, Unit, str, Array]] = [
        ("revenue", "Revenue", Unit.USD, "month", expensed["revenue"]),
        ("costs", "Total costs (training expensed)", Unit.USD, "month", total_costs(result)),
        ("operating_income", "Operating income", Unit.USD, "month", expensed["operating_income"]),
        ("cash", "Cash at month end", Unit.USD, "", cash["cash"]),
        ("gw", "Compute in use (training + inference)", Unit.GW, "", _gw(result)),
    ]
    return [
        Fan(key, title, unit, per, monthly_quantiles(values, months))
        for key, title, unit, per, values in series
    ]


def _gw(result: Result) -> Array:
    return result.statements["compute"]["gw_total"]


# -- layer cakes -----------------------------------------------------------------------------
def revenue_by_channel(result: Result) -> pd.DataFrame:
    """Mean revenue by month and channel [USD/month]; channels that are zero throughout dropped.

    Means, not medians, so the layers add up to the mean revenue.
    """
    channels = result.statements["channels"]
    frame = pd.DataFrame(
        {
            name.removeprefix("revenue_"): statistic(channels[name], "mean")
            for name in REVENUE_CHANNELS
            if name in channels
        },
        index=result.months,
    )
    return _nonzero_layers(frame)


def _nonzero_layers(frame: pd.DataFrame) -> pd.DataFrame:
    """The columns that are not zero throughout; one zero layer if none is (no revenue)."""
    kept = frame.loc[:, (frame != 0).any(axis=0)]
    return kept if kept.shape[1] else pd.DataFrame({"revenue": 0.0}, index=frame.index)


def revenue_by_generation(result: Result) -> pd.DataFrame:
    """Mean revenue by month and generation [USD/month]; generations never on sale dropped."""
    layers = result.revenue_by_generation_mean
    frame = pd.DataFrame(
        layers, index=result.months, columns=[f"gen {g}" for g in range(layers.shape[1])]
    )
    return _nonzero_layers(frame)


# -- one generation's life -------------------------------------------------------------------
WATERFALL_COLUMNS = (
    "training_cost_usd",
    "lifetime_revenue_usd",
    "lifetime_inference_cost_usd",
    "lifetime_profit_usd",
)


def waterfall_generation(result: Result) -> int | None:
    """The first generation whose commercial life ends within the horizon in most samples.

    A life ends L months after release (L the scenario's lifetime, per sample when it is
    uncertain); among samples where the generation is trained. Falls back to the generation
    released most often, and None when the scenario has no generation at all.
    """
    values = result.generation_values
    release = values["release_month"]
    if release.shape[1] == 0:
        return None
    trained = ~np.isnan(values["training_cost_usd"])
    lifetime = result.input_values.get("lifecycle.lifetime_months")
    if lifetime is None:
        lifetime = np.full(release.shape[0], _median(result.scenario.lifecycle.lifetime_months))
    ends = release + np.round(lifetime)[:, None]
    completes = trained & (ends <= result.scenario.horizon_months)
    for generation in range(release.shape[1]):
        if completes[:, generation].mean() >= 0.5:
            return generation
    released = np.mean(trained & (release < result.scenario.horizon_months), axis=0)
    return int(np.argmax(released))


def _median(value: float | Distribution) -> float:
    return float(value.quantile(0.5)) if isinstance(value, Distribution) else float(value)


def waterfall(result: Result, generation: int) -> dict[str, float]:
    """Mean lifetime figures of one generation, over the samples that train it [USD].

    Means add up (medians do not): revenue − inference − training = profit, exactly the
    ``mean`` row of :meth:`Result.generations`.
    """
    row = result.generations("mean").iloc[generation]
    return {column: float(row[column]) for column in WATERFALL_COLUMNS}


# -- breakeven -------------------------------------------------------------------------------
def breakeven_probability(result: Result, metric: str = "breakeven_month") -> pd.Series:
    """P(the lab has broken even by each month): share of samples whose ``metric`` ≤ month."""
    months = result.metric_values[metric]
    grid = np.arange(result.scenario.horizon_months)
    reached = ~np.isnan(months)
    by_month = np.array([np.mean(reached & (months <= m)) for m in grid])
    return pd.Series(by_month, index=result.months, name=metric)


# -- metrics ---------------------------------------------------------------------------------
METRIC_TITLES = {
    "breakeven_month": "Operating breakeven (trailing 12 months > 0)",
    "cash_breakeven_month": "Cash breakeven (trailing 12 months > 0)",
    "insolvency_month": "Insolvency",
    "probability_insolvent": "P(insolvent by the horizon)",
    "capital_need_usd": "Capital need (peak cumulative burn)",
    "capital_to_breakeven_usd": "Capital to operating breakeven",
    "equity_raised_usd": "Equity raised",
    "ending_cash_usd": "Cash at the horizon",
    "ownership_at_horizon": "Founders' ownership at the horizon",
    "cumulative_operating_income_usd": "Operating income over the horizon",
}
_METRIC_UNITS = {"ownership_at_horizon": Unit.SHARE, "probability_insolvent": Unit.SHARE}


def metrics_table(result: Result) -> pd.DataFrame:
    """One row per metric: kind, unit, probability, mean and quantiles.

    Month metrics give 'YYYY-MM' quantiles (None when the quantile falls beyond the horizon)
    and the probability they happen within it; money and share metrics give numbers.
    """
    metrics = result.metrics()
    rows: list[dict[str, Any]] = []
    for name, title in METRIC_TITLES.items():
        entry = metrics[name]
        row: dict[str, Any] = {"metric": name, "title": title}
        if name.endswith("_month"):
            row |= {"kind": "month", "unit": Unit.MONTHS.value}
            row |= {"probability": entry["probability"], "mean": None}
            row |= {stat: entry[stat] for stat in FAN_STATS}
        elif isinstance(entry, Mapping):
            unit = _METRIC_UNITS.get(name, Unit.USD)
            row |= {"kind": "value", "unit": unit.value, "probability": None}
            row |= {stat: entry[stat] for stat in ("mean", *FAN_STATS)}
        else:
            row |= {"kind": "probability", "unit": Unit.SHARE.value, "probability": entry}
            row |= {stat: None for stat in ("mean", *FAN_STATS)}
        rows.append(row)
    columns = ["metric", "title", "kind", "unit", "probability", "mean", *FAN_STATS]
    frame = pd.DataFrame(rows, columns=columns).astype(object)
    return frame.where(frame.notna(), None)  # "beyond the horizon" stays None, not NaN


# -- inputs ----------------------------------------------------------------------------------
def inputs_table(result: Result, explained: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every numeric input with its value or quantiles and its source (``labecon explain``).

    ``explained`` is the table of :func:`labecon.explain` for the scenario file, which tells
    inputs the file sets from defaults; without it, inputs that cite no fact are marked
    ``scenario or default``.
    """
    if explained is not None:
        return explained.reset_index(drop=True)
    table = explain_scenario(result.scenario)
    table["origin"] = table["origin"].replace({"default": "scenario or default"})
    return table
