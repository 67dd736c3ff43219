"""Financial arithmetic on arrays: crossings (payback), present value, internal rate of return."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labecon.scenario.quantities import per_year_to_per_month

Array = NDArray[np.float64]


def windows(flow: Array, start: NDArray[np.int64], span: int) -> Array:
    """Each generation's flows over ``span`` months from its column ``start``, (samples, G, span).

    ``flow`` is (samples, months, G); months outside the grid read as zero.
    """
    samples, months, count = flow.shape
    columns = start[:, :, None] + np.arange(span)[None, None, :]
    inside = (columns >= 0) & (columns < months)
    # Positions in flow.ravel(): one np.take (faster than take_along_axis on a transpose).
    cells = (np.arange(samples) * (months * count))[:, None, None] + np.arange(count)[:, None]
    cells = cells + np.clip(columns, 0, months - 1) * count
    return np.where(inside, np.take(flow.ravel(), cells), 0.0)


def months_to_reach(window: Array, target: Array) -> Array:
    """Months until the cumulative flow of a window reaches ``target`` [months].

    ``window`` is (samples, G, span), month 0 first (see :func:`windows`); the crossing is
    interpolated linearly within the month, so $100M recovered at $16.7M a month takes
    6.0 months. NaN where the target is never reached within the window.
    """
    cumulative = np.cumsum(window, axis=2)
    reached = cumulative >= (target - 1e-9 * np.abs(target))[:, :, None]
    hit = reached.any(axis=2)
    index = reached.argmax(axis=2)  # first month where reached
    before = np.take_along_axis(cumulative, np.maximum(index - 1, 0)[:, :, None], axis=2)[..., 0]
    before = np.where(index > 0, before, 0.0)
    step = np.take_along_axis(window, index[:, :, None], axis=2)[..., 0]
    fraction = np.divide(target - before, step, out=np.ones_like(step), where=step > 0)
    out = np.where(hit, index + np.clip(fraction, 0.0, 1.0), np.nan)
    return np.where(target <= 0, 0.0, out)


def present_value(window: Array, rate_per_year: Array) -> Array:
    """NPV of each generation's flows at the start of its window [USD], (samples, G).

    ``window`` is (samples, G, span) (see :func:`windows`); flows are taken at month ends,
    so month k of the window is discounted by (1+r)^-(k+1), r the monthly rate.
    """
    monthly = per_year_to_per_month(rate_per_year)[:, None]
    months = np.arange(window.shape[2], dtype=np.float64)[None, :]
    factor = (1.0 + monthly) ** -(months + 1.0)
    return (window * factor[:, None, :]).sum(axis=2)


def irr_per_year(window: Array, iterations: int = 60) -> Array:
    """Internal rate of return per year of each generation's flows [1/year].

    ``window`` (samples, G, span) holds each generation's flows from its first month (see
    :func:`windows`). Solved for the monthly discount factor by Newton's method
    on the polynomial, from the ROI-implied rate; NaN where flows do not change sign or the
    iteration does not converge.
    """
    cash = window
    span = window.shape[2]
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
            moved = np.clip(x - step, 1e-6, 1e6)
            v[todo] = moved
            # An entry held at a bound of the clip (no root in range) is a fixed point: every
            # later iteration repeats the same arithmetic, so stopping it changes nothing.
            todo = todo[(np.abs(step) > 1e-13 * np.abs(x)) & (moved != x)]
        v = v.reshape(valid.shape)
        residual = np.abs((cash * v[:, :, None] ** powers).sum(axis=2))
        ok = valid & (residual <= 1e-6 * np.maximum(out_total, 1.0))
        ok &= np.isfinite(v)
    with np.errstate(over="ignore", divide="ignore"):
        return np.where(ok, v**-12.0 - 1.0, np.nan)
