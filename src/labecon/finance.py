"""Financial arithmetic on arrays: crossings (payback), present value, internal rate of return."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]


def months_to_reach(flow: Array, target: Array, start: NDArray[np.int64]) -> Array:
    """Months after ``start`` until the cumulative ``flow`` reaches ``target`` [months].

    ``flow`` has shape (samples, months, G) and is counted from column ``start`` (samples, G)
    on; the crossing is interpolated linearly within the month, so $100M recovered at $16.7M
    a month takes 6.0 months. NaN where the target is never reached within the grid.
    """
    months = flow.shape[1]
    column = np.arange(months)[None, :, None]
    counted = np.where(column >= start[:, None, :], flow, 0.0)
    cumulative = np.cumsum(counted, axis=1)
    reached = cumulative >= target[:, None, :] - 1e-9 * np.abs(target[:, None, :])
    hit = reached.any(axis=1)
    index = reached.argmax(axis=1)  # first month (column) where reached
    before = np.take_along_axis(cumulative, np.maximum(index - 1, 0)[:, None, :], axis=1)[:, 0]
    before = np.where(index > 0, before, 0.0)
    step = np.take_along_axis(counted, index[:, None, :], axis=1)[:, 0]
    fraction = np.divide(target - before, step, out=np.ones_like(step), where=step > 0)
    elapsed = index - start + np.clip(fraction, 0.0, 1.0)
    out = np.where(hit, np.maximum(elapsed, 0.0), np.nan)
    return np.where(target <= 0, 0.0, out)


def monthly_rate(rate_per_year: Array | float) -> Array:
    """(1 + r)^(1/12) - 1 [1/month]."""
    return np.power(1.0 + np.asarray(rate_per_year, dtype=np.float64), 1.0 / 12.0) - 1.0


def present_value(flow: Array, rate_per_year: Array, at: NDArray[np.int64]) -> Array:
    """NPV of monthly flows (samples, months, G) discounted to grid column ``at`` [USD].

    Flows are taken at month ends: a flow in column k is discounted by (1+r)^-(k - at + 1).
    """
    monthly = monthly_rate(rate_per_year)[:, None]
    columns = np.arange(flow.shape[1], dtype=np.float64)[None, :]
    factor = (1.0 + monthly) ** -(columns + 1.0)  # to the start of column 0
    # A plain sum over months (not einsum, whose kernels may depend on the array sizes).
    pv0 = (flow * factor[:, :, None]).sum(axis=1)
    return pv0 * (1.0 + monthly) ** at


def irr_per_year(flow: Array, start: NDArray[np.int64], span: int, iterations: int = 60) -> Array:
    """Internal rate of return per year of each generation's flows [1/year].

    ``flow`` (samples, months, G); the flows of generation g are read over ``span`` months
    from its column ``start``. Solved for the monthly discount factor by Newton's method
    on the polynomial, from the ROI-implied rate; NaN where flows do not change sign or the
    iteration does not converge.
    """
    months = flow.shape[1]
    offsets = np.arange(span)[None, None, :]
    columns = start[:, :, None] + offsets  # (n, G, span)
    inside = (columns >= 0) & (columns < months)
    gathered = np.take_along_axis(flow.transpose(0, 2, 1), np.clip(columns, 0, months - 1), axis=2)
    cash = np.where(inside, gathered, 0.0)  # (n, G, span), month k at index k
    out_total = -np.where(cash < 0, cash, 0.0).sum(axis=2)
    in_total = np.where(cash > 0, cash, 0.0).sum(axis=2)
    valid = (out_total > 0) & (in_total > 0)
    ratio = np.divide(in_total, out_total, out=np.ones_like(in_total), where=valid)
    # Guess: the ROI earned over about half the span.
    guess = ratio ** (1.0 / max(span / 2.0, 1.0))
    v = (1.0 / np.where(valid, guess, 1.0)).ravel()  # discount factor per month, 1/(1+r)
    flows = cash.reshape(-1, span)
    powers = np.arange(span, dtype=np.float64)
    todo = np.flatnonzero(valid.ravel())
    # Far from the root the polynomial can overflow; such entries fail the residual test.
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(iterations):
            if todo.size == 0:
                break
            part, x = flows[todo], v[todo]
            vk = x[:, None] ** powers
            value = (part * vk).sum(axis=1)
            slope = (part[:, 1:] * powers[1:] * vk[:, :-1]).sum(axis=1)
            step = np.divide(value, slope, out=np.zeros_like(value), where=slope != 0)
            v[todo] = np.clip(x - step, 1e-6, 1e6)
            todo = todo[np.abs(step) > 1e-13 * np.abs(x)]
        v = v.reshape(valid.shape)
        residual = np.abs((cash * v[:, :, None] ** powers).sum(axis=2))
        ok = valid & (residual <= 1e-6 * np.maximum(out_total, 1.0))
        ok &= np.isfinite(v)
    with np.errstate(over="ignore", divide="ignore"):
        return np.where(ok, v**-12.0 - 1.0, np.nan)
