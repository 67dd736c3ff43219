"""Inference (serving) cost from compute (DESIGN §4, 'Compute and inference cost').

A GW of compute serves ``reference_mtok_per_gw_month`` of the reference model at the start,
improving by ``efficiency_gain_per_year`` and divided by the model's size factor
(C_g / C_ref)^alpha. Inference cost = GW used * cost per GW-month. Seed 004 prices compute
at "$12-15bn per GW per year".
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from labecon.engine import compiled
from labecon.engine.generations import Schedule
from labecon.engine.inputs import Array, Inputs
from labecon.scenario.quantities import per_year_to_per_month

MONTHS_PER_YEAR = 12.0


def cost_per_gw_month(inputs: Inputs) -> Array:
    """Price of one GW for one month [USD/GW-month] (a price per time, so /12 is exact)."""
    return inputs["inference.cost_per_gw_year"] / MONTHS_PER_YEAR


def serving(
    inputs: Inputs,
    schedule: Schedule,
    months: NDArray[np.int64],
    tokens_mtok: Array,
    price: Array,
) -> tuple[Array, Array, Array, Array]:
    """GW busy serving each generation's tokens [GW] and their cost [USD/month].

    Arrays (samples, months, G): GW = tokens / (throughput(t) / size_g), times the routing
    factor with routing; cost = GW x ``price`` [USD/GW-month]. Then the sums of both over
    generations (samples, months), for :func:`compiled.generation_total`.
    """
    gain = per_year_to_per_month(inputs["inference.efficiency_gain_per_year"])
    throughput = inputs["inference.reference_mtok_per_gw_month"][:, None] * compiled.outer_power(
        1 + gain, months.astype(np.float64)
    )
    size = (schedule.scale_cost / inputs["inference.reference_training_cost"][:, None]) ** inputs[
        "inference.size_exponent"
    ][:, None]
    routed = inputs.scenario.strategies.routing is not None
    return compiled.serving_cells(
        tokens_mtok, throughput, size, routed, routing_factor(inputs), price
    )


def routing_factor(inputs: Inputs) -> Array:
    """Serving cost per token after routing, relative to the full model [-], (samples,).

    Share rho of each generation's tokens goes to a distilled model whose cost per token is
    kappa times the full model's: cost x (1 - rho (1 - kappa)). Seed 000: "a big model ...
    for planning ... when it comes to implementation, it switches automatically to a
    smaller model".
    """
    if inputs.scenario.strategies.routing is None:
        return np.ones(inputs.count)
    share = inputs["strategies.routing.share"]
    return 1 - share * (1 - inputs["strategies.routing.size_factor"])


def training_gw(inputs: Inputs, training_spend: Array) -> Array:
    """GW drawn by training, valuing spend at the price of compute [GW], (samples, months)."""
    price = cost_per_gw_month(inputs)
    return np.divide(
        training_spend,
        price[:, None],
        out=np.zeros_like(training_spend),
        where=price[:, None] > 0,
    )
