"""Result of a simulation: tidy pandas tables of statements, generations and metrics."""

from __future__ import annotations

import functools
import hashlib
import math
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labecon.backends import available_cores
from labecon.engine.compiled import add_rows
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


#: Values from which :func:`statistics` takes its statistics on several threads.
_PARALLEL_STATISTICS = 200_000


def statistics(
    values: Array, stats: Sequence[str], *, never_last: bool = False
) -> dict[str, Array]:
    """:func:`statistic` for several statistics, sorting the samples once for all quantiles.

    Each statistic is the number :func:`statistic` gives; quantiles that need a sort (NaN
    present, or ``never_last``) share one. The others go through ``np.quantile``: of many
    samples (a run's months) all at once, in one partition per column, on several threads,
    where no value is zero; else one by one (where 0.0 and -0.0 tie, one partition for all
    quantiles may return the other sign).
    """
    for stat in stats:
        check_stat(stat)
    quantiles = [stat for stat in stats if stat != "mean"]
    if values.shape[0] == 0 or not quantiles or not (never_last or np.isnan(values).any()):
        if (
            values.ndim == 2
            and len(quantiles) > 1
            and values.size >= _PARALLEL_STATISTICS
            and not np.any(values == 0)
        ):
            out = _quantiles_by_column(values, quantiles)
            if "mean" in stats:
                out["mean"] = statistic(values, "mean")
            return {stat: out[stat] for stat in stats}
        return {stat: statistic(values, stat, never_last=never_last) for stat in stats}
    ordered = np.sort(values, axis=0)  # NaN sorts last
    counts = (
        np.full(values.shape[1:], values.shape[0])
        if never_last
        else np.sum(~np.isnan(values), axis=0)
    )
    out = {stat: np.asarray(_interpolate(ordered, _QUANTILE[stat], counts)) for stat in quantiles}
    if "mean" in stats:
        out["mean"] = statistic(values, "mean")
    return {stat: out[stat] for stat in stats}


def _quantiles_by_column(values: Array, quantiles: Sequence[str]) -> dict[str, Array]:
    """``np.quantile`` over samples (axis 0) of each column, for several quantiles at once.

    Columns are laid out contiguously and split between threads (NumPy's partition
    releases the GIL); each column's order statistics and their interpolation are those of
    ``np.quantile(values, q, axis=0)``, bit for bit, for values without zeros or NaN.
    """
    columns = np.ascontiguousarray(values.T)
    q = [_QUANTILE[stat] for stat in quantiles]
    parts = np.array_split(np.arange(columns.shape[0]), min(available_cores(), columns.shape[0]))
    with ThreadPoolExecutor(len(parts)) as pool:
        done = list(
            pool.map(lambda rows: np.quantile(columns[rows[0] : rows[-1] + 1], q, axis=1), parts)
        )
    table = np.concatenate(done, axis=1)  # (quantiles, columns)
    return {stat: table[i] for i, stat in enumerate(quantiles)}


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


#: What a Result keeps of each sample: ``"monthly"``, every sample's monthly statements (the
#: default); ``"annual"``, every sample's yearly values and the exact monthly means, an
#: eighth of the memory for baseline (docs/performance.md, "Memory").
KEEPS = ("monthly", "annual")


def check_keep(keep: str) -> None:
    """Refuse an unknown ``keep``."""
    if keep not in KEEPS:
        raise OptionError(f"keep: {keep!r} is not accepted; accepted: {', '.join(KEEPS)}")


def calendar(scenario: Scenario) -> tuple[pd.PeriodIndex, NDArray[np.int64], list[int]]:
    """The horizon's calendar months, the year of each, and the years it touches."""
    months, year_of_month, years = _calendar(scenario.start, scenario.horizon_months)
    return months, year_of_month, list(years)


