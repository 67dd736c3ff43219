"""M1 in hand-vectorised NumPy: what an expert writes without a modelling tool.

Each generation contributes two cash flows per sample, its training cost C_g (spent over the
training run) and its lifetime revenue R * C_g (earned after release). Their timing is a fixed
(generation x month) schedule, so the whole model is one matrix product:

    monthly income (n, 120) = flows (n, 20) @ schedule (20, 120)

Usage: python bench/peers/m1_numpy.py SAMPLES [SEED]   prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from m1_spec import (
    COST_MULTIPLIER,
    FIRST_TRAINING_COST_USD,
    GENERATIONS,
    MONTHS,
    MONTHS_PER_YEAR,
    REVENUE_LIFETIME_MONTHS,
    REVENUE_MULTIPLE,
    TRAINING_RUN_MONTHS,
    lognormal_parameters,
    summarise,
)


def monthly_schedule() -> np.ndarray:
    """Share of each generation's cash flow falling in each month, shape (2 * GENERATIONS, 120).

    Rows 0..9: training spend of generation g (negative, -1/12 per training month).
    Rows 10..19: revenue of generation g (+1/12 per month of its life, cut at the horizon).
    """
    schedule = np.zeros((2 * GENERATIONS, MONTHS))
    for generation in range(GENERATIONS):
        training_start = generation * MONTHS_PER_YEAR
        release = training_start + TRAINING_RUN_MONTHS
        training_months = slice(training_start, release)
        revenue_months = slice(release, min(release + REVENUE_LIFETIME_MONTHS, MONTHS))
        schedule[generation, training_months] = -1.0 / TRAINING_RUN_MONTHS
        schedule[GENERATIONS + generation, revenue_months] = 1.0 / REVENUE_LIFETIME_MONTHS
    return schedule


def simulate(n: int, seed: int) -> np.ndarray:
    """Monthly operating income per sample, shape (n, 120) [USD]."""
    rng = np.random.default_rng(seed)
    first_training_cost_usd = rng.lognormal(*lognormal_parameters(FIRST_TRAINING_COST_USD), n)
    cost_multiplier = rng.lognormal(*lognormal_parameters(COST_MULTIPLIER), n)
    revenue_multiple = rng.lognormal(*lognormal_parameters(REVENUE_MULTIPLE), n)

    generation = np.arange(GENERATIONS)
    training_cost_usd = first_training_cost_usd[:, None] * cost_multiplier[:, None] ** generation
    lifetime_revenue_usd = revenue_multiple[:, None] * training_cost_usd
    flows_usd = np.hstack([training_cost_usd, lifetime_revenue_usd])  # (n, 20)
    return flows_usd @ monthly_schedule()


def main(argv: list[str]) -> int:
    if not 1 <= len(argv) <= 2:
        print(__doc__, file=sys.stderr)
        return 2
    samples = int(argv[0])
    seed = int(argv[1]) if len(argv) > 1 else 0
    started = time.perf_counter()
    summary = summarise(simulate(samples, seed))
    summary["seconds"] = time.perf_counter() - started
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
