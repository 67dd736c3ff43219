"""Markets of labs competing for shared demand (issue 7): invariants, equivalence, errors."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labecon
from labecon.market import MarketError, load_market, simulate_market
from strategies import PROPERTY, consumer_section, enterprise_section, scenarios

API_DEMAND = {
    "demand_mtok_per_month": "6e8 to 1.1e9",
    "demand_growth_per_year": "60% to 200%",
    "demand_ceiling_mtok_per_month": "1.5e9 to 6e9",
}


def market(*labs: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A market contesting baseline's API demand, with the given labs."""
    return {"kind": "market", "segments": {"api": dict(API_DEMAND)}, "labs": list(labs), **extra}


# -- one lab alone ---------------------------------------------------------------------------


def _market_of_one(data: dict[str, Any]) -> dict[str, Any]:
    """A market whose demand is the lab's own, for each channel the lab has."""
    revenue = data["revenue"]
    api = revenue.setdefault("api", {})
    api["lab_share"] = 1.0
    segments: dict[str, Any] = {
        "api": {
            name: api[name]
            for name in (
                "demand_mtok_per_month",
                "demand_growth_per_year",
                "demand_ceiling_mtok_per_month",
                "demand_capability_exponent",
            )
            if name in api
        }
    }
    if "consumer" in revenue:
        tier = revenue["consumer"]["tiers"][0]
        segments["consumer"] = {
            name: tier[name]
            for name in ("new_subscribers_per_month", "new_subscriber_growth_per_year")
            if name in tier
        }
    if "enterprise" in revenue:
        segments["enterprise"] = {
            name: revenue["enterprise"][name]
            for name in ("new_contracts_per_month", "new_contract_growth_per_year")
            if name in revenue["enterprise"]
        }
    return {
        "kind": "market",
        "start": data["start"],
        "horizon_months": data["horizon_months"],
        "segments": segments,
        "labs": [{"name": "alone", "scenario": data}],
    }


