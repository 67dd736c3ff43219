"""The market's choice model: logit shares with switching inertia (issue 7)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from labecon.market.choice import NO_HEIR, choice, market_shares, utility

FINITE = st.floats(-5, 5, allow_nan=False)


def test_two_options_split_by_the_logit_formula() -> None:
    # u = 2 ln(2) - 1 ln(1) = ln 4 against u = 0: shares 4/5 and 1/5.
    u = utility(np.array([[2.0, 1.0]]), np.array([[1.0, 1.0]]), np.array([2.0]), np.array([1.0]))
    np.testing.assert_allclose(u, [[math.log(4.0), 0.0]], rtol=1e-15)
    np.testing.assert_allclose(choice(u, np.array([[True, True]])), [[0.8, 0.2]], rtol=1e-15)
    # Halving the first option's price at price sensitivity 1 doubles its weight: 8/9.
    u = utility(np.array([[2.0, 1.0]]), np.array([[0.5, 1.0]]), np.array([2.0]), np.array([1.0]))
    np.testing.assert_allclose(choice(u, np.array([[True, True]])), [[8 / 9, 1 / 9]], rtol=1e-14)


def test_inertia_closes_a_fixed_share_of_the_gap_each_month() -> None:
    # Option 1 arrives in month 1 with the same utility: the choice is 1/2 each, and with
    # inertia 0.25 option 0 keeps 1 - 0.25 * 0.5 = 0.875, then 0.875 - 0.25 * 0.375 = 0.78125.
    available = np.array([[[True, False], [True, True], [True, True]]])
    shares = market_shares(np.zeros((1, 3, 2)), available, np.array([0.25]))
    np.testing.assert_allclose(shares[0, :, 0], [1.0, 0.875, 0.78125], rtol=1e-15)
    np.testing.assert_allclose(shares[0, :, 1], [0.0, 0.125, 0.21875], rtol=1e-15)


def test_a_sole_option_holds_exactly_all_the_demand() -> None:
    # Before its first model customers wait on it (contracts signed before a release).
    available = np.array([[[False], [True], [True], [False]]])
    shares = market_shares(np.full((1, 4, 1), 0.7), available, np.array([0.1]))
    assert shares[0, :, 0].tolist() == [1.0, 1.0, 1.0, 1.0]  # exactly: x * 1.0 keeps x


def test_before_any_model_customers_wait_evenly_on_the_labs_only() -> None:
    available = np.array([[[False, False, False], [True, True, True]]])
    shares = market_shares(
        np.zeros((1, 2, 3)), available, np.array([1.0]), waits=np.array([True, True, False])
    )
    np.testing.assert_allclose(shares[0, 0], [0.5, 0.5, 0.0], rtol=1e-15)
    np.testing.assert_allclose(shares[0, 1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)


def test_an_acquired_option_hands_its_customers_to_its_acquirer() -> None:
    # Three equal options at 1/3 each; option 2 is acquired by option 0 in month 2.
    available = np.ones((1, 4, 3), dtype=bool)
    shares = market_shares(
        np.zeros((1, 4, 3)),
        available,
        np.array([0.5]),
        exit_month=np.array([[np.nan, np.nan, 2.0]]),
        heir=np.array([[NO_HEIR, NO_HEIR, 0]]),
    )
    np.testing.assert_allclose(shares[0, 1], [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)
    # Month 2: option 0 holds 2/3, option 1 1/3; then half the gap to 1/2 each is closed.
    np.testing.assert_allclose(shares[0, 2], [2 / 3 - 1 / 12, 1 / 3 + 1 / 12, 0.0], rtol=1e-15)
    assert shares[0, 3, 2] == 0.0


def test_a_wound_down_option_hands_its_customers_to_the_others_by_their_choice() -> None:
    available = np.ones((1, 3, 3), dtype=bool)
    u = np.zeros((1, 3, 3))
    u[:, :, 0] = math.log(3.0)  # option 0 is chosen 3x as often as option 1
    shares = market_shares(
        u, available, np.array([1.0]), exit_month=np.array([[np.nan, np.nan, 1.0]])
    )
    np.testing.assert_allclose(shares[0, 0], [0.6, 0.2, 0.2], rtol=1e-15)
    np.testing.assert_allclose(shares[0, 1], [0.75, 0.25, 0.0], rtol=1e-15)


@settings(max_examples=60, deadline=None)
@given(
    u=arrays(np.float64, (3, 12, 4), elements=FINITE),
    on=arrays(np.bool_, (3, 12, 4)),
    inertia=st.floats(0.01, 1.0),
    exits=arrays(np.float64, (3, 4), elements=st.sampled_from([np.nan, 0.0, 3.0, 7.0, 11.0])),
    heirs=arrays(np.intp, (3, 4), elements=st.integers(NO_HEIR, 3)),
)
def test_shares_sum_to_one_while_an_option_is_in_the_market(
    u: np.ndarray, on: np.ndarray, inertia: float, exits: np.ndarray, heirs: np.ndarray
) -> None:
    shares = market_shares(u, on, np.full(3, inertia), exit_month=exits, heir=heirs)
    months = np.arange(12)
    gone = exits[:, None, :] <= months[None, :, None]
    now = on & ~gone
    assert (shares >= 0).all()
    assert (shares[gone] == 0).all()  # none after an exit
    selling = now.any(axis=2)
    # While some model is on sale, only models on sale have customers.
    assert (shares[selling[:, :, None] & ~now] == 0).all()
    totals = shares.sum(axis=2)
    in_market = (~gone).any(axis=2)
    np.testing.assert_allclose(totals[in_market], 1.0, rtol=0, atol=1e-12)
    assert (totals[~in_market] == 0).all()


@settings(max_examples=40, deadline=None)
@given(
    premium=st.floats(0.1, 5.0),
    sensitivity=st.floats(0.0, 3.0),
    capability=st.floats(0.5, 20.0),
    price=st.floats(0.1, 100.0),
    better=st.floats(1.01, 4.0),
)
def test_symmetric_options_share_equally_and_a_better_model_gains(
    premium: float, sensitivity: float, capability: float, price: float, better: float
) -> None:
    caps = np.full((1, 6, 3), capability)
    prices = np.full((1, 6, 3), price)
    on = np.ones((1, 6, 3), dtype=bool)
    k = np.array([0.3])
    u = utility(caps, prices, np.array([premium]), np.array([sensitivity]))
    equal = market_shares(u, on, k)
    np.testing.assert_allclose(equal, 1 / 3, rtol=1e-12)
    caps[:, 2:, 0] *= better  # option 0's next model is better from month 2
    u = utility(caps, prices, np.array([premium]), np.array([sensitivity]))
    shares = market_shares(u, on, k)
    assert (shares[0, 2:, 0] > 1 / 3).all()
    assert (np.diff(shares[0, 2:, 0]) > 0).all()  # and keeps gaining as customers switch
