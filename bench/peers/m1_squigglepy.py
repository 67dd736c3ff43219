"""M1 as a squigglepy user writes it: distributions from 90% intervals, a model function per sample.

Usage: python bench/peers/m1_squigglepy.py SAMPLES [SEED]   prints one JSON object.
Needs squigglepy (pip install squigglepy==0.30).
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import squigglepy as sq
from m1_spec import (
    COST_MULTIPLIER,
    FIRST_TRAINING_COST_USD,
    MONTHS,
    MONTHS_PER_YEAR,
    REVENUE_LIFETIME_MONTHS,
    REVENUE_MULTIPLE,
    TRAINING_RUN_MONTHS,
    summarise,
)

# sq.lognorm(low, high) is the lognormal whose 90% interval is [low, high].
first_training_cost_usd = sq.lognorm(*FIRST_TRAINING_COST_USD)
cost_multiplier = sq.lognorm(*COST_MULTIPLIER)
revenue_multiple = sq.lognorm(*REVENUE_MULTIPLE)


def lab_model() -> list[float]:
    """One sample: the lab's monthly operating income over 120 months [USD]."""
    cost_g0 = ~first_training_cost_usd
    multiplier = ~cost_multiplier
    multiple = ~revenue_multiple

    monthly_income_usd = []
    for month in range(MONTHS):
        year = month // MONTHS_PER_YEAR
        # Generation `year` is training this year; generation `year - 1` was released at its
        # start and earns its lifetime revenue over this year.
        training_spend = cost_g0 * multiplier**year / TRAINING_RUN_MONTHS
        revenue = 0.0
        if year >= 1:
            revenue = multiple * cost_g0 * multiplier ** (year - 1) / REVENUE_LIFETIME_MONTHS
        monthly_income_usd.append(revenue - training_spend)
    return monthly_income_usd


def simulate(n: int, seed: int) -> np.ndarray:
    """Monthly operating income per sample, shape (n, 120) [USD]."""
    sq.set_seed(seed)
    samples = sq.sample(lab_model, n=n, verbose=False)
    return np.asarray(samples, dtype=float).reshape(n, MONTHS)


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
