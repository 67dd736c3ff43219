"""Traffic shares of active generations: ramp, legacy retention, retirement (DESIGN §4).

w_g(t) ∝ ramp_g(t) * beta^rank_g(t) over the generations released and not yet retired,
where rank 0 is the newest, ramp rises linearly to 1 over ``ramp_months`` after release and
beta in (0, 1] is legacy retention. A small beta means each successor cannibalises its
predecessors almost entirely (seed 000: "newer models cannibalize the revenue of older ones").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from labecon.engine.generations import Schedule
from labecon.engine.inputs import Array


@dataclass(frozen=True)
class Ages:
    """Months since release of every (sample, month, generation) cell, as an index into tables.

    A quantity that depends only on a sample's inputs and a cell's age (ramp-up, price decay,
    open-weight catch-up) is computed once per sample and age, a table (samples, ages), and
    looked up here: the same arithmetic on the same numbers as computing it cell by cell, so
    the same results, without repeating it (and its ``**``) for every generation.
    """

    values: Array  # the ages the grid holds, youngest first [months], shape (ages,)
    flat: NDArray[np.intp]  # (samples, months, G): row in ``table.ravel()`` of each cell's age

    @classmethod
    def of(cls, schedule: Schedule, months: NDArray[np.int64]) -> Ages:
        """The ages of ``schedule``'s generations over the grid ``months``."""
        release = schedule.release
        samples = release.shape[0]
        first = int(months[0] - release.max(initial=0))
        count = int(months[-1] - release.min(initial=0)) - first + 1
        # index = sample * count + (t - release - first), one pass over the cells.
        offset = np.arange(samples, dtype=np.intp)[:, None] * count - first - release
        flat = months.astype(np.intp)[None, :, None] + offset[:, None, :]
        return cls(np.arange(first, first + count, dtype=np.float64), flat)

    def take(self, table: NDArray[np.generic], out: NDArray[Any] | None = None) -> NDArray[Any]:
        """Look up a table (samples, ages) at every cell's age, shape (samples, months, G).

        ``out``, an array of that shape and the table's dtype, receives the values if given.
        """
        return np.take(table.ravel(), self.flat, out=out)


def spread(mask: NDArray[np.bool_], per_month: Array) -> Array:
    """A generation's amount per month in the cells where ``mask`` holds, 0 elsewhere.

    ``mask`` is (samples, months, G), ``per_month`` (samples, G); the same as
    ``np.where(mask, per_month[:, None, :], 0.0)``. When every amount is finite and not -0.0,
    ``mask * per_month`` gives exactly that (x * 1 = x, x * 0 = +0.0) about twice as fast.
    """
    if np.all(np.isfinite(per_month)) and not np.any(np.signbit(per_month)):
        return np.multiply(mask, per_month[:, None, :])
    return np.where(mask, per_month[:, None, :], 0.0)


def active(
    schedule: Schedule, months: NDArray[np.int64], cancelled: NDArray[np.bool_]
) -> NDArray[np.bool_]:
    """Whether generation g is on sale in month t, shape (samples, months, G)."""
    t = months[None, :, None]
    on_sale = (schedule.release[:, None, :] <= t) & (t < schedule.retire[:, None, :])
    return on_sale & ~cancelled[:, None, :]


def traffic_shares(
    schedule: Schedule,
    months: NDArray[np.int64],
    cancelled: NDArray[np.bool_],
    ramp_months: Array,
    retention: Array,
    ages: Ages | None = None,
    on_sale: NDArray[np.bool_] | None = None,
) -> Array:
    """w_g(t): share of the lab's traffic served by generation g [fraction], (samples, months, G).

    Shares sum to 1 over generations in every month with an active model, 0 otherwise.
    ``ages`` (:meth:`Ages.of`) and ``on_sale`` (:func:`active`) are passed when already known.
    """
    on = active(schedule, months, cancelled) if on_sale is None else on_sale
    weight = on.astype(np.float64)
    if np.any(ramp_months > 0):
        age = Ages.of(schedule, months) if ages is None else ages
        ramp_len = ramp_months[:, None]
        weight *= age.take(
            np.where(
                ramp_len > 0,
                np.clip((age.values + 1) / np.maximum(ramp_len, 1e-12), 0.0, 1.0),
                1.0,
            )
        )
    if np.any(retention != 1):
        count = schedule.release.shape[1]
        # beta^k in column count + k; columns for k < 0 (never read on sale) hold 1.
        k = np.arange(-count, count + 1, dtype=np.float64)
        powers = np.where(k >= 0, retention[:, None] ** np.maximum(k, 0.0), 1.0)
        weight *= np.take(powers.ravel(), _rank_rows(schedule, months, cancelled, on))
    total = weight.sum(axis=2, keepdims=True)
    # np.zeros, not zeros_like: calloc'd pages need no writing where nothing is on sale.
    return np.divide(weight, total, out=np.zeros(weight.shape), where=total > 0)


def _rank_rows(
    schedule: Schedule,
    months: NDArray[np.int64],
    cancelled: NDArray[np.bool_],
    on: NDArray[np.bool_],
) -> NDArray[np.intp]:
    """Row in a (samples, 2G + 1) table of beta^(k - G) of each cell's rank, (samples, months, G).

    rank_g(t), the number of generations on sale in month t that are newer than g, is what
    the cell of an on-sale generation reads; other cells read some row of the same sample
    (their weight is 0). Generations release in order, live equally long and are cancelled
    from some generation on, so those on sale and newer than g are g+1 .. hi(t), hi the newest
    released and not cancelled: rank = hi - g, one (samples, months) count and one pass.
    Schedules that break this (none the engine builds) take the cumulative sum over G.
    """
    samples, count = schedule.release.shape
    first_row = np.arange(samples, dtype=np.intp)[:, None] * (2 * count + 1) + count
    life = schedule.retire - schedule.release
    if not (
        np.all(np.diff(schedule.release, axis=1) > 0)
        and np.all(life == life[:, :1])
        and np.all(cancelled[:, 1:] >= cancelled[:, :-1])
    ):
        newer = np.cumsum(on[:, :, ::-1], axis=2, dtype=np.intp)[:, :, ::-1] - on
        return newer + first_row[:, :, None]
    released = np.zeros((samples, months.size), dtype=np.intp)
    for g in range(count):
        released += schedule.release[:, g, None] <= months[None, :]
    kept = count - cancelled.sum(axis=1, dtype=np.intp)
    newest = np.minimum(released, kept[:, None]) - 1  # hi(t), -1 before any release
    return (first_row + newest)[:, :, None] - np.arange(count, dtype=np.intp)[None, None, :]
