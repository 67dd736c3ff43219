"""Traffic shares of active generations: ramp, legacy retention, retirement (DESIGN §4).

w_g(t) ∝ ramp_g(t) * beta^rank_g(t) over the generations released and not yet retired,
where rank 0 is the newest, ramp rises linearly to 1 over ``ramp_months`` after release and
beta in (0, 1] is legacy retention. A small beta means each successor cannibalises its
predecessors almost entirely (seed 000: "newer models cannibalize the revenue of older ones").
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labecon.engine.generations import Schedule
from labecon.engine.inputs import Array


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
) -> Array:
    """w_g(t): share of the lab's traffic served by generation g [fraction], (samples, months, G).

    Shares sum to 1 over generations in every month with an active model, 0 otherwise.
    """
    on = active(schedule, months, cancelled)
    weight = on.astype(np.float64)
    if np.any(ramp_months > 0):
        age = months[None, :, None] - schedule.release[:, None, :]  # months since release
        ramp_len = ramp_months[:, None, None]
        weight *= np.where(
            ramp_len > 0, np.clip((age + 1) / np.maximum(ramp_len, 1e-12), 0.0, 1.0), 1.0
        )
    if np.any(retention != 1):
        # rank_g = number of active generations newer than g (generations release in order).
        newer = np.cumsum(on[:, :, ::-1], axis=2, dtype=np.int64)[:, :, ::-1] - on
        count = schedule.release.shape[1]
        powers = retention[:, None] ** np.arange(count + 1, dtype=np.float64)  # beta^k
        weight *= np.take_along_axis(
            powers[:, None, :], newer.reshape(len(retention), -1)[:, None, :], axis=2
        ).reshape(newer.shape)
    total = weight.sum(axis=2, keepdims=True)
    return np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)
