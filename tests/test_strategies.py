"""Strategies of the essays: reuse of model blocks, routing to distilled models, and the
option to stop escalating after an overhang. Expected numbers are worked out by hand."""

import numpy as np
import pytest

import labecon

B = 1e9
M = 1e6


def amodei(**changes):
    data = {
        "extends": "amodei",
        "capital": {"funding": {"policy": "unlimited"}},
    }
    data.update(changes)
    return data


def training_costs(data):
    result = labecon.simulate(data, samples=1, seed=0)
    return result.generation_values["training_cost_usd"][0]


def test_reuse_saves_a_share_of_every_later_generation():
    # $100M, $1B, $10B, $100B; a 30% saving from generation 1 on: $100M, $700M, $7B, $70B.
    costs = training_costs(amodei(strategies={"reuse": {"saving": "30%"}}))
    assert costs == pytest.approx([100 * M, 700 * M, 7 * B, 70 * B])


def test_routing_cuts_inference_cost_by_rho_one_minus_kappa():
    # Routing share rho = 0.4 to a model with size factor kappa = 0.25 cuts each
    # generation's inference cost by rho (1 - kappa) = 0.3: 70% of it remains.
    base = {
        "extends": "compute-bound",
        "compute": {"capacity": "unconstrained"},
        "revenue": {"cloud_partners": {"share_of_api": 0}},
    }
    routed = dict(base, strategies={"routing": {"share": 0.4, "size_factor": 0.25}})
    full = labecon.simulate(base, samples=1).generation_values["lifetime_inference_cost_usd"]
    cut = labecon.simulate(routed, samples=1).generation_values["lifetime_inference_cost_usd"]
    assert full[0, 0] > 0
    assert cut[0, 0] == pytest.approx(full[0, 0] * (1 - 0.4 * (1 - 0.25)), rel=1e-12)


def test_routing_at_a_discount_cuts_api_revenue_by_rho_times_discount():
    # $44B a year of API revenue (no clouds); 40% routed at a 50% discount: -20%.
    base = {
        "extends": "compute-bound",
        "revenue": {"cloud_partners": {"share_of_api": 0}},
        "compute": {"capacity": "unconstrained"},
    }
    routed = dict(base, strategies={"routing": {"share": 0.4, "price_discount": 0.5}})
    revenue = labecon.simulate(routed, samples=1).annual("expensed").loc[2026, "revenue"]
    assert revenue == pytest.approx(44 * B * 0.8, rel=1e-6)


def test_routing_in_top_down_mode_scales_the_serving_share():
    data = amodei(
        revenue={
            "mode": "top_down",
            "top_down": {"revenue_multiple": 2, "inference_cost_share": 0.5},
        },
        strategies={"routing": {"share": 0.5, "size_factor": 0.0}},
    )
    result = labecon.simulate(data, samples=1)
    # 2024: $200M revenue at a 50% serving share, halved by routing: $50M.
    assert result.annual("expensed").loc[2024, "inference_cost"] == pytest.approx(50 * M)


def test_stop_escalating_after_an_overhang():
    # Capability stalls after generation 0; after one more generation without gain
    # (generation 1) the lab stops escalating: costs $100M, $1B, $1B, $1B.
    data = amodei(generations={"capability_stall_after": 0, "stop_escalating_after": 1})
    assert training_costs(data) == pytest.approx([100 * M, 1 * B, 1 * B, 1 * B])
    # Without the option the costs keep escalating while capability is flat.
    data = amodei(generations={"capability_stall_after": 0})
    assert training_costs(data) == pytest.approx([100 * M, 1 * B, 10 * B, 100 * B])


def test_strategy_shares_above_100_percent_are_named():
    with pytest.raises(labecon.ScenarioError) as info:
        labecon.load_scenario({"strategies": {"routing": {"share": "120%"}}})
    assert info.value.problems[0].path == "strategies.routing.share"
    with pytest.raises(labecon.ScenarioError) as info:
        labecon.load_scenario({"strategies": {"reuse": {"saving": 1.5}}})
    assert info.value.problems[0].path == "strategies.reuse.saving"


def test_strategies_are_off_by_default():
    a = labecon.simulate("amodei", samples=1)
    b = labecon.simulate(amodei(strategies={}), samples=1)
    assert np.array_equal(
        a.statements["expensed"]["operating_income"], b.statements["expensed"]["operating_income"]
    )


def test_reuse_saves_money_not_scale():
    # A 50% saving on later runs leaves top-down revenue at 2x the model's full scale:
    # generation 1 still earns $2B on a run that cost $500M (ROI 4x).
    result = labecon.simulate(amodei(strategies={"reuse": {"saving": 0.5}}), samples=1)
    gens = result.generations()
    assert gens.loc[1, "training_cost_usd"] == pytest.approx(500 * M)
    assert gens.loc[1, "lifetime_revenue_usd"] == pytest.approx(2 * B)
    assert gens.loc[1, "roi_multiple"] == pytest.approx(4.0)
