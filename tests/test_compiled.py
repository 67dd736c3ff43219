"""The engine's compiled kernels give NumPy's numbers bit for bit (labecon.engine.compiled).

Each kernel replaced a NumPy expression; these properties hold it to that expression on
drawn arrays, special values included (-0.0, infinities, NaN: NaN must stay NaN, its sign
bit is not a number). The NumPy forms are written out here as the references.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.typing import NDArray

import labecon
from labecon.engine import compiled, lifecycle, revenue
from labecon.engine.compiled import maximum, minimum, sum_generations, sum_months
from labecon.engine.generations import Schedule, schedule
from labecon.engine.inputs import Inputs
from labecon.sampler import Sampler
from labecon.scenario.quantities import per_year_to_per_month

Array = NDArray[np.float64]

SPECIAL = st.sampled_from([0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e300, 5e-324])
VALUES = st.one_of(st.floats(allow_nan=True, allow_infinity=True, width=64), SPECIAL)


def same_numbers(got: Array, want: Array) -> None:
    """Equal shapes and values bit for bit, NaN matching NaN (whatever its sign bit)."""
    assert got.shape == want.shape and got.dtype == want.dtype
    nan = np.isnan(want)
    assert np.array_equal(np.isnan(got), nan)
    assert np.array_equal(got[~nan].view(np.int64), want[~nan].view(np.int64))


def cells(max_g: int = 20) -> st.SearchStrategy[Array]:
    return hnp.arrays(
        np.float64,
        st.tuples(
            st.integers(1, 6), st.integers(1, 12), st.integers(1, max_g)
        ),  # samples, months, G
        elements=VALUES,
    )


@settings(max_examples=300, deadline=None)
@given(cells(), st.integers(0, 12))
def test_sum_generations_is_numpys_sum_over_the_last_axis(values: Array, start: int) -> None:
    start = min(start, values.shape[1])
    with np.errstate(invalid="ignore", over="ignore"):
        same_numbers(sum_generations(values, start), values[:, start:, :].sum(axis=2))


def test_sum_generations_at_engine_sizes_and_beyond_the_pairwise_block() -> None:
    # 8 partial sums from 8 generations on; a row longer than 128 falls back to NumPy.
    rng = np.random.default_rng(3)
    for count in (1, 7, 8, 9, 11, 16, 17, 40, 128, 129, 300):
        values = rng.standard_normal((64, 129, count)) * 10 ** rng.uniform(-3, 12, (64, 129, count))
        values[rng.random(values.shape) < 0.3] = -0.0
        same_numbers(sum_generations(values, 9), values[:, 9:, :].sum(axis=2))
        same_numbers(sum_generations(values), values.sum(axis=2))
    fortran = np.asfortranarray(values)
    same_numbers(sum_generations(fortran, 3), fortran[:, 3:, :].sum(axis=2))


@settings(max_examples=300, deadline=None)
@given(cells())
def test_sum_months_is_numpys_sum_over_the_middle_axis(values: Array) -> None:
    with np.errstate(invalid="ignore", over="ignore"):
        same_numbers(sum_months(values), values.sum(axis=1))


def test_sum_months_at_engine_sizes() -> None:
    rng = np.random.default_rng(4)
    for count in (1, 2, 11, 40):
        values = rng.standard_normal((100, 300, count)) * 10 ** rng.uniform(
            -3, 12, (100, 300, count)
        )
        same_numbers(sum_months(values), values.sum(axis=1))
        same_numbers(sum_months(values[:, 20:, :]), values[:, 20:, :].sum(axis=1))


@given(VALUES, VALUES)
def test_maximum_and_minimum_are_numpys(a: float, b: float) -> None:
    for ours, theirs in ((maximum, np.maximum), (minimum, np.minimum)):
        got, want = np.float64(ours(a, b)), theirs(np.float64(a), np.float64(b))
        same_numbers(np.array([got]), np.array([want]))


def numpy_cash(
    flow: Array,
    extra: Array,
    in_kind: Array,
    revenue: Array,
    outcome: Array | None,
    start: Array,
    p: dict[str, Array],
    window: int,
    policy: str,
    ipo: tuple[Array, Array, Array] | None,
    credit: Array | None,
) -> tuple[Array, Array, Array, NDArray[np.bool_]]:
    """The cash loop as NumPy array operations month by month (its form before compiling)."""
    n, months = flow.shape
    cash, raised = np.empty((n, months)), np.zeros((n, months))
    ownership, insolvent = np.empty((n, months)), np.zeros((n, months), dtype=bool)
    balance, held, broke = start.copy(), np.ones(n), np.zeros(n, dtype=bool)
    trailing = np.cumsum(flow, axis=1)
    for t in range(months):
        balance = balance + flow[:, t] + extra[:, t] + in_kind[:, t]
        if in_kind[:, t].any():
            valued = np.maximum(revenue[:, t] * 12.0 * p["multiple"], p["floor"])
            issued = in_kind[:, t]
            held = held * (
                1
                - np.divide(
                    issued, valued + issued, out=np.zeros(n), where=(issued > 0) & (valued > 0)
                )
            )
        if policy == "unlimited":
            amount = np.maximum(-balance, 0.0)
        elif policy == "runway":
            lo = max(0, t - window + 1)
            window_flow = trailing[:, t] - (trailing[:, lo - 1] if lo > 0 else 0.0)
            burn = np.maximum(-window_flow / (t - lo + 1), 0.0)
            pre_money = np.maximum(revenue[:, t] * 12.0 * p["multiple"], p["floor"])
            wants = ~broke & (burn > 0) & (balance < p["trigger"] * burn) & (pre_money > 0)
            if outcome is not None:
                wants &= outcome[:, t] < p["success"]
            amount = np.where(wants, p["size"] * burn + np.maximum(-balance, 0.0), 0.0)
            sellable = np.where(p["most"] < 1, p["appetite"] * pre_money, np.inf)
            amount = np.minimum(np.minimum(amount, sellable), p["largest"])
            dilution = np.divide(amount, pre_money + amount, out=np.zeros(n), where=amount > 0)
            held = held * (1 - dilution)
        else:
            amount = np.zeros(n)
        if ipo is not None:
            month, size, multiple = ipo
            listing = (month == t) & ~broke
            pre_money = np.maximum(revenue[:, t] * 12.0 * multiple, p["floor"])
            sold = np.where(listing & (pre_money > 0), size, 0.0)
            held = held * (1 - np.divide(sold, pre_money + sold, out=np.zeros(n), where=sold > 0))
            amount = amount + sold
        balance = balance + amount
        raised[:, t] = amount
        broke = broke | (balance < (0.0 if credit is None else -credit))
        cash[:, t] = balance
        ownership[:, t] = held
        insolvent[:, t] = broke
    return cash, raised, ownership, insolvent


MONEY = st.one_of(st.floats(-5e10, 5e10), st.sampled_from([0.0, -0.0]))


@st.composite
def cash_cases(draw: Any) -> dict[str, Any]:
    n, months = draw(st.integers(1, 5)), draw(st.integers(1, 40))

    def grid(elements: st.SearchStrategy[float]) -> Array:
        return draw(hnp.arrays(np.float64, (n, months), elements=elements))

    def per_sample(elements: st.SearchStrategy[float]) -> Array:
        return draw(hnp.arrays(np.float64, (n,), elements=elements))

    most = per_sample(st.floats(0.0, 1.0))
    return {
        "flow": grid(MONEY),
        "extra": grid(st.one_of(st.just(0.0), st.floats(0, 1e10))),
        "in_kind": grid(st.one_of(st.just(0.0), st.floats(0, 1e9))),
        "revenue": grid(st.floats(0, 5e9)),
        "outcome": grid(st.floats(0, 1)) if draw(st.booleans()) else None,
        "start": per_sample(st.floats(0, 5e10)),
        "p": {
            "trigger": per_sample(st.floats(0, 24)),
            "size": per_sample(st.floats(0, 36)),
            "multiple": per_sample(st.floats(0, 60)),
            "floor": per_sample(st.floats(0, 2e11)),
            "most": most,
            "largest": per_sample(st.one_of(st.floats(1e9, 1e12), st.just(np.inf))),
            "appetite": most / np.maximum(1 - most, 1e-12),
            "success": per_sample(st.floats(0, 1)),
        },
        "window": draw(st.integers(1, 24)),
        "policy": draw(st.sampled_from(["unlimited", "runway", "none"])),
        "ipo": (
            (
                per_sample(st.integers(0, months).map(float)),
                per_sample(st.floats(0, 5e10)),
                per_sample(st.floats(0, 60)),
            )
            if draw(st.booleans())
            else None
        ),
        "credit": per_sample(st.floats(0, 1e10)) if draw(st.booleans()) else None,
    }


@settings(max_examples=400, deadline=None)
@given(cash_cases())
def test_the_compiled_cash_loop_is_the_numpy_one(case: dict[str, Any]) -> None:
    n, months = case["flow"].shape
    p, ipo, credit, outcome = case["p"], case["ipo"], case["credit"], case["outcome"]
    got = (np.empty((n, months)), np.empty((n, months)), np.empty((n, months)))
    insolvent = np.empty((n, months), dtype=bool)
    empty = np.empty(n)
    compiled.cash_months(
        case["flow"],
        case["extra"],
        case["in_kind"],
        case["revenue"],
        np.empty((n, months)) if outcome is None else outcome,
        outcome is not None,
        case["start"],
        p["trigger"],
        p["size"],
        p["multiple"],
        p["floor"],
        p["most"],
        p["largest"],
        p["appetite"],
        p["success"],
        case["window"],
        compiled.FUNDING_POLICIES.get(case["policy"], -1),
        empty if ipo is None else ipo[0],
        empty if ipo is None else ipo[1],
        empty if ipo is None else ipo[2],
        ipo is not None,
        empty if credit is None else credit,
        credit is not None,
        *got,
        insolvent,
    )
    with np.errstate(all="ignore"):
        want = numpy_cash(
            case["flow"],
            case["extra"],
            case["in_kind"],
            case["revenue"],
            outcome,
            case["start"],
            p,
            case["window"],
            case["policy"],
            ipo,
            credit,
        )
    for ours, theirs in zip(got, want[:3], strict=True):
        same_numbers(ours, theirs)
    assert np.array_equal(insolvent, want[3])


# -- the per-cell kernels, against the cell-by-cell NumPy forms ------------------------------


def _plan(samples: int = 60, seed: int = 4) -> tuple[Schedule, NDArray[np.int64], Inputs]:
    scenario = labecon.load_scenario("baseline")
    draws = Sampler(scenario, seed).draw(0, samples)
    inputs = Inputs(scenario, draws, samples)
    return schedule(inputs, scenario.generation_count), np.arange(-9, 120), inputs


def _cancellations(plan: Schedule, seed: int) -> NDArray[np.bool_]:
    """Insolvency cancels every generation from some point on (or none)."""
    count = plan.release.shape[1]
    first = np.random.default_rng(seed).integers(0, count + 1, size=plan.release.shape[0])
    return np.arange(count)[None, :] >= first[:, None]


def numpy_shares(
    plan: Schedule,
    months: NDArray[np.int64],
    cancelled: NDArray[np.bool_],
    ramp_months: Array,
    retention: Array,
) -> Array:
    """Traffic shares cell by cell: on x ramp(age) x beta^(newer on sale) over their sum."""
    t = months[None, :, None]
    on = (plan.release[:, None, :] <= t) & (t < plan.retire[:, None, :]) & ~cancelled[:, None, :]
    age = (t - plan.release[:, None, :]).astype(np.float64)
    ramp_len = ramp_months[:, None, None]
    ramp = np.where(ramp_len > 0, np.clip((age + 1) / np.maximum(ramp_len, 1e-12), 0.0, 1.0), 1.0)
    newer = np.cumsum(on[:, :, ::-1], axis=2)[:, :, ::-1] - on
    weight = on.astype(np.float64) * ramp * retention[:, None, None] ** newer.astype(np.float64)
    total = weight.sum(axis=2, keepdims=True)
    return np.divide(weight, total, out=np.zeros(weight.shape), where=total > 0)


def test_traffic_shares_are_the_cell_by_cell_numpy_numbers() -> None:
    plan, months, inputs = _plan()
    ramp, retention = inputs["lifecycle.ramp_months"], inputs["lifecycle.legacy_retention"]
    samples = plan.release.shape[0]
    retire = plan.retire.copy()
    retire[:, 3] += 30  # one generation lives longer: newer-on-sale counts are irregular
    irregular = Schedule(**{**vars(plan), "retire": retire})
    cases = [
        (plan, np.zeros(plan.release.shape, dtype=bool), ramp, retention),
        (plan, _cancellations(plan, 0), ramp, retention),
        (irregular, _cancellations(plan, 1), ramp, retention),
        (plan, _cancellations(plan, 2), np.zeros(samples), np.ones(samples)),  # neither
        (plan, _cancellations(plan, 3), np.full(samples, 7.0), np.full(samples, 0.05)),
    ]
    for case_plan, cancelled, ramp_months, beta in cases:
        got = lifecycle.traffic_shares(case_plan, months, cancelled, ramp_months, beta)
        same_numbers(got, numpy_shares(case_plan, months, cancelled, ramp_months, beta))
        on = lifecycle.active(case_plan, months, cancelled)
        t = months[None, :, None]
        assert np.array_equal(
            on,
            (case_plan.release[:, None, :] <= t)
            & (t < case_plan.retire[:, None, :])
            & ~cancelled[:, None, :],
        )


def test_api_cells_are_the_cell_by_cell_numpy_numbers() -> None:
    plan, months, _ = _plan(seed=9)
    rng = np.random.default_rng(5)
    samples, count = plan.release.shape
    shares = rng.random((samples, months.size, count))
    lab_tokens = rng.random((samples, months.size)) * 1e9
    at_release = rng.random((samples, count)) * 20
    decline = -rng.random(samples) * 0.08  # per month
    lag = rng.integers(3, 14, samples).astype(np.float64)
    cut, loss = rng.random(samples), rng.random(samples)
    ages = lifecycle.Ages.of(plan, months)
    age = (months[None, :, None] - plan.release[:, None, :]).astype(np.float64)
    price = at_release[:, None, :] * (1 + decline[:, None, None]) ** np.maximum(age, 0)
    tokens = lab_tokens[:, :, None] * shares
    declined = (1 + decline[:, None]) ** np.maximum(ages.values, 0)
    got_tokens, got_revenue, tokens_total, revenue_total = compiled.api_cells(
        lab_tokens, shares, at_release, plan.release, months, ages.first, declined, False,
        declined, declined,
    )  # fmt: skip
    same_numbers(got_tokens, tokens)
    same_numbers(got_revenue, tokens * price)
    same_numbers(tokens_total, tokens.sum(axis=2))  # the row sums NumPy gives
    same_numbers(revenue_total, (tokens * price).sum(axis=2))
    caught_up = ages.values >= lag[:, None]
    got_tokens, got_revenue, tokens_total, revenue_total = compiled.api_cells(
        lab_tokens, shares, at_release, plan.release, months, ages.first, declined, True,
        np.where(caught_up, 1 - cut[:, None], 1.0), np.where(caught_up, 1 - loss[:, None], 1.0),
    )  # fmt: skip
    open_weights = age >= lag[:, None, None]
    price = price * np.where(open_weights, 1 - cut[:, None, None], 1.0)
    tokens = tokens * np.where(open_weights, 1 - loss[:, None, None], 1.0)
    same_numbers(got_tokens, tokens)
    same_numbers(got_revenue, tokens * price)
    same_numbers(tokens_total, tokens.sum(axis=2))
    same_numbers(revenue_total, (tokens * price).sum(axis=2))


def test_training_and_serving_cells_are_the_numpy_numbers() -> None:
    plan, months, _ = _plan()
    cancelled = _cancellations(plan, 4)
    t = months[None, :, None]
    start = plan.training_start[:, None, :]
    training = (
        (start <= t) & (t < start + plan.training_months[:, None, :]) & ~cancelled[:, None, :]
    )
    per_month = plan.development_cost / plan.training_months
    per_month[0, 0] = -0.0  # a signed zero stays signed (np.where, not a product)
    cells, total = compiled.training_cells(
        plan.training_start, plan.training_months, cancelled, per_month, months
    )
    same_numbers(cells, np.where(training, per_month[:, None, :], 0.0))
    same_numbers(total, np.where(training, per_month[:, None, :], 0.0).sum(axis=2))
    rng = np.random.default_rng(6)
    tokens = rng.random((5, 30, 11)) * 1e8
    throughput = rng.random((5, 30)) * 1e8
    size = rng.random((5, 11)) * 3
    price, factor = rng.random(5) * 1e9, rng.random(5)
    gw = tokens / (throughput[:, :, None] / size[:, None, :])
    for routed, busy in ((False, gw), (True, gw * factor[:, None, None])):
        got_gw, got_cost, gw_total, cost_total = compiled.serving_cells(
            tokens, throughput, size, routed, factor, price
        )
        same_numbers(got_gw, busy)
        same_numbers(got_cost, busy * price[:, None, None])
        same_numbers(gw_total, busy.sum(axis=2))
        same_numbers(cost_total, (busy * price[:, None, None]).sum(axis=2))


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 12),
        elements=st.sampled_from([1.02, 0.97, 1.0, 0.0, -0.0, 2.5, np.nan, np.inf, 1e-300]),
    ),
    hnp.arrays(np.float64, st.integers(1, 30), elements=st.floats(-200, 200)),
)
def test_outer_power_is_numpys_power_with_repeated_bases(base: Array, exponents: Array) -> None:
    # Repeated bases (a fixed input, a lever) are raised once; zeros keep their sign's pow.
    with np.errstate(all="ignore"):
        same_numbers(compiled.outer_power(base, exponents), base[:, None] ** exponents[None, :])


def test_the_frontier_is_numpys_running_maximum_and_names_its_generation() -> None:
    rng = np.random.default_rng(7)
    on = rng.random((40, 30, 6)) > 0.5
    capability = rng.random((40, 6)) * 3
    capability[:5, 2] = capability[:5, 1]  # ties: a stalled capability
    capability[5, 3] = np.nan
    cells = np.where(on, capability[:, None, :], 0.0)
    expected = cells[:, :, 0]
    for g in range(1, 6):
        expected = np.maximum(expected, cells[:, :, g])
    best, which = compiled.frontier(capability, on)
    same_numbers(best, expected)
    rows = np.arange(40)[:, None]
    read = capability[rows, np.maximum(which, 0)]
    assert np.array_equal(np.where(which >= 0, read, 0.0), best, equal_nan=True)
    assert np.all(on[rows, np.arange(30)[None, :], np.maximum(which, 0)] | (which < 0))


def test_api_traffic_is_the_cell_by_cell_numpy_form_on_and_off_sale() -> None:
    # The engine reads price declines from a table by age that holds 1.0 at ages no cell on
    # sale has, and q^e of the frontier from a table by generation: neither changes a number.
    plan, months, inputs = _plan(seed=11)
    cancelled = _cancellations(plan, 5)
    on = lifecycle.active(plan, months, cancelled)
    shares = lifecycle.traffic_shares(
        plan,
        months,
        cancelled,
        inputs["lifecycle.ramp_months"],
        inputs["lifecycle.legacy_retention"],
    )
    got = revenue.api_traffic(inputs, plan, months, shares, on)
    a = "revenue.api."
    t = months.astype(np.float64)
    demand = revenue.market_demand(
        inputs[a + "demand_mtok_per_month"],
        inputs[a + "demand_growth_per_year"],
        inputs[a + "demand_ceiling_mtok_per_month"],
        t,
    )
    cells = np.where(on, plan.capability[:, None, :], 0.0)
    frontier = cells[:, :, 0]
    for g in range(1, cells.shape[2]):
        frontier = np.maximum(frontier, cells[:, :, g])
    exponent = inputs[a + "demand_capability_exponent"][:, None]
    demand = demand * np.where(frontier > 0, frontier, 1.0) ** exponent
    lab_tokens = demand * inputs[a + "lab_share"][:, None]
    age = (months[None, :, None] - plan.release[:, None, :]).astype(np.float64)
    decline = per_year_to_per_month(-inputs[a + "price_decline_per_year"])[:, None, None]
    at_release = (
        inputs[a + "release_price_per_mtok"][:, None]
        * plan.capability ** inputs[a + "price_capability_exponent"][:, None]
    )
    price = at_release[:, None, :] * (1 + decline) ** np.maximum(age, 0)
    tokens = lab_tokens[:, :, None] * shares
    caught_up = age >= np.rint(inputs[a + "open_source_lag_months"])[:, None, None]
    price = price * np.where(caught_up, 1 - inputs[a + "open_source_price_cut"][:, None, None], 1.0)
    tokens = tokens * np.where(
        caught_up, 1 - inputs[a + "open_source_share_loss"][:, None, None], 1.0
    )
    same_numbers(got.tokens_mtok, tokens)
    same_numbers(got.revenue, tokens * price)
    assert np.any(got.revenue[~on] == 0.0) and np.all(got.revenue[~on] == 0.0)
