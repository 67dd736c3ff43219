"""Traffic shares of active generations: ramp, legacy retention, retirement (DESIGN §4).

w_g(t) ∝ ramp_g(t) * beta^rank_g(t) over the generations released and not yet retired,
where rank 0 is the newest, ramp rises linearly to 1 over ``ramp_months`` after release and
beta in (0, 1] is legacy retention. A small beta means each successor cannibalises its
predecessors almost entirely (seed 000: "newer models cannibalize the revenue of older ones").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from labecon.engine import compiled
from labecon.engine.generations import Schedule
from labecon.engine.inputs import Array


@dataclass(frozen=True)
class Ages:
    """The months since release that a grid's (sample, month, generation) cells hold.

    A quantity that depends only on a sample's inputs and a cell's age (ramp-up, price decay,
    open-weight catch-up) is computed once per sample and age, a table (samples, ages), and
    read by each cell at column ``month - release - first`` (the compiled kernels of
    :mod:`labecon.engine.compiled`): the same arithmetic on the same numbers as computing it
    cell by cell, so the same results, without repeating it (and its ``**``) for every
    generation.
    """

    values: Array  # the ages the grid holds, youngest first [months], shape (ages,)

    @classmethod
    def of(cls, schedule: Schedule, months: NDArray[np.int64]) -> Ages:
        """The ages of ``schedule``'s generations over the grid ``months``."""
        release = schedule.release
        first = int(months[0] - release.max(initial=0))
        count = int(months[-1] - release.min(initial=0)) - first + 1
        return cls(np.arange(first, first + count, dtype=np.float64))

    @property
    def first(self) -> int:
        """The youngest age [months]: a cell's column is its age minus this."""
        return int(self.values[0])


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
    return compiled.on_sale(schedule.release, schedule.retire, cancelled, months)


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
    A cell's weight is ramp(age) x beta^rank, rank the number of generations on sale newer
    than it; both are tables per sample, multiplied in even where the scenario has no ramp
    or beta = 1 (a factor of 1.0 is exact).
    """
    on = active(schedule, months, cancelled) if on_sale is None else on_sale
    age = Ages.of(schedule, months) if ages is None else ages
    ramp_len = ramp_months[:, None]
    ramp = np.where(
        ramp_len > 0, np.clip((age.values + 1) / np.maximum(ramp_len, 1e-12), 0.0, 1.0), 1.0
    )
    count = schedule.release.shape[1]
    # beta^k in column count + k; columns for k < 0 hold 1.
    k = np.arange(-count, count + 1, dtype=np.float64)
    powers = np.where(k >= 0, retention[:, None] ** np.maximum(k, 0.0), 1.0)
    return compiled.traffic_shares(on, schedule.release, months, age.first, ramp, powers)
