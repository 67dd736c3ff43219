"""The compute-bound built-in reproduces the arithmetic of seed 004 within 5%.

Seed 004: "$44bn in annualized revenue ... is enough for maybe 3-4 GW of compute (at
$12-15bn per GW per year)"; "0.5 GW of their own compute at a 72% gross margin, and ... the
clouds at a 30% gross margin ... that's $22bn of gross profit in total out of the $44bn".
"""

import copy

import pytest
import yaml

import labecon
from labecon.scenario.loading import builtin_text

B = 1e9


@pytest.fixture(scope="module")
def result() -> labecon.Result:
    return labecon.simulate("compute-bound", samples=1, seed=0)


def test_revenue_as_customers_pay_it_is_44_billion(result):
    annual = result.annual("channels", "p50")
    assert annual.loc[2026, "revenue_incl_cloud_fee"] == pytest.approx(44 * B, rel=0.05)


def test_44_billion_buys_3_to_4_gw_at_12_to_15_billion_per_gw_year(result):
    # $44B / $12B per GW-year = 3.67 GW.
    assert result.annual("compute", "p50").loc[2026, "gw_revenue_buys"] == pytest.approx(
        44 / 12, rel=0.05
    )
    # At the top of the essay's price range, $44B / $15B = 2.93 GW: "about 3".
    data = yaml.safe_load(builtin_text("compute-bound"))
    dear = copy.deepcopy(data)
    dear["inference"]["cost_per_gw_year"] = 15e9
    buys = labecon.simulate(dear, samples=1).annual("compute", "p50").loc[2026, "gw_revenue_buys"]
    assert buys == pytest.approx(3.0, rel=0.05)


def test_first_party_half_gw_at_72_percent_and_clouds_at_30_percent(result):
    expensed = result.annual("expensed", "p50").loc[2026]
    channels = result.annual("channels", "p50").loc[2026]
    share_via_clouds = result.scenario.revenue.cloud_partners.share_of_api
    first_party_revenue = channels["revenue_incl_cloud_fee"] * (1 - share_via_clouds)
    # 0.5 GW at $12B per GW-year cost $6B a year, all of it first-party serving.
    assert expensed["inference_cost"] == pytest.approx(6 * B, rel=0.05)
    assert result.annual("compute", "p50").loc[2026, "gw_inference"] == pytest.approx(0.5)
    assert 1 - expensed["inference_cost"] / first_party_revenue == pytest.approx(0.72, rel=0.05)
    # The clouds keep 70% of what they sell: the lab's margin there is 30%.
    cloud_revenue = channels["revenue_incl_cloud_fee"] * share_via_clouds
    assert 1 - channels["cloud_fee"] / cloud_revenue == pytest.approx(0.30, rel=0.05)


def test_gross_profit_is_22_billion(result):
    # 21.43 - 6 + 0.30 x 22.57 = $22.2B.
    assert result.annual("expensed", "p50").loc[2026, "gross_profit"] == pytest.approx(
        22 * B, rel=0.05
    )


def test_more_demand_than_its_own_compute_is_lost():
    # 10% more demand needs 0.55 GW of first-party serving; 0.5 GW are held (hard cap), so
    # 0.5 / 0.55 = 90.9% of first-party tokens are served. What the lab books on tokens the
    # clouds serve needs none of its compute and is kept.
    data = yaml.safe_load(builtin_text("compute-bound"))
    # The demand cites the $44B fact; 10% more is the same fact times 1.1 / 120.
    data["revenue"]["api"]["demand_mtok_per_month"]["times"] = 1.1 / 120
    result = labecon.simulate(data, samples=1)
    compute = result.annual("compute", "p50").loc[2026]
    assert compute["served_share"] == pytest.approx(0.5 / 0.55)
    s = data["revenue"]["cloud_partners"]["share_of_api"]
    gross = 44 * B * 1.1
    expected = gross * (1 - s) * (0.5 / 0.55) + gross * s * 0.30
    assert result.annual("expensed", "p50").loc[2026, "revenue"] == pytest.approx(expected)
