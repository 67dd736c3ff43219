"""Training finance, compute credits and open-sourcing at end of life (seed 000).

Amodei's lab: $100M, $1B, $10B, $100B runs trained over 2023-2026, each earning 2x its cost
in the 12 months after release.
"""

import numpy as np
import pytest

import labecon

B = 1e9
M = 1e6


def financed(share=0.5, revenue_share=0.5, cap=1.5, first=1, **strategies):
    return {
        "extends": "amodei",
        "strategies": {
            "training_finance": {
                "from_generation": first,
                "share_of_training": share,
                "revenue_share": revenue_share,
                "cap_multiple": cap,
            },
            **strategies,
        },
    }


def test_the_financier_pays_half_of_each_run_from_generation_one():
    result = labecon.simulate(financed(), samples=1)
    gens = result.generations()
    assert gens["financier_funding_usd"].tolist() == pytest.approx([0, 0.5 * B, 5 * B, 50 * B])
    # Cash view: the lab receives it month by month ($1B/12 x 50% in 2024, ...).
    funding = result.monthly("cash")["financier_funding"].to_numpy()
    assert funding[:12] == pytest.approx(np.zeros(12))
    assert funding[12:24] == pytest.approx(np.full(12, 0.5 * B / 12))


def test_receipts_stop_at_the_cap():
    # Generation 1: paid $500M; receives 50% of $2B of revenue = up to $1B, capped at 1.5 x
    # $500M = $750M. At $2B/12 a month, 50% is $83.3M a month: the cap is reached after 9
    # months ($750M), and nothing is paid after.
    result = labecon.simulate(financed(), samples=1)
    gens = result.generations()
    assert gens.loc[1, "revenue_share_paid_usd"] == pytest.approx(750 * M)
    shares = result.monthly("expensed")["revenue_share_cost"].to_numpy()
    assert shares[24:33] == pytest.approx(np.full(9, 2 * B / 12 * 0.5))
    assert shares[33:36] == pytest.approx(np.zeros(3), abs=0.01)  # to the cent
    # Generation 0 is not financed: nothing paid on its 2024 revenue.
    assert shares[12:24] == pytest.approx(np.zeros(12))


def test_every_dollar_paid_is_received_month_by_month():
    result = labecon.simulate(financed(), samples=1)
    cash = result.statements["cash"]
    expensed = result.statements["expensed"]
    # Lab's cash moves by exactly: operating income - revenue shares + financier funding
    # + equity raised (the financier's payments in, its receipts out).
    start = 0.0
    change = np.diff(np.concatenate([[start], cash["cash"][0]]))
    expected = (
        expensed["operating_income"][0]
        - expensed["revenue_share_cost"][0]
        + cash["financier_funding"][0]
        + cash["equity_raised"][0]
    )
    assert change == pytest.approx(expected, abs=0.01)
    # What the financier pays equals what the generations record as paid in, and so for
    # what it receives.
    assert cash["financier_funding"][0].sum() == pytest.approx(
        np.nansum(result.generation_values["financier_funding_usd"][0])
    )
    assert expensed["revenue_share_cost"][0].sum() == pytest.approx(
        np.nansum(result.generation_values["revenue_share_paid_usd"][0])
    )


def test_open_source_eol_lowers_the_cap_and_ends_the_commercial_life():
    # With an open release after 6 months the model earns 6 months of $2B/12: $1B, and the
    # financier accepts a cap of 1.2x: $600M on generation 1's $500M.
    data = financed(open_source_eol={"after_months": 6, "financier_cap_multiple": 1.2})
    gens = labecon.simulate(data, samples=1).generations()
    assert gens.loc[1, "lifetime_revenue_usd"] == pytest.approx(1 * B)
    assert gens.loc[1, "revenue_share_paid_usd"] == pytest.approx(500 * M)  # 50% of $1B
    assert gens.loc[0, "lifetime_revenue_usd"] == pytest.approx(100 * M)


def test_compute_credits_pay_training_in_kind_for_equity():
    # 30% of every run paid with credits: the lab's cash needs fall by 30% of the training
    # spend, and holders are diluted (at the min pre-money valuation: $1B here).
    data = {
        "extends": "amodei",
        "capital": {"funding": {"policy": "unlimited", "min_pre_money": "$1B"}},
        "strategies": {"compute_credits": {"from_generation": 0, "share_of_training": 0.3}},
    }
    result = labecon.simulate(data, samples=1)
    cash = result.annual("cash")
    assert cash.loc[2023, "compute_credits"] == pytest.approx(30 * M)
    # Equity raised in cash covers the other 70% of 2023's $100M loss.
    assert cash.loc[2023, "equity_raised"] == pytest.approx(70 * M)
    # 12 monthly issues of $2.5M at $1B pre-money (no revenue in 2023): (1 - 2.5/1002.5)^12.
    assert cash.loc[2023, "ownership"] == pytest.approx((1 - 2.5 / 1002.5) ** 12)


@pytest.mark.parametrize(
    ("section", "field", "value", "message"),
    [
        ("training_finance", "from_generation", 7, "generation 7 does not exist"),
        ("training_finance", "cap_multiple", 0.8, "must be >= 1"),
        ("training_finance", "revenue_share", "130%", "must be <= 1"),
        ("compute_credits", "from_generation", 4, "generation 4 does not exist"),
    ],
)
def test_bad_strategy_input_is_named(section, field, value, message):
    data = {"extends": "amodei", "strategies": {section: {field: value}}}
    with pytest.raises(labecon.ScenarioError) as info:
        labecon.load_scenario(data)
    assert info.value.problems[0].path == f"strategies.{section}.{field}"
    assert message in str(info.value)
