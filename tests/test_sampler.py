"""The sampler: seeded, chunk-independent, one draw per input per sample, copula correlations."""

import itertools
import re

import numpy as np
import pytest
from scipy import stats

import labecon
from labecon.errors import OptionError
from labecon.sampler import Sampler, normalise_seed, uniform_stream


def test_seed_zero_is_a_seed():
    a = uniform_stream(0, "x", 0, 5)
    b = uniform_stream(0, "x", 0, 5)
    c = uniform_stream(1, "x", 0, 5)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)
    assert normalise_seed(0) == 0


def test_none_seed_draws_fresh_entropy():
    assert normalise_seed(None) != normalise_seed(None)


@pytest.mark.parametrize("seed", [-1, 1.5, "7", True])
def test_bad_seeds_are_refused_naming_the_field(seed):
    with pytest.raises(OptionError, match="seed"):
        normalise_seed(seed)


@pytest.mark.parametrize("cuts", [[1], [3, 4], [1, 2, 3, 5, 8], [97]])
def test_streams_do_not_depend_on_chunking(cuts):
    whole = uniform_stream(42, "generations.cost_multiplier", 0, 103)
    edges = [0, *cuts, 103]
    parts = [
        uniform_stream(42, "generations.cost_multiplier", lo, hi - lo)
        for lo, hi in itertools.pairwise(edges)
    ]
    assert np.array_equal(whole, np.concatenate(parts))


def test_inputs_have_independent_named_streams():
    # Adding an input does not change the draws of another: common random numbers.
    one = labecon.load_scenario({"generations": {"cost_multiplier": "2 to 5"}})
    two = labecon.load_scenario(
        {"generations": {"cost_multiplier": "2 to 5", "first_training_cost": "$1M to $2M"}}
    )
    a = Sampler(one, 3).draw(0, 50)["generations.cost_multiplier"]
    b = Sampler(two, 3).draw(0, 50)["generations.cost_multiplier"]
    assert np.array_equal(a, b)


def test_draws_follow_their_distribution():
    scenario = labecon.load_scenario({"generations": {"cost_multiplier": "2 to 5"}})
    x = Sampler(scenario, 11).draw(0, 200_000)["generations.cost_multiplier"]
    # 90% interval [2, 5]: 5% of draws below 2 and 5% above 5; binomial SE ~0.0005.
    assert np.mean(x < 2) == pytest.approx(0.05, abs=0.003)
    assert np.mean(x > 5) == pytest.approx(0.05, abs=0.003)
    # Median of the lognormal is the geometric mean of the bounds, sqrt(10).
    assert np.median(x) == pytest.approx(np.sqrt(10.0), rel=0.005)


def test_rank_correlation_is_applied():
    scenario = labecon.load_scenario(
        {
            "generations": {"cost_multiplier": "2 to 5", "first_training_cost": "$1M to $9M"},
            "correlations": [
                {
                    "between": ["generations.cost_multiplier", "generations.first_training_cost"],
                    "rank": -0.6,
                }
            ],
        }
    )
    draws = Sampler(scenario, 5).draw(0, 100_000)
    rho = stats.spearmanr(
        draws["generations.cost_multiplier"], draws["generations.first_training_cost"]
    ).statistic
    # Gaussian copula with r = 2 sin(pi * rho_s / 6) reproduces the rank correlation; the
    # SE of Spearman's rho at n = 100,000 is about 0.002.
    assert rho == pytest.approx(-0.6, abs=0.01)
    # Margins are untouched by the copula.
    assert np.median(draws["generations.cost_multiplier"]) == pytest.approx(np.sqrt(10), rel=0.01)


def test_an_input_is_drawn_once_per_sample_and_reused():
    # The same cost multiplier drives every generation of a sample: C_2 / C_1 = C_1 / C_0.
    result = labecon.simulate(
        {
            "horizon_months": 48,
            "generations": {"count": 3, "cost_multiplier": "2 to 5"},
            "capital": {"funding": {"policy": "unlimited"}},
        },
        samples=200,
        seed=9,
    )
    cost = result.generation_values["training_cost_usd"]
    drawn = result.input_values["generations.cost_multiplier"]
    assert np.allclose(cost[:, 1] / cost[:, 0], drawn, rtol=1e-12)
    assert np.allclose(cost[:, 2] / cost[:, 1], drawn, rtol=1e-12)


def test_inputs_can_be_set_per_sample_and_keep_the_other_draws() -> None:
    name = "generations.first_training_cost"
    values = np.array([1e9, 2e9, 3e9, 4e9])
    drawn = labecon.simulate("baseline", samples=4, seed=5)
    fixed = labecon.simulate("baseline", samples=4, seed=5, inputs={name: values})
    np.testing.assert_array_equal(fixed.input_values[name], values)
    other = "revenue.api.lab_share"
    np.testing.assert_array_equal(fixed.input_values[other], drawn.input_values[other])
    single = labecon.simulate("baseline", samples=3, seed=5, inputs={name: 2e9}, chunk_size=1)
    np.testing.assert_array_equal(single.input_values[name], [2e9, 2e9, 2e9])


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"revenue.api.lab_sharex": 0.3}, "is not an input"),
        ({"analysis.discount_rate_per_year": 0.1}, "is a fixed number"),
        ({"revenue.api.lab_share": [0.1, 0.2]}, "one value per sample (4)"),
        ({"revenue.api.lab_share": float("nan")}, "not finite"),
    ],
)
def test_bad_input_overrides_are_refused(inputs: dict[str, object], message: str) -> None:
    with pytest.raises(labecon.OptionError, match=re.escape(message)):
        labecon.simulate("baseline", samples=4, inputs=inputs)  # type: ignore[arg-type]
