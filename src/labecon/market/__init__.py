"""Markets: several labs and open-weight models competing for the same demand (issue 7).

``labecon.market.simulate_market(market, samples, seed)`` runs every lab's engine coupled
through the choice model of :mod:`labecon.market.choice` and returns a
:class:`MarketResult`: each lab's single-lab :class:`~labecon.result.Result`, the shares of
every contested segment, exits, survival and concentration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labecon.api import check_run_options
from labecon.backends import InProcess, chunk_bounds
from labecon.errors import OptionError
from labecon.market.engine import MarketChunk, simulate_market_chunk
from labecon.market.loading import LoadedMarket, MarketError, is_market, load_market
from labecon.market.schema import Market
from labecon.result import Result, ResultBuilder, check_stat, statistic
from labecon.sampler import normalise_seed
from labecon.views import sample_views

Array = NDArray[np.float64]

__all__ = [
    "OPEN_WEIGHT",
    "LoadedMarket",
    "Market",
    "MarketError",
    "MarketResult",
    "is_market",
    "load_market",
    "simulate_market",
]

#: Name of the open-weight option in share tables.
OPEN_WEIGHT = "open-weight"
# Samples per chunk: each lab holds (samples x months x generations) arrays at once.
_CELLS_PER_CHUNK = 2_000_000
MAX_SAMPLES = 1_000_000


@dataclass(frozen=True)
class MarketResult:
    """What a market run gives: each lab's Result and the market's own tables."""

    loaded: LoadedMarket
    seed: int
    labs: dict[str, Result]
    shares: dict[str, Array]  # segment -> (samples, months, options) [fraction]
    exit_month: Array  # (samples, labs): month each lab left the market, NaN: never
    acquirer: NDArray[np.intp]  # (samples, labs): index of the lab that acquired it, or -1

    @property
    def market(self) -> Market:
        """The market as loaded."""
        return self.loaded.market

    @property
    def sample_count(self) -> int:
        """Number of samples simulated."""
        return int(self.exit_month.shape[0])

    @property
    def months(self) -> pd.PeriodIndex:
        """Calendar months of the horizon."""
        return pd.period_range(self.market.start, periods=self.market.horizon_months, freq="M")

    def options(self, segment: str) -> list[str]:
        """The choices of a segment: the labs, then the open-weight option if it competes."""
        self._check_segment(segment)
        names = list(self.loaded.names)
        if self.shares[segment].shape[2] > len(names):
            names.append(OPEN_WEIGHT)
        return names

    def _check_segment(self, segment: str) -> None:
        if segment not in self.shares:
            raise OptionError(
                f"segment: {segment!r} is not contested in this market; accepted: "
                + (", ".join(self.shares) or "none (the market contests no segment)")
            )

    def share_table(self, segment: str, stat: str = "mean") -> pd.DataFrame:
        """Shares of a segment by month (rows) and option (columns) [fraction], one statistic."""
        check_stat(stat)
        self._check_segment(segment)
        values = self.shares[segment]
        return pd.DataFrame(
            {
                name: statistic(values[:, :, j], stat)
                for j, name in enumerate(self.options(segment))
            },
            index=self.months,
        )

    def alive(self) -> NDArray[np.bool_]:
        """Whether each lab is still in the market in each month, (samples, months, labs)."""
        months = np.arange(self.market.horizon_months)[None, :, None]
        gone = np.where(np.isnan(self.exit_month), np.inf, self.exit_month)[:, None, :]
        return months < gone

    def independent_labs(self) -> pd.DataFrame:
        """Number of labs still independent by month: mean and quantiles over samples."""
        count = self.alive().sum(axis=2).astype(np.float64)
        stats = ("mean", "p5", "p50", "p95")
        return pd.DataFrame({s: statistic(count, s) for s in stats}, index=self.months)

    def survival(self) -> pd.DataFrame:
        """Probability each lab is still in the market at the end of each year [fraction]."""
        alive = self.alive()
        years = sorted(set(self.months.year))
        ends = [int(np.flatnonzero(self.months.year == y)[-1]) for y in years]
        return pd.DataFrame(
            {
                name: [float(alive[:, e, i].mean()) for e in ends]
                for i, name in enumerate(self.loaded.names)
            },
            index=pd.Index(years, name="year"),
        )

    def hhi(self, segment: str) -> pd.DataFrame:
        """Herfindahl-Hirschman index of a segment by month [0-10,000]: sum of (100 s_j)^2.

        Over every option, open weight counted as one (US DOJ/FTC Merger Guidelines, 2023:
        above 1,800 a market is highly concentrated).
        """
        self._check_segment(segment)
        index = ((100.0 * self.shares[segment]) ** 2).sum(axis=2)
        stats = ("mean", "p5", "p50", "p95")
        return pd.DataFrame({s: statistic(index, s) for s in stats}, index=self.months)

    def events(self) -> pd.DataFrame:
        """Each lab's exit: probability within the horizon, its month, and how it ends.

        ``probability`` that the lab leaves the market, the median and first month it does
        (months from the start), the probability it winds down, and the probability each
        other lab acquires it (``acquired_by_NAME``).
        """
        names = self.loaded.names
        rows = []
        for i, name in enumerate(names):
            month = self.exit_month[:, i]
            left = ~np.isnan(month)
            row: dict[str, Any] = {
                "lab": name,
                "probability": float(left.mean()),
                "p50_month": float(np.median(month[left])) if left.any() else np.nan,
                "first_month": float(month[left].min()) if left.any() else np.nan,
                "wound_down": float((left & (self.acquirer[:, i] < 0)).mean()),
            }
            for j, other in enumerate(names):
                if j != i:
                    row[f"acquired_by_{other}"] = float((self.acquirer[:, i] == j).mean())
            rows.append(row)
        return pd.DataFrame(rows).set_index("lab")

    def timeline(self) -> pd.DataFrame:
        """Consolidation by year: expected exits, acquisitions and wind-downs per sample.

        Rows are calendar years; ``exits`` is the mean number of labs leaving that year,
        split into ``acquisitions`` and ``wind_downs``; ``independent_labs`` the mean number
        still in the market at the year's end.
        """
        years = list(self.months.year)
        month = self.exit_month
        year_of = np.full(month.shape, -1)
        valid = ~np.isnan(month)
        year_of[valid] = np.asarray(years)[month[valid].astype(np.intp)]
        alive = self.alive()
        out = []
        for year in sorted(set(years)):
            that_year = year_of == year
            end = int(np.flatnonzero(np.asarray(years) == year)[-1])
            out.append(
                {
                    "year": year,
                    "exits": float(that_year.sum(axis=1).mean()),
                    "acquisitions": float((that_year & (self.acquirer >= 0)).sum(axis=1).mean()),
                    "wind_downs": float((that_year & (self.acquirer < 0)).sum(axis=1).mean()),
                    "independent_labs": float(alive[:, end, :].sum(axis=1).mean()),
                }
            )
        return pd.DataFrame(out).set_index("year")


@dataclass(frozen=True)
class _Run:
    loaded: LoadedMarket
    seed: int


def _chunk(run: _Run, bounds: tuple[int, int]) -> tuple[MarketChunk, list[Any]]:
    start, count = bounds
    chunk = simulate_market_chunk(run.loaded, run.seed, start, count)
    views = [
        sample_views(ledger, scenario, draws)
        for ledger, scenario, draws in zip(
            chunk.ledgers, run.loaded.scenarios, chunk.draws, strict=True
        )
    ]
    return chunk, views


def simulate_market(
    market: str | Path | Mapping[str, Any] | LoadedMarket,
    samples: int = 1000,
    seed: int | None = 0,
    chunk_size: int | None = None,
    threads: int | None = None,
) -> MarketResult:
    """Simulate ``samples`` samples of a market; the same seed gives the same numbers.

    Draws depend only on the seed and the sample's index (whatever ``chunk_size``); lab 0
    draws what it would alone with the same seed, the others from seeds derived from it.
    """
    loaded = load_market(market)
    check_run_options(samples, chunk_size, MAX_SAMPLES)
    fixed = normalise_seed(seed)
    cells = sum(
        (s.horizon_months + 24 - min(0, s.generations.first_training_start_month))
        * s.generation_count
        for s in loaded.scenarios
    )
    size = chunk_size or max(1, min(samples, _CELLS_PER_CHUNK // max(cells, 1)))
    builders = [ResultBuilder(s, fixed, samples) for s in loaded.scenarios]
    shares: dict[str, list[Array]] = {}
    exits: list[Array] = []
    acquirers: list[NDArray[np.intp]] = []
    backend = InProcess(threads)
    for chunk, views in backend.map_ordered(
        _chunk, _Run(loaded, fixed), chunk_bounds(samples, size)
    ):
        for builder, lab_views in zip(builders, views, strict=True):
            builder.add(lab_views)
        window = chunk.months >= 0
        for name, values in chunk.shares.items():
            shares.setdefault(name, []).append(values[:, window, :])
        exits.append(chunk.exit_month)
        acquirers.append(chunk.acquirer)
    return MarketResult(
        loaded=loaded,
        seed=fixed,
        labs={name: b.build() for name, b in zip(loaded.names, builders, strict=True)},
        shares={name: np.concatenate(parts) for name, parts in shares.items()},
        exit_month=np.concatenate(exits),
        acquirer=np.concatenate(acquirers),
    )
