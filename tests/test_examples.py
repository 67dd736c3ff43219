"""The essays' worked examples, reproduced by the built-in scenarios (DESIGN §1, questions 1-2).

Reference numbers come from the essays in shared/seeds (003: Amodei's model as a company;
000: training as working capital) and from hand calculations written next to each assertion.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import labecon
from labecon.scenario import builtin_names

CENT = 0.01  # [USD]
B = 1e9
M = 1e6


# -- amodei: "you've lost $100 million the first year, $800 million the second year, and
# you've lost $8 billion in the third year" (seed 003) -----------------------------------------


@pytest.fixture(scope="module")
def amodei() -> labecon.Result:
    # No uncertain input: one sample is the example.
    return labecon.simulate("amodei", samples=1, seed=0)


def test_amodei_expensed_pnl_by_year(amodei: labecon.Result) -> None:
    annual = amodei.annual("expensed", "mean")
    assert list(annual.index) == [2023, 2024, 2025, 2026]
    # Generation g costs $100M * 10^g, trained over calendar year 2023 + g, and earns 2x its
    # cost over the following year.
    # revenue: 2023 nothing on sale; 2024 the $100M model earns $200M; 2025 $2B; 2026 $20B.
    assert annual["revenue"].tolist() == pytest.approx([0, 200 * M, 2 * B, 20 * B], abs=CENT)
    # training: $100M, $1B, $10B, $100B (the fourth model trains in 2026).
    assert annual["training_cost"].tolist() == pytest.approx(
        [100 * M, 1 * B, 10 * B, 100 * B], abs=CENT
    )
    # operating income = revenue - training: 0 - 100M = -100M; 200M - 1B = -800M;
    # 2B - 10B = -8B; 20B - 100B = -80B (seed 003: "-$100M, -$800M, -$8B").
    assert annual["operating_income"].tolist() == pytest.approx(
        [-100 * M, -800 * M, -8 * B, -80 * B], abs=CENT
    )
    # "these don't fundamentally change the picture": no inference or other costs.
    for item in ("inference_cost", "talent_cost", "sga_cost", "other_cost"):
        assert annual[item].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_amodei_capitalised_pnl_by_year(amodei: labecon.Result) -> None:
    annual = amodei.annual("capitalised", "mean")
    # Each model is amortised over its 12-month commercial life from release:
    # 2024 amortises the 2023 model: $100M (= $8.33M x 12); 2025 $1B; 2026 $10B.
    assert annual["amortisation"].tolist() == pytest.approx([0, 100 * M, 1 * B, 10 * B], abs=CENT)
    # operating income = revenue - amortisation: 2023 0 - 0 = 0; 2024 200M - 100M = +100M;
    # 2025 2B - 1B = +1B; 2026 20B - 10B = +10B: every model is a profitable company.
    assert annual["operating_income"].tolist() == pytest.approx(
        [0, 100 * M, 1 * B, 10 * B], abs=CENT
    )
    # Year-end asset: the model trained that year, not yet amortised: 100M, 1B, 10B, 100B.
    assert annual["unamortised_training"].tolist() == pytest.approx(
        [100 * M, 1 * B, 10 * B, 100 * B], abs=CENT
    )


def test_amodei_cash_and_metrics(amodei: labecon.Result) -> None:
    # Funding is unlimited from zero cash: every month's loss is raised, cash stays at 0.
    cash = amodei.annual("cash", "mean")
    assert cash["equity_raised"].tolist() == pytest.approx(
        [100 * M, 800 * M, 8 * B, 80 * B], abs=CENT
    )
    assert cash["cash"].tolist() == pytest.approx([0, 0, 0, 0], abs=CENT)
    metrics = amodei.metric_values
    # Capital needed: 100M + 800M + 8B + 80B = $88.9B; income is never positive.
    assert metrics["capital_need_usd"][0] == pytest.approx(88.9 * B, abs=CENT)
    assert metrics["equity_raised_usd"][0] == pytest.approx(88.9 * B, abs=CENT)
    assert math.isnan(metrics["breakeven_month"][0])


def test_amodei_each_model_is_a_profitable_company(amodei: labecon.Result) -> None:
    gens = amodei.generation_values
    costs = np.array([100 * M, 1 * B, 10 * B])
    # Generations 0-2 are sold within the horizon; generation 3 trains in 2026.
    assert gens["training_cost_usd"][0].tolist() == pytest.approx([*costs, 100 * B], abs=CENT)
    assert gens["lifetime_revenue_usd"][0, :3] == pytest.approx(2 * costs, abs=CENT)
    assert gens["lifetime_profit_usd"][0, :3] == pytest.approx(costs, abs=CENT)
    assert gens["roi_multiple"][0, :3] == pytest.approx([2.0, 2.0, 2.0], rel=1e-12)
    # Payback: $100M recovered at $200M / 12 = $16.67M a month takes 100 / 16.67 = 6.0 months.
    assert gens["payback_months"][0, :3] == pytest.approx([6.0, 6.0, 6.0], rel=1e-9)
    assert gens["recovery_months"][0, :3] == pytest.approx([6.0, 6.0, 6.0], rel=1e-9)
    assert math.isnan(gens["payback_months"][0, 3])  # released after the horizon
    # IRR: each month's spend C/12 comes back as 2C/12 exactly 12 months later, so
    # (1 + r_month)^12 = 2 and the yearly rate is 2 - 1 = 100%.
    assert gens["irr_per_year"][0, :3] == pytest.approx([1.0, 1.0, 1.0], rel=1e-9)
    # Working capital: recover the training cost over the 12-month recovery window.
    assert gens["recovery_required_monthly_usd"][0, :3] == pytest.approx(costs / 12, abs=CENT)
    # NPV at 10%/year to the training start, month-end flows, v = 1.1^(-1/12) a month:
    # -C/12 at months 0..11 (factors v^1..v^12) and +2C/12 at months 12..23 (v^13..v^24),
    # so NPV = (C/12) * a * (2 v^12 - 1) with a = v + ... + v^12 and v^12 = 1/1.1.
    v = 1.1 ** (-1 / 12)
    a = sum(v**j for j in range(1, 13))
    npv = costs / 12 * a * (2 / 1.1 - 1)  # generation 0: about $77.7M
    assert gens["npv_usd"][0, :3] == pytest.approx(npv, rel=1e-9)


# -- nwc: "training costs exceeding $2.25B ... sold over a three-month period ... $800M+ in
# monthly inference revenue"; "roughly five active models ... each model would generate about
# $500M" (seed 000) ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nwc() -> labecon.Result:
    return labecon.simulate("nwc", samples=1, seed=0)


def test_nwc_company_revenue_and_training(nwc: labecon.Result) -> None:
    # Demand 250M Mtok a month x $10/Mtok x 100% share = $2.5B a month, whatever the number
    # of models sharing it (seed 000: "roughly $2.5B in monthly revenue").
    expensed = nwc.statements["expensed"]
    assert expensed["revenue"][0] == pytest.approx(np.full(36, 2.5 * B), abs=CENT)
    # A $2.25B run every month, each trained over 3 months: 3 runs in training at any time,
    # each spending $750M a month, $2.25B a month in all.
    assert expensed["training_cost"][0] == pytest.approx(np.full(36, 2.25 * B), abs=CENT)
    # Operating income: 2.5B - 2.25B = $250M a month, $3B a year.
    annual = nwc.annual("expensed", "mean")
    assert annual["operating_income"].tolist() == pytest.approx([3 * B, 3 * B, 3 * B], abs=CENT)


def test_nwc_steady_state_model_does_not_recover_its_working_capital(nwc: labecon.Result) -> None:
    gens = nwc.generation_values
    g = 10  # training starts month -3 + 10 = 7, released month 10, retired month 15
    assert gens["training_start_month"][0, g] == 7
    assert gens["release_month"][0, g] == 10
    assert gens["training_cost_usd"][0, g] == pytest.approx(2.25 * B, abs=CENT)
    # Required to recover $2.25B over 3 months: 2.25B / 3 = $750M a month (the essay says
    # "$800M+" because its cost "exceeds $2.25B").
    assert gens["recovery_required_monthly_usd"][0, g] == pytest.approx(750 * M, abs=CENT)
    # Months 10-14: five models on sale (released in months 6..10), equal shares, so this one
    # earns $2.5B / 5 = $500M a month (the essay's figure), $2.5B over its five-month life.
    revenue_by_gen = nwc.revenue_by_generation_mean
    assert revenue_by_gen[10:15, g] == pytest.approx(np.full(5, 500 * M), abs=CENT)
    assert gens["lifetime_revenue_usd"][0, g] == pytest.approx(2.5 * B, abs=CENT)
    # Recovery: 2.25B / 0.5B = 4.5 months > the 3-month window: the model does not recover
    # its working capital within it (seed 000: "insufficient to recover its NWC").
    assert gens["recovery_months"][0, g] == pytest.approx(4.5, rel=1e-12)
    assert gens["recovery_months"][0, g] > 3
    assert gens["payback_months"][0, g] == pytest.approx(4.5, rel=1e-12)
    # As a company over its whole life it still makes 2.5B - 2.25B = $250M, ROI 2.5/2.25.
    assert gens["lifetime_profit_usd"][0, g] == pytest.approx(250 * M, abs=CENT)
    assert gens["roi_multiple"][0, g] == pytest.approx(2.5 / 2.25, rel=1e-12)
    # Every generation from 4 on (five models already on sale) to 30 (retired in month 35)
    # is in the same steady state.
    assert gens["lifetime_revenue_usd"][0, 4:31] == pytest.approx(np.full(27, 2.5 * B), abs=CENT)


def test_nwc_first_model_is_cannibalised_as_successors_arrive(nwc: labecon.Result) -> None:
    gens = nwc.generation_values
    # Generation 0 is released in month 0, alone; one successor arrives each month, and
    # shares are equal: 2.5B x (1 + 1/2 + 1/3 + 1/4 + 1/5) = 2.5B x 137/60 = $5.708B.
    assert gens["lifetime_revenue_usd"][0, 0] == pytest.approx(2.5 * B * 137 / 60, abs=CENT)
    # It recovers $2.25B within its first month alone: 2.25 / 2.5 = 0.9 months.
    assert gens["recovery_months"][0, 0] == pytest.approx(0.9, rel=1e-12)


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_scenario_runs_without_nan(name: str) -> None:
    result = labecon.simulate(labecon.load_scenario(name), samples=50, seed=1)
    assert result.sample_count == 50
    for item, values in result.statements["expensed"].items():
        assert values.shape == (50, result.scenario.horizon_months), item
        assert np.isfinite(values).all(), f"{name}: {item} has NaN or infinity"