@functools.lru_cache(maxsize=64)
def _calendar(
    start: str, horizon: int
) -> tuple[pd.PeriodIndex, NDArray[np.int64], tuple[int, ...]]:
    """:func:`calendar` of a start month and horizon, made once (every chunk reads it)."""
    first = pd.Period(start, freq="M")
    months = pd.period_range(first, periods=horizon, freq="M", name="month")
    year_of_month = np.array([p.year for p in months], dtype=np.int64)
    year_of_month.flags.writeable = False
    return months, year_of_month, tuple(sorted({int(y) for y in year_of_month}))


def yearly_values(
    monthly: Array, how: Aggregate, year_of_month: NDArray[np.int64], years: list[int]
) -> Array:
    """Per-sample yearly values (samples, years) of monthly values (samples, months).

    A flow is the year's sum, a stock its last month, a level its mean. Each sample's row is
    computed on its own, so chunks of samples give the same numbers as the whole run.
    """
    out = np.empty((monthly.shape[0], len(years)))
    for i, year in enumerate(years):
        cols = np.flatnonzero(year_of_month == year)
        if how is Aggregate.FLOW:
            out[:, i] = monthly[:, cols].sum(axis=1)
        elif how is Aggregate.STOCK:
            out[:, i] = monthly[:, cols[-1]]
        else:
            out[:, i] = monthly[:, cols].mean(axis=1)
    return out


def month_label(scenario: Scenario, index: float) -> str | None:
    """'YYYY-MM' of a month index from the scenario's start, or None for NaN."""
    if index is None or not math.isfinite(index):
        return None
    return str(pd.Period(scenario.start, freq="M") + round(index))


def chunk_yearly_values(
    monthly: Array,
    how: Aggregate,
    year_of_month: NDArray[np.int64],
    years: list[int],
    samples: int,
) -> Array:
    """:func:`yearly_values` of one chunk of a run of ``samples`` samples, as the whole run's.

    numpy lays out ``monthly[:, months]`` month by month, and so sums a year's months one
    after another, only when there are two samples or more: a one-sample chunk of a larger
    run is summed as two.
    """
    count = monthly.shape[0]
    rows = np.repeat(monthly, 2, axis=0) if count == 1 < samples else monthly
    return yearly_values(rows, how, year_of_month, years)[:count]


