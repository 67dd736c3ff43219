"""Loops compiled to machine code (Numba), for the engine's month-by-month recursions.

Some of the engine's arithmetic is a recursion over months (the cash balance) or a chain of
elementwise steps over every (sample, month, generation) cell. As NumPy array operations
they cost a Python call per month, or a pass over memory per step; compiled, each sample's
cells are visited once. Kernels do the same IEEE-754 operations in the same order as the
NumPy expressions they replace (no fast-math, no fused multiply-add), so the numbers are the
same bit for bit (tests/test_compiled.py compares each with its NumPy form).

They are compiled on first use and the machine code is cached on disk (Numba's cache, next
to this package or in ``NUMBA_CACHE_DIR``), so later processes load it in milliseconds.
Kernels release the GIL: chunks on several threads run on several cores. Every kernel lives
in this module: Numba's cache of a function is renewed when the function's own file
changes, not when a function it calls in another file does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
from numpy.typing import NDArray

Function = TypeVar("Function", bound=Callable[..., Any])
Array = NDArray[np.float64]

MONTHS_PER_YEAR = 12.0


def compiled(function: Function) -> Function:
    """``function`` compiled with Numba: no Python objects, GIL released, cached on disk."""
    return cast(Function, numba.njit(cache=True, nogil=True, fastmath=False)(function))


@compiled
def maximum(a: float, b: float) -> float:
    """``np.maximum`` of two floats: NaN if either is NaN, ``b`` on a tie.

    So max(0.0, -0.0) is -0.0, as NumPy gives it (x86's ``maxpd``).
    """
    return a if (a > b or a != a) else b


@compiled
def minimum(a: float, b: float) -> float:
    """``np.minimum`` of two floats: NaN if either is NaN, ``b`` on a tie."""
    return a if (a < b or a != a) else b


#: Longest generations axis summed as NumPy sums it here: up to this length NumPy adds 8
#: partial sums (``pairwise_sum``, numpy/_core/src/umath/loops_utils.h.src); beyond it, it
#: splits the row in halves, which the kernel does not reproduce (NumPy sums those).
_PAIRWISE_BLOCK = 128


def sum_generations(cells: NDArray[np.float64], start: int = 0) -> NDArray[np.float64]:
    """``cells[:, start:, :].sum(axis=2)`` of (samples, months, G) cells, bit for bit, faster.

    NumPy sums a contiguous last axis of up to 128 values in 8 partial sums (one for each
    position modulo 8, combined pairwise, then the rest one by one) and adds that to 0.0;
    the kernel does the same, about 4x faster. Cells not C-contiguous, or with a longer last
    axis, are summed by NumPy. NaN stays NaN, though its sign bit may differ.
    """
    if (
        cells.ndim != 3
        or cells.dtype != np.float64
        or not cells.flags.c_contiguous
        or cells.shape[2] > _PAIRWISE_BLOCK
        or not 0 <= start <= cells.shape[1]
    ):
        return cells[:, start:, :].sum(axis=2)
    return _sum_last(cells, start)


def generation_total(
    total: NDArray[np.float64] | None, cells: NDArray[np.float64], start: int = 0
) -> NDArray[np.float64]:
    """``sum_generations(cells, start)``, read from a kernel's ``total`` of these cells if given.

    Kernels sum each (sample, month) row of the cells they make pairwise, as NumPy does up to
    128 generations; a caller passes ``total`` only while the cells are as the kernel made
    them. Beyond 128 generations, or without a total, the cells are summed.
    """
    if total is None or cells.shape[2] > _PAIRWISE_BLOCK:
        return sum_generations(cells, start)
    return total[:, start:].copy()


def sum_months(cells: NDArray[np.float64]) -> NDArray[np.float64]:
    """``cells.sum(axis=1)`` of (samples, months, G) cells, bit for bit, several times faster.

    With two generations or more and a contiguous last axis NumPy adds the months one after
    another, from 0.0, for every (sample, generation); the kernel does the same. Other cells
    are summed by NumPy (one generation: its months are contiguous and summed pairwise).
    """
    if (
        cells.ndim != 3
        or cells.dtype != np.float64
        or cells.strides[2] != cells.itemsize
        or cells.shape[2] < 2
    ):
        return cells.sum(axis=1)
    return _sum_middle(cells)


@compiled
def pairwise(row: NDArray[np.float64]) -> float:
    """NumPy's sum of a contiguous row of up to 128 values, bit for bit.

    8 partial sums (one for each position modulo 8) combined pairwise, then the rest one by
    one, added to 0.0 (``pairwise_sum`` in numpy/_core/src/umath/loops_utils.h.src); fewer
    than 8 values one by one.
    """
    n = row.size
    if n < 8:
        res = 0.0
        for g in range(n):
            res += row[g]
        return 0.0 + res
    r0, r1, r2, r3 = row[0], row[1], row[2], row[3]
    r4, r5, r6, r7 = row[4], row[5], row[6], row[7]
    g = 8
    whole = n - n % 8
    while g < whole:
        r0 += row[g]
        r1 += row[g + 1]
        r2 += row[g + 2]
        r3 += row[g + 3]
        r4 += row[g + 4]
        r5 += row[g + 5]
        r6 += row[g + 6]
        r7 += row[g + 7]
        g += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while g < n:
        res += row[g]
        g += 1
    return 0.0 + res


@compiled
def _sum_last(cells: NDArray[np.float64], start: int) -> NDArray[np.float64]:
    """NumPy's pairwise sum over the last axis (n <= 128), months start.."""
    samples, months, _ = cells.shape
    out = np.empty((samples, months - start))
    for i in range(samples):
        for t in range(start, months):
            out[i, t - start] = pairwise(cells[i, t])
    return out


@compiled
def _sum_middle(cells: NDArray[np.float64]) -> NDArray[np.float64]:
    samples, months, count = cells.shape
    out = np.zeros((samples, count))
    for i in range(samples):
        for t in range(months):
            for g in range(count):
                out[i, g] += cells[i, t, g]
    return out


#: The funding policies the cash loop knows (any other raises nothing).
FUNDING_POLICIES = {"unlimited": 0, "runway": 1}


@compiled
def cash_months(
    operating_cash_flow: Array,
    extra: Array,
    in_kind: Array,
    revenue: Array,
    outcome: Array,
    has_outcome: bool,
    starting_cash: Array,
    trigger: Array,
    size: Array,
    multiple: Array,
    floor: Array,
    most: Array,
    largest: Array,
    appetite: Array,
    success: Array,
    window: int,
    policy: int,
    ipo_month: Array,
    ipo_amount: Array,
    ipo_multiple: Array,
    has_ipo: bool,
    credit: Array,
    has_credit: bool,
    cash: Array,
    raised: Array,
    ownership: Array,
    insolvent: NDArray[np.bool_],
) -> None:
    """The month loop of :func:`labecon.engine.capital.cash_path`, sample by sample.

    Each month: the balance takes the operating cash flow, other financing and the equity
    paid in kind (which dilutes at ARR x multiple, not below the floor); the policy raises
    (``unlimited``: any shortfall; ``runway``: ``size`` months of the trailing
    ``window``-month burn plus any shortfall when cash is under ``trigger`` months of burn,
    at most what ``most`` dilution sells and ``largest``); an IPO in its month sells
    ``ipo_amount``; a balance below zero (below minus ``credit``) is insolvent from then on.
    The same operations in the same order as the NumPy form this replaced [USD].
    """
    samples, months = operating_cash_flow.shape
    trailing = np.empty(months)  # cumulative operating cash flow of the sample [USD]
    for i in range(samples):
        balance = starting_cash[i]
        held = 1.0
        broke = False
        total = 0.0
        for t in range(months):
            total = operating_cash_flow[i, t] if t == 0 else total + operating_cash_flow[i, t]
            trailing[t] = total
            balance = balance + operating_cash_flow[i, t] + extra[i, t] + in_kind[i, t]
            issued = in_kind[i, t]
            # Without a valuation (no revenue, no floor) the equity cannot be priced: the
            # credits are recorded but dilute no one; set min_pre_money to price them.
            if issued > 0:
                valued = maximum(revenue[i, t] * MONTHS_PER_YEAR * multiple[i], floor[i])
                if valued > 0:
                    held = held * (1 - issued / (valued + issued))
            if policy == 0:
                amount = maximum(-balance, 0.0)
            elif policy == 1:
                lo = max(0, t - window + 1)
                flow = trailing[t] - (trailing[lo - 1] if lo > 0 else 0.0)
                burn = maximum(-flow / (t - lo + 1), 0.0)
                pre_money = maximum(revenue[i, t] * MONTHS_PER_YEAR * multiple[i], floor[i])
                wants = not broke and burn > 0 and balance < trigger[i] * burn and pre_money > 0
                if has_outcome:
                    # Seed 004: "only about ~another round of capital left": rounds can fail.
                    wants = wants and outcome[i, t] < success[i]
                amount = size[i] * burn + maximum(-balance, 0.0) if wants else 0.0
                sellable = appetite[i] * pre_money if most[i] < 1 else np.inf
                amount = minimum(minimum(amount, sellable), largest[i])
                if amount > 0:
                    held = held * (1 - amount / (pre_money + amount))
            else:
                amount = 0.0
            if has_ipo:
                # Seed 004: "If they go public, this level of funding can continue."
                pre_money = maximum(revenue[i, t] * MONTHS_PER_YEAR * ipo_multiple[i], floor[i])
                sold = ipo_amount[i] if ipo_month[i] == t and not broke and pre_money > 0 else 0.0
                if sold > 0:
                    held = held * (1 - sold / (pre_money + sold))
                amount = amount + sold
            balance = balance + amount
            broke = broke or balance < (-credit[i] if has_credit else 0.0)
            cash[i, t] = balance
            raised[i, t] = amount
            ownership[i, t] = held
            insolvent[i, t] = broke


# -- per-cell chains over (samples, months, G) ----------------------------------------------
# A cell's age (months since its generation's release) indexes per-sample tables of
# quantities that depend on age only (lifecycle.Ages): column ``month - release - first``,
# where ``first`` is the youngest age the grid holds.


@compiled
def on_sale(
    release: NDArray[np.int64],
    retire: NDArray[np.int64],
    cancelled: NDArray[np.bool_],
    months: NDArray[np.int64],
) -> NDArray[np.bool_]:
    """Whether generation g is on sale in month t: release <= t < retire, not cancelled."""
    samples, count = release.shape
    out = np.empty((samples, months.size, count), dtype=np.bool_)
    for i in range(samples):
        for t in range(months.size):
            month = months[t]
            for g in range(count):
                out[i, t, g] = release[i, g] <= month < retire[i, g] and not cancelled[i, g]
    return out


@compiled
def traffic_shares(
    on: NDArray[np.bool_],
    release: NDArray[np.int64],
    months: NDArray[np.int64],
    first_age: int,
    ramp: Array,
    powers: Array,
) -> Array:
    """w_g(t) = ramp(age) beta^rank / sum over g of the same, 0 where nothing is on sale.

    ``ramp`` (samples, ages) is the ramp-up by age, ``powers`` (samples, 2G + 1) holds
    beta^k in column G + k; rank is the number of generations on sale and newer than g. A
    cell's weight is (1.0 or 0.0) x ramp x beta^rank, its total the pairwise sum over the
    generations (as :func:`sum_generations`), as the NumPy form computed them [fraction].
    """
    samples, month_count, count = on.shape
    out = np.empty((samples, month_count, count))
    weight = np.empty(count)
    for i in range(samples):
        for t in range(month_count):
            newer = 0
            for g in range(count - 1, -1, -1):
                is_on = on[i, t, g]
                age = months[t] - release[i, g] - first_age
                w = (1.0 if is_on else 0.0) * ramp[i, age]
                weight[g] = w * powers[i, count + newer]
                if is_on:
                    newer += 1
            total = pairwise(weight)
            for g in range(count):
                out[i, t, g] = weight[g] / total if total > 0 else 0.0
    return out


@compiled
def api_cells(
    lab_tokens: Array,
    shares: Array,
    price_at_release: Array,
    release: NDArray[np.int64],
    months: NDArray[np.int64],
    first_age: int,
    decline: Array,
    open_weights: bool,
    price_kept: Array,
    share_kept: Array,
) -> tuple[Array, Array, Array, Array]:
    """API tokens [Mtok/month] and revenue [USD/month] of every cell, and their row sums.

    Cells (samples, months, G); sums over generations (samples, months), as
    :func:`sum_generations` sums them. tokens = lab tokens(t) x w_g(t) (x share kept once
    open weights caught up); price = price at release x decline(age) (x price kept);
    revenue = tokens x price. ``decline``, ``price_kept`` and ``share_kept`` are tables
    (samples, ages).
    """
    samples, month_count, count = shares.shape
    tokens = np.empty((samples, month_count, count))
    revenue = np.empty((samples, month_count, count))
    tokens_total = np.empty((samples, month_count))
    revenue_total = np.empty((samples, month_count))
    for i in range(samples):
        for t in range(month_count):
            demand = lab_tokens[i, t]
            for g in range(count):
                age = months[t] - release[i, g] - first_age
                price = price_at_release[i, g] * decline[i, age]
                sold = demand * shares[i, t, g]
                if open_weights:
                    price = price * price_kept[i, age]
                    sold = sold * share_kept[i, age]
                tokens[i, t, g] = sold
                revenue[i, t, g] = sold * price
            tokens_total[i, t] = pairwise(tokens[i, t])
            revenue_total[i, t] = pairwise(revenue[i, t])
    return tokens, revenue, tokens_total, revenue_total


@compiled
def training_cells(
    start: NDArray[np.int64],
    duration: NDArray[np.int64],
    cancelled: NDArray[np.bool_],
    per_month: Array,
    months: NDArray[np.int64],
) -> tuple[Array, Array]:
    """Development spend per month in each generation's training window, else 0 [USD/month].

    And its sum over generations (samples, months), as :func:`sum_generations` sums it.
    """
    samples, count = start.shape
    out = np.empty((samples, months.size, count))
    total = np.empty((samples, months.size))
    for i in range(samples):
        for t in range(months.size):
            month = months[t]
            for g in range(count):
                training = start[i, g] <= month < start[i, g] + duration[i, g]
                out[i, t, g] = per_month[i, g] if training and not cancelled[i, g] else 0.0
            total[i, t] = pairwise(out[i, t])
    return out, total


@compiled
def serving_cells(
    tokens: Array, throughput: Array, size: Array, routed: bool, factor: Array, price: Array
) -> tuple[Array, Array, Array, Array]:
    """GW serving each cell's tokens [GW] and their cost [USD/month], and their row sums.

    Sums over generations (samples, months), as :func:`sum_generations` sums them. GW =
    tokens / (throughput(t) / size_g), x the routing ``factor`` when ``routed``; cost = GW x
    ``price``.
    """
    samples, month_count, count = tokens.shape
    gw = np.empty((samples, month_count, count))
    cost = np.empty((samples, month_count, count))
    gw_total = np.empty((samples, month_count))
    cost_total = np.empty((samples, month_count))
    for i in range(samples):
        for t in range(month_count):
            for g in range(count):
                busy = tokens[i, t, g] / (throughput[i, t] / size[i, g])
                if routed:
                    busy = busy * factor[i]
                gw[i, t, g] = busy
                cost[i, t, g] = busy * price[i]
            gw_total[i, t] = pairwise(gw[i, t])
            cost_total[i, t] = pairwise(cost[i, t])
    return gw, cost, gw_total, cost_total


@compiled
def frontier(capability: Array, on: NDArray[np.bool_]) -> tuple[Array, NDArray[np.int64]]:
    """The best capability on sale in each month and which generation has it, (samples, months).

    Taken as NumPy's ``np.maximum`` over generations of (capability if on sale else 0.0), in
    generation order: 0.0 and generation -1 where none is on sale. The generation lets a
    quantity of the best model's capability be read from a (samples, G) table.
    """
    samples, month_count, count = on.shape
    best = np.empty((samples, month_count))
    which = np.empty((samples, month_count), dtype=np.int64)
    for i in range(samples):
        for t in range(month_count):
            value = capability[i, 0] if on[i, t, 0] else 0.0
            index = 0 if on[i, t, 0] else -1
            for g in range(1, count):
                candidate = capability[i, g] if on[i, t, g] else 0.0
                # maximum(value, candidate) is candidate unless value > candidate or NaN.
                if not (value > candidate or value != value):
                    value = candidate
                    index = g if on[i, t, g] else -1
            best[i, t] = value
            which[i, t] = index
    return best, which


def outer_power(base: Array, exponents: Array) -> Array:
    """``base[:, None] ** exponents[None, :]`` bit for bit, raising each distinct base once.

    An input a scenario fixes, or a lever sets, is one number in every sample: its growth
    factors over the months are then one row of ``**`` (each a call of the C library's
    ``pow``), not one per sample. Zero bases (whose sign matters to ``pow``) are raised as
    they are.
    """
    if base.size < 2 or np.any(base == 0):
        return base[:, None] ** exponents[None, :]
    distinct, rows = np.unique(base, return_inverse=True)
    if 2 * distinct.size > base.size:
        return base[:, None] ** exponents[None, :]
    return (distinct[:, None] ** exponents[None, :])[rows]


@compiled
def add_rows(total: Array, rows: Array) -> None:
    """``total += rows[0]; total += rows[1]; ...`` in that order, in place.

    The running sum of a mean's blocks (labecon.result.MeanStream): the additions NumPy's
    ``total + block`` makes one block at a time, without a Python call and an array per block.
    """
    for r in range(rows.shape[0]):
        for j in range(total.size):
            total[j] += rows[r, j]
