"""Scenario variants: ``extends`` merges a file's values over its base scenario."""

import pytest

import labecon
from labecon import ScenarioError


def test_builtin_variant_changes_only_what_it_says():
    base = labecon.load_scenario("baseline")
    plateau = labecon.load_scenario("plateau")
    assert plateau.name == "plateau"
    assert plateau.generations.max_training_cost.quantile(0.05) == pytest.approx(8e9)
    # Everything else is the baseline's.
    assert plateau.revenue == base.revenue
    assert plateau.capital == base.capital
    assert plateau.generations.cost_multiplier == base.generations.cost_multiplier


def test_file_extends_a_file_relative_to_itself(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "name: base\nhorizon_months: 24\ngenerations:\n  first_training_cost: $1B\n"
        "  cost_multiplier: 3\n"
    )
    (tmp_path / "variant.yaml").write_text(
        "extends: base.yaml\ngenerations:\n  cost_multiplier: 2\n"
    )
    variant = labecon.load_scenario(tmp_path / "variant.yaml")
    assert variant.horizon_months == 24
    assert variant.generations.first_training_cost == 1e9
    assert variant.generations.cost_multiplier == 2.0
    assert variant.name == "variant"  # not the base's name


def test_a_distribution_replaces_a_distribution_whole(tmp_path):
    (tmp_path / "base.yaml").write_text(
        "generations:\n  cost_multiplier: {lognormal: {p5: 2, p95: 5}, max: 4}\n"
    )
    (tmp_path / "variant.yaml").write_text(
        "extends: base.yaml\ngenerations:\n  cost_multiplier: {uniform: {low: 1, high: 2}}\n"
    )
    dist = labecon.load_scenario(tmp_path / "variant.yaml").generations.cost_multiplier
    assert dist.family == "uniform"
    assert dist.high is None  # the base's max does not leak into the new distribution


def test_cycles_are_refused(tmp_path):
    (tmp_path / "a.yaml").write_text("extends: b.yaml\n")
    (tmp_path / "b.yaml").write_text("extends: a.yaml\n")
    with pytest.raises(ScenarioError, match="forms a cycle"):
        labecon.load_scenario(tmp_path / "a.yaml")


def test_problems_in_the_base_are_named_through_extends(tmp_path):
    (tmp_path / "base.yaml").write_text("generations:\n  cost_multipler: 3\n")
    (tmp_path / "variant.yaml").write_text("extends: base.yaml\n")
    with pytest.raises(ScenarioError) as info:
        labecon.load_scenario(tmp_path / "variant.yaml")
    assert info.value.problems[0].path == "generations.cost_multipler"


def test_unknown_base_is_named(tmp_path):
    (tmp_path / "variant.yaml").write_text("extends: basline\n")
    with pytest.raises(ScenarioError) as info:
        labecon.load_scenario(tmp_path / "variant.yaml")
    assert info.value.problems[0].path == "extends -> scenario"
    assert "did you mean 'baseline'" in str(info.value)
