"""Accounting identities and invariants that hold for every valid scenario (DESIGN §4–5).

Each property draws a scenario from :func:`strategies.scenarios` (both revenue modes, every
distribution family, all funding policies, insolvency and cancelled generations), simulates a
few samples over a short horizon and checks an identity between the ledger and the views.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import labecon
from labecon.engine import simulate_chunk
from labecon.engine.inputs import Inputs
from labecon.engine.lifecycle import active, traffic_shares
from labecon.ledger import UNATTRIBUTED_COSTS, Ledger
from labecon.result import Result
from labecon.sampler import Sampler
from labecon.scenario.schema import Scenario
from strategies import PROPERTY, amortised_scenarios, scenarios, top_down_section

SAMPLES = st.integers(3, 12)
SEEDS = st.integers(0, 2**32 - 1)
CENT = 0.01  # [USD]
REL = 1e-9  # relative to the size of the flows summed; float rounding is ~1e-15 of it


def run(data: dict[str, Any], samples: int, seed: int) -> tuple[Scenario, Result, Ledger, Inputs]:
    """Simulate through the public API, and the same samples as one ledger chunk."""
    scenario = labecon.load_scenario(data)
    result = labecon.simulate(scenario, samples=samples, seed=seed)
    draws = Sampler(scenario, seed).draw(0, samples)
    ledger = simulate_chunk(scenario, draws, samples)
    return scenario, result, ledger, Inputs(scenario, draws, samples)


def assert_close(actual: Any, expected: Any, scale: Any, what: str) -> None:
    """|actual - expected| <= REL * scale + one cent, elementwise, with a readable failure."""
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    tolerance = REL * np.asarray(scale, float) + CENT
    error = np.abs(actual - expected)
    bad = ~(error <= tolerance)  # NaN counts as a failure
    if bad.any():
        where = tuple(int(i[0]) for i in np.nonzero(bad))
        raise AssertionError(
            f"{what}: {bad.sum()} mismatches, first at {where}: "
            f"actual {actual[where]!r}, expected {expected[where]!r}, "
            f"tolerance {np.broadcast_to(tolerance, bad.shape)[where]!r}"
        )


def unattributed(ledger: Ledger) -> np.ndarray:
    """Company costs not attributed to a generation, per sample and month [USD/month]."""
    return sum(ledger.company[item] for item in UNATTRIBUTED_COSTS)


# -- a. generations + unattributed = expensed total -------------------------------------------


@PROPERTY
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_generation_profits_plus_unattributed_equal_expensed_income(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    scenario, result, ledger, _ = run(data, samples, seed)
    w = ledger.window
    items = {k: v[:, w, :] for k, v in ledger.by_generation.items()}
    # Model as a company, within the scenario's months: revenue - inference - training of
    # each generation, summed over generations, then over months.
    generation_profit = (items["revenue"] - items["inference_cost"] - items["training_cost"]).sum(
        axis=(1, 2)
    )
    other = unattributed(ledger).sum(axis=1)
    income = result.statements["expensed"]["operating_income"]
    scale = sum(np.abs(v).sum(axis=(1, 2)) for v in items.values()) + np.abs(other)
    assert_close(generation_profit - other, income.sum(axis=1), scale, "window identity")

    # The same through the Result's model-as-company table: lifetime profit covers the whole
    # simulated grid (from the first training start), so it equals the ledger's grid total,
    # and for schedules that start at month >= 0 the grid is the window.
    whole = ledger.by_generation
    grid_profit = (whole["revenue"] - whole["inference_cost"] - whole["training_cost"]).sum(
        axis=(1, 2)
    )
    lifetime = np.nansum(result.generation_values["lifetime_profit_usd"], axis=1)
    grid_scale = sum(np.abs(v).sum(axis=(1, 2)) for v in whole.values())
    assert_close(lifetime, grid_profit, grid_scale, "lifetime profit = grid profit")
    if scenario.generations.first_training_start_month >= 0:
        assert_close(lifetime - other, income.sum(axis=1), scale, "Result identity")


# -- b. expensed vs capitalised ---------------------------------------------------------------


def hand_unamortised(ledger: Ledger, months: np.ndarray) -> np.ndarray:
    """Unamortised development spend at the end of each month, from the schedule alone.

    Generation g (not cancelled) has spent dev_g * clip(t + 1 - s_g, 0, D) / D by the end of
    month t and amortised dev_g * clip(t + 1 - r_g, 0, L) / L, straight-line over its
    commercial life L from release r_g. Result: (samples, len(months)).
    """
    plan = ledger.schedule
    t = months[None, :, None] + 1
    spent = np.clip(t - plan.training_start[:, None, :], 0, plan.training_months[:, None, :])
    used = np.clip(t - plan.release[:, None, :], 0, plan.lifetime[:, None, :])
    share = spent / plan.training_months[:, None, :] - used / plan.lifetime[:, None, :]
    dev = np.where(ledger.cancelled, 0.0, plan.development_cost)[:, None, :]
    return (dev * share).sum(axis=2)


@PROPERTY
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_expensed_minus_capitalised_is_the_change_in_unamortised_training(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    scenario, result, ledger, _ = run(data, samples, seed)
    expensed = result.statements["expensed"]["operating_income"]
    capitalised = result.statements["capitalised"]
    balance = capitalised["unamortised_training"]
    months = np.arange(scenario.horizon_months)
    opening = hand_unamortised(ledger, np.array([-1]))  # end of month -1
    scale = np.abs(ledger.by_generation["training_cost"]).sum(axis=(1, 2))[:, None]
    assert_close(
        np.cumsum(expensed - capitalised["operating_income"], axis=1),
        -(balance - opening),
        scale,
        "cumulative expensed - capitalised",
    )
    assert_close(balance, hand_unamortised(ledger, months), scale, "unamortised balance")
    assert (balance >= -(REL * scale + CENT)).all(), "an asset balance went negative"


@PROPERTY
@given(data=amortised_scenarios(), samples=SAMPLES, seed=SEEDS)
def test_fully_amortised_horizon_has_equal_totals(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    _, result, ledger, _ = run(data, samples, seed)
    expensed = result.statements["expensed"]["operating_income"].sum(axis=1)
    capitalised = result.statements["capitalised"]
    scale = np.abs(ledger.by_generation["training_cost"]).sum(axis=(1, 2))
    assert_close(
        capitalised["operating_income"].sum(axis=1), expensed, scale, "total operating income"
    )
    assert_close(capitalised["unamortised_training"][:, -1], 0.0, scale, "closing balance")
    assert_close(
        capitalised["amortisation"].sum(axis=1),
        result.statements["expensed"]["training_cost"].sum(axis=1),
        scale,
        "amortisation = spend",
    )


# -- c. cash ----------------------------------------------------------------------------------


def per_sample(result: Result, scenario: Scenario, name: str, default: float) -> np.ndarray:
    """An input's value per sample: its draws when uncertain, else its constant."""
    if name in result.input_values:
        return result.input_values[name]
    node: Any = scenario
    for part in name.split("."):
        node = getattr(node, part)
    return np.full(result.sample_count, default if node is None else float(node))


