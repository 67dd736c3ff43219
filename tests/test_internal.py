"""Internal deployment (seed 004): the lab's share of an edge held by n firms is E / n^2."""

import numpy as np
import pytest

import labecon

B = 1e9


def venture(firms, new_per_year=0.0, gw=0.2):
    return {
        "extends": "compute-bound",
        "compute": {"capacity": "unconstrained"},
        "revenue": {"cloud_partners": {"share_of_api": 0}},
        "strategies": {
            "internal": {
                "gw": gw,
                "edge_per_year": "$50B",  # seed 004: "Some firms make as much as $50B"
                "firms_at_start": firms,
                "new_firms_per_year": new_per_year,
            }
        },
    }


def internal_revenue(data):
    return labecon.simulate(data, samples=1).monthly("channels")["revenue_internal"].to_numpy()


@pytest.mark.parametrize("firms", [1, 2, 3, 4, 10])
def test_the_lab_share_of_the_edge_scales_as_one_over_n_squared(firms):
    # Total edge E/n split between n firms: the lab earns E / n^2 = $50B / n^2 a year.
    revenue = internal_revenue(venture(firms))
    assert revenue == pytest.approx(np.full(12, 50 * B / 12 / firms**2), rel=1e-12)


def test_more_firms_catching_up_shrinks_the_edge():
    # n(t) = 1 + 12 t / 12 = 1 + t: month 3 has 4 firms, so $50B / 12 / 16 that month.
    revenue = internal_revenue(venture(1, new_per_year=12))
    assert revenue[0] == pytest.approx(50 * B / 12)
    assert revenue[3] == pytest.approx(50 * B / 12 / 16)


def test_diverted_gw_cost_compute_and_forgo_api_revenue():
    base = labecon.simulate(venture(1, gw=0.0), samples=1)
    moved = labecon.simulate(venture(1, gw=0.2), samples=1)
    # 0.2 GW at $12B per GW-year cost $200M a month more.
    extra = moved.monthly("expensed")["inference_cost"] - base.monthly("expensed")["inference_cost"]
    assert extra.to_numpy() == pytest.approx(np.full(12, 0.2e9))
    # Serving earns $44B a year on 44 / (6 / 0.28) x 0.5 GW = 1.0267 GW: revenue per GW
    # $3.571B a month, so 0.2 GW forgo $714M a month of API revenue.
    forgone = moved.monthly("channels")["forgone_api_revenue"].to_numpy()
    assert forgone == pytest.approx(np.full(12, 0.2 * 44 * B / 12 / (44 / (6 / 0.28) * 0.5)))
    # Channels still add up to the booked revenue.
    channels = moved.monthly("channels")
    booked = moved.monthly("expensed")["revenue"]
    total = sum(channels[c] for c in ("revenue_api", "revenue_internal"))
    assert total.to_numpy() == pytest.approx(booked.to_numpy())


def test_firms_below_one_are_refused():
    with pytest.raises(labecon.ScenarioError) as info:
        labecon.load_scenario({"strategies": {"internal": {"firms_at_start": 0.5}}})
    assert info.value.problems[0].path == "strategies.internal.firms_at_start"
