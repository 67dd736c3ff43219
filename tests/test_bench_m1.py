"""labecon's built-in ``bench-m1`` against an independent plain-NumPy implementation of M1.

The specification (bench/peers/m1_spec.py), which the reference below implements from its
text alone, with its own random numbers:

    Model M1, "a lab as a company, with uncertainty", monthly over 120 months, with model
    generations g = 0..9:

    * first_training_cost_usd  C0 ~ lognormal, 90% interval [$50M, $200M] [USD]
    * cost_multiplier          m  ~ lognormal, 90% interval [2, 5] per generation [-]
    * revenue_multiple         R  ~ lognormal, 90% interval [1, 3] lifetime revenue /
                                    training cost [-]

    Generation g costs C_g = C0 * m**g [USD]. It trains during months [12g, 12g + 12) and
    spends C_g / 12 [USD] in each of them (no experiment overhead, no other costs). It is
    released at month 12(g + 1) and earns R * C_g / 12 [USD] in each of the 12 months
    [12(g + 1), 12(g + 2)), after which it retires; revenue falling after month 119 is
    outside the horizon. Starting cash is 0.

        operating income(month) = revenue(month) - training spend(month)   [USD]

    Statistics: per calendar year (12 months) the mean and median of yearly operating income
    and the share of samples with a profitable year; the p50 and p95 of the capital need,
    -min(cumulative operating income, 0).

Every comparison allows 4 standard errors of the difference between the two Monte Carlo
estimates; with ~50 checks a correct implementation fails one with probability ~0.3%, and
both runs are seeded, so the outcome is fixed.

Runtime: ~15-20 s on a quiet 2-core machine (more when it is shared), almost all of it
labecon simulating 200,000 samples of 120 months; the NumPy reference takes ~2 s. labecon's
samples are computed chunk by chunk at the default chunk size, keeping only yearly income and
capital need, so memory stays under ~0.5 GB: ``labecon.simulate`` of 200,000 samples holds
every statement of every sample, dozens of (samples, 120) arrays, ~4 GB.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

import labecon
from labecon.api import default_chunk_size
from labecon.engine import simulate_chunk
from labecon.sampler import Sampler
from labecon.views import metrics, statements

REFERENCE_SAMPLES = 200_000
LABECON_SAMPLES = 200_000
LABECON_SEED = 7
MONTHS = 120
YEARS = 10
GENERATIONS = 10
Z95 = NormalDist().inv_cdf(0.95)  # 1.6448536..., the stdlib's normal, not SciPy's
TOLERANCE_SE = 4.0


def lognormal_from_90(p5: float, p95: float) -> tuple[float, float]:
    """(mu, sigma) of ln X when X has 5th and 95th percentiles p5 and p95."""
    return (math.log(p5) + math.log(p95)) / 2, (math.log(p95) - math.log(p5)) / (2 * Z95)


def reference_monthly_income(c0: np.ndarray, m: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Monthly operating income (samples, 120) [USD], written from the spec's text."""
    n = len(c0)
    training = np.zeros((n, MONTHS))
    revenue = np.zeros((n, MONTHS))
    for g in range(GENERATIONS):
        cost = c0 * m**g  # C_g
        training[:, 12 * g : 12 * g + 12] += (cost / 12)[:, None]
        # Earns in [12(g+1), 12(g+2)), cut at the horizon (month 119 is the last).
        release, retire = 12 * (g + 1), min(12 * (g + 2), MONTHS)
        revenue[:, release:retire] += (r * cost / 12)[:, None]
    return revenue - training


