"""Capital: rounds that can fail, the round-by-round dilution table, capital to breakeven."""

import numpy as np
import pytest

import labecon

B = 1e9
M = 1e6


def lab(**funding):
    # Revenue $1B/month from a model on sale; $3B/month of other costs: burn $2B/month.
    # Starting cash $10B; the runway rule raises 12 months of burn ($24B) when cash falls
    # below 6 months of burn ($12B), at 10x ARR ($12B ARR -> $120B pre-money).
    return {
        "horizon_months": 24,
        "generations": {
            "count": 1,
            "first_training_start_month": -12,
            "training_months": 12,
            "first_training_cost": "$1B",
        },
        "lifecycle": {"lifetime_months": 48},
        "revenue": {
            "mode": "bottom_up",
            "api": {"demand_mtok_per_month": 1e8, "release_price_per_mtok": 10},
        },
        "inference": {"cost_per_gw_year": 0},
        "costs": {"other_infrastructure_per_year": "$36B"},
        "capital": {
            "starting_cash": "$10B",
            "funding": {
                "policy": "runway",
                "runway_trigger_months": 6,
                "raise_months": 12,
                "valuation_multiple": 10,
                "burn_window_months": 1,
                **funding,
            },
        },
    }


def test_a_round_dilutes_by_raise_over_post_money():
    result = labecon.simulate(lab(), samples=1)
    rounds = result.rounds()
    # Cash $10B falls by $2B a month: after month 0 it is $8B < $12B, so the first round
    # closes in month 0 (2026-01): $24B at $120B pre-money, dilution 24 / 144 = 16.7%.
    first = rounds.iloc[0]
    assert first["month"] == "2026-01"
    assert first["amount_usd"] == pytest.approx(24 * B)
    assert first["pre_money_usd"] == pytest.approx(120 * B)
    assert first["dilution"] == pytest.approx(24 / 144)
    assert first["ownership_after"] == pytest.approx(120 / 144)
    # Cash $32B after it; it falls below $12B after 11 more months ($10B in month 11):
    # the second round in 2026-12, and the holders keep (120/144)^2.
    second = rounds.iloc[1]
    assert second["month"] == "2026-12"
    assert second["ownership_after"] == pytest.approx((120 / 144) ** 2)


def test_rounds_that_always_fail_leave_the_lab_insolvent():
    result = labecon.simulate(lab(raise_success_probability=0), samples=1)
    # $10B at -$2B a month: negative after month 5 (cash -$2B at the end of 2026-06).
    assert result.metrics()["insolvency_month"]["p50"] == "2026-06"
    assert result.metrics()["probability_insolvent"] == 1.0
    assert result.statements["cash"]["equity_raised"].sum() == 0.0


def test_rounds_fail_as_often_as_the_probability_says():
    # One month's attempt succeeds with probability 0.3: the first round's month is then
    # geometric; P(first attempt, month 0, succeeds) = 0.3 within binomial error.
    result = labecon.simulate(lab(raise_success_probability=0.3), samples=4000, seed=5)
    raised_at_start = result.statements["cash"]["equity_raised"][:, 0] > 0
    assert raised_at_start.mean() == pytest.approx(0.3, abs=4 * np.sqrt(0.3 * 0.7 / 4000))


def test_failing_rounds_are_the_same_whatever_the_chunk_size():
    data = lab(raise_success_probability=0.5)
    a = labecon.simulate(data, samples=40, seed=2)
    b = labecon.simulate(data, samples=40, seed=2, chunk_size=7)
    assert np.array_equal(a.statements["cash"]["cash"], b.statements["cash"]["cash"])


def test_capital_to_breakeven():
    # Amodei's lab never breaks even: no capital-to-breakeven figure (NaN), while it needs
    # $88.9B over the horizon.
    metrics = labecon.simulate("amodei", samples=1).metrics()
    assert np.isnan(metrics["capital_to_breakeven_usd"]["p50"])
    # A lab burning $100M a month for a year, then earning $50M a month: breakeven when
    # the trailing 12 months turn positive; the capital it needed by then is $1.2B.
    data = {
        "horizon_months": 48,
        "generations": {
            "count": 1,
            "first_training_start_month": 0,
            "training_months": 12,
            "first_training_cost": "$1.2B",
            "cost_multiplier": 1,
        },
        "lifecycle": {"lifetime_months": 36},
        "revenue": {"mode": "top_down", "top_down": {"revenue_multiple": 1.5}},
        "capital": {"funding": {"policy": "unlimited"}},
    }
    metrics = labecon.simulate(data, samples=1).metrics()
    assert metrics["capital_to_breakeven_usd"]["p50"] == pytest.approx(1.2 * B)


def test_a_loan_pays_interest_monthly_and_is_repaid_at_term():
    # $12B drawn in month 2 at 12.68%/yr (exactly 1% a month: 1.01^12 - 1), 6-month term:
    # interest $120M in months 3..8, principal repaid in month 8.
    data = {
        "extends": "amodei",
        "capital": {
            "funding": {"policy": "unlimited"},
            "debt": [
                {"month": 2, "amount": "$12B", "rate_per_year": 1.01**12 - 1, "term_months": 6}
            ],
        },
    }
    result = labecon.simulate(data, samples=1)
    expensed = result.monthly("expensed")
    cash = result.monthly("cash")
    interest = expensed["interest_cost"].to_numpy()
    assert interest[:3] == pytest.approx([0, 0, 0])
    assert interest[3:9] == pytest.approx(np.full(6, 120 * M))
    assert interest[9:].sum() == 0
    assert cash["debt_drawn"].to_numpy()[2] == pytest.approx(12 * B)
    assert cash["debt_repaid"].to_numpy()[8] == pytest.approx(12 * B)
    # Net income = operating income - interest (no revenue shares here).
    assert (expensed["net_income"] - expensed["operating_income"]).to_numpy()[3] == pytest.approx(
        -120 * M
    )


def test_an_ipo_is_a_priced_round_in_its_month():
    # Amodei's lab in January 2025 (month 24): revenue $2B/12 a month = $2B ARR; at 25x the
    # pre-money is $50B; selling $10B dilutes holders by 10 / 60.
    data = {
        "extends": "amodei",
        "capital": {
            "funding": {"policy": "none"},
            "starting_cash": "$100B",
            "ipo": {"month": 24, "amount": "$10B", "valuation_multiple": 25},
        },
    }
    result = labecon.simulate(data, samples=1)
    cash = result.monthly("cash")
    assert cash["equity_raised"].to_numpy()[24] == pytest.approx(10 * B)
    assert cash["equity_raised"].sum() == pytest.approx(10 * B)
    assert cash["ownership"].to_numpy()[24] == pytest.approx(50 / 60)
    assert result.rounds().iloc[0]["pre_money_usd"] == pytest.approx(50 * B)
