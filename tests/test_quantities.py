"""Money strings, rates and distributions: parsed values checked against hand arithmetic."""

import math

import numpy as np
import pytest
from scipy import stats

from labecon.scenario.quantities import (
    Kind,
    QuantityError,
    parse_quantity,
    parse_scalar,
    per_year_to_per_month,
)


@pytest.mark.parametrize(
    ("text", "usd"),
    [
        ("$2.25B", 2.25e9),
        ("800M", 800e6),
        ("15bn", 15e9),
        ("$40k", 40e3),
        ("1.5 trillion", 1.5e12),
        ("$1,250,000", 1_250_000.0),
        ("2e9", 2e9),
        ("-$3M", -3e6),
        (125.5, 125.5),
    ],
)
def test_money_strings(text, usd):
    assert parse_scalar(text, Kind.MONEY) == pytest.approx(usd, rel=1e-15)


@pytest.mark.parametrize("text", ["$2.2X", "two billion", "$", "1.2.3B", "$5 bucks"])
def test_bad_money_strings_name_accepted_forms(text):
    with pytest.raises(QuantityError, match=r"not a money amount; accepted: .*\$2\.25B"):
        parse_scalar(text, Kind.MONEY)


def test_rates_as_fraction_or_percent():
    assert parse_scalar("30%", Kind.RATE) == pytest.approx(0.30)
    assert parse_scalar("2.5%", Kind.RATE) == pytest.approx(0.025)
    assert parse_scalar(0.3, Kind.RATE) == 0.3
    with pytest.raises(QuantityError, match="percentage"):
        parse_scalar("thirty%", Kind.RATE)


def test_booleans_are_not_numbers():
    with pytest.raises(QuantityError, match="boolean"):
        parse_scalar(True, Kind.NUMBER)


def test_per_year_rate_is_converted_exactly_not_divided():
    # 12.68250301% a year is exactly 1% a month: 1.01 ** 12 = 1.1268250301319698.
    monthly = per_year_to_per_month(1.01**12 - 1)
    assert monthly == pytest.approx(0.01, rel=1e-12)
    # Dividing by 12 would give 1.0569%, not 1%.
    assert abs(monthly - (1.01**12 - 1) / 12) > 5e-4


def test_shorthand_is_lognormal_with_that_90_percent_interval():
    dist = parse_quantity("3 to 10", Kind.NUMBER)
    assert dist.family == "lognormal"
    assert dist.quantile(0.05) == pytest.approx(3.0, rel=1e-12)
    assert dist.quantile(0.95) == pytest.approx(10.0, rel=1e-12)
    # Median of a lognormal with that interval: the geometric mean sqrt(3 * 10).
    assert dist.median == pytest.approx(math.sqrt(30.0), rel=1e-12)


def test_shorthand_accepts_money_and_percent():
    money = parse_quantity("$50M to $200M", Kind.MONEY)
    assert money.quantile(0.05) == pytest.approx(50e6)
    assert money.median == pytest.approx(100e6)  # sqrt(50e6 * 200e6)
    rate = parse_quantity("20% to 45%", Kind.RATE)
    assert rate.quantile(0.95) == pytest.approx(0.45)


@pytest.mark.parametrize(
    ("spec", "q", "expected"),
    [
        ({"normal": {"mean": 10, "sd": 2}}, 0.975, 10 + 2 * 1.959963984540054),
        ({"normal": {"p5": 0, "p95": 10}}, 0.5, 5.0),
        ({"uniform": {"low": 2, "high": 6}}, 0.25, 3.0),
        ({"triangular": {"low": 0, "mode": 0, "high": 1}}, 0.75, 1 - math.sqrt(0.25)),
        ({"lognormal": {"median": 4, "p95": 8}}, 0.5, 4.0),
        ({"lognormal": {"mu": 0, "sigma": 1}}, 0.5, 1.0),
        ({"beta": {"a": 1, "b": 1, "low": 10, "high": 20}}, 0.3, 13.0),
        ({"pert": {"low": 0, "mode": 5, "high": 10}}, 0.5, 5.0),  # symmetric PERT
    ],
)
def test_distribution_quantiles_by_hand(spec, q, expected):
    assert parse_quantity(spec, Kind.NUMBER).quantile(q) == pytest.approx(expected, rel=1e-9)


def test_choice_takes_values_with_weights():
    dist = parse_quantity({"choice": {"values": [1, 2, 3], "weights": [1, 1, 2]}}, Kind.NUMBER)
    u = np.array([0.1, 0.3, 0.49, 0.51, 0.99])
    # Cumulative weights 0.25, 0.5, 1.0.
    assert dist.ppf(u).tolist() == [1.0, 2.0, 2.0, 3.0, 3.0]


def test_truncation_is_exact_through_the_inverse_cdf():
    dist = parse_quantity({"normal": {"mean": 0, "sd": 1}, "min": 0}, Kind.NUMBER)
    # A standard normal truncated at 0 is the half-normal: its median is z(0.75).
    assert dist.median == pytest.approx(stats.norm.ppf(0.75), rel=1e-12)
    assert dist.quantile(0.0) == 0.0


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("10 to 3", "inverted"),
        ({"lognormal": {"p5": 10, "p95": 3}}, "inverted"),
        ({"uniform": {"low": 5, "high": 1}}, "inverted"),
        ("-1 to 3", "positive bounds"),
        ({"normal": {"mean": 1, "sd": 0}}, "sd must be positive"),
        ({"lognormal": {"p5": 1}}, "takes parameters"),
        ({"gamma": {"k": 1}}, "not a distribution"),
        ({"choice": {"values": []}}, "non-empty list"),
        ({"uniform": {"low": 0, "high": 1}, "min": 2, "max": 1}, "must be below max"),
    ],
)
def test_bad_distributions(spec, message):
    with pytest.raises(QuantityError, match=message):
        parse_quantity(spec, Kind.NUMBER)
