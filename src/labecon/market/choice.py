"""How a segment's demand splits between the labs' models and the open-weight option.

Multinomial logit with switching inertia (issue 7; seed 001: "a company that falls behind
the frontier ... risks losing customers to competitors whose models are more capable").
Each month every available option j has a utility

    u_j = capability_premium * ln(capability_j) - price_sensitivity * ln(price_j)

(dimensionless; capability relative to generation 0 of a lab, price in the segment's unit),
the choice it would get if customers switched at once is softmax(u) over the options
available that month, and shares close a fraction ``inertia`` of the gap to it each month:

    s_j(t) = s_j(t-1) + inertia * (choice_j(t) - s_j(t-1))

so shares move over months, not at once, and stay summing to one. An option that stops being
available (a lab with no model on sale, or one that has left the market) hands its share on
at once: to its acquirer when it was acquired, else to the others in proportion to their
choice. In a month with no model on sale customers stay where they are (before any was
served, they wait evenly on the labs), so shares sum to one in every month.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

#: ``heir`` of an option that hands its customers to the others by their choice [index].
NO_HEIR = -1


def utility(
    capability: Array, price: Array, capability_premium: Array, price_sensitivity: Array
) -> Array:
    """Utility of each option, premium ln(capability) - sensitivity ln(price) [-].

    ``capability`` [-] and ``price`` [segment's unit] are > 0 where the option is available;
    ``capability_premium`` and ``price_sensitivity`` are per sample (samples,) [-].
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        log_capability = np.log(np.where(capability > 0, capability, 1.0))
        log_price = np.log(np.where(price > 0, price, 1.0))
    shape = (-1,) + (1,) * (capability.ndim - 1)
    premium = np.reshape(capability_premium, shape)
    sensitivity = np.reshape(price_sensitivity, shape)
    return premium * log_capability - sensitivity * log_price


def choice(utilities: Array, available: NDArray[np.bool_]) -> Array:
    """Softmax of ``utilities`` over the available options of each row [fraction], (..., J).

    Rows with no available option are all 0.
    """
    masked = np.where(available, utilities, -np.inf)
    top = masked.max(axis=-1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    weight = np.where(available, np.exp(masked - top), 0.0)
    total = weight.sum(axis=-1, keepdims=True)
    return np.divide(weight, total, out=np.zeros_like(weight), where=total > 0)


def market_shares(
    utilities: Array,
    available: NDArray[np.bool_],
    inertia: Array,
    exit_month: Array | None = None,
    heir: NDArray[np.intp] | None = None,
    waits: NDArray[np.bool_] | None = None,
) -> Array:
    """Shares of a segment's demand by month and option [fraction], (samples, months, J).

    ``utilities`` and ``available`` are (samples, months, J); ``inertia`` (samples,) is the
    share of the gap to the choice closed each month, in (0, 1] (1: customers switch at
    once). ``exit_month`` (samples, J) is the month an option leaves the market (NaN: never)
    and ``heir`` (samples, J) the option its customers pass to then, or NO_HEIR.

    In a month when no option is available, customers stay where they are, or, before any
    was served, wait evenly on the options marked in ``waits`` (J,) (the labs: contracts
    and subscriptions signed before a first release; default every option). So shares sum
    to one in every month while an option that may hold customers is in the market.
    """
    samples, months, count = utilities.shape
    rows = np.arange(samples)
    gone = np.zeros((samples, count), dtype=bool)
    share = np.zeros((samples, count))
    out = np.empty((samples, months, count))
    k = np.asarray(inertia, dtype=np.float64).reshape(samples, 1)
    holds = np.ones(count, dtype=bool) if waits is None else np.asarray(waits, dtype=bool)
    for t in range(months):
        if exit_month is not None:
            leaving = (exit_month == t) & ~gone
            gone |= leaving
        else:
            leaving = np.zeros((samples, count), dtype=bool)
        now = available[:, t, :] & ~gone
        target = choice(utilities[:, t, :], now)
        served = share.sum(axis=1) > 0
        # Customers of an acquired option pass to its acquirer, if it is still in the market.
        if heir is not None and leaving.any():
            for j in range(count):
                moving = leaving[:, j] & (heir[:, j] != NO_HEIR)
                if moving.any():
                    to = heir[moving, j]
                    keeps = ~gone[rows[moving], to]
                    share[rows[moving][keeps], to[keeps]] += share[moving, j][keeps]
                    share[rows[moving][keeps], j] = 0.0
        idle = ~now.any(axis=1)
        # Shares of options not available now go to the others, in proportion to the choice;
        # nothing served last month: start from the choice itself. Then close the gap.
        orphaned = np.where(now, 0.0, share).sum(axis=1, keepdims=True)
        moved = np.where(now, share, 0.0) + orphaned * target
        moved = np.where(served[:, None], moved, target)
        moved = moved + k * (target - moved)
        if idle.any():
            moved[idle] = _waiting(share[idle], gone[idle], served[idle], holds)
        share = moved
        out[:, t, :] = share
    return out


def _waiting(
    share: Array, gone: NDArray[np.bool_], served: NDArray[np.bool_], holds: NDArray[np.bool_]
) -> Array:
    """Shares in a month with nothing on sale: kept, less those of options that left.

    Customers of an option that left go to the others in proportion to their shares (evenly
    if they have none); before any was served, customers wait evenly on ``holds`` options.
    """
    waiting = holds[None, :] & ~gone
    count = waiting.sum(axis=1, keepdims=True)
    even = np.divide(waiting, count, out=np.zeros(share.shape), where=count > 0)
    kept = np.where(gone, 0.0, share)
    orphaned = np.where(gone, share, 0.0).sum(axis=1, keepdims=True)
    total = kept.sum(axis=1, keepdims=True)
    spread = np.divide(kept, total, out=even.copy(), where=total > 0)
    kept = np.where(orphaned > 0, kept + orphaned * spread, kept)
    return np.where(served[:, None], kept, even)
