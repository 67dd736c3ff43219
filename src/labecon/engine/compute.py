"""Compute capacity: GW held, GW needed, idle capacity, rented or lost demand (DESIGN §4).

Owned capacity O(t) is paid whether used or not, so idle GW is a visible cost. Training
draws GW first (its runs are committed in advance); inference takes what is left. Demand
above O(t) is rented at ``rent_premium`` over the price of owned compute, or, with a hard
cap, inference beyond capacity is not served and its revenue is lost. Seed 004: "To be
unprofitable, it's necessary to be able to get enough compute to spend the money on".
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labecon.engine.compiled import outer_power
from labecon.engine.inputs import Array
from labecon.scenario.quantities import per_year_to_per_month


def owned_gw(start: Array, growth_per_year: Array, ceiling: Array, months: Array) -> Array:
    """Owned capacity O(t) = min(O_0 (1+g)^(t/12), ceiling) [GW], (samples, months)."""
    growth = outer_power(1 + per_year_to_per_month(growth_per_year), months)
    held = start[:, None] * growth
    return np.where(np.isnan(ceiling)[:, None], held, np.minimum(held, ceiling[:, None]))


@dataclass(frozen=True)
class CapacityUse:
    """How owned capacity meets training and inference demand, arrays (samples, months)."""

    served_share: Array  # share of inference demand served [fraction]
    gw_inference: Array  # GW serving inference [GW]
    idle_gw: Array  # owned GW not in use [GW]
    rented_gw: Array  # GW rented above owned capacity [GW]


def allocate(
    mode: str, owned: Array, gw_training: Array, gw_inference_needed: Array
) -> CapacityUse:
    """Meet training, then inference, from owned capacity under ``mode``.

    ``unconstrained``: compute is bought as used (no owned capacity, nothing idle);
    ``rent``: demand above O(t) is rented; ``hard``: inference above what training leaves
    of O(t) is not served (training beyond O(t) is still rented: runs are contracted ahead).
    """
    if mode == "unconstrained":
        zeros = np.zeros_like(gw_training)
        return CapacityUse(np.ones_like(zeros), gw_inference_needed, zeros, zeros)
    if mode == "hard":
        room = np.maximum(owned - gw_training, 0.0)
        served = np.minimum(gw_inference_needed, room)
        share = np.divide(
            served,
            gw_inference_needed,
            out=np.ones_like(served),
            where=gw_inference_needed > 0,
        )
    else:
        served, share = gw_inference_needed, np.ones_like(gw_inference_needed)
    used = gw_training + served
    return CapacityUse(
        served_share=share,
        gw_inference=served,
        idle_gw=np.maximum(owned - used, 0.0),
        rented_gw=np.maximum(used - owned, 0.0),
    )
