"""Sensitivity analyses: tornado, Morris and Sobol against hand calculations.

The built-in ``sobol-product`` has one generation whose training costs C (uniform) and whose
lifetime revenue is m C (m uniform), with no other cost, so over the horizon

    cumulative_operating_income_usd = m C - C = (m - 1) C = X1 X2,

a product of independent uniforms X1 = m - 1 and X2 = C, whose Sobol' indices have a closed
form (Sobol' 2001; Saltelli et al. 2008, "Global Sensitivity Analysis: The Primer", ch. 4).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labecon
from labecon.errors import OptionError
from labecon.metrics import metric_values
from labecon.sensitivity import model_runs, morris, sensitivity, sobol, tornado

B = 1e9
M = 1e6
INCOME = "cumulative_operating_income_usd"
MULTIPLE = "revenue.top_down.revenue_multiple"
COST = "generations.first_training_cost"
DISCOUNT = "analysis.discount_rate_per_year"

# sobol-product's bounds, as written in its YAML file.
M_LOW, M_HIGH = 1.5, 3.5  # revenue_multiple m ~ U(1.5, 3.5) [x]
C_LOW, C_HIGH = 0.5 * B, 1.5 * B  # first_training_cost C ~ U($0.5B, $1.5B) [USD]


def product_indices(a1: float, b1: float, a2: float, b2: float) -> dict[str, tuple[float, float]]:
    """Analytic (S1, ST) of Y = X1 X2 for independent X1 ~ U(a1, b1), X2 ~ U(a2, b2).

    E[Xi] = (ai + bi)/2, Var(Xi) = (bi - ai)^2/12, E[Xi^2] = Var(Xi) + E[Xi]^2;
    V1 = Var(X1) E[X2]^2, V2 = Var(X2) E[X1]^2, V = E[X1^2] E[X2^2] - E[X1]^2 E[X2]^2;
    S1_i = Vi / V, ST1 = 1 - V2 / V, ST2 = 1 - V1 / V.
    """
    mean1, mean2 = (a1 + b1) / 2, (a2 + b2) / 2
    var1, var2 = (b1 - a1) ** 2 / 12, (b2 - a2) ** 2 / 12
    v1, v2 = var1 * mean2**2, var2 * mean1**2
    total = (var1 + mean1**2) * (var2 + mean2**2) - mean1**2 * mean2**2
    return {"x1": (v1 / total, 1 - v2 / total), "x2": (v2 / total, 1 - v1 / total)}


def test_product_indices_by_hand() -> None:
    # X1 = m - 1 ~ U(0.5, 2.5): E = 1.5, Var = 4/12 = 1/3, E[X1^2] = 1/3 + 2.25 = 2.58333.
    # X2 = C in $B ~ U(0.5, 1.5): E = 1, Var = 1/12, E[X2^2] = 1/12 + 1 = 1.08333.
    # V1 = 1/3 * 1 = 0.333333; V2 = 1/12 * 2.25 = 0.1875;
    # V = 2.58333 * 1.08333 - 2.25 = 2.798611 - 2.25 = 0.548611
    #   (= V1 + V2 + Var1 Var2 = 0.333333 + 0.1875 + 1/36).
    # S1 = 0.333333 / 0.548611 = 0.607595, 0.1875 / 0.548611 = 0.341772;
    # ST1 = 1 - 0.341772 = 0.658228, ST2 = 1 - 0.607595 = 0.392405.
    indices = product_indices(0.5, 2.5, 0.5, 1.5)
    assert indices["x1"] == pytest.approx((0.607595, 0.658228), abs=1e-6)
    assert indices["x2"] == pytest.approx((0.341772, 0.392405), abs=1e-6)


def test_sobol_product_income_is_the_product_by_hand() -> None:
    # One sample, m = 2.5 and C = $1.2B: training $1.2B in 2026, revenue 2.5 x $1.2B = $3B in
    # 2027, so operating income over the horizon = 3B - 1.2B = $1.8B = (2.5 - 1) x $1.2B.
    result = labecon.simulate("sobol-product", samples=1, inputs={MULTIPLE: 2.5, COST: 1.2 * B})
    assert metric_values(result, INCOME)[0] == pytest.approx(1.8 * B, rel=1e-12)
    assert result.annual("expensed", "mean")["revenue"].tolist() == pytest.approx([0, 3 * B])


# -- Sobol ------------------------------------------------------------------------------------
def test_sobol_matches_the_analytic_indices_within_the_intervals() -> None:
    # n = 4096 base points, 4096 x (2 + 2) = 16,384 runs (about a second); SALib's 95%
    # bootstrap half-widths are then about 0.02-0.03.
    frame = sobol("sobol-product", INCOME, n=4096, seed=0)
    expected = product_indices(M_LOW - 1, M_HIGH - 1, C_LOW, C_HIGH)
    by_input = frame.set_index("input")
    for name, key in ((MULTIPLE, "x1"), (COST, "x2")):
        s1, st_ = expected[key]
        row = by_input.loc[name]
        assert abs(row["S1"] - s1) <= row["S1_conf"], (name, row["S1"], s1, row["S1_conf"])
        assert abs(row["ST"] - st_) <= row["ST_conf"], (name, row["ST"], st_, row["ST_conf"])
        assert 0 < row["S1_conf"] < 0.05 and 0 < row["ST_conf"] < 0.05
    # m explains more of the variance (0.66 total vs 0.39): first row.
    assert frame["input"].tolist() == [MULTIPLE, COST]
    assert list(frame.columns) == ["input", "S1", "S1_conf", "ST", "ST_conf"]
    assert frame.attrs["evaluations"] == 4096 * 4
    # Var(Y) = 0.548611 ($B)^2: sd = sqrt(0.548611) x $1B = $0.7407B; E[Y] = 1.5 x $1B.
    assert frame.attrs["metric_sd"] == pytest.approx(0.7407 * B, rel=0.01)
    assert frame.attrs["metric_mean"] == pytest.approx(1.5 * B, rel=0.01)


def test_sobol_on_a_subset_holds_the_others_at_their_medians() -> None:
    # Only m varies and C is held at its median $1B: Y = (m - 1) x $1B is a function of m
    # alone, so S1 = ST = 1 (up to the estimator's error).
    frame = sobol("sobol-product", INCOME, n=256, inputs=[MULTIPLE])
    assert frame["input"].tolist() == [MULTIPLE]
    assert frame.loc[0, "S1"] == pytest.approx(1.0, abs=0.05)
    assert frame.loc[0, "ST"] == pytest.approx(1.0, abs=0.05)


# -- Morris and tornado on an input that dominates by construction --------------------------
# m spans 1.5-3.5 while C only spans $0.95B-$1.05B, and the discount rate acts on NPVs but not
# on operating income: Y = (m - 1) C depends on m far more than on C, and not on the rate.
DOMINANT: dict[str, Any] = {
    "extends": "sobol-product",
    "name": "dominant",
    "generations": {"first_training_cost": {"uniform": {"low": "950M", "high": "1.05B"}}},
    "analysis": {"discount_rate_per_year": {"uniform": {"low": 0.05, "high": 0.15}}},
}


def test_morris_ranks_the_dominant_input_first() -> None:
    frame = morris(DOMINANT, INCOME, trajectories=20, levels=4, seed=0)
    assert frame["input"].tolist() == [MULTIPLE, COST, DISCOUNT]
    by_input = frame.set_index("input")
    # With p = 4 levels, a step is Delta = 4 / (2 x 3) = 2/3 of the [0, 1] grid and moves the
    # input's quantile level by 2/3 x 3/4 = 1/2 (levels map to 12.5%, 37.5%, 62.5%, 87.5%).
    # m: a step moves m by 1/2 x (3.5 - 1.5) = 1, so Y moves by 1 x C and EE = C / (2/3)
    # = 1.5 C, with C at one of its levels, $0.9625B to $1.0375B:
    # mu* in [1.5 x 0.9625, 1.5 x 1.0375] $B = [$1.444B, $1.556B]; all EE > 0, so mu = mu*.
    assert 1.44375 * B <= by_input.loc[MULTIPLE, "mu_star"] <= 1.55625 * B
    assert by_input.loc[MULTIPLE, "mu"] == pytest.approx(by_input.loc[MULTIPLE, "mu_star"])
    # C: a step moves C by 1/2 x $0.1B = $0.05B, Y by (m - 1) x $0.05B, EE = 1.5 x that, with
    # m - 1 at its levels 0.75 to 2.25: mu* in [0.075 x 0.75, 0.075 x 2.25] $B
    # = [$56.25M, $168.75M].
    assert 56.25 * M <= by_input.loc[COST, "mu_star"] <= 168.75 * M
    # The discount rate does not enter operating income: every effect is exactly 0.
    assert by_input.loc[DISCOUNT, ["mu_star", "sigma", "mu"]].tolist() == [0.0, 0.0, 0.0]
    assert frame.attrs["evaluations"] == 20 * (3 + 1)


def test_tornado_swings_by_hand() -> None:
    frame = tornado(DOMINANT, INCOME)
    assert frame["input"].tolist() == [MULTIPLE, COST, DISCOUNT]
    by_input = frame.set_index("input")
    # Medians: m = 2.5, C = $1B. Base: (2.5 - 1) x $1B = $1.5B.
    assert frame["base"].tolist() == pytest.approx([1.5 * B] * 3)
    # m: p5 = 1.5 + 0.05 x 2 = 1.6, p95 = 1.5 + 0.95 x 2 = 3.4;
    # Y = 0.6 x $1B = $0.6B and 2.4 x $1B = $2.4B; swing $1.8B.
    row = by_input.loc[MULTIPLE]
    assert [row["low_value"], row["high_value"]] == pytest.approx([1.6, 3.4])
    assert [row["metric_at_low"], row["metric_at_high"]] == pytest.approx([0.6 * B, 2.4 * B])
    assert row["swing"] == pytest.approx(1.8 * B)
    # C: p5 = $0.95B + 0.05 x $0.1B = $0.955B, p95 = $1.045B;
    # Y = 1.5 x 0.955 = $1.4325B and 1.5 x 1.045 = $1.5675B; swing $0.135B.
    row = by_input.loc[COST]
    assert [row["low_value"], row["high_value"]] == pytest.approx([0.955 * B, 1.045 * B])
    assert [row["metric_at_low"], row["metric_at_high"]] == pytest.approx([1.4325 * B, 1.5675 * B])
    assert row["swing"] == pytest.approx(0.135 * B)
    assert by_input.loc[DISCOUNT, "swing"] == 0.0
    # No per-month random events in this scenario: one sample per point, 1 + 2 x 3 points.
    assert frame.attrs["samples_per_point"] == 1
    assert frame.attrs["evaluations"] == 7


# -- month metrics: "never within the horizon" counts as month horizon_months -----------------
# sobol-product cut to 18 months with m ~ U(0.5, 1.7): training months 0-11 cost C/12 each,
# months 12+k earn m C/12 each, so the trailing-12-month income at month 12+k is
# C/12 x (m (k + 1) - (11 - k)); breakeven is the first k with m (k + 1) > 11 - k, i.e.
# k > 12 / (m + 1) - 1, and it is reached by month 17 (k = 5) only if 6 m > 6, m > 1.
SHORT: dict[str, Any] = {
    "extends": "sobol-product",
    "name": "short",
    "horizon_months": 18,
    "revenue": {"top_down": {"revenue_multiple": {"uniform": {"low": 0.5, "high": 1.7}}}},
}


def test_tornado_counts_a_month_never_reached_as_the_horizon() -> None:
    frame = tornado(SHORT, "breakeven_month").set_index("input")
    row = frame.loc[MULTIPLE]
    # Base m = 1.1: k > 12 / 2.1 - 1 = 4.71, k = 5, month 17.
    assert row["base"] == 17
    # p5: m = 0.5 + 0.05 x 1.2 = 0.56 <= 1: never within 18 months, counted as month 18.
    assert row["metric_at_low"] == 18
    # p95: m = 0.5 + 0.95 x 1.2 = 1.64: k > 12 / 2.64 - 1 = 3.55, k = 4, month 16.
    assert row["metric_at_high"] == 16
    assert row["swing"] == 2
    # C scales every month alike: the breakeven month does not move.
    assert frame.loc[COST, ["metric_at_low", "metric_at_high", "swing"]].tolist() == [17, 17, 0]
    # 1 of the 5 points (base, 2 lows, 2 highs) is censored.
    assert frame.attrs["censored_share"] == pytest.approx(1 / 5)


def test_sobol_censored_share_is_the_chance_of_never() -> None:
    # Breakeven is never reached when m <= 1: P(m <= 1) = (1 - 0.5) / 1.2 = 0.41667 for
    # every row of Saltelli's design (each row's m is a uniform Sobol' coordinate).
    frame = sobol(SHORT, "breakeven_month", n=1024)
    assert frame.attrs["censored_share"] == pytest.approx(0.5 / 1.2, abs=0.01)
    assert frame.loc[0, "input"] == MULTIPLE  # C does not move the month at all
    assert frame.set_index("input").loc[COST, "ST"] == pytest.approx(0.0, abs=1e-12)


# -- per-month random events: common random numbers across tornado points -------------------
def test_tornado_with_random_raises_uses_the_same_event_streams_at_every_point() -> None:
    # Raises succeed with probability 1/2, so insolvency is random at fixed inputs. The
    # discount rate only enters NPVs: with the same 64 event streams at every point, its p5 and
    # p95 give exactly the base probability, which is a multiple of 1/64.
    scenario = {
        "extends": "baseline",
        "name": "coin-raises",
        "capital": {"funding": {"raise_success_probability": 0.5}},
        "analysis": {"discount_rate_per_year": {"uniform": {"low": 0.05, "high": 0.2}}},
    }
    frame = tornado(scenario, "insolvent", inputs=[DISCOUNT, "capital.starting_cash"], seed=3)
    assert frame.attrs["samples_per_point"] == 64
    row = frame.set_index("input").loc[DISCOUNT]
    assert row["metric_at_low"] == row["metric_at_high"] == row["base"]
    assert row["swing"] == 0.0
    assert (frame[["metric_at_low", "metric_at_high", "base"]].to_numpy() * 64 % 1 == 0).all()


# -- properties -------------------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    m_low=st.sampled_from([0.5, 1.0, 1.5, 2.0]),
    m_width=st.sampled_from([0.25, 1.0, 3.0]),
    c_low=st.sampled_from([1e8, 5e8, 2e9]),
    c_width=st.sampled_from([1e7, 1e9, 5e9]),
)
def test_tornado_of_a_product_is_the_product_of_quantiles(
    m_low: float, m_width: float, c_low: float, c_width: float
) -> None:
    # Y = (m - 1) C with m ~ U(m_low, m_low + m_width), C ~ U(c_low, c_low + c_width):
    # at m's p5 the metric is (m_low + 0.05 m_width - 1) x (c_low + c_width / 2), and so on.
    scenario = {
        "extends": "sobol-product",
        "name": "product",
        "generations": {
            "first_training_cost": {"uniform": {"low": c_low, "high": c_low + c_width}}
        },
        "revenue": {
            "top_down": {"revenue_multiple": {"uniform": {"low": m_low, "high": m_low + m_width}}}
        },
    }
    frame = tornado(scenario, INCOME).set_index("input")
    m_p5, m_p50, m_p95 = (m_low + q * m_width for q in (0.05, 0.5, 0.95))
    c_p5, c_p50, c_p95 = (c_low + q * c_width for q in (0.05, 0.5, 0.95))
    tol = {"rel": 1e-9, "abs": 1e-3}
    assert frame.loc[MULTIPLE, "metric_at_low"] == pytest.approx((m_p5 - 1) * c_p50, **tol)
    assert frame.loc[MULTIPLE, "metric_at_high"] == pytest.approx((m_p95 - 1) * c_p50, **tol)
    assert frame.loc[COST, "metric_at_low"] == pytest.approx((m_p50 - 1) * c_p5, **tol)
    assert frame.loc[COST, "metric_at_high"] == pytest.approx((m_p50 - 1) * c_p95, **tol)
    assert frame["base"].tolist() == pytest.approx([(m_p50 - 1) * c_p50] * 2, **tol)
    assert (frame["swing"] >= 0).all()
    assert frame["swing"].is_monotonic_decreasing


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 2**32), method=st.sampled_from(["morris", "sobol"]))
def test_same_seed_same_frame(seed: int, method: str) -> None:
    options = {"n": 64} if method == "sobol" else {"trajectories": 6}
    first = sensitivity(DOMINANT, INCOME, method, seed=seed, **options)
    again = sensitivity(DOMINANT, INCOME, method, seed=seed, **options)
    pd.testing.assert_frame_equal(first, again)
    assert first.attrs == again.attrs


def test_another_seed_another_design() -> None:
    first = sobol("sobol-product", INCOME, n=64, seed=0)
    other = sobol("sobol-product", INCOME, n=64, seed=1)
    assert not np.allclose(first["S1"], other["S1"])


def test_sensitivity_dispatches_to_each_method() -> None:
    assert labecon.sensitivity is sensitivity  # the Python API: labecon.sensitivity(...)
    frame = sensitivity("sobol-product", INCOME, "tornado")
    pd.testing.assert_frame_equal(frame, tornado("sobol-product", INCOME))
    assert list(sensitivity("sobol-product", INCOME, "morris", trajectories=4).columns) == [
        "input",
        "mu_star",
        "mu_star_conf",
        "sigma",
        "mu",
    ]


def test_correlations_are_reported_as_ignored() -> None:
    scenario = {
        "extends": "sobol-product",
        "name": "correlated",
        "correlations": [{"between": [MULTIPLE, COST], "rank": 0.5}],
    }
    frame = tornado(scenario, INCOME)
    assert frame.attrs["ignored_correlations"] == [[MULTIPLE, COST, 0.5]]
    assert tornado("sobol-product", INCOME).attrs["ignored_correlations"] == []


# -- bad input ------------------------------------------------------------------------------
def error_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(OptionError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_unknown_metric_names_it_and_lists_the_accepted() -> None:
    text = error_of(sensitivity, "sobol-product", "profit", "sobol")
    assert "metric: 'profit' is not a metric" in text
    assert "accepted:" in text and "capital_need_usd" in text and "operating_income_2026" in text


def test_no_uncertain_input_names_the_scenario_and_the_methods() -> None:
    for method in ("sobol", "morris", "tornado"):
        text = error_of(sensitivity, "amodei", INCOME, method)
        assert "scenario: 'amodei' has no uncertain input" in text
        assert f"so {method} has nothing to vary" in text
        assert "tornado, morris and sobol all need at least one input" in text


def test_bad_options_are_named_with_what_is_accepted() -> None:
    text = error_of(sobol, "sobol-product", INCOME, n=1000)
    assert "n: 1000 is not accepted" in text and "power of 2" in text
    text = error_of(morris, "sobol-product", INCOME, levels=3)
    assert "levels: 3" in text and "even integer" in text
    text = error_of(morris, "sobol-product", INCOME, trajectories=1)
    assert "trajectories: 1" in text and ">= 2" in text
    text = error_of(tornado, "sobol-product", INCOME, samples=0)
    assert "samples: 0" in text
    text = error_of(sensitivity, "sobol-product", INCOME, "fast")
    assert "method: 'fast' is not accepted; accepted: tornado, morris, sobol" in text
    text = error_of(sensitivity, "sobol-product", INCOME, "tornado", n=64)
    assert "options: 'n' is not an option of method 'tornado'" in text
    assert "accepted: samples, seed, inputs, progress" in text


def test_inputs_must_be_uncertain_inputs_of_the_scenario() -> None:
    text = error_of(sobol, "sobol-product", INCOME, inputs=["revenue.top_down.multiple"])
    assert "inputs: 'revenue.top_down.multiple' is not an input" in text
    assert MULTIPLE in text and COST in text  # the accepted names
    text = error_of(tornado, "sobol-product", INCOME, inputs=["horizon_months"])
    assert "'horizon_months' is a fixed number" in text or "is not an input" in text
    text = error_of(tornado, "sobol-product", INCOME, inputs=[])
    assert "inputs: an empty list is not accepted" in text
    text = error_of(tornado, "sobol-product", INCOME, inputs=[COST, COST])
    assert f"'{COST}' given more than once" in text


def test_a_constant_metric_has_no_sobol_indices() -> None:
    # Funding is unlimited: never insolvent, insolvent = 0 at every point.
    text = error_of(sobol, "sobol-product", "insolvent", n=8)
    assert "metric: 'insolvent' takes the same value (0) at all 32 points" in text


def test_model_runs_counts_each_methods_design_before_it_runs() -> None:
    # baseline: 30 uncertain inputs, no per-month raise events (one sample per tornado point)
    assert model_runs("baseline", "tornado") == 2 * 30 + 1
    one = ["generations.cost_multiplier"]
    assert model_runs("baseline", "tornado", samples=3, inputs=one) == (2 * 1 + 1) * 3
    assert model_runs("baseline", "morris", trajectories=4) == 4 * 31
    assert model_runs("baseline", "sobol", n=8, inputs=["a", "b"]) == 8 * 4
    frame = sensitivity("baseline", "capital_need_usd", "morris", trajectories=2)
    assert frame.attrs["evaluations"] == model_runs("baseline", "morris", trajectories=2)
    with pytest.raises(OptionError, match="method: 'shapley' is not accepted"):
        model_runs("baseline", "shapley")