@PROPERTY
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_cash_reconciles_month_by_month(data: dict[str, Any], samples: int, seed: int) -> None:
    scenario, result, _, _ = run(data, samples, seed)
    view = result.statements["cash"]
    cash, flow, raised = view["cash"], view["operating_cash_flow"], view["equity_raised"]
    # Financing: equity raised in cash, training paid by financiers, and training paid in
    # kind with compute credits (which pays an expense already in the operating flow).
    financing = (
        raised
        + view["financier_funding"]
        + view["compute_credits"]
        + view["debt_drawn"]
        - view["debt_repaid"]
    )
    start = per_sample(result, scenario, "capital.starting_cash", 0.0)
    before = np.concatenate([start[:, None], cash[:, :-1]], axis=1)
    scale = np.abs(before) + np.abs(flow) + np.abs(financing)
    assert_close(cash, before + flow + financing, scale, "cash(t) = cash(t-1) + flows")
    expensed = result.statements["expensed"]
    below = expensed["revenue_share_cost"] + expensed["interest_cost"]
    assert_close(
        flow,
        expensed["operating_income"] - below,
        np.abs(expensed["operating_income"]) + np.abs(below),
        "operating cash flow",
    )
    assert_close(view["financing_cash_flow"], financing, np.abs(financing), "financing")
    assert_close(view["net_cash_flow"], flow + financing, scale, "net cash flow")

    # Funding sanity, per policy.
    assert (raised >= 0).all()
    insolvent = view["insolvent"].astype(bool)
    policy = scenario.capital.funding.policy
    # An IPO is a round of its own, in its month, outside the funding policy and its caps.
    listing = np.zeros(raised.shape, dtype=bool)
    if scenario.capital.ipo is not None:
        month = np.rint(per_sample(result, scenario, "capital.ipo.month", 0.0))
        listing = np.arange(raised.shape[1])[None, :] == month[:, None]
    if policy == "none":
        assert (raised[~listing] == 0).all()
    if policy == "unlimited":
        assert (cash >= 0).all(), "the unlimited policy covers every shortfall"
        assert not insolvent.any()
    else:
        # Insolvent from the first month that ends with negative cash, and for good.
        assert np.array_equal(insolvent, np.maximum.accumulate(cash < 0, axis=1))
        first = result.metric_values["insolvency_month"]
        expected = np.where(insolvent.any(axis=1), insolvent.argmax(axis=1), np.nan)
        assert np.array_equal(first, expected, equal_nan=True)
        # An insolvent lab raises no more after the month it became insolvent.
        assert (raised[:, 1:][insolvent[:, :-1]] == 0).all()
    held = np.concatenate([np.ones((samples, 1)), view["ownership"]], axis=1)
    kept = held[:, 1:] / held[:, :-1]
    assert (kept <= 1 + 1e-12).all(), "ownership rose"
    # Compute credits are equity issued in kind, outside the rounds and their caps.
    no_credits = (view["compute_credits"] == 0) & ~listing
    if policy == "runway":
        cap = per_sample(result, scenario, "capital.funding.max_raise", np.inf)
        within = raised <= cap[:, None] * (1 + 1e-12)
        assert within[~listing].all(), "a round exceeded max_raise"
        most = per_sample(result, scenario, "capital.funding.max_dilution_per_round", 1.0)
        floor = np.broadcast_to(1 - most[:, None] - 1e-9, kept.shape)
        assert (kept[no_credits] >= floor[no_credits]).all(), "a round diluted beyond the cap"
    else:
        assert (kept[no_credits] == 1).all(), "only rounds and credits dilute"