@dataclass(frozen=True)
class Result:
    """Per-sample results of a run and the tables users read from them.

    ``statements[view][item]`` are arrays (samples, months); ``generation_values[column]``
    are (samples, G); ``metric_values[name]`` and ``input_values[name]`` are (samples,).

    With ``keep="annual"`` the per-sample monthly statements are not kept (``statements`` is
    empty): ``annual_values[view][item]`` (samples, years) and ``monthly_means[view][item]``
    (months,) hold what the yearly tables, the monthly means and ``to_dict`` read, with the
    same numbers as a ``keep="monthly"`` run.
    """

    scenario: Scenario
    seed: int
    statements: dict[str, dict[str, Array]]
    generation_values: dict[str, Array]
    metric_values: dict[str, Array]
    input_values: dict[str, Array]
    revenue_by_generation_mean: Array  # (months, G) [USD/month]
    keep: str = "monthly"
    annual_values: dict[str, dict[str, Array]] = field(default_factory=dict)
    monthly_means: dict[str, dict[str, Array]] = field(default_factory=dict)

    # -- shape and calendar ---------------------------------------------------------------
    @property
    def sample_count(self) -> int:
        """Number of samples simulated."""
        return int(next(iter(self.metric_values.values())).shape[0])

    @property
    def months(self) -> pd.PeriodIndex:
        """Calendar months of the scenario's horizon."""
        return calendar(self.scenario)[0]

    @property
    def years(self) -> list[int]:
        """Calendar years the horizon touches."""
        return calendar(self.scenario)[2]

    def month_label(self, index: float) -> str | None:
        """'YYYY-MM' of a month index from the start, or None for NaN."""
        return month_label(self.scenario, index)

    # -- statements ------------------------------------------------------------------------
    def _items(self, view: str, item: str | None = None) -> list[str]:
        """The items of a view, refusing an unknown view (or item)."""
        if view not in VIEWS:
            raise OptionError(f"view: {view!r} is not a view; accepted: {', '.join(VIEWS)}")
        items = list(VIEWS[view])
        if item is not None and item not in items:
            raise OptionError(
                f"item: {item!r} is not in the {view} view; accepted: {', '.join(items)}"
            )
        return items

    def _monthly_kept(self, what: str) -> None:
        if self.keep != "monthly":
            raise OptionError(
                f"{what} needs every sample's monthly values, which a keep={self.keep!r} run "
                "does not keep; accepted: simulate(..., keep='monthly') (the default)"
            )

    def samples(self, view: str, item: str) -> Array:
        """Per-sample monthly values of one line item, shape (samples, months)."""
        self._items(view, item)
        self._monthly_kept("samples()")
        return self.statements[view][item]

    def annual_samples(self, view: str, item: str) -> Array:
        """Per-sample yearly values of one item (samples, years): sums, year-end or means."""
        self._items(view, item)
        if self.keep == "annual":
            return self.annual_values[view][item]
        _, year_of_month, years = calendar(self.scenario)
        return yearly_values(self.samples(view, item), VIEWS[view][item], year_of_month, years)

    def monthly(self, view: str, stat: str = "mean") -> pd.DataFrame:
        """A view's line items by calendar month, one statistic over samples.

        A ``keep="annual"`` run has the mean only.
        """
        items = self._items(view)
        check_stat(stat)
        if self.keep == "annual" and stat == "mean":
            return pd.DataFrame(dict(self.monthly_means[view]), index=self.months)
        self._monthly_kept(f"monthly(stat={stat!r})")
        values = self.statements[view]
        # Means as a keep="annual" run streams them, so both give the same numbers.
        of = blocked_mean if stat == "mean" else (lambda v: statistic(v, stat))
        return pd.DataFrame({item: of(values[item]) for item in items}, index=self.months)

    def annual(self, view: str, stat: str = "mean") -> pd.DataFrame:
        """A view's line items by calendar year, one statistic over samples.

        Flows are summed over the year per sample before the statistic is taken, so the p50
        of a year is the median yearly total, not the sum of monthly medians.
        """
        items = self._items(view)
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
        return self._generation_frames([stat])[stat]

    def _generation_frames(self, stats: Sequence[str]) -> dict[str, pd.DataFrame]:
        """:meth:`generations` for several statistics, each column's samples sorted once."""
        values = self.generation_values
        count = values["release_month"].shape[1]
        columns = {
            column: statistics(values[column], stats, never_last=column in _NEVER_IS_LAST)
            for column in GENERATION_COLUMNS
        }
        release = statistic(values["release_month"], "p50")
        start = statistic(values["training_start_month"], "p50")
        labels = {
            "release_month": [self.month_label(float(m)) for m in release],
            "training_start_month": [self.month_label(float(m)) for m in start],
            "share_trained": np.mean(~np.isnan(values["training_cost_usd"]), axis=0),
            "share_released": np.mean(
                values["release_month"] < self.scenario.horizon_months, axis=0
            ),
            "share_paid_back": np.mean(~np.isnan(values["payback_months"]), axis=0),
        }
        frames = {}
        for stat in stats:
            frame = pd.DataFrame({"generation": np.arange(count)})
            for column in GENERATION_COLUMNS:
                frame[column] = columns[column][stat]
            for column, labelled in labels.items():
                frame[column] = labelled
            frames[stat] = frame
        return frames

    # -- metrics ---------------------------------------------------------------------------
    def metrics(self) -> dict[str, Any]:
        """Key metrics of the run.

        Month metrics are 'YYYY-MM' quantiles with the probability that they occur within
        the horizon; money metrics are the mean and quantiles; probabilities are floats.
        """
        m = self.metric_values
        out: dict[str, Any] = {"samples": self.sample_count, "seed": self.seed}
        for name in ("breakeven_month", "cash_breakeven_month", "insolvency_month"):
            months = statistics(m[name][:, None], STATS[1:], never_last=True)
            entry: dict[str, Any] = {
                "probability": float(np.mean(~np.isnan(m[name]))),
            }
            for stat in STATS[1:]:
                entry[stat] = self.month_label(float(months[stat][0]))
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
            values = statistics(m[name][:, None], STATS)
            out[name] = {stat: float(values[stat][0]) for stat in STATS}
        return out

    def rounds(self, stat: str = "p50", limit: int = 12) -> pd.DataFrame:
        """Equity rounds in order: how often each happens, when, its size, price and dilution.

        Derived from the cash view: a round is a month with equity raised; its dilution is
        the fall in the starting holders' ownership that month and its pre-money valuation
        raise x (1 - d) / d (none under the ``unlimited`` policy, which prices no round).
        Statistics are over the samples that reach that round.
        """
        check_stat(stat)
        self._monthly_kept("rounds()")
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
        for view in VIEWS:
            views[view] = {}
            for item in self._items(view):
                yearly = statistics(self.annual_samples(view, item), STATS)
                views[view][item] = {
                    stat: [_json_number(v) for v in yearly[stat]] for stat in STATS
                }
        generations = {
            stat: [
                {k: _json_number(v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]
            for stat, frame in self._generation_frames(STATS).items()
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


# An item whose every sample holds the same row of integers (0, 1, month indices) or NaN is
# stored once: any sum of such numbers is exact whatever its order, so every statistic is the
# same as over a full array. Bounded so that a sum over MAX_SAMPLES samples stays exact.
_EXACT_INTEGER = 2.0**29


def _same_in_every_sample(values: NDArray[Any]) -> NDArray[Any] | None:
    """The row every sample shares, if it is all integers or NaN (see _EXACT_INTEGER).

    Zero in every sample (-0.0 included) gives a row of +0.0, as it always has.
    """
    if not np.any(values):
        return np.zeros(values.shape[1:], values.dtype)
    if values.dtype != np.float64:
        return None
    row = values[0]
    exact = np.isnan(row) | ((np.abs(row) <= _EXACT_INTEGER) & (row == np.rint(row)))
    if not exact.all():
        return None
    bits, want = values.view(np.uint64), row.view(np.uint64)
    # A cheap look at the first rows rules most items out before the full comparison.
    if not (bits[:8] == want).all() or not (bits == want).all():
        return None
    return row.copy()


def _bits_equal(left: NDArray[Any], right: NDArray[Any]) -> bool:
    """Whether two arrays hold the same bytes (NaN equal to NaN, -0.0 not to 0.0)."""
    return (
        left.shape == right.shape
        and left.dtype == right.dtype
        and left.tobytes() == right.tobytes()
    )


def _stored_bytes(arrays: dict[tuple[str, ...], Array]) -> int:
    """Bytes of the arrays stored: distinct, and not one row shared by every sample."""
    unique = {id(a): a for a in arrays.values()}
    distinct = {a.tobytes(): a for a in unique.values() if _same_in_every_sample(a) is None}
    return sum(a.nbytes for a in distinct.values())


#: Samples per block of the means streamed over chunks (monthly means, revenue by
#: generation): a run's mean is the sum of its blocks' sums, added in order, over the count.
MEAN_BLOCK = 64


def _block_sum(rows: Array) -> Array:
    """Sum of one block's rows over samples: the one function every block goes through."""
    return np.ascontiguousarray(rows).sum(axis=0)


@dataclass(frozen=True)
class BlockSums:
    """One chunk's part of a blocked sum over samples (NaN read as 0), and its counts.

    Blocks are MEAN_BLOCK samples from sample 0. ``blocks`` holds the sums of the blocks
    wholly inside the chunk; ``head`` the chunk's rows before its first block boundary and
    ``tail`` those after its last: the rows of blocks other chunks share, summed where
    the chunks meet (:class:`MeanStream`). So any chunking gives the same sums.
    """

    head: Array
    blocks: Array
    tail: Array
    counts: NDArray[np.int64]  # non-NaN values, by month (and generation)

    @classmethod
    def of(cls, values: Array, start: int) -> BlockSums:
        """The part of samples ``start ..`` of a run whose values (samples, ...) are given."""
        zeroed = np.where(np.isnan(values), 0.0, values)
        first = min((-start) % MEAN_BLOCK, zeroed.shape[0])
        rest = zeroed[first:]
        whole = rest.shape[0] // MEAN_BLOCK
        blocks = np.empty((whole, *values.shape[1:]))
        for b in range(whole):
            blocks[b] = _block_sum(rest[b * MEAN_BLOCK : (b + 1) * MEAN_BLOCK])
        return cls(
            zeroed[:first], blocks, rest[whole * MEAN_BLOCK :], np.sum(~np.isnan(values), axis=0)
        )


class MeanStream:
    """A mean over samples built from the chunks' BlockSums, in sample order."""

    def __init__(self) -> None:
        self._pending: list[Array] = []
        self._rows = 0
        self._total: Array | None = None
        self._counts: NDArray[np.int64] | None = None

    def _close(self, block: Array) -> None:
        self._total = block.copy() if self._total is None else self._total + block

    def add(self, part: BlockSums) -> None:
        """The next chunk's part."""
        self._counts = part.counts.copy() if self._counts is None else self._counts + part.counts
        if part.head.shape[0]:
            self._pending.append(part.head)
            self._rows += part.head.shape[0]
        if self._rows == MEAN_BLOCK:
            self._close(_block_sum(np.concatenate(self._pending)))
            self._pending, self._rows = [], 0
        blocks = part.blocks
        if blocks.shape[0]:
            if self._total is None:
                self._total, blocks = blocks[0].copy(), blocks[1:]
            if blocks.shape[0]:
                # the additions _close makes one block after another, in one call
                rows = np.ascontiguousarray(blocks).reshape(blocks.shape[0], -1)
                add_rows(self._total.reshape(-1), rows)
        if part.tail.shape[0]:
            self._pending, self._rows = [part.tail], part.tail.shape[0]

    def mean(self) -> Array:
        """Sum of the block sums (the last block as far as it goes) over the counts."""
        total = self._total
        if self._pending:
            last = _block_sum(np.concatenate(self._pending))
            total = last if total is None else total + last
        if total is None or self._counts is None:
            raise RuntimeError("no sample was added")
        with np.errstate(invalid="ignore"):
            return np.divide(
                total, self._counts, out=np.full(total.shape, np.nan), where=self._counts > 0
            )


def blocked_mean(values: Array) -> Array:
    """Mean over samples (axis 0) ignoring NaN, as :class:`MeanStream` streams it."""
    stream = MeanStream()
    stream.add(BlockSums.of(values, 0))
    return stream.mean()


Key = tuple[str, ...]


@dataclass(frozen=True)
class StoredChunk:
    """A chunk's results as a ResultBuilder stores them, reduced where the chunk ran.

    ``arrays``: every per-sample array by its place in the Result (statement items as yearly
    values with ``keep="annual"``), arrays shared between places kept shared; ``means``: the
    block sums of each monthly statement item with ``keep="annual"``, one object for the
    items that share an array; ``revenue``: those of revenue by generation.
    """

    count: int
    arrays: dict[Key, Array]
    revenue: BlockSums
    means: dict[Key, BlockSums] = field(default_factory=dict)


def reduce_chunk(
    chunk: SampleViews, scenario: Scenario, start: int, samples: int, keep: str
) -> StoredChunk:
    """What a ResultBuilder of ``samples`` samples keeps of the chunk starting at ``start``.

    Runs where the chunk was computed (a worker thread, a Dask worker), so that only what is
    kept travels and the caller only stores it.
    """
    revenue = BlockSums.of(chunk.revenue_by_generation, start)
    count = chunk_samples(chunk)
    if keep != "annual" or scenario.horizon_months < 2:
        return StoredChunk(count, _arrays(chunk), revenue)
    _, year_of_month, years = calendar(scenario)
    yearly: dict[tuple[int, Aggregate], Array] = {}
    out = _arrays(chunk)
    parts: dict[int, BlockSums] = {}
    means: dict[Key, BlockSums] = {}
    for view, items in chunk.statements.items():
        for item, values in items.items():
            key = ("statements", view, item)
            # Items that share an array share its block sums (computed once).
            if id(values) not in parts:
                parts[id(values)] = BlockSums.of(values, start)
            means[key] = parts[id(values)]
            how = VIEWS[view][item]
            if (id(values), how) not in yearly:
                yearly[(id(values), how)] = chunk_yearly_values(
                    values, how, year_of_month, years, samples
                )
            out[key] = yearly[(id(values), how)]
    return StoredChunk(count, out, revenue, means)


class ResultBuilder:
    """Collects chunks into preallocated arrays, so a run holds one copy of its results.

    Views share line items (the capitalised view's revenue is the expensed view's); shared
    arrays are stored once, and an item whose samples all hold the same integers or NaN (a
    channel or strategy the scenario does not use, a ratio that is never defined) is stored
    as one row. With ``keep="annual"`` each statement item is kept as yearly values per
    sample, and its monthly means are streamed as blocked sums (:class:`MeanStream`), the
    numbers ``Result.monthly(view)`` computes from every sample's months.
    """

    def __init__(self, scenario: Scenario, seed: int, samples: int, keep: str = "monthly") -> None:
        check_keep(keep)
        self.scenario = scenario
        self.seed = seed
        self.samples = samples
        # A one-month horizon keeps its months: they are its years, and numpy sums a single
        # column in another order than the streamed means below.
        self.keep = keep if scenario.horizon_months >= 2 else "monthly"
        self.filled = 0
        self._store: dict[tuple[str, ...], Array] = {}
        self._constant: dict[tuple[str, ...], NDArray[Any]] = {}
        self._shapes: dict[tuple[str, ...], tuple[tuple[int, ...], np.dtype[Any]]] = {}
        self._alias: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._twin: dict[tuple[str, ...], tuple[str, ...]] = {}  # equal values, stored once
        self._revenue = MeanStream()
        # keep="annual": the monthly means of each distinct statement array, streamed.
        self._mean_owner: dict[Key, Key] = {}
        self._means: dict[Key, MeanStream] = {}

    @staticmethod
    def bytes_per_sample(chunk: SampleViews) -> float:
        """Memory a sample's results take once stored with ``keep="monthly"`` [bytes]."""
        return _stored_bytes(_arrays(chunk)) / max(chunk_samples(chunk), 1)

    def stored_bytes_per_sample(self, chunk: SampleViews | StoredChunk) -> float:
        """Memory a sample's results take once stored by this builder [bytes]."""
        stored = chunk if isinstance(chunk, StoredChunk) else self.reduce(chunk, 0)
        return _stored_bytes(stored.arrays) / max(stored.count, 1)

    def reduce(self, chunk: SampleViews, start: int | None = None) -> StoredChunk:
        """What this builder keeps of a chunk starting at ``start`` (default: the next)."""
        first = self.filled if start is None else start
        return reduce_chunk(chunk, self.scenario, first, self.samples, self.keep)

    def add(self, chunk: SampleViews | StoredChunk) -> None:
        """Store the next chunk's samples (its results, or what :meth:`reduce` kept of them)."""
        stored = chunk if isinstance(chunk, StoredChunk) else self.reduce(chunk)
        arrays = stored.arrays
        if self.keep == "annual":
            if not self._means:
                # Items sharing an array in the first chunk hold the same values: one stream.
                # (A later chunk may not share it, e.g. after its insolvent samples ran again.)
                shared_by: dict[int, Key] = {}
                for key, part in stored.means.items():
                    self._mean_owner[key] = shared_by.setdefault(id(part), key)
                self._means = {key: MeanStream() for key in set(self._mean_owner.values())}
            for key, stream in self._means.items():
                stream.add(stored.means[key])
        self._revenue.add(stored.revenue)
        if not self._shapes:
            owner: dict[int, tuple[str, ...]] = {}
            for key, values in arrays.items():
                if id(values) in owner:
                    self._alias[key] = owner[id(values)]
                    continue
                owner[id(values)] = key
                self._shapes[key] = (values.shape[1:], values.dtype)
        count = stored.count
        rows = slice(self.filled, self.filled + count)
        first: dict[bytes, tuple[str, ...]] = {}  # digest of each array stored, first chunk
        for key, (shape, dtype) in self._shapes.items():
            values = arrays[key]
            target = self._store.get(key)
            if target is None and key in self._twin:
                twin = self._twin[key]
                if _bits_equal(values, arrays[twin]):
                    continue  # still equal to its twin in every sample so far
                target = self._store[key] = np.empty((self.samples, *shape), dtype)
                target[: self.filled] = self._store[self._twin.pop(key)][: self.filled]
            elif target is None:
                same = _same_in_every_sample(values)
                kept = self._constant.get(key) if self.filled else same
                if same is not None and kept is not None and same.tobytes() == kept.tobytes():
                    self._constant[key] = kept
                    continue  # still one row in every sample so far: nothing to store
                if not self.filled:
                    # An item equal to another in every sample (revenue including a cloud fee
                    # of 0, GW needed when all is served) is stored once.
                    digest = hashlib.blake2b(values.tobytes(), digest_size=16).digest()
                    twin = first.setdefault(digest + repr((shape, dtype)).encode(), key)
                    if twin != key and _bits_equal(values, arrays[twin]):
                        self._twin[key] = twin
                        continue
                # np.empty, not np.zeros: writing into zeroed pages first faults them in, which
                # costs several times the copy. Earlier chunks all held the same row.
                target = self._store[key] = np.empty((self.samples, *shape), dtype)
                if self.filled:
                    target[: self.filled] = self._constant.pop(key)
                else:
                    self._constant.pop(key, None)
            target[rows] = values
        self.filled += count

    def build(self) -> Result:
        """The Result of every chunk added."""
        if self.filled != self.samples:
            raise RuntimeError(f"{self.filled} of {self.samples} samples were added")
        # Items whose samples all hold one row take the memory of a row: read-only views.
        full = {
            key: self._store[key]
            if key in self._store
            else np.broadcast_to(self._constant[key].astype(dtype), (self.samples, *shape))
            for key, (shape, dtype) in self._shapes.items()
            if key not in self._twin
        }
        full.update({key: full[twin] for key, twin in self._twin.items()})
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
        annual: dict[str, dict[str, Array]] = {}
        means: dict[str, dict[str, Array]] = {}
        if self.keep == "annual":
            annual, statements = statements, {}
            computed = {key: stream.mean() for key, stream in self._means.items()}
            for key, owner in self._mean_owner.items():
                means.setdefault(key[1], {})[key[2]] = computed[owner]
            means = {view: {item: means[view][item] for item in order[view]} for view in order}
        return Result(
            scenario=self.scenario,
            seed=self.seed,
            statements=statements,
            generation_values=tables["generations"],
            metric_values=tables["metrics"],
            input_values=tables["inputs"],
            revenue_by_generation_mean=self._revenue.mean(),
            keep=self.keep,
            annual_values=annual,
            monthly_means=means,
        )


def _json_number(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
