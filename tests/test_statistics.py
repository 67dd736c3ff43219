"""Quantiles of many samples taken all at once give the numbers of one at a time."""

from __future__ import annotations

import numpy as np

from labecon.result import statistic, statistics


def test_quantiles_of_a_large_run_all_at_once_are_each_ones_bit_for_bit() -> None:
    rng = np.random.default_rng(8)
    stats = ("p5", "p25", "p50", "p75", "p95", "mean")
    for rows, columns in ((10_000, 120), (4_001, 61), (200_001, 1)):
        values = rng.standard_normal((rows, columns)) * 10 ** rng.uniform(-3, 12, columns)
        values[: rows // 3] = np.round(values[: rows // 3])  # ties
        values[values == 0] = 1.0
        together = statistics(values, stats)
        for stat in stats:
            alone = statistic(values, stat)
            assert together[stat].tobytes() == alone.tobytes()
            if stat != "mean":
                q = {"p5": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}[stat]
                assert np.array_equal(alone, np.quantile(values, q, axis=0))


def test_with_zeros_each_quantile_is_taken_alone_keeping_the_sign_of_zero() -> None:
    rng = np.random.default_rng(9)
    values = np.round(rng.standard_normal((10_000, 40)))  # many zeros, some -0.0
    values[rng.random(values.shape) < 0.2] = -0.0
    together = statistics(values, ("p5", "p50", "p95"))
    for stat in ("p5", "p50", "p95"):
        assert together[stat].tobytes() == statistic(values, stat).tobytes()
