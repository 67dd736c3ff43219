"""Compute capacity: idle owned GW, rented GW at a premium, and a hard cap on serving.

Every figure below is worked out by hand in the comments; compute costs $12B per GW-year,
i.e. $1B per GW-month.
"""

import numpy as np
import pytest

import labecon

B = 1e9
M = 1e6


def run(data, samples=1):
    return labecon.simulate(data, samples=samples, seed=0)


def training_only(capacity, owned_gw, training_per_month, premium=0.0):
    # One generation training for 12 months from month 0; spend C/12 a month.
    return {
        "horizon_months": 12,
        "generations": {
            "count": 1,
            "training_months": 12,
            "first_training_cost": training_per_month * 12,
        },
        "inference": {"cost_per_gw_year": 12 * B},
        "compute": {"capacity": capacity, "owned_gw": owned_gw, "rent_premium": premium},
        "capital": {"funding": {"policy": "unlimited"}},
    }


def test_idle_owned_capacity_is_a_visible_cost():
    # Training $600M a month draws 0.6 GW of 1 GW held: 0.4 GW idle at $1B/GW-month.
    result = run(training_only("rent", owned_gw=1.0, training_per_month=600 * M))
    expensed = result.monthly("expensed")
    assert expensed["idle_compute_cost"].to_numpy() == pytest.approx(np.full(12, 400 * M))
    assert expensed["operating_income"].to_numpy() == pytest.approx(np.full(12, -1 * B))
    compute = result.monthly("compute")
    assert compute["gw_training"].to_numpy() == pytest.approx(np.full(12, 0.6))
    assert compute["gw_idle"].to_numpy() == pytest.approx(np.full(12, 0.4))
    assert compute["gw_owned"].to_numpy() == pytest.approx(np.full(12, 1.0))


def test_demand_above_owned_capacity_is_rented_at_a_premium():
    # Training $1.5B a month = 1.5 GW against 1 GW held: 0.5 GW rented, 50% premium on
    # $1B/GW-month = $250M a month on top of the training spend.
    result = run(training_only("rent", owned_gw=1.0, training_per_month=1.5 * B, premium=0.5))
    expensed = result.monthly("expensed")
    assert expensed["compute_premium_cost"].to_numpy() == pytest.approx(np.full(12, 250 * M))
    assert expensed["idle_compute_cost"].to_numpy() == pytest.approx(np.zeros(12))
    assert result.monthly("compute")["gw_rented"].to_numpy() == pytest.approx(np.full(12, 0.5))
    # Operating income: -$1.5B training - $0.25B premium.
    assert expensed["operating_income"].to_numpy() == pytest.approx(np.full(12, -1.75 * B))


def test_unconstrained_ignores_owned_capacity():
    result = run(training_only("unconstrained", owned_gw=5.0, training_per_month=600 * M))
    expensed = result.monthly("expensed")
    assert expensed["idle_compute_cost"].sum() == 0.0
    assert expensed["operating_income"].to_numpy() == pytest.approx(np.full(12, -600 * M))


def serving(capacity, owned_gw):
    # A model released before the start serves 1e8 Mtok a month at $10/Mtok = $1B/month of
    # revenue; a GW serves 5e7 Mtok a month, so serving needs 2 GW ($2B/month of compute).
    # Generation 1 trains from month 0 at $500M a month: 0.5 GW.
    return {
        "horizon_months": 6,
        "generations": {
            "count": 2,
            "first_training_start_month": -12,
            "cadence_months": 12,
            "training_months": 12,
            "first_training_cost": 6 * B,
            "cost_multiplier": 1,
        },
        "lifecycle": {"lifetime_months": 24},
        "revenue": {
            "mode": "bottom_up",
            "api": {"demand_mtok_per_month": 1e8, "release_price_per_mtok": 10},
        },
        "inference": {
            "cost_per_gw_year": 12 * B,
            "reference_mtok_per_gw_month": 5e7,
            "reference_training_cost": 6 * B,
        },
        "compute": {"capacity": capacity, "owned_gw": owned_gw},
        "capital": {"funding": {"policy": "unlimited"}},
    }


def test_hard_cap_loses_the_demand_it_cannot_serve():
    # 1.5 GW held - 0.5 GW training = 1 GW for serving, half the 2 GW needed: half the
    # tokens are served, revenue $500M/month, serving cost $1B/month.
    result = run(serving("hard", owned_gw=1.5))
    expensed = result.monthly("expensed")
    assert expensed["revenue"].to_numpy() == pytest.approx(np.full(6, 500 * M))
    assert expensed["inference_cost"].to_numpy() == pytest.approx(np.full(6, 1 * B))
    compute = result.monthly("compute")
    assert compute["served_share"].to_numpy() == pytest.approx(np.full(6, 0.5))
    assert compute["gw_inference_needed"].to_numpy() == pytest.approx(np.full(6, 2.0))
    assert compute["tokens_mtok"].to_numpy() == pytest.approx(np.full(6, 5e7))
    # Nothing idle, nothing rented: 0.5 GW training + 1 GW serving = 1.5 GW held.
    assert compute["gw_idle"].to_numpy() == pytest.approx(np.zeros(6))
    assert compute["gw_rented"].to_numpy() == pytest.approx(np.zeros(6))


def test_rent_serves_all_demand():
    result = run(serving("rent", owned_gw=1.5))
    assert result.monthly("expensed")["revenue"].to_numpy() == pytest.approx(np.full(6, 1 * B))
    assert result.monthly("compute")["gw_rented"].to_numpy() == pytest.approx(np.full(6, 1.0))


def test_owned_capacity_grows_and_stops_at_its_ceiling():
    data = training_only("rent", owned_gw=1.0, training_per_month=0.0)
    data["horizon_months"] = 36
    data["compute"].update(owned_gw_growth_per_year="100%", owned_gw_max=3.0)
    owned = run(data).monthly("compute")["gw_owned"].to_numpy()
    # Doubling a year: 2 GW after 12 months, 3 GW (the ceiling) from month 19 on
    # (2^(19/12) = 2.996 < 3 < 2^(20/12) = 3.17, so the cap binds from month 20).
    assert owned[12] == pytest.approx(2.0)
    assert owned[19] == pytest.approx(2 ** (19 / 12))
    assert owned[20:].tolist() == pytest.approx([3.0] * 16)


def test_revenue_would_buy_gw_at_the_price_of_compute():
    # Seed 004: "$44bn in annualized revenue ... is enough for maybe 3-4 GW (at $12-15bn per
    # GW per year)": $44B / $12B = 3.67 GW, $44B / $15B = 2.93 GW.
    for price, gw in ((12 * B, 44 / 12), (15 * B, 44 / 15)):
        data = serving("unconstrained", owned_gw=0.0)
        data["revenue"]["api"]["demand_mtok_per_month"] = 44 * B / 12 / 10
        data["inference"]["cost_per_gw_year"] = price
        buys = run(data).monthly("compute")["gw_revenue_buys"].to_numpy()
        assert buys == pytest.approx(np.full(6, gw))


def test_bad_capacity_mode_is_named():
    with pytest.raises(labecon.ScenarioError) as info:
        labecon.load_scenario({"compute": {"capacity": "elastic"}})
    assert info.value.problems[0].path == "compute.capacity"