# -- d, e. determinism ------------------------------------------------------------------------


def assert_identical(a: Result, b: Result) -> None:
    """Every statement, generation value, metric and input draw is bit-for-bit equal."""
    for view, items in a.statements.items():
        for item, values in items.items():
            assert np.array_equal(values, b.statements[view][item], equal_nan=True), (view, item)
    for group in ("generation_values", "metric_values", "input_values"):
        left, right = getattr(a, group), getattr(b, group)
        assert left.keys() == right.keys()
        for key in left:
            assert np.array_equal(left[key], right[key], equal_nan=True), (group, key)


@PROPERTY
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_same_seed_same_numbers_other_seed_other_draws(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    scenario = labecon.load_scenario(data)
    first = labecon.simulate(scenario, samples=samples, seed=seed)
    assert_identical(first, labecon.simulate(scenario, samples=samples, seed=seed))
    other = labecon.simulate(scenario, samples=samples, seed=seed + 1)
    continuous = [n for n, d in scenario.uncertain_inputs() if d.family != "choice"]
    for name in continuous:
        # Continuous draws of two seeds coincide with probability zero.
        assert not np.array_equal(first.input_values[name], other.input_values[name]), name


def test_different_seeds_give_different_statements() -> None:
    a = labecon.simulate("bench-m1", samples=5, seed=1)
    b = labecon.simulate("bench-m1", samples=5, seed=2)
    income_a = a.statements["expensed"]["operating_income"]
    income_b = b.statements["expensed"]["operating_income"]
    assert not np.array_equal(income_a, income_b)
    # Month 0 is -C0/12 per sample: every one of the five draws of C0 differs.
    assert (income_a[:, 0] != income_b[:, 0]).all()


@settings(PROPERTY, max_examples=40)  # five runs per example
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_chunk_size_and_threads_do_not_change_numbers(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    scenario = labecon.load_scenario(data)
    whole = labecon.simulate(scenario, samples=samples, seed=seed, chunk_size=samples, threads=1)
    # Chunks of any size, on any number of threads (a pool hands them back in order).
    for size, threads in ((1, 2), (2, 3), (3, 1), (7, 2)):
        assert_identical(
            whole,
            labecon.simulate(
                scenario, samples=samples, seed=seed, chunk_size=size, threads=threads
            ),
        )


def test_mean_revenue_by_generation_does_not_depend_on_the_chunks() -> None:
    # Enough samples of many generations that a chunk's own sum, added to the running one,
    # would round differently from one sum over all samples (it did, before the fix).
    runs = [
        labecon.simulate("baseline", samples=3_000, seed=1, chunk_size=size, threads=threads)
        for size, threads in ((3_000, 1), (1_500, 2), (1_000, 1), (7, 2))
    ]
    whole = runs[0].revenue_by_generation_mean
    for run in runs[1:]:
        assert np.array_equal(run.revenue_by_generation_mean, whole)
    # Revenue by generation adds up to the statements' revenue (within rounding).
    total = runs[0].monthly("expensed")["revenue"].to_numpy()
    np.testing.assert_allclose(whole.sum(axis=1), total, rtol=1e-9, atol=1e-3)


# -- f. accounting sanity ---------------------------------------------------------------------


@PROPERTY
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_traffic_shares_and_generation_flows_are_sane(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    _, _, ledger, inputs = run(data, samples, seed)
    months = np.arange(ledger.first_month, ledger.horizon)
    plan = ledger.schedule
    shares = traffic_shares(
        plan,
        months,
        ledger.cancelled,
        inputs["lifecycle.ramp_months"],
        inputs["lifecycle.legacy_retention"],
    )
    on = active(plan, months, ledger.cancelled)
    assert (shares >= 0).all()
    assert (shares[~on] == 0).all(), "a generation not on sale has traffic"
    total = shares.sum(axis=2)
    # Shares are fractions: they sum to 1 (to rounding) in months with a model on sale.
    assert np.allclose(total, on.any(axis=2).astype(float), rtol=0, atol=1e-12)

    for item in ("revenue", "inference_cost", "training_cost"):
        values = ledger.by_generation[item]
        assert np.isfinite(values).all(), item
        assert (values >= 0).all(), f"negative {item} of a generation"
    assert (ledger.by_generation["revenue"][~on] == 0).all(), "revenue from a model not on sale"


@PROPERTY
@given(data=scenarios(), samples=SAMPLES, seed=SEEDS)
def test_insolvent_labs_start_no_new_generation(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    _, result, ledger, _ = run(data, samples, seed)
    plan = ledger.schedule
    stop = ledger.cash.insolvency_month
    months = np.arange(ledger.first_month, ledger.horizon)
    training = ledger.by_generation["training_cost"]
    started = plan.training_start <= np.where(np.isnan(stop), np.inf, stop)[:, None]
    # Cancelled exactly when training would start after the insolvency month.
    assert np.array_equal(ledger.cancelled, ~started)
    assert (np.abs(training).sum(axis=1)[~started] == 0).all()
    assert (ledger.by_generation["revenue"].sum(axis=1)[~started] == 0).all()
    assert np.isnan(result.generation_values["training_cost_usd"][~started]).all()
    # A generation that had started trains to the end: D months of dev / D within the grid.
    in_grid = np.clip(ledger.horizon - plan.training_start, 0, plan.training_months)
    expected = np.where(started, plan.development_cost * in_grid / plan.training_months, 0.0)
    assert_close(training.sum(axis=1), expected, expected, "training of started generations")
    # So after the insolvency month, training spend comes only from started generations.
    after = months[None, :] > np.where(np.isnan(stop), np.inf, stop)[:, None]
    from_started = np.where(started[:, None, :], training, 0.0).sum(axis=2)
    assert np.array_equal(training.sum(axis=2)[after], from_started[after])


@PROPERTY
@given(
    data=scenarios(
        revenue=st.builds(lambda part: {"mode": "top_down", "top_down": part}, top_down_section()),
        # A hard compute cap loses revenue on purpose (tests/test_compute.py); here every
        # model must be able to serve its demand.
        compute=st.sampled_from([{"capacity": "unconstrained"}, {"capacity": "rent"}]),
        # An open release at end of life cuts the life short on purpose (test_financing.py).
        strategies=st.just({}),
    ),
    samples=SAMPLES,
    seed=SEEDS,
)
def test_top_down_generation_earns_its_multiple_over_its_life(
    data: dict[str, Any], samples: int, seed: int
) -> None:
    _, _, ledger, inputs = run(data, samples, seed)
    plan = ledger.schedule
    # With no cancellation, a generation sold entirely within the grid earns R * C_min(g, K)
    # over its life: the revenue multiple of its cost, or of the last improving generation's.
    g = np.arange(plan.release.shape[1])
    stall = inputs["generations.capability_stall_after"]
    last = np.where(np.isnan(stall), g.size, np.floor(stall)).astype(int)
    basis = np.take_along_axis(plan.final_run_cost, np.minimum(g[None, :], last[:, None]), axis=1)
    expected = inputs["revenue.top_down.revenue_multiple"][:, None] * basis
    lifetime = ledger.by_generation["revenue"].sum(axis=1)
    whole = (plan.retire <= ledger.horizon) & ~ledger.cancelled.any(axis=1)[:, None]
    assert_close(lifetime[whole], expected[whole], expected[whole], "lifetime revenue")


@pytest.mark.parametrize("policy", ["none", "runway"])
def test_insolvency_cancels_later_generations(policy: str) -> None:
    # Hand-built: $1.1B of cash, four $1B generations, one every 6 months, each trained over
    # 6 months ($1B / 6 = $166.7M a month), no revenue (so no raise is possible). Cash at the
    # end of month t <= 5 is 1.1B - (t + 1) * 166.7M: $100M after month 5. Generation 1
    # starts in month 6: cash 100M - 166.7M < 0, insolvent in month 6. Generation 1 had
    # started (month 6 <= 6) and trains to the end; generations 2 and 3 (months 12, 18) never
    # start: $2B of training in total, all in months 0-11.
    data = {
        "horizon_months": 24,
        "generations": {
            "count": 4,
            "cadence_months": 6,
            "training_months": 6,
            "first_training_cost": "$1B",
        },
        "revenue": {"mode": "top_down", "top_down": {"revenue_multiple": 0}},
        "capital": {"starting_cash": "$1.1B", "funding": {"policy": policy}},
    }
    result = labecon.simulate(data, samples=1, seed=0)
    assert result.metric_values["insolvency_month"][0] == 6.0
    trained = result.generation_values["training_cost_usd"][0]
    assert trained[:2] == pytest.approx([1e9, 1e9], abs=CENT)
    assert np.isnan(trained[2:]).all()
    training = result.statements["expensed"]["training_cost"][0]
    assert training[:12].sum() == pytest.approx(2e9, abs=CENT)
    assert (training[12:] == 0).all()
    # Month 6 ends at 1.1B - 7 * 1e9 / 6 = -66.67M; month 11 at 1.1B - 2B = -900M.
    cash = result.statements["cash"]["cash"][0]
    assert cash[6] == pytest.approx(1.1e9 - 7e9 / 6, abs=CENT)
    assert cash[-1] == pytest.approx(-0.9e9, abs=CENT)


def test_runway_policy_keeps_cash_finite_before_revenue() -> None:
    # The default funding policy (runway, max_dilution_per_round 1, min_pre_money 0) with no
    # revenue yet: the pre-money valuation is 0, so no round can be raised, and cash is
    # simply starting cash + cumulative operating cash flow. Default generations: $100M over
    # months 0-11 ($8.33M a month), so cash after month 11 is $1B - $100M = $900M.
    data = {"horizon_months": 24, "capital": {"starting_cash": "$1B"}}
    result = labecon.simulate(data, samples=1, seed=0)
    view = result.statements["cash"]
    assert (view["equity_raised"][0] == 0).all()
    assert view["cash"][0, 11] == pytest.approx(0.9e9, abs=CENT)
    assert np.isfinite(view["cash"]).all()


def test_demand_below_its_ceiling_and_falling_stays_positive() -> None:
    # One model on sale from month 0 (trained over months -12..-1), lab share 100%, $10/Mtok,
    # no price decline. Market demand starts at 1e9 Mtok a month with a ceiling of 1e8 and
    # falls 50% a year: demand moves from 1e9 towards (and below) the ceiling, so revenue is
    # at most 1e9 x $10 = $10B a month (month 0 exactly, D(0) = D0) and never negative.
    data = {
        "horizon_months": 24,
        "generations": {"first_training_start_month": -12, "count": 1},
        "lifecycle": {"lifetime_months": 24},
        "revenue": {
            "mode": "bottom_up",
            "api": {
                "demand_mtok_per_month": 1e9,
                "demand_ceiling_mtok_per_month": 1e8,
                "demand_growth_per_year": "-50%",
                "release_price_per_mtok": 10,
            },
        },
        "capital": {"funding": {"policy": "unlimited"}},
    }
    revenue = labecon.simulate(data, samples=1, seed=0).statements["expensed"]["revenue"][0]
    assert revenue[0] == pytest.approx(10e9, rel=1e-12)
    assert (revenue >= 0).all(), f"negative revenue: {revenue.min():.4g}"
    assert (revenue <= 10e9 * (1 + 1e-12)).all(), f"revenue above demand: {revenue.max():.4g}"
