"""What to watch (seed 001): growth of revenue against costs, margins, burn, unit costs."""

import numpy as np
import pytest

import labecon

B = 1e9
M = 1e6


@pytest.fixture(scope="module")
def amodei() -> labecon.Result:
    return labecon.simulate("amodei", samples=1, seed=0)


def test_revenue_and_costs_growing_alike_give_a_ratio_of_one(amodei):
    watch = amodei.annual("watch", "p50")
    # Costs (training) go $100M -> $1B -> $10B -> $100B: +900% a year; revenue
    # $0 -> $200M -> $2B -> $20B: +900% from 2025. Revenue grows exactly as fast as costs,
    # so losses grow tenfold too: "If costs are growing faster ... the runway is shortening".
    assert watch.loc[2024, "cost_growth"] == pytest.approx(9.0)
    assert np.isnan(watch.loc[2024, "revenue_growth"])  # no revenue in 2023 to grow from
    assert watch.loc[2025, "revenue_growth"] == pytest.approx(9.0)
    assert watch.loc[2025, "growth_ratio"] == pytest.approx(1.0)
    assert watch.loc[2026, "growth_ratio"] == pytest.approx(1.0)


def test_burn_multiple_is_burn_over_new_annualised_revenue(amodei):
    watch = amodei.annual("watch", "p50")
    # 2024: burn $800M; revenue went from $0 (Dec 2023) to $200M/12 a month (Dec 2024),
    # i.e. $200M of new ARR: multiple 4.0. 2025: $8B over 12 x ($2B - $200M)/12 = $1.8B.
    assert watch.loc[2024, "burn_multiple"] == pytest.approx(4.0)
    assert watch.loc[2025, "burn_multiple"] == pytest.approx(8 / 1.8)


def test_gross_margin_and_unit_costs_of_the_compute_bound_lab():
    result = labecon.simulate("compute-bound", samples=1, seed=0)
    watch = result.annual("watch", "p50").loc[2026]
    # Booked revenue $28.2B a year ($21.43B first-party + 30% of $22.57B), inference $6B:
    # gross margin 1 - 6 / 28.2 = 78.7%.
    booked = 6 / 0.28 + 0.30 * (44 - 6 / 0.28)
    assert watch["gross_margin"] == pytest.approx(1 - 6 / booked, rel=1e-4)
    # The lab serves 1.7857e8 Mtok a month at $0.5B of compute: $2.80 per Mtok.
    assert watch["inference_cost_per_mtok"] == pytest.approx(0.5 * B / (6 / 0.28 * B / 12 / 10))


def test_enterprise_revenue_per_contract_and_cost_per_subscriber():
    data = {
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
            "enterprise": {
                "contracts": 100,
                "contract_value_per_year": "$2M",
                "contract_value_growth_per_year": "10%",
            },
            "consumer": {"tiers": [{"name": "plus", "price_per_month": 20, "subscribers": 1e6}]},
        },
        "costs": {"other_infrastructure_per_year": "$120M"},
        "capital": {"funding": {"policy": "unlimited"}},
    }
    watch = labecon.simulate(data, samples=1).monthly("watch", "p50")
    # Revenue per contract grows with the ACV: $2M, then $2.2M a year later.
    assert watch["enterprise_revenue_per_contract"].iloc[0] == pytest.approx(2 * M)
    assert watch["enterprise_revenue_per_contract"].iloc[12] == pytest.approx(2.2 * M)
    # The only cost is $10M a month of other infrastructure over 1M subscribers: $10 each.
    assert watch["cost_per_subscriber"].iloc[5] == pytest.approx(10.0)
