"""Revenue channels end to end: hand calculations through ``labecon.simulate`` (DESIGN §4).

Every case runs one sample of constants. Unless a test says otherwise the lab has one
generation, trained over months -12..-1 and on sale from month 0 for 24 months (so it is
alone on sale over the whole 12-month horizon); compute costs $12B per GW-year, i.e. $1B per
GW-month, and one GW serves 1e8 Mtok a month of a model as large as the reference (size
factor 1). Every expected number is worked out in the comment next to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labecon
from labecon.engine import simulate_chunk
from labecon.ledger import REVENUE_CHANNELS, UNATTRIBUTED_COSTS
from labecon.sampler import Sampler
from strategies import PROPERTY, scenarios

B = 1e9
M = 1e6
MONTHS = 12
REL = 1e-12


def lab(**revenue: Any) -> dict[str, Any]:
    """The one-model lab of the module docstring, bottom-up, with the given channel sections."""
    return {
        "horizon_months": MONTHS,
        "generations": {
            "count": 1,
            "first_training_start_month": -12,
            "training_months": 12,
            "first_training_cost": 1 * B,
        },
        "lifecycle": {"lifetime_months": 24},
        "revenue": {"mode": "bottom_up", **revenue},
        "inference": {
            "cost_per_gw_year": 12 * B,
            "reference_mtok_per_gw_month": 1e8,
            "reference_training_cost": 1 * B,
        },
        "capital": {"funding": {"policy": "unlimited"}},
    }


def run(data: dict[str, Any]) -> labecon.Result:
    return labecon.simulate(data, samples=1, seed=0)


def item(result: labecon.Result, view: str, name: str) -> np.ndarray:
    """One sample's monthly values of a view's item."""
    return result.samples(view, name)[0]


def lifetime_revenue(result: labecon.Result) -> np.ndarray:
    """Lifetime revenue of each generation of the one sample [USD]."""
    return result.generation_values["lifetime_revenue_usd"][0]


def const(value: float, months: int = MONTHS) -> np.ndarray:
    return np.full(months, value)


def plus_tier(**fields: Any) -> dict[str, Any]:
    # 1,000,000 subscribers at $20 a month, no adds, no churn.
    return {"name": "plus", "price_per_month": 20, "subscribers": 1e6, **fields}


# -- (a) consumer subscriptions -----------------------------------------------------------------


def test_consumer_tier_earns_price_times_subscribers_for_the_model_on_sale():
    result = run(lab(consumer={"tiers": [plus_tier()]}))
    # S(t) = S(t-1) (1 - 0) + 0 = 1e6 every month; revenue 1e6 x $20 = $20M a month.
    assert item(result, "channels", "revenue_consumer") == pytest.approx(const(20 * M), rel=REL)
    assert item(result, "channels", "subscribers") == pytest.approx(const(1e6), rel=REL)
    # No API demand, no other channel: the expensed revenue is the consumer revenue.
    assert item(result, "expensed", "revenue") == pytest.approx(const(20 * M), rel=REL)
    assert item(result, "channels", "revenue_api") == pytest.approx(const(0.0), abs=0)
    # The one generation on sale gets all of it: $20M x 12 months on sale in the horizon (its
    # grid months -12..-1 are before the channel starts, so they earn nothing).
    assert lifetime_revenue(result) == pytest.approx([240 * M], rel=REL)


def test_two_models_on_sale_at_equal_shares_split_the_consumer_revenue():
    data = lab(consumer={"tiers": [plus_tier()]})
    # Generations start training at -13 and -12 (cadence 1), train 12 months: released at
    # months -1 and 0, sold 24 months, so both are on sale over months 0..11; legacy
    # retention 1 gives them equal shares, 1/2 each.
    data["generations"].update(count=2, first_training_start_month=-13, cadence_months=1)
    data["lifecycle"]["legacy_retention"] = 1
    result = run(data)
    assert item(result, "expensed", "revenue") == pytest.approx(const(20 * M), rel=REL)
    # Each earns $20M / 2 = $10M a month over 12 months = $120M (generation 0's month -1 on
    # sale precedes the channel's start).
    assert lifetime_revenue(result) == pytest.approx([120 * M, 120 * M], rel=REL)


def test_consumer_revenue_is_zero_while_no_model_is_on_sale():
    data = lab(consumer={"tiers": [plus_tier()]})
    # Training over months -9..2: released at month 3. Months 0-2 have no model to sell.
    data["generations"]["first_training_start_month"] = -9
    result = run(data)
    expected = np.concatenate([const(0.0, 3), const(20 * M, 9)])
    assert item(result, "channels", "revenue_consumer") == pytest.approx(expected, rel=REL)
    assert item(result, "expensed", "revenue") == pytest.approx(expected, rel=REL)
    # The stock of subscribers is there all the same.
    assert item(result, "channels", "subscribers") == pytest.approx(const(1e6), rel=REL)
    # $20M x 9 months on sale.
    assert lifetime_revenue(result) == pytest.approx([180 * M], rel=REL)


# -- (b) tokens per subscriber are a cost, not revenue ----------------------------------------


@pytest.mark.parametrize("tokens, inference", [(2.0, 20 * M), (4.0, 40 * M)])
def test_tokens_per_subscriber_raise_inference_cost_not_revenue(tokens, inference):
    result = run(lab(consumer={"tiers": [plus_tier(tokens_per_subscriber_per_month=tokens)]}))
    # 1e6 subscribers x 2 Mtok = 2e6 Mtok a month / 1e8 Mtok per GW-month = 0.02 GW x $1B
    # per GW-month = $20M a month; 4 Mtok doubles it to $40M. Revenue stays 1e6 x $20.
    assert item(result, "compute", "tokens_mtok") == pytest.approx(const(1e6 * tokens), rel=REL)
    assert item(result, "expensed", "inference_cost") == pytest.approx(const(inference), rel=REL)
    assert item(result, "expensed", "revenue") == pytest.approx(const(20 * M), rel=REL)


# -- (c) cloud partners -----------------------------------------------------------------------

#: API demand 1e7 Mtok a month at $10/Mtok, lab share 100%: R = $100M a month.
API = {"demand_mtok_per_month": 1e7, "release_price_per_mtok": 10}
CLOUD = {"share_of_api": 0.4, "take": 0.3, "served_on_cloud_compute": 0.5}


def test_cloud_partners_book_revenue_net_of_the_clouds_cut():
    result = run(lab(api=API, cloud_partners=CLOUD))
    # s k = 0.4 x 0.3 = 0.12: the lab books R (1 - 0.12) = $88M, the clouds keep $12M, and
    # customers pay $100M in all.
    channels = {name: item(result, "channels", name) for name in result.statements["channels"]}
    assert channels["revenue_api"] == pytest.approx(const(88 * M), rel=REL)
    assert channels["cloud_fee"] == pytest.approx(const(12 * M), rel=REL)
    assert channels["revenue_incl_cloud_fee"] == pytest.approx(const(100 * M), rel=REL)
    assert item(result, "expensed", "revenue") == pytest.approx(const(88 * M), rel=REL)
    assert lifetime_revenue(result) == pytest.approx([12 * 88 * M], rel=REL)
    # s u = 0.4 x 0.5 = 0.2 of the 1e7 API tokens are served on the clouds' compute: the lab
    # serves 8e6 Mtok = 0.08 GW, $80M a month of inference.
    assert item(result, "compute", "tokens_mtok") == pytest.approx(const(8e6), rel=REL)
    assert item(result, "expensed", "inference_cost") == pytest.approx(const(80 * M), rel=REL)
    # Revenue as customers pay it, $100M a month, buys $100M / $1B per GW-month = 0.1 GW.
    assert item(result, "compute", "gw_revenue_buys") == pytest.approx(const(0.1), rel=REL)


# -- (d) licensing ------------------------------------------------------------------------------


def test_licensing_fees_are_a_twelfth_a_month_and_need_no_compute():
    result = run(lab(licensing={"fees_per_year": "$120M"}))
    # $120M a year / 12 = $10M a month, all to the one model on sale: $120M over 12 months.
    assert item(result, "channels", "revenue_licensing") == pytest.approx(const(10 * M), rel=REL)
    assert item(result, "expensed", "revenue") == pytest.approx(const(10 * M), rel=REL)
    assert lifetime_revenue(result) == pytest.approx([120 * M], rel=REL)
    assert item(result, "expensed", "inference_cost") == pytest.approx(const(0.0), abs=0)


# -- (e) enterprise contracts -------------------------------------------------------------------

ENTERPRISE = {
    "new_contracts_per_month": 10,
    "sales_cycle_months": 3,
    "contract_value_per_year": 1.2e6,
}


def test_enterprise_contracts_activate_after_the_sales_cycle():
    result = run(lab(enterprise=ENTERPRISE))
    # Ten contracts enter the cycle each month from month 0 and pay 3 months later: none in
    # months 0-2, then 10, 20, ..., 90 active in months 3..11 (no churn).
    active = np.array([0, 0, 0, 10, 20, 30, 40, 50, 60, 70, 80, 90], dtype=float)
    assert item(result, "channels", "enterprise_contracts") == pytest.approx(active, rel=REL)
    # ACV $1.2M / 12 = $100k a month per contract: $1M, $2M, ..., $9M.
    revenue = active * 100e3
    assert item(result, "channels", "revenue_enterprise") == pytest.approx(revenue, rel=REL)
    assert item(result, "expensed", "revenue") == pytest.approx(revenue, rel=REL)
    # 1 + 2 + ... + 9 = 45 -> $45M for the one model on sale.
    assert lifetime_revenue(result) == pytest.approx([45 * M], rel=REL)


def test_enterprise_churn_is_multiplied_once_open_weights_catch_up():
    enterprise = {**ENTERPRISE, "churn_per_month": 0.1, "open_source_churn_multiplier": 2}
    caught = run(lab(enterprise=enterprise, api={"open_source_lag_months": 6}))
    never = run(lab(enterprise=enterprise))
    # C(t) = C(t-1)(1 - c(t)) + 10 from month 3. The model on sale was released at month 0
    # and open weights catch up 6 months later, so c = 0.1 in months 0-5 and 0.2 from month 6:
    #   C(3) = 10, C(4) = 10 x 0.9 + 10 = 19, C(5) = 19 x 0.9 + 10 = 27.1,
    #   C(6) = 27.1 x 0.8 + 10 = 31.68, C(7) = 31.68 x 0.8 + 10 = 35.344,
    #   C(8) = 35.344 x 0.8 + 10 = 38.2752.
    expected = [0, 0, 0, 10, 19, 27.1, 31.68, 35.344, 38.2752]
    contracts = item(caught, "channels", "enterprise_contracts")
    assert contracts[:9] == pytest.approx(expected, rel=REL)
    # Revenue is $100k a month per contract: month 6 earns 31.68 x $100k = $3.168M.
    assert item(caught, "channels", "revenue_enterprise")[6] == pytest.approx(3.168 * M, rel=REL)
    # Without a catch-up (no lag given) churn stays 0.1: C(6) = 27.1 x 0.9 + 10 = 34.39.
    assert item(never, "channels", "enterprise_contracts")[6] == pytest.approx(34.39, rel=REL)
    assert item(never, "channels", "enterprise_contracts")[:6] == pytest.approx(
        expected[:6], rel=REL
    )


# -- (f) price elasticity -----------------------------------------------------------------------


def test_unit_elasticity_at_half_the_reference_price_doubles_api_tokens():
    elastic = {**API, "elasticity": {"price_elasticity": 1, "reference_price_per_mtok": 20}}
    result = run(lab(api=elastic))
    # The one model sells at $10 = half the $20 reference: demand x (10/20)^(-1) = x 2, so
    # 2e7 Mtok a month instead of 1e7, and revenue 2e7 x $10 = $200M instead of $100M.
    assert item(result, "compute", "tokens_mtok") == pytest.approx(const(2e7), rel=REL)
    assert item(result, "channels", "revenue_api") == pytest.approx(const(200 * M), rel=REL)
    # 2e7 Mtok / 1e8 per GW-month = 0.2 GW: $200M of inference.
    assert item(result, "expensed", "inference_cost") == pytest.approx(const(200 * M), rel=REL)


def test_elasticity_refers_to_the_release_price_when_no_reference_is_given():
    result = run(lab(api={**API, "elasticity": {"price_elasticity": 1}}))
    # Reference = release price $10 = the price charged (no decline): factor (10/10)^-1 = 1.
    assert item(result, "compute", "tokens_mtok") == pytest.approx(const(1e7), rel=REL)
    assert item(result, "channels", "revenue_api") == pytest.approx(const(100 * M), rel=REL)


# -- (g) a hard compute cap ---------------------------------------------------------------------


def capped(owned_gw: float, **revenue: Any) -> dict[str, Any]:
    # API demand 1e8 Mtok a month at $10: R = $1B a month. One GW serves 5e7 Mtok a month,
    # so the API alone needs 1e8 / 5e7 = 2 GW. The model trained before the start, so no
    # GW go to training in the horizon: all owned GW can serve.
    data = lab(api={"demand_mtok_per_month": 1e8, "release_price_per_mtok": 10}, **revenue)
    data["inference"]["reference_mtok_per_gw_month"] = 5e7
    data["compute"] = {"capacity": "hard", "owned_gw": owned_gw}
    return data


def test_hard_cap_keeps_licensing_whole_and_scales_what_needs_compute():
    # Consumer: 1e6 subscribers x $20 = $20M a month, using 1e6 x 50 = 5e7 Mtok = 1 GW.
    # Needed: 2 GW (API) + 1 GW (consumer) = 3 GW; held: 1.5 GW, so the served share is 1/2.
    consumer = {"tiers": [plus_tier(tokens_per_subscriber_per_month=50)]}
    result = run(capped(1.5, consumer=consumer, licensing={"fees_per_year": "$120M"}))
    assert item(result, "compute", "served_share") == pytest.approx(const(0.5), rel=REL)
    # API $1B x 1/2 = $500M; consumer $20M x 1/2 = $10M; licensing $120M / 12 = $10M whole.
    assert item(result, "channels", "revenue_api") == pytest.approx(const(500 * M), rel=REL)
    assert item(result, "channels", "revenue_consumer") == pytest.approx(const(10 * M), rel=REL)
    assert item(result, "channels", "revenue_licensing") == pytest.approx(const(10 * M), rel=REL)
    # Booked: 500 + 10 + 10 = $520M a month; the one generation gets it all, x 12 months.
    assert item(result, "expensed", "revenue") == pytest.approx(const(520 * M), rel=REL)
    assert lifetime_revenue(result) == pytest.approx([12 * 520 * M], rel=REL)
    # Inference: the 1.5 GW served x $1B per GW-month; subscribers are not cut.
    assert item(result, "expensed", "inference_cost") == pytest.approx(const(1.5 * B), rel=REL)
    assert item(result, "channels", "subscribers") == pytest.approx(const(1e6), rel=REL)


def test_hard_cap_keeps_what_the_lab_books_on_tokens_the_clouds_serve():
    result = run(capped(0.8, cloud_partners=CLOUD))
    # The lab serves T (1 - s u) = 1e8 x (1 - 0.2) = 8e7 Mtok = 1.6 GW; 0.8 GW held: 1/2.
    assert item(result, "compute", "served_share") == pytest.approx(const(0.5), rel=REL)
    # Booked without the cap: R (1 - s k) = $1B x 0.88 = $880M. Of it, the lab's part of the
    # cloud-served tokens, R s u (1 - k) = $1B x 0.2 x 0.7 = $140M, needs none of its compute
    # and is kept; the other $740M is halved: 140 + 370 = $510M.
    assert item(result, "channels", "revenue_api") == pytest.approx(const(510 * M), rel=REL)
    assert item(result, "expensed", "revenue") == pytest.approx(const(510 * M), rel=REL)
    # Half the 8e7 lab-served tokens: 4e7 Mtok.
    assert item(result, "compute", "tokens_mtok") == pytest.approx(const(4e7), rel=REL)


def test_hard_cap_cuts_the_clouds_fee_on_tokens_the_lab_did_not_serve():
    result = run(capped(0.8, cloud_partners=CLOUD))
    # (Regression: the fee was once left at R s k = $120M under the cap.) Customers pay for
    # served tokens only. Cloud-served: T s u = 0.2 T, all served, so
    # customers pay 0.2 R = $200M and the clouds keep k of it, $60M. Sold by clouds and served
    # by the lab: s (1 - u) = 0.2 of R, half served: $100M paid, the clouds keep 0.3 x 100 =
    # $30M. Cloud fee = 60 + 30 = $90M (not R s k = $120M); customers pay 510 + 90 = $600M
    # (= 0.2 R + 0.8 R x 1/2), which buys 0.6 GW at $1B per GW-month.
    assert item(result, "channels", "cloud_fee") == pytest.approx(const(90 * M), rel=REL)
    assert item(result, "channels", "revenue_incl_cloud_fee") == pytest.approx(
        const(600 * M), rel=REL
    )
    assert item(result, "compute", "gw_revenue_buys") == pytest.approx(const(0.6), rel=REL)


# -- (h) identities with every channel on -------------------------------------------------------


def every_channel(capacity: str, policy: str) -> dict[str, Any]:
    """Four generations from month 0, every channel on, uncertain inputs, a compute mode."""
    return {
        "horizon_months": 36,
        "generations": {
            "count": 4,
            "cadence_months": 6,
            "training_months": 4,
            "first_training_cost": "$200M to $2B",
            "cost_multiplier": "1.5 to 3",
        },
        "lifecycle": {"lifetime_months": 12, "ramp_months": 2, "legacy_retention": 0.4},
        "revenue": {
            "mode": "bottom_up",
            "api": {
                "demand_mtok_per_month": "5e7 to 2e8",
                "demand_growth_per_year": "50% to 150%",
                "release_price_per_mtok": 10,
                "price_decline_per_year": {"uniform": {"low": "30%", "high": "70%"}},
                "open_source_lag_months": 6,
                "open_source_price_cut": "30%",
                "open_source_share_loss": "20%",
                "elasticity": {"price_elasticity": {"uniform": {"low": 0.3, "high": 1.3}}},
            },
            "consumer": {
                "tiers": [
                    plus_tier(
                        new_subscribers_per_month="1e5 to 5e5",
                        churn_per_month={"uniform": {"low": "2%", "high": "6%"}},
                        tokens_per_subscriber_per_month=2,
                        token_growth_per_year="50%",
                    ),
                    {"name": "pro", "price_per_month": 200, "subscribers": 1e5},
                ]
            },
            "enterprise": {
                **ENTERPRISE,
                "contracts": 300,
                "churn_per_month": "2%",
                "open_source_churn_multiplier": 3,
                "tokens_per_contract_per_month": "1e3 to 1e4",
            },
            "cloud_partners": {
                "share_of_api": {"uniform": {"low": 0.2, "high": 0.6}},
                "take": 0.3,
                "served_on_cloud_compute": 0.5,
            },
            "licensing": {"fees_per_year": "$500M"},
        },
        "inference": {
            "cost_per_gw_year": "$12B to $15B",
            "reference_mtok_per_gw_month": 1e8,
            "reference_training_cost": 1 * B,
            "size_exponent": 0.5,
        },
        "compute": {"capacity": capacity, "owned_gw": "0.3 to 3", "rent_premium": "20%"},
        "costs": {
            "talent": {"headcount": 2000, "loaded_cost_per_head": "$500k"},
            "sga": {"fixed_per_year": "$500M", "share_of_revenue": "10%"},
        },
        "capital": {"starting_cash": "$5B", "funding": {"policy": policy}},
    }


@pytest.mark.parametrize(
    "capacity, policy",
    [
        ("unconstrained", "unlimited"),
        ("rent", "unlimited"),
        ("hard", "unlimited"),
        ("hard", "none"),
    ],
)
def test_generation_profits_and_channels_add_up_with_every_channel_on(capacity, policy):
    data = every_channel(capacity, policy)
    samples = 40
    result = labecon.simulate(data, samples=samples, seed=7)
    scenario = labecon.load_scenario(data)
    ledger = simulate_chunk(scenario, Sampler(scenario, 7).draw(0, samples), samples)
    expensed = result.statements["expensed"]
    revenue = expensed["revenue"]
    # Generations train from month 0, so the grid is the window and lifetime figures cover
    # the horizon: sum over g of (revenue - inference - training) - unattributed costs =
    # expensed operating income, per sample. Generations never trained are NaN: nansum.
    lifetime_profit = np.nansum(result.generation_values["lifetime_profit_usd"], axis=1)
    unattributed = sum(ledger.company[name] for name in UNATTRIBUTED_COSTS).sum(axis=1)
    income = expensed["operating_income"].sum(axis=1)
    scale = np.abs(revenue).sum(axis=1) + np.abs(expensed["training_cost"]).sum(axis=1)
    scale = scale + np.abs(expensed["inference_cost"]).sum(axis=1) + np.abs(unattributed)
    assert lifetime_profit - unattributed == pytest.approx(income, rel=0, abs=1e-9 * scale.max())
    lifetime_revenue = np.nansum(result.generation_values["lifetime_revenue_usd"], axis=1)
    assert lifetime_revenue == pytest.approx(revenue.sum(axis=1), rel=1e-12)
    # The channels view's revenue items sum to the expensed revenue, month by month, and
    # revenue as customers pay it is revenue plus the clouds' cut.
    channels = result.statements["channels"]
    by_channel = sum(channels[name] for name in REVENUE_CHANNELS)
    assert by_channel == pytest.approx(revenue, rel=1e-12, abs=1e-6)
    assert channels["revenue_incl_cloud_fee"] - channels["cloud_fee"] == pytest.approx(
        revenue, rel=1e-12, abs=1e-6
    )
    # Every channel is at work in these samples.
    for name in ("revenue_api", "revenue_consumer", "revenue_enterprise", "revenue_licensing"):
        assert (channels[name].sum(axis=1) > 0).all(), name
    assert (channels["revenue_top_down"] == 0).all()
    if capacity == "hard":  # the cap binds in some months
        assert (result.statements["compute"]["served_share"] < 1).any()
    if policy == "none":  # the identity holds through insolvency and cancelled generations
        assert result.metric_values["insolvent"].any()
        assert np.isnan(result.generation_values["training_cost_usd"]).any()


@settings(PROPERTY, max_examples=30)
@given(data=scenarios(), seed=st.integers(0, 2**32 - 1))
def test_channel_revenues_sum_to_the_expensed_revenue(data: dict[str, Any], seed: int) -> None:
    result = labecon.simulate(data, samples=3, seed=seed)
    revenue = result.statements["expensed"]["revenue"]
    channels = result.statements["channels"]
    by_channel = sum(channels[name] for name in REVENUE_CHANNELS)
    scale = np.abs(revenue).sum(axis=1, keepdims=True)
    assert (np.abs(by_channel - revenue) <= 1e-9 * scale + 0.01).all()
    assert (channels["cloud_fee"] >= 0).all()
    if labecon.load_scenario(data).revenue.mode == "top_down":
        # Top-down revenue is one channel, beside the lab's own venture (internal deployment).
        together = channels["revenue_top_down"] + channels["revenue_internal"]
        assert (np.abs(together - revenue) <= 1e-9 * scale + 0.01).all()
