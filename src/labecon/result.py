"""Result of a simulation: tidy pandas tables of statements, generations and metrics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labecon.errors import OptionError
from labecon.scenario.schema import Scenario
from labecon.views import GENERATION_COLUMNS, VIEWS, Aggregate, SampleViews

Array = NDArray[np.float64]
STATS = ("mean", "p5", "p25", "p50", "p75", "p95")
_QUANTILE = {"p5": 0.05, "p25": 0.25, "p50": 0.50, "p75": 0.75, "p95": 0.95}
# Columns where NaN means "not within the horizon" and ranks after every number.
_NEVER_IS_LAST = {
    "payback_months",
    "recovery_months",
    "breakeven_month",
    "cash_breakeven_month",
    "insolvency_month",
}


def statistic(values: Array, stat: str, *, never_last: bool = False) -> Array:
    """Mean or quantile over samples (axis 0), ignoring NaN (or ranking it last).

    With ``never_last`` NaN counts as +infinity for quantiles (a quantile that falls on it
    is NaN, "not within the horizon") and is left out of the mean.
    """
    check_stat(stat)
    if values.shape[0] == 0:
        return np.full(values.shape[1:], np.nan)
    if stat == "mean":
        with np.errstate(invalid="ignore"):
            counts = np.sum(~np.isnan(values), axis=0)
            sums = np.nansum(values, axis=0)
            return np.divide(sums, counts, out=np.full(np.shape(sums), np.nan), where=counts > 0)
    q = _QUANTILE[stat]
    if never_last:
        return _quantile_nan_last(values, q)
    if np.isnan(values).any():
        counts = np.sum(~np.isnan(values), axis=0)
        ordered = np.sort(values, axis=0)  # NaN sorts last
        return np.asarray(_interpolate(ordered, q, counts))
    return np.asarray(np.quantile(values, q, axis=0))


def _quantile_nan_last(values: Array, q: float) -> Array:
    """Quantile ranking NaN after every number; NaN where it lands on a NaN."""
    ordered = np.sort(values, axis=0)
    counts = np.full(values.shape[1:], values.shape[0])
    return _interpolate(ordered, q, counts)


def _interpolate(ordered: Array, q: float, counts: NDArray[np.int64] | Any) -> Array:
    """Linear-interpolation quantile (numpy's default) of the first ``counts`` sorted rows."""
    position = q * (np.asarray(counts) - 1)
    low = np.clip(np.floor(position).astype(np.int64), 0, ordered.shape[0] - 1)
    high = np.clip(low + 1, 0, ordered.shape[0] - 1)
    take_low = np.take_along_axis(ordered, low[None, ...], axis=0)[0]
    take_high = np.take_along_axis(ordered, high[None, ...], axis=0)[0]
    weight = position - low
    with np.errstate(invalid="ignore"):
        out = np.where(weight > 0, take_low + (take_high - take_low) * weight, take_low)
    return np.where(np.asarray(counts) > 0, out, np.nan)


def check_stat(stat: str) -> None:
    """Refuse an unknown statistic name."""
    if stat not in STATS:
        raise OptionError(f"stat: {stat!r} is not a statistic; accepted: {', '.join(STATS)}")


@dataclass(frozen=True)
class Result:
    """Per-sample results of a run and the tables users read from them.

    ``statements[view][item]`` are arrays (samples, months); ``generation_values[column]``
    are (samples, G); ``metric_values[name]`` and ``input_values[name]`` are (samples,).
    """

    scenario: Scenario
    seed: int
    statements: dict[str, dict[str, Array]]
    generation_values: dict[str, Array]
    metric_values: dict[str, Array]
    input_values: dict[str, Array]
    revenue_by_generation_mean: Array  # (months, G) [USD/month]

    # -- shape and calendar ---------------------------------------------------------------
    @property
    def sample_count(self) -> int:
        """Number of samples simulated."""
        return int(next(iter(self.metric_values.values())).shape[0])

    @property
    def months(self) -> pd.PeriodIndex:
        """Calendar months of the scenario's horizon."""
        start = pd.Period(self.scenario.start, freq="M")
        return pd.period_range(start, periods=self.scenario.horizon_months, freq="M", name="month")

    @property
    def years(self) -> list[int]:
        """Calendar years the horizon touches."""
        return sorted({int(p.year) for p in self.months})

    def month_label(self, index: float) -> str | None:
        """'YYYY-MM' of a month index from the start, or None for NaN."""
        if index is None or not math.isfinite(index):
            return None
        return str(pd.Period(self.scenario.start, freq="M") + round(index))

    # -- statements ------------------------------------------------------------------------
    def _view(self, view: str) -> dict[str, Array]:
        if view not in self.statements:
            raise OptionError(f"view: {view!r} is not a view; accepted: {', '.join(VIEWS)}")
        return self.statements[view]

    def samples(self, view: str, item: str) -> Array:
        """Per-sample monthly values of one line item, shape (samples, months)."""
        items = self._view(view)
        if item not in items:
            raise OptionError(
                f"item: {item!r} is not in the {view} view; accepted: {', '.join(items)}"
            )
        return items[item]

    def annual_samples(self, view: str, item: str) -> Array:
        """Per-sample yearly values of one item (samples, years): sums, year-end or means."""
        monthly = self.samples(view, item)
        years = np.array([p.year for p in self.months])
        how = VIEWS[view][item]
        out = np.empty((monthly.shape[0], len(self.years)))
        for i, year in enumerate(self.years):
            cols = np.flatnonzero(years == year)
            if how is Aggregate.FLOW:
                out[:, i] = monthly[:, cols].sum(axis=1)
            elif how is Aggregate.STOCK:
                out[:, i] = monthly[:, cols[-1]]
            else:
                out[:, i] = monthly[:, cols].mean(axis=1)
        return out

    def monthly(self, view: str, stat: str = "mean") -> pd.DataFrame:
        """A view's line items by calendar month, one statistic over samples."""
        items = self._view(view)
        check_stat(stat)
        frame = pd.DataFrame(
            {item: statistic(values, stat) for item, values in items.items()}, index=self.months
        )
        return frame

    def annual(self, view: str, stat: str = "mean") -> pd.DataFrame:
        """A view's line items by calendar year, one statistic over samples.

        Flows are summed over the year per sample before the statistic is taken, so the p50
        of a year is the median yearly total, not the sum of monthly medians.
        """
        items = self._view(view)
        check_stat(stat)
        index = pd.Index(self.years, name="year")
        return pd.DataFrame(
            {item: statistic(self.annual_samples(view, item), stat) for item in items},
            index=index,
        )

    # -- generations -----------------------------------------------------------------------
    def generations(self, stat: str = "mean") -> pd.DataFrame:
        """One row per generation: the model as a company (lifetime figures within the horizon).

        Generations not trained in a sample (cancelled after insolvency, or starting after
        the horizon) are left out of that sample's statistics; ``share_trained`` says how
        often a generation was trained and ``share_released`` how often it reached the market
        within the horizon (the ROI of one that did not is NaN, not 0). Payback and recovery
        count "never" as last.
        """
        check_stat(stat)
        values = self.generation_values
        count = values["release_month"].shape[1]
        frame = pd.DataFrame({"generation": np.arange(count)})
        for column in GENERATION_COLUMNS:
            frame[column] = statistic(values[column], stat, never_last=column in _NEVER_IS_LAST)
        release = statistic(values["release_month"], "p50")
        frame["release_month"] = [self.month_label(float(m)) for m in release]
        frame["training_start_month"] = [
            self.month_label(float(m)) for m in statistic(values["training_start_month"], "p50")
        ]
        frame["share_trained"] = np.mean(~np.isnan(values["training_cost_usd"]), axis=0)
        frame["share_released"] = np.mean(
            values["release_month"] < self.scenario.horizon_months, axis=0
        )
        frame["share_paid_back"] = np.mean(~np.isnan(values["payback_months"]), axis=0)
        return frame

    # -- metrics ---------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        """Key metrics of the run.

        Month metrics are 'YYYY-MM' quantiles with the probability that they occur within
        the horizon; money metrics are the mean and quantiles; probabilities are floats.
        """
        m = self.metric_values
        out: dict[str, Any] = {"samples": self.sample_count, "seed": self.seed}
        for name in ("breakeven_month", "cash_breakeven_month", "insolvency_month"):
            values = m[name][:, None]
            entry: dict[str, Any] = {
                "probability": float(np.mean(~np.isnan(m[name]))),
            }
            for stat in ("p5", "p25", "p50", "p75", "p95"):
                entry[stat] = self.month_label(float(statistic(values, stat, never_last=True)[0]))
            out[name] = entry
        out["probability_insolvent"] = float(np.mean(m["insolvent"]))
        for name in (
            "capital_need_usd",
            "capital_to_breakeven_usd",
            "equity_raised_usd",
            "ending_cash_usd",
            "ownership_at_horizon",
            "cumulative_operating_income_usd",
        ):
            values = m[name][:, None]
            out[name] = {stat: float(statistic(values, stat)[0]) for stat in STATS}
        return out

    def rounds(self, stat: str = "p50", limit: int = 12) -> pd.DataFrame:
        """Equity rounds in order: how often each happens, when, its size, price and dilution.

        Derived from the cash view: a round is a month with equity raised; its dilution is
        the fall in the starting holders' ownership that month and its pre-money valuation
        raise x (1 - d) / d (none under the ``unlimited`` policy, which prices no round).
        Statistics are over the samples that reach that round.
        """
        check_stat(stat)
        raised = self.statements["cash"]["equity_raised"]
        owned = self.statements["cash"]["ownership"]
        before = np.concatenate([np.ones((owned.shape[0], 1)), owned[:, :-1]], axis=1)
        dilution = np.where(
            raised > 0,
            1 - np.divide(owned, before, out=np.ones_like(owned), where=before > 0),
            np.nan,
        )
        pre_money = np.where(
            dilution > 0, raised * (1 - dilution) / np.where(dilution > 0, dilution, 1), np.nan
        )
        number = np.cumsum(raised > 0, axis=1)
        rows = []
        for k in range(1, min(int(number[:, -1].max(initial=0)), limit) + 1):
            hit = (number == k) & (raised > 0)
            reached = hit.any(axis=1)
            month = np.where(reached, hit.argmax(axis=1), 0)

            def take(values: Array, reached: Array = reached, month: Array = month) -> Array:
                return np.where(reached, values[np.arange(len(month)), month], np.nan)[:, None]

            rows.append(
                {
                    "round": k,
                    "probability": float(reached.mean()),
                    "month": self.month_label(
                        float(statistic(np.where(reached, month, np.nan)[:, None], stat)[0])
                    ),
                    "amount_usd": float(statistic(take(raised), stat)[0]),
                    "pre_money_usd": float(statistic(take(pre_money), stat)[0]),
                    "dilution": float(statistic(take(dilution), stat)[0]),
                    "ownership_after": float(statistic(take(owned), stat)[0]),
                }
            )
        columns = [
            "round",
            "probability",
            "month",
            "amount_usd",
            "pre_money_usd",
            "dilution",
            "ownership_after",
        ]
        return pd.DataFrame(rows, columns=columns)

    def inputs(self) -> pd.DataFrame:
        """The uncertain inputs' draws, one row per sample."""
        return pd.DataFrame(self.input_values)

    # -- machine-readable ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document: views → items → stat → list by year; generations; metrics."""
        views: dict[str, Any] = {}
        for view, items in self.statements.items():
            views[view] = {}
            for item in items:
                yearly = self.annual_samples(view, item)
                views[view][item] = {
                    stat: [_json_number(v) for v in statistic(yearly, stat)] for stat in STATS
                }
        generations = {
            stat: [
                {k: _json_number(v) for k, v in row.items()}
                for row in self.generations(stat).to_dict(orient="records")
            ]
            for stat in STATS
        }
        return {
            "scenario": self.scenario.name,
            "start": self.scenario.start,
            "horizon_months": self.scenario.horizon_months,
            "samples": self.sample_count,
            "seed": self.seed,
            "years": self.years,
            "views": views,
            "generations": generations,
            "metrics": self.metrics(),
        }


def chunk_samples(chunk: SampleViews) -> int:
    """Number of samples in a chunk's results."""
    return int(next(iter(chunk.metrics.values())).shape[0])


def _arrays(chunk: SampleViews) -> dict[tuple[str, ...], Array]:
    """Every per-sample array of a chunk, keyed by its place in the Result."""
    out: dict[tuple[str, ...], Array] = {}
    for view, items in chunk.statements.items():
        for item, values in items.items():
            out[("statements", view, item)] = values
    for group, table in (
        ("generations", chunk.generations),
        ("metrics", chunk.metrics),
        ("inputs", chunk.inputs),
    ):
        for name, values in table.items():
            out[(group, name)] = values
    return out


class ResultBuilder:
    """Collects chunks into preallocated arrays, so a run holds one copy of its results.

    Views share line items (the capitalised view's revenue is the expensed view's); shared
    arrays are stored once, and an item that is zero in every sample (a channel or strategy
    the scenario does not use) is not stored at all.
    """

    def __init__(self, scenario: Scenario, seed: int, samples: int) -> None:
        self.scenario = scenario
        self.seed = seed
        self.samples = samples
        self.filled = 0
        self._store: dict[tuple[str, ...], Array] = {}
        self._shapes: dict[tuple[str, ...], tuple[tuple[int, ...], np.dtype[Any]]] = {}
        self._alias: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._revenue_sum: Array | None = None

    @staticmethod
    def bytes_per_sample(chunk: SampleViews) -> float:
        """Memory a sample's results take once stored [bytes]."""
        unique = {id(a): a for a in _arrays(chunk).values() if np.any(a)}
        return sum(a.nbytes for a in unique.values()) / max(chunk_samples(chunk), 1)

    def add(self, chunk: SampleViews) -> None:
        """Store the next chunk's samples."""
        arrays = _arrays(chunk)
        if not self._shapes:
            owner: dict[int, tuple[str, ...]] = {}
            for key, values in arrays.items():
                if id(values) in owner:
                    self._alias[key] = owner[id(values)]
                    continue
                owner[id(values)] = key
                self._shapes[key] = (values.shape[1:], values.dtype)
        count = chunk_samples(chunk)
        rows = slice(self.filled, self.filled + count)
        for key, (shape, dtype) in self._shapes.items():
            values = arrays[key]
            target = self._store.get(key)
            if target is None:
                if not np.any(values):
                    continue  # still zero in every sample so far: nothing to store
                # np.empty, not np.zeros: writing into zeroed pages first faults them in, which
                # costs several times the copy. Earlier chunks were all zero.
                target = self._store[key] = np.empty((self.samples, *shape), dtype)
                target[: self.filled] = 0
            target[rows] = values
        self.filled += count
        summed = chunk.revenue_by_generation_sum
        self._revenue_sum = (
            summed.copy() if self._revenue_sum is None else self._revenue_sum + summed
        )

    def build(self) -> Result:
        """The Result of every chunk added."""
        if self.filled != self.samples or self._revenue_sum is None:
            raise RuntimeError(f"{self.filled} of {self.samples} samples were added")
        # Items that stayed zero in every sample take no memory: read-only zero views.
        full = {
            key: self._store.get(key, np.broadcast_to(np.zeros((), dtype), (self.samples, *shape)))
            for key, (shape, dtype) in self._shapes.items()
        }
        full.update({key: full[owner] for key, owner in self._alias.items()})
        statements: dict[str, dict[str, Array]] = {}
        tables: dict[str, dict[str, Array]] = {"generations": {}, "metrics": {}, "inputs": {}}
        for key, values in full.items():
            if key[0] == "statements":
                statements.setdefault(key[1], {})[key[2]] = values
            else:
                tables[key[0]][key[1]] = values
        order = {view: list(items) for view, items in VIEWS.items()}
        statements = {
            view: {item: statements[view][item] for item in order[view]} for view in order
        }
        return Result(
            scenario=self.scenario,
            seed=self.seed,
            statements=statements,
            generation_values=tables["generations"],
            metric_values=tables["metrics"],
            input_values=tables["inputs"],
            revenue_by_generation_mean=self._revenue_sum / self.samples,
        )


def _json_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
