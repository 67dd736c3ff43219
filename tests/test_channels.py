"""Revenue channels (bottom-up): consumer, enterprise, cloud partners, licensing, elasticity.

Hand-calculated cases for each relation in :mod:`labecon.engine.channels`, validation of the
sections in :mod:`labecon.scenario.channels` (each error names the field path), and
properties: attribution conserves totals, results do not depend on chunking.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from pydantic import ValidationError

from labecon.engine.channels import (
    TierInputs,
    attribute,
    average_price,
    cloud_split,
    consumer_channel,
    contract_activations,
    demand_factor,
    elastic_demand,
    enterprise_channel,
    licensing_revenue,
    open_weights_caught_up,
    subscribers,
)
from labecon.scenario.channels import (
    CloudPartners,
    Consumer,
    Elasticity,
    Enterprise,
    Licensing,
    Tier,
)
from labecon.scenario.fields import Section
from labecon.scenario.loading import _problems
from labecon.scenario.quantities import Distribution

CENT = 0.01  # [USD]


def a(*values: float) -> np.ndarray:
    """A (samples,) array."""
    return np.array(values, dtype=np.float64)


def months(n: int, first: int = 0) -> np.ndarray:
    return np.arange(first, n, dtype=np.int64)


def tier(**given: float) -> TierInputs:
    fields = {name: a(0.0) for name in TierInputs.__dataclass_fields__}
    fields.update({k: a(v) for k, v in given.items()})
    return TierInputs(**fields)


def enterprise(t: np.ndarray, caught_up: np.ndarray | None = None, **given: float):
    args = {
        "contracts": 0.0,
        "new_per_month": 0.0,
        "new_growth_per_year": 0.0,
        "sales_cycle_months": 0.0,
        "churn_per_month": 0.0,
        "open_source_churn_multiplier": 1.0,
        "contract_value_per_year": 0.0,
        "contract_value_growth_per_year": 0.0,
        "tokens_per_contract_per_month": 0.0,
        "token_growth_per_year": 0.0,
    }
    args.update(given)
    if caught_up is None:
        caught_up = np.zeros((1, t.size), dtype=bool)
    return enterprise_channel(**{k: a(v) for k, v in args.items()}, caught_up=caught_up, months=t)


# -- consumer ----------------------------------------------------------------------------------


def test_flat_tier_earns_price_times_subscribers():
    flows = consumer_channel([tier(price_per_month=20.0, subscribers=1e6)], months(24))
    np.testing.assert_allclose(flows.revenue, 20e6, rtol=0, atol=CENT)
    np.testing.assert_array_equal(flows.subscribers, 1e6)
    np.testing.assert_array_equal(flows.tokens_mtok, 0.0)


def test_churn_without_adds_decays_from_the_end_of_month_zero():
    t = months(36)
    stock = subscribers(a(1e6), a(0.0), a(0.0), a(0.05), t)
    np.testing.assert_allclose(stock[0], 1e6 * 0.95 ** (t + 1), rtol=1e-12)


def test_constant_adds_with_churn_converge_to_adds_over_churn():
    t = months(600)
    stock = subscribers(a(0.0), a(1000.0), a(0.0), a(0.05), t)
    np.testing.assert_allclose(stock[0], 1000.0 * (1 - 0.95 ** (t + 1)) / 0.05, rtol=1e-12)
    assert stock[0, -1] == pytest.approx(1000.0 / 0.05, rel=1e-12)


def test_adds_grow_per_year_exactly():
    stock = subscribers(a(0.0), a(100.0), a(1.0), a(0.0), months(13))
    adds = np.diff(stock[0], prepend=0.0)
    assert adds[0] == pytest.approx(100.0)
    assert adds[12] == pytest.approx(200.0)  # 100%/year: doubled after 12 months
    assert adds[6] == pytest.approx(100.0 * 2**0.5)  # not 150: compounded, not /12


def test_heavier_use_raises_tokens_not_revenue():
    flows = consumer_channel(
        [
            tier(
                price_per_month=20.0,
                subscribers=1e6,
                tokens_per_subscriber_per_month=2.0,
                token_growth_per_year=1.0,
            )
        ],
        months(25),
    )
    assert flows.tokens_mtok[0, 0] == pytest.approx(2e6)
    assert flows.tokens_mtok[0, 12] == pytest.approx(4e6)
    assert flows.tokens_mtok[0, 24] == pytest.approx(8e6)
    np.testing.assert_allclose(flows.revenue, 20e6, rtol=0, atol=CENT)


def test_tiers_add_up():
    flows = consumer_channel(
        [
            tier(price_per_month=20.0, subscribers=1e6, tokens_per_subscriber_per_month=1.0),
            tier(price_per_month=200.0, subscribers=1e4, tokens_per_subscriber_per_month=30.0),
        ],
        months(3),
    )
    np.testing.assert_allclose(flows.revenue, 20e6 + 2e6)
    np.testing.assert_allclose(flows.tokens_mtok, 1e6 + 3e5)
    np.testing.assert_allclose(flows.subscribers, 1e6 + 1e4)


def test_months_before_the_start_are_zero_and_the_stock_starts_at_month_zero():
    t = months(6, first=-3)
    flows = consumer_channel(
        [tier(price_per_month=10.0, subscribers=100.0, churn_per_month=0.5)], t
    )
    np.testing.assert_array_equal(flows.revenue[0, :3], 0.0)
    np.testing.assert_allclose(flows.subscribers[0, 3:], [50.0, 25.0, 12.5, 6.25, 3.125, 1.5625])


def test_samples_are_independent_of_each_other():
    t = months(12)
    both = subscribers(a(1e6, 0.0), a(0.0, 50.0), a(0.0, 0.3), a(0.05, 0.02), t)
    first = subscribers(a(1e6), a(0.0), a(0.0), a(0.05), t)
    second = subscribers(a(0.0), a(50.0), a(0.3), a(0.02), t)
    np.testing.assert_array_equal(both, np.vstack([first, second]))


def test_consumer_channel_needs_a_tier():
    with pytest.raises(ValueError, match="at least one tier"):
        consumer_channel([], months(3))


def test_bad_month_grid_is_refused():
    with pytest.raises(ValueError, match="consecutive"):
        subscribers(a(1.0), a(0.0), a(0.0), a(0.0), np.array([0, 2, 3]))


# -- enterprise --------------------------------------------------------------------------------


def test_contracts_activate_after_the_sales_cycle():
    t = months(8)
    flows = enterprise(t, new_per_month=10.0, sales_cycle_months=3.0, contract_value_per_year=1.2e6)
    np.testing.assert_array_equal(flows.active_contracts[0], [0, 0, 0, 10, 20, 30, 40, 50])
    # ACV $1.2M: $100k a month per contract, so the first 10 contracts bring $1M a month.
    np.testing.assert_allclose(flows.revenue[0], flows.active_contracts[0] * 1e5)
    assert flows.revenue[0, 3] == pytest.approx(1e6)


def test_sales_cycle_rounds_to_whole_months():
    acts = contract_activations(a(10.0, 10.0), a(0.0, 0.0), a(2.4, 2.6), months(5))
    np.testing.assert_array_equal(acts, [[0, 0, 10, 10, 10], [0, 0, 0, 10, 10]])


def test_new_contracts_grow_from_the_month_they_enter_the_cycle():
    acts = contract_activations(a(10.0), a(1.0), a(3.0), months(16))
    assert acts[0, 3] == pytest.approx(10.0)  # entered in month 0
    assert acts[0, 15] == pytest.approx(20.0)  # entered in month 12: doubled


def test_open_source_catch_up_multiplies_churn():
    t = months(8)
    caught = (t >= 4)[None, :]
    plain = enterprise(t, contracts=1000.0, churn_per_month=0.1)
    raised = enterprise(
        t, caught, contracts=1000.0, churn_per_month=0.1, open_source_churn_multiplier=2.0
    )
    np.testing.assert_allclose(raised.active_contracts[0, :4], plain.active_contracts[0, :4])
    expected = 1000.0 * 0.9**4 * 0.8 ** np.arange(1, 5)
    np.testing.assert_allclose(raised.active_contracts[0, 4:], expected)


def test_raised_churn_is_capped_at_everything():
    t = months(3)
    flows = enterprise(
        t,
        np.ones((1, 3), dtype=bool),
        contracts=100.0,
        churn_per_month=0.6,
        open_source_churn_multiplier=3.0,
    )
    np.testing.assert_array_equal(flows.active_contracts, 0.0)


def test_contract_value_and_tokens_grow_per_year():
    flows = enterprise(
        months(13),
        contracts=5.0,
        contract_value_per_year=1.2e6,
        contract_value_growth_per_year=0.1,
        tokens_per_contract_per_month=1000.0,
        token_growth_per_year=0.5,
    )
    assert flows.revenue[0, 0] == pytest.approx(5 * 1.2e6 / 12)
    assert flows.revenue[0, 12] == pytest.approx(5 * 1.32e6 / 12)  # ACV +10% after a year
    assert flows.tokens_mtok[0, 12] == pytest.approx(7500.0)


def test_caught_up_follows_the_newest_model_on_sale():
    release = np.array([[0, 6]], dtype=np.int64)
    t = months(12)
    on_sale = np.zeros((1, 12, 2), dtype=bool)
    on_sale[0, 0:10, 0] = True
    on_sale[0, 6:11, 1] = True  # nothing on sale in month 11
    caught = open_weights_caught_up(release, on_sale, a(3.0), t)
    expected = np.array([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 0], dtype=bool)
    np.testing.assert_array_equal(caught[0], expected)
    never = open_weights_caught_up(release, on_sale, a(np.nan), t)
    assert not never.any()


# -- cloud partners, licensing -----------------------------------------------------------------


def test_cloud_split_hand_calculated():
    split = cloud_split(np.array([[100.0]]), np.array([[10.0]]), a(0.4), a(0.3), a(0.5))
    assert split.lab_revenue[0, 0] == pytest.approx(88.0)
    assert split.cloud_fee[0, 0] == pytest.approx(12.0)
    assert split.lab_served_tokens[0, 0] == pytest.approx(8.0)


def test_cloud_split_by_generation_per_sample():
    revenue = np.full((2, 3, 4), 100.0)
    tokens = np.full((2, 3, 4), 10.0)
    lab, served, fee = cloud_split(revenue, tokens, a(0.4, 0.0), a(0.3, 0.9), a(0.5, 1.0))
    np.testing.assert_allclose(lab[0], 88.0)
    np.testing.assert_allclose(fee[0], 12.0)
    np.testing.assert_allclose(served[0], 8.0)
    np.testing.assert_array_equal(lab[1], 100.0)  # nothing sold through clouds
    np.testing.assert_array_equal(served[1], 10.0)
    np.testing.assert_allclose(lab + fee, revenue)


def test_licensing_is_a_twelfth_of_the_annual_fee_from_month_zero():
    fees = licensing_revenue(a(120e6, 0.0), months(4, first=-2))
    np.testing.assert_array_equal(fees[0], [0.0, 0.0, 10e6, 10e6, 10e6, 10e6])
    np.testing.assert_array_equal(fees[1], 0.0)


# -- elasticity --------------------------------------------------------------------------------


def test_halving_the_price_doubles_demand_at_unit_elasticity():
    demand = np.array([[100.0, 100.0]])
    price = np.array([[10.0, 5.0]])
    out = elastic_demand(demand, price, a(10.0), a(1.0))
    np.testing.assert_allclose(out, [[100.0, 200.0]])
    assert demand_factor(np.array([[2.5]]), a(10.0), a(0.5))[0, 0] == pytest.approx(2.0)


def test_elasticity_off_or_no_price_leaves_demand_alone():
    price = np.array([[5.0, np.nan, 0.0]])
    np.testing.assert_array_equal(demand_factor(price, a(10.0), a(0.0)), 1.0)
    np.testing.assert_array_equal(demand_factor(price, a(10.0), a(1.0))[0, 1:], 1.0)


def test_average_price_is_traffic_weighted():
    revenue = np.array([[[30.0, 10.0], [0.0, 0.0]]])  # (1 sample, 2 months, 2 generations)
    tokens = np.array([[[3.0, 2.0], [0.0, 0.0]]])
    price = average_price(revenue, tokens)
    assert price[0, 0] == pytest.approx(8.0)
    assert np.isnan(price[0, 1])


# -- attribution -------------------------------------------------------------------------------


def test_attribution_conserves_to_the_cent_and_is_zero_with_nothing_on_sale():
    total = np.array([[1.23456789e10, 7.5e9, 3.0e9]])
    shares = np.array([[[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 0.0]]])
    out = attribute(total, shares)
    assert np.all(np.abs(out.sum(axis=2)[0, :2] - total[0, :2]) < CENT)
    np.testing.assert_array_equal(out[0, 2], 0.0)
    assert out[0, 0, 0] == pytest.approx(0.7 * 1.23456789e10)


@settings(max_examples=200, deadline=None)
@given(
    data=st.data(),
    samples=st.integers(1, 4),
    month_count=st.integers(1, 6),
    generations=st.integers(1, 6),
)
def test_attribution_conserves_the_total_for_random_shares(data, samples, month_count, generations):
    total = data.draw(hnp.arrays(np.float64, (samples, month_count), elements=st.floats(0, 1e11)))
    shares = data.draw(
        hnp.arrays(np.float64, (samples, month_count, generations), elements=st.floats(0, 1))
    )
    out = attribute(total, shares)
    on_sale = shares.sum(axis=2) > 0
    np.testing.assert_allclose(out.sum(axis=2)[on_sale], total[on_sale], rtol=1e-12, atol=CENT)
    assert np.all(out[~on_sale] == 0.0)
    assert np.all(out >= 0.0)


def test_chunking_does_not_change_enterprise_results():
    rng = np.random.default_rng(3)
    n, t = 7, months(30, first=-4)
    args = {
        "contracts": rng.uniform(0, 100, n),
        "new_per_month": rng.uniform(0, 10, n),
        "new_growth_per_year": rng.uniform(-0.5, 2, n),
        "sales_cycle_months": rng.uniform(0, 9, n),
        "churn_per_month": rng.uniform(0, 0.2, n),
        "open_source_churn_multiplier": rng.uniform(1, 4, n),
        "contract_value_per_year": rng.uniform(1e5, 1e7, n),
        "contract_value_growth_per_year": rng.uniform(0, 0.5, n),
        "tokens_per_contract_per_month": rng.uniform(0, 1e4, n),
        "token_growth_per_year": rng.uniform(0, 1, n),
    }
    caught = rng.uniform(size=(n, t.size)) > 0.5
    whole = enterprise_channel(**args, caught_up=caught, months=t)
    for rows in (slice(0, 3), slice(3, 7)):
        part = enterprise_channel(
            **{k: v[rows] for k, v in args.items()}, caught_up=caught[rows], months=t
        )
        np.testing.assert_array_equal(part.revenue, whole.revenue[rows])
        np.testing.assert_array_equal(part.tokens_mtok, whole.tokens_mtok[rows])


# -- scenario sections -------------------------------------------------------------------------


class _Revenue(Section):
    consumer: Consumer | None = None
    enterprise: Enterprise | None = None
    cloud_partners: CloudPartners | None = None
    licensing: Licensing | None = None
    elasticity: Elasticity = Elasticity()


class _Scenario(Section):
    revenue: _Revenue = _Revenue()


def problems(data):
    with pytest.raises(ValidationError) as info:
        _Scenario.model_validate(data)
    return [(p.path, p.message) for p in _problems(info.value)]


def test_empty_tier_list_names_the_field():
    found = problems({"revenue": {"consumer": {"tiers": []}}})
    assert [path for path, _ in found] == ["revenue.consumer.tiers"]
    assert "at least one tier" in found[0][1]


def test_missing_tier_list_names_the_field():
    found = problems({"revenue": {"consumer": {}}})
    assert found == [("revenue.consumer.tiers", "is required")]


def test_share_above_one_names_the_field():
    found = problems({"revenue": {"cloud_partners": {"share_of_api": "130%"}}})
    assert found == [("revenue.cloud_partners.share_of_api", "must be <= 1, got 1.3")]


def test_duplicate_tier_names_are_refused():
    tiers = [
        {"name": "plus", "price_per_month": 20},
        {"name": "pro", "price_per_month": 200},
        {"name": "plus", "price_per_month": 25},
    ]
    found = problems({"revenue": {"consumer": {"tiers": tiers}}})
    assert [path for path, _ in found] == ["revenue.consumer.tiers"]
    assert "unique" in found[0][1] and "'plus'" in found[0][1]


def test_negative_price_names_the_tier_field():
    found = problems(
        {"revenue": {"consumer": {"tiers": [{"name": "plus", "price_per_month": "-$20"}]}}}
    )
    assert found == [("revenue.consumer.tiers.0.price_per_month", "must be >= 0, got -20")]


@pytest.mark.parametrize(
    ("section", "field", "value", "rule"),
    [
        ("enterprise", "churn_per_month", 1.5, "<= 1"),
        ("enterprise", "open_source_churn_multiplier", 0.5, ">= 1"),
        ("enterprise", "contract_value_per_year", "-$1M", ">= 0"),
        ("cloud_partners", "take", -0.1, ">= 0"),
        ("cloud_partners", "served_on_cloud_compute", 2, "<= 1"),
        ("licensing", "fees_per_year", -5, ">= 0"),
        ("elasticity", "price_elasticity", -1, ">= 0"),
        ("elasticity", "reference_price_per_mtok", 0, "> 0"),
    ],
)
def test_out_of_range_fields_are_named(section, field, value, rule):
    found = problems({"revenue": {section: {field: value}}})
    assert [path for path, _ in found] == [f"revenue.{section}.{field}"]
    assert rule in found[0][1]


def test_unknown_tier_field_is_refused():
    found = problems(
        {"revenue": {"consumer": {"tiers": [{"name": "x", "price_per_month": 1, "prize": 2}]}}}
    )
    assert found[0][0] == "revenue.consumer.tiers.0.prize"


def test_defaults_switch_every_channel_off():
    revenue = _Revenue()
    assert revenue.consumer is None and revenue.enterprise is None
    assert revenue.cloud_partners is None and revenue.licensing is None
    assert revenue.elasticity.price_elasticity == 0.0
    assert revenue.elasticity.reference_price_per_mtok is None
    # Sections given empty earn nothing either.
    cloud = CloudPartners()
    assert (cloud.share_of_api, cloud.take, cloud.served_on_cloud_compute) == (0.0, 0.0, 0.0)
    assert Licensing().fees_per_year == 0.0
    ent = Enterprise()
    assert ent.contracts == ent.new_contracts_per_month == ent.contract_value_per_year == 0.0
    assert ent.open_source_churn_multiplier == 1.0
    only_name = Tier.model_validate({"name": "free", "price_per_month": 0})
    assert only_name.subscribers == only_name.new_subscribers_per_month == 0.0


def test_tier_fields_take_money_strings_rates_and_distributions():
    consumer = Consumer.model_validate(
        {
            "tiers": [
                {
                    "name": "plus",
                    "price_per_month": "$20",
                    "subscribers": "1e7 to 2e7",
                    "churn_per_month": "4%",
                    "token_growth_per_year": {"uniform": {"low": 0.2, "high": 0.8}},
                }
            ]
        }
    )
    plus = consumer.tiers[0]
    assert plus.price_per_month == 20.0
    assert plus.churn_per_month == pytest.approx(0.04)
    assert isinstance(plus.subscribers, Distribution)
    assert isinstance(plus.token_growth_per_year, Distribution)


def test_tier_inputs_read_by_dotted_name():
    values = {
        f"revenue.consumer.tiers.0.{name}": a(float(i))
        for i, name in enumerate(TierInputs.__dataclass_fields__)
    }
    read = TierInputs.read(values.__getitem__, "revenue.consumer.tiers.0")
    assert read.price_per_month[0] == 0.0
    assert read.token_growth_per_year[0] == 6.0
    assert set(TierInputs.__dataclass_fields__) == set(Tier.model_fields) - {"name"}