def summary(monthly_blocks: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Yearly income (samples, 10) and capital need (samples,) from monthly income blocks."""
    yearly = np.concatenate([b.reshape(len(b), YEARS, 12).sum(axis=2) for b in monthly_blocks])
    need = np.concatenate(
        [-np.minimum(np.cumsum(b, axis=1).min(axis=1), 0.0) for b in monthly_blocks]
    )
    return {"yearly": yearly, "capital_need": need}


@pytest.fixture(scope="module")
def reference() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(12345)
    c0 = rng.lognormal(*lognormal_from_90(50e6, 200e6), size=REFERENCE_SAMPLES)
    m = rng.lognormal(*lognormal_from_90(2.0, 5.0), size=REFERENCE_SAMPLES)
    r = rng.lognormal(*lognormal_from_90(1.0, 3.0), size=REFERENCE_SAMPLES)
    block = 25_000  # 25,000 x 120 months x 8 bytes = 24 MB per array
    monthly = [
        reference_monthly_income(c0[i : i + block], m[i : i + block], r[i : i + block])
        for i in range(0, REFERENCE_SAMPLES, block)
    ]
    return summary(monthly)


@pytest.fixture(scope="module")
def lab() -> dict[str, np.ndarray]:
    """labecon's samples 0..N-1 of seed 7, chunk by chunk at the default chunk size.

    Identical to ``labecon.simulate("bench-m1", samples=N, seed=7)`` (same draws, same
    engine, same views: see test_identities' chunk-size property), without holding every
    statement of every sample at once.
    """
    scenario = labecon.load_scenario("bench-m1")
    assert scenario.horizon_months == MONTHS and scenario.generation_count == GENERATIONS
    assert scenario.start.endswith("-01")  # calendar years are M1's years
    sampler = Sampler(scenario, LABECON_SEED)
    size = default_chunk_size(scenario, LABECON_SAMPLES)
    yearly, need = [], []
    for start in range(0, LABECON_SAMPLES, size):
        count = min(size, LABECON_SAMPLES - start)
        ledger = simulate_chunk(scenario, sampler.draw(start, count), count)
        views = statements(ledger)
        income = views["expensed"]["operating_income"]
        yearly.append(income.reshape(count, YEARS, 12).sum(axis=2))
        need.append(metrics(views, ledger)["capital_need_usd"])
    return {"yearly": np.concatenate(yearly), "capital_need": np.concatenate(need)}


def quantile_se(sample: np.ndarray, p: float, n: int) -> float:
    """Asymptotic SE of the p-quantile of n draws: sqrt(p(1-p)/n) / f(x_p).

    The density f at the quantile is estimated from the reference sample as
    2h / (Q(p+h) - Q(p-h)) with h = 0.005 (about 1,000 reference draws in the window).
    """
    h = 0.005
    low, high = np.quantile(sample, [p - h, p + h])
    density = 2 * h / (high - low)
    return math.sqrt(p * (1 - p) / n) / density


def assert_within(what: str, lab_value: float, ref_value: float, se: float) -> None:
    z = abs(lab_value - ref_value) / se if se > 0 else (0.0 if lab_value == ref_value else math.inf)
    assert z <= TOLERANCE_SE, (
        f"{what}: labecon {lab_value:.6g} vs reference {ref_value:.6g}, {z:.1f} SE"
    )


def test_mean_yearly_income(lab: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> None:
    a, b = lab["yearly"], reference["yearly"]
    for year in range(YEARS):
        # SE of a difference of two independent means: sqrt(s_a^2 / n_a + s_b^2 / n_b).
        se = math.sqrt(a[:, year].var(ddof=1) / len(a) + b[:, year].var(ddof=1) / len(b))
        assert_within(f"mean income, year {year}", a[:, year].mean(), b[:, year].mean(), se)


def test_share_of_samples_profitable_per_year(
    lab: dict[str, np.ndarray], reference: dict[str, np.ndarray]
) -> None:
    a, b = lab["yearly"] > 0, reference["yearly"] > 0
    for year in range(YEARS):
        # Binomial SE of a difference of proportions, with the pooled share.
        pooled = (a[:, year].sum() + b[:, year].sum()) / (len(a) + len(b))
        se = math.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b)))
        assert_within(f"share profitable, year {year}", a[:, year].mean(), b[:, year].mean(), se)
    # Year 0 only trains: never profitable. Years 1-9 are profitable iff R C_{y-1} > C_y,
    # i.e. R > m, with probability Phi((mu_R - mu_m) / sqrt(s_R^2 + s_m^2)) (about 8.3%).
    mu_r, s_r = lognormal_from_90(1.0, 3.0)
    mu_m, s_m = lognormal_from_90(2.0, 5.0)
    exact = NormalDist().cdf((mu_r - mu_m) / math.hypot(s_r, s_m))
    assert a[:, 0].sum() == 0
    for year in range(1, YEARS):
        se = math.sqrt(exact * (1 - exact) / len(a))
        assert_within(f"share profitable vs closed form, year {year}", a[:, year].mean(), exact, se)


def test_median_yearly_income(lab: dict[str, np.ndarray], reference: dict[str, np.ndarray]) -> None:
    a, b = lab["yearly"], reference["yearly"]
    for year in range(YEARS):
        # Both medians estimate the same quantile; each has the asymptotic SE of a sample
        # median, sqrt(0.25 / n) / f(median), with f from the larger (reference) sample.
        se = math.hypot(quantile_se(b[:, year], 0.5, len(a)), quantile_se(b[:, year], 0.5, len(b)))
        assert_within(
            f"median income, year {year}", np.median(a[:, year]), np.median(b[:, year]), se
        )
    # Year 0 is -C0, whose median is sqrt($50M x $200M) = $100M.
    se0 = quantile_se(b[:, 0], 0.5, len(a))
    assert_within("median income, year 0, closed form", np.median(a[:, 0]), -100e6, se0)


@pytest.mark.parametrize("p", [0.5, 0.95])
def test_capital_need_quantiles(
    lab: dict[str, np.ndarray], reference: dict[str, np.ndarray], p: float
) -> None:
    a, b = lab["capital_need"], reference["capital_need"]
    assert (a > 0).all()  # year 0 alone loses C0 > 0
    se = math.hypot(quantile_se(b, p, len(a)), quantile_se(b, p, len(b)))
    assert_within(f"capital need p{p * 100:.0f}", np.quantile(a, p), np.quantile(b, p), se)