@st.composite
def lone_labs(draw: st.DrawFn) -> dict[str, Any]:
    """Bottom-up scenarios, with one consumer tier or enterprise contracts or both, or neither."""
    data = draw(scenarios(correlate=False))
    revenue = data["revenue"]
    revenue["mode"] = "bottom_up"
    if "consumer" in revenue:
        revenue["consumer"]["tiers"] = revenue["consumer"]["tiers"][:1]
    if draw(st.booleans()):
        consumer = draw(consumer_section())
        consumer["tiers"] = consumer["tiers"][:1]
        revenue["consumer"] = consumer
    if draw(st.booleans()):
        revenue["enterprise"] = draw(enterprise_section())
    api = revenue.setdefault("api", {})
    # Fixed: the market draws an uncertain exponent from its own stream.
    api["demand_capability_exponent"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
    return data


@settings(PROPERTY, max_examples=30)
@given(data=lone_labs(), samples=st.integers(2, 8), seed=st.integers(0, 2**32 - 1))
def test_a_lab_alone_in_its_market_gets_its_single_lab_numbers(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    single = copy.deepcopy(data)
    single["revenue"]["api"]["lab_share"] = 1.0
    alone = simulate_market(_market_of_one(copy.deepcopy(data)), samples=samples, seed=seed)
    direct = labecon.simulate(single, samples=samples, seed=seed)
    lab = alone.labs["alone"]
    # Alone in its market a lab does not leave it when it runs out of cash (nobody is there
    # to take its customers): it runs on as a single-lab run shows it.
    assert np.isnan(alone.exit_month).all()
    for view, items in direct.statements.items():
        for item, values in items.items():
            got = lab.statements[view][item]
            assert np.array_equal(values, got, equal_nan=True), (view, item)
    for name, values in direct.generation_values.items():
        assert np.array_equal(values, lab.generation_values[name], equal_nan=True), name
    for name, values in direct.metric_values.items():
        assert np.array_equal(values, lab.metric_values[name], equal_nan=True), name
    for segment, shares in alone.shares.items():
        # Shares are exactly 1 while the lab has a model on sale, else 0.
        assert set(np.unique(shares)) <= {0.0, 1.0}, segment


def test_baseline_alone_in_its_api_market_is_the_baseline_with_all_the_demand() -> None:
    single = {"extends": "baseline", "revenue": {"api": {"lab_share": 1.0}}}
    alone = simulate_market(market({"name": "solo", "scenario": single}), samples=200, seed=3)
    direct = labecon.simulate(single, samples=200, seed=3)
    assert np.isnan(alone.exit_month).all()  # no sample runs out of cash: the whole run
    for view, items in direct.statements.items():
        for item, values in items.items():
            got = alone.labs["solo"].statements[view][item]
            assert np.array_equal(values, got, equal_nan=True), (view, item)
    for name, values in direct.generation_values.items():
        assert np.array_equal(values, alone.labs["solo"].generation_values[name], equal_nan=True)


# -- several labs ----------------------------------------------------------------------------


def test_shares_sum_to_one_in_every_month_with_a_model_on_sale() -> None:
    result = simulate_market(
        market(
            {"name": "a", "scenario": "baseline"},
            {"name": "b", "scenario": "baseline", "capability_scale": 1.3},
            {"name": "c", "scenario": "baseline", "capability_scale": 0.8},
            open_weight={"segments": ["api"], "lag_months": 9},
        ),
        samples=60,
        seed=5,
    )
    shares = result.shares["api"]
    assert shares.shape == (60, 120, 4)
    assert result.options("api") == ["a", "b", "c", "open-weight"]
    totals = shares.sum(axis=2)
    served = np.stack([lab.samples("compute", "tokens_mtok") for lab in result.labs.values()])
    any_model = totals > 0
    np.testing.assert_allclose(totals[any_model], 1.0, rtol=0, atol=1e-12)
    # Baseline's first model is on sale from month 0: every month is served.
    assert any_model.all() and (served.sum(axis=0) > 0).all()


def test_symmetric_labs_get_equal_expected_shares() -> None:
    result = simulate_market(
        market({"name": "a", "scenario": "baseline"}, {"name": "b", "scenario": "baseline"}),
        samples=400,
        seed=11,
    )
    shares = result.shares["api"]
    difference = shares[:, :, 0].mean(axis=1) - shares[:, :, 1].mean(axis=1)  # per sample
    standard_error = difference.std(ddof=1) / np.sqrt(difference.size)
    assert abs(difference.mean()) < 4 * standard_error
    assert 0.45 < shares[:, :, 0].mean() < 0.55


def test_a_more_capable_lab_wins_share_from_the_same_draws() -> None:
    base = market({"name": "a", "scenario": "baseline"}, {"name": "b", "scenario": "baseline"})
    better = copy.deepcopy(base)
    better["labs"][1]["capability_scale"] = 1.5
    same = simulate_market(base, samples=80, seed=2).shares["api"][:, :, 1]
    more = simulate_market(better, samples=80, seed=2).shares["api"][:, :, 1]
    # u gains premium * ln(1.5) = 2 * 0.405: weights 2.25 to 1, a choice of 0.69 instead of
    # 0.5 where both sell equally capable, equally priced models; customers move towards it.
    assert (more.mean(axis=1) > same.mean(axis=1)).all()
    assert more[:, 24:].mean() > same[:, 24:].mean() + 0.1


def test_open_weight_models_take_share_once_they_catch_up() -> None:
    result = simulate_market(
        market(
            {"name": "a", "scenario": "baseline"},
            open_weight={"segments": ["api"], "lag_months": 12},
        ),
        samples=40,
        seed=1,
    )
    open_share = result.shares["api"][:, :, 1]
    assert (open_share[:, :12] == 0).all()  # nothing to offer before the lag has passed
    assert (open_share[:, 24:] > 0).all()


def test_same_seed_same_numbers_whatever_the_chunks_and_threads() -> None:
    spec = market(
        {"name": "a", "scenario": "baseline"},
        {"name": "b", "scenario": "baseline", "capability_scale": 1.2},
        open_weight={"segments": ["api"]},
    )
    whole = simulate_market(spec, samples=30, seed=9, chunk_size=30, threads=1)
    for size, threads in ((7, 2), (1, 3)):
        other = simulate_market(spec, samples=30, seed=9, chunk_size=size, threads=threads)
        assert np.array_equal(whole.shares["api"], other.shares["api"])
        assert np.array_equal(whole.exit_month, other.exit_month, equal_nan=True)
        for name, lab in whole.labs.items():
            for view, items in lab.statements.items():
                for item, values in items.items():
                    got = other.labs[name].statements[view][item]
                    assert np.array_equal(values, got, equal_nan=True)


# -- exits and acquisitions ------------------------------------------------------------------

CHANNELS = {
    "consumer": {
        "tiers": [
            {
                "name": "plus",
                "price_per_month": 20,
                "subscribers": 1e6,
                "new_subscribers_per_month": 1e5,
                "churn_per_month": 0.03,
            }
        ]
    },
    "enterprise": {
        "contracts": 100,
        "new_contracts_per_month": 10,
        "churn_per_month": 0.02,
        "contract_value_per_year": 1e6,
    },
}


def _consolidating(acquirer: str, target_cash: float = 4e9) -> dict[str, Any]:
    """A lab that runs out of cash early, a cloud-backed giant and an independent peer."""
    short = {
        "extends": "baseline",
        "capital": {"starting_cash": target_cash, "funding": {"policy": "none"}},
        "revenue": CHANNELS,
    }
    funded = {"extends": "baseline"}  # raises 24 months of burn when its runway runs short
    return {
        "kind": "market",
        "horizon_months": 60,
        "segments": {
            "api": dict(API_DEMAND),
            "consumer": {"new_subscribers_per_month": 2e5},
            "enterprise": {"new_contracts_per_month": 20},
        },
        "labs": [
            {"name": "short", "scenario": short},
            {
                "name": "giant",
                "scenario": {**funded, "revenue": CHANNELS},
                "parent_credit_usd": 1e12,
            },
            {"name": "peer", "scenario": {**funded, "revenue": CHANNELS}},
        ],
        "consolidation": {"acquirer": acquirer, "compute_share": 0.5},
    }


def test_an_acquirer_keeps_both_labs_customers_less_its_churn() -> None:
    result = simulate_market(_consolidating("largest-cloud-backed"), samples=30, seed=1)
    month = result.exit_month[:, 0]
    rows = np.flatnonzero(~np.isnan(month) & (month >= 1))
    assert rows.size >= 10  # the lab without funding runs out of cash in most samples
    assert np.isnan(result.exit_month[:, 1]).all()  # the cloud-backed giant never does
    assert (result.acquirer[rows, 0] == 1).all()  # it acquires every time
    short, giant = result.labs["short"], result.labs["giant"]
    for item, segment, churn, new in (
        ("subscribers", "consumer", 0.03, 2e5),
        ("enterprise_contracts", "enterprise", 0.02, 20.0),
    ):
        target, acquirer = short.samples("channels", item), giant.samples("channels", item)
        for row in rows:
            m = int(month[row])
            joined = target[row, m - 1] + acquirer[row, m - 1]
            if segment == "consumer":
                # S(m) = (A(m-1) + T(m-1)) (1 - churn) + market's new subscribers x its share.
                adds = new * result.shares["consumer"][row, m, 1]
                assert acquirer[row, m] == pytest.approx(joined * (1 - churn) + adds, rel=1e-12)
            else:
                # Contracts won before the exit are still in the sales cycle: at least both
                # stocks less churn, and no more than that plus a month of all new contracts.
                assert joined * (1 - churn) <= acquirer[row, m] * (1 + 1e-12)
                assert acquirer[row, m] <= joined * (1 - churn) + new * (1 + 1e-12)
            assert target[row, m:].max() == 0.0  # the acquired lab has no customer left


def test_the_acquirer_gets_its_share_of_the_targets_compute() -> None:
    spec = _consolidating("giant")
    for lab in spec["labs"]:
        lab["scenario"] = {**lab["scenario"], "compute": {"capacity": "rent", "owned_gw": 1.0}}
    result = simulate_market(spec, samples=12, seed=2)
    alone = simulate_market({**spec, "consolidation": {"acquirer": "none"}}, samples=12, seed=2)
    month = result.exit_month[:, 0]
    rows = np.flatnonzero(~np.isnan(month))
    assert rows.size > 0 and (result.acquirer[rows, 0] == 1).all()
    assert (alone.acquirer[rows, 0] == -1).all()  # "none": it winds down
    owned = result.labs["giant"].samples("compute", "gw_owned")
    owned_alone = alone.labs["giant"].samples("compute", "gw_owned")
    target = result.labs["short"].samples("compute", "gw_owned")
    for row in rows:
        m = int(month[row])
        np.testing.assert_allclose(owned[row, :m], owned_alone[row, :m], rtol=1e-15)
        np.testing.assert_allclose(
            owned[row, m:], owned_alone[row, m:] + 0.5 * target[row, m:], rtol=1e-12
        )


def test_the_highest_bidder_is_the_lab_with_the_most_cash() -> None:
    result = simulate_market(_consolidating("highest-bidder"), samples=20, seed=3)
    month = result.exit_month[:, 0]
    for row in np.flatnonzero(~np.isnan(month) & (month >= 1)):
        m = int(month[row])
        cash = [result.labs[name].samples("cash", "cash")[row, m - 1] for name in ("giant", "peer")]
        assert max(cash) > 0
        assert result.acquirer[row, 0] == 1 + int(np.argmax(cash))
    assert (~np.isnan(month) & (month >= 1)).sum() >= 5


# -- tables ----------------------------------------------------------------------------------


def test_survival_and_independent_labs_follow_the_exit_months() -> None:
    result = simulate_market(
        market({"name": "a", "scenario": "baseline"}, {"name": "b", "scenario": "baseline"}),
        samples=20,
        seed=4,
    )
    # Rewrite the exits by hand: lab a leaves in month 30 in half of the samples.
    exits = np.full((20, 2), np.nan)
    exits[:10, 0] = 30.0
    acquirer = np.full((20, 2), -1)
    acquirer[:5, 0] = 1  # b acquires a in 5 samples; a winds down in the other 5
    staged = type(result)(result.loaded, result.seed, result.labs, result.shares, exits, acquirer)
    survival = staged.survival()
    assert survival.loc[2027, "a"] == 1.0  # months 12-23
    assert survival.loc[2028, "a"] == 0.5  # month 30 is in 2028 (months 24-35)
    assert (survival["b"] == 1.0).all()
    count = staged.independent_labs()
    assert count["mean"].iloc[29] == 2.0 and count["mean"].iloc[30] == 1.5
    assert count["p5"].iloc[30] == 1.0 and count["p95"].iloc[30] == 2.0
    events = staged.events()
    assert events.loc["a", "probability"] == 0.5 and events.loc["a", "p50_month"] == 30.0
    assert events.loc["a", "acquired_by_b"] == 0.25 and events.loc["a", "wound_down"] == 0.25
    assert events.loc["b", "probability"] == 0.0
    timeline = staged.timeline()
    assert timeline.loc[2028].tolist() == [0.5, 0.25, 0.25, 1.5]
    assert timeline.loc[2027, "exits"] == 0.0 and timeline.loc[2027, "independent_labs"] == 2.0


def test_hhi_is_ten_thousand_times_the_sum_of_squared_shares() -> None:
    result = simulate_market(
        market({"name": "a", "scenario": "baseline"}, {"name": "b", "scenario": "baseline"}),
        samples=10,
        seed=4,
    )
    shares = result.shares["api"]
    expected = 10_000 * (shares[:, 5, 0] ** 2 + shares[:, 5, 1] ** 2)
    assert result.hhi("api")["mean"].iloc[5] == pytest.approx(expected.mean(), rel=1e-12)
    # Two labs: between 5,000 (equal shares) and 10,000 (one holds all).
    assert (result.hhi("api")["p5"] >= 5_000 - 1e-6).all()


# -- bad input -------------------------------------------------------------------------------


def _problems(spec: dict[str, Any]) -> list[str]:
    with pytest.raises(MarketError) as caught:
        load_market(spec)
    return [f"{p.path}: {p.message}" for p in caught.value.problems]


def test_duplicate_lab_names_are_refused_naming_both() -> None:
    found = _problems(
        market({"name": "a", "scenario": "baseline"}, {"name": "a", "scenario": "nwc"})
    )
    assert found == [
        "labs.1.name: 'a' is already the name of labs.0; accepted: a name no other lab of "
        "the market has"
    ]


def test_an_acquirer_naming_no_lab_is_refused_with_the_choices() -> None:
    found = _problems(
        market({"name": "alpha", "scenario": "baseline"}, consolidation={"acquirer": "alpah"})
    )
    assert len(found) == 1
    assert found[0].startswith("consolidation.acquirer: 'alpah' is neither a rule nor a lab")
    assert "did you mean 'alpha'?" in found[0]
    assert "accepted: largest-cloud-backed, highest-bidder, none, alpha" in found[0]


def test_segments_that_do_not_exist_are_refused() -> None:
    found = _problems(
        market(
            {"name": "a", "scenario": "baseline"},
            open_weight={"segments": ["api", "robots", "consumer"]},
        )
    )
    assert found == [
        "open_weight.segments.1: 'robots' is not a segment; accepted: api",
        "open_weight.segments.2: 'consumer' is not a segment of this market (its demand is "
        "not given); accepted: api",
    ]
    unknown = _problems(
        {**market({"name": "a", "scenario": "baseline"}), "segments": {"robots": {}}}
    )
    assert len(unknown) == 1 and unknown[0].startswith("segments.robots: unknown field")


def test_a_lab_scenario_problem_names_the_lab_and_field() -> None:
    found = _problems(
        market(
            {
                "name": "a",
                "scenario": {"extends": "baseline", "generations": {"cost_multiplier": -2}},
            }
        )
    )
    assert len(found) == 1 and found[0].startswith("labs.0.scenario.generations.cost_multiplier:")
    top_down = _problems(market({"name": "a", "scenario": "amodei"}))
    assert top_down == [
        "labs.0.scenario.revenue.mode: a lab competes for a market's demand only with "
        "bottom-up revenue; accepted: bottom_up (or a market that contests no segment)"
    ]


def test_bad_run_options_are_refused() -> None:
    with pytest.raises(labecon.OptionError, match="samples: 0 is not accepted"):
        simulate_market(market({"name": "a", "scenario": "baseline"}), samples=0)
    result = simulate_market(market({"name": "a", "scenario": "baseline"}), samples=2)
    with pytest.raises(labecon.OptionError, match="segment: 'consumer' is not contested"):
        result.share_table("consumer")


def test_a_parents_credit_keeps_a_lab_training_and_in_the_market() -> None:
    # The same lab short of cash, with and without a parent; a peer keeps the market open.
    short = {
        "extends": "baseline",
        "capital": {"starting_cash": 1e9, "funding": {"policy": "none"}},
    }
    spec = market(
        {"name": "short", "scenario": short},
        {"name": "peer", "scenario": "baseline"},
        horizon_months=48,
    )
    alone = simulate_market(spec, samples=20, seed=6)
    backed_spec = copy.deepcopy(spec)
    backed_spec["labs"][0]["parent_credit_usd"] = 1e12
    backed = simulate_market(backed_spec, samples=20, seed=6)
    month = alone.exit_month[:, 0]
    rows = np.flatnonzero(month <= 30)
    assert rows.size >= 5  # out of cash early without a parent, in many samples
    assert np.isnan(backed.exit_month[:, 0]).all()  # the parent lends it what it needs
    independent = alone.labs["short"].samples("expensed", "training_cost")
    with_parent = backed.labs["short"].samples("expensed", "training_cost")
    for row in rows:
        # Runs already under way finish (at most 9 months); none starts after insolvency.
        later = slice(int(month[row]) + 10, None)
        assert independent[row, later].sum() == 0
        assert with_parent[row, later].sum() > 0  # still training, on the parent's credit
    cash = backed.labs["short"].samples("cash", "cash")
    assert cash.min() < 0 and (cash >= -1e12).all()  # drawn on the credit, within it
