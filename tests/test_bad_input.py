"""Bad scenarios: one test per class of bad input; each message names the field and value."""

import textwrap

import numpy as np
import pytest

import labecon
from labecon import ScenarioError
from labecon.errors import OptionError


def problems_of(data):
    with pytest.raises(ScenarioError) as info:
        labecon.load_scenario(data)
    return info.value.problems, str(info.value)


def test_unknown_field_is_named_with_a_suggestion():
    problems, text = problems_of({"generations": {"cost_multipler": 10}})
    assert [p.path for p in problems] == ["generations.cost_multipler"]
    assert "unknown field" in text
    assert "did you mean 'cost_multiplier'" in text


def test_unknown_top_level_section():
    problems, text = problems_of({"generationz": {}})
    assert problems[0].path == "generationz"
    assert "did you mean 'generations'" in text


def test_wrong_type_names_field_value_and_accepted_forms():
    problems, text = problems_of({"generations": {"first_training_cost": [1, 2]}})
    assert problems[0].path == "generations.first_training_cost"
    assert "[1, 2]" in text
    assert "accepted" in text


def test_wrong_type_of_section():
    problems, _ = problems_of({"lifecycle": "long"})
    assert problems[0].path == "lifecycle"


def test_bad_money_string():
    problems, text = problems_of({"generations": {"first_training_cost": "$2.2X"}})
    assert problems[0].path == "generations.first_training_cost"
    assert "'$2.2X'" in text
    assert '"$2.25B"' in text  # what is accepted


def test_inverted_interval():
    problems, text = problems_of({"generations": {"cost_multiplier": "5 to 2"}})
    assert problems[0].path == "generations.cost_multiplier"
    assert "inverted" in text


def test_negative_cost():
    problems, text = problems_of({"generations": {"first_training_cost": "-$5M"}})
    assert problems[0].path == "generations.first_training_cost"
    assert "must be >= 0, got -5e+06" in text


def test_distribution_that_can_go_negative_for_a_cost_is_refused_with_a_fix():
    problems, text = problems_of(
        {"generations": {"first_training_cost": {"normal": {"mean": 1e8, "sd": 5e7}}}}
    )
    assert problems[0].path == "generations.first_training_cost"
    assert "truncate it with min" in text


def test_share_above_one():
    problems, text = problems_of({"revenue": {"api": {"lab_share": "130%"}}})
    assert problems[0].path == "revenue.api.lab_share"
    assert "must be <= 1, got 1.3" in text


def test_correlation_matrix_not_positive_definite():
    data = {
        "generations": {
            "cost_multiplier": "2 to 5",
            "first_training_cost": "$1M to $5M",
            "capability_gain": "1.1 to 2",
        },
        # a ~ b and a ~ c strongly positive but b ~ c strongly negative: impossible together.
        "correlations": [
            {
                "between": ["generations.cost_multiplier", "generations.first_training_cost"],
                "rank": 0.9,
            },
            {
                "between": ["generations.cost_multiplier", "generations.capability_gain"],
                "rank": 0.9,
            },
            {
                "between": ["generations.first_training_cost", "generations.capability_gain"],
                "rank": -0.9,
            },
        ],
    }
    problems, text = problems_of(data)
    assert problems[0].path == "correlations"
    assert "not positive definite" in text
    assert "generations.capability_gain" in text


def test_correlation_naming_an_unknown_or_fixed_input():
    problems, text = problems_of(
        {
            "generations": {"cost_multiplier": "2 to 5"},
            "correlations": [
                {
                    "between": ["generations.cost_multiplier", "generations.first_training_cost"],
                    "rank": 0.5,
                },
                {
                    "between": ["generations.cost_multiplier", "generations.cost_multplier"],
                    "rank": 0.5,
                },
            ],
        }
    )
    paths = [p.path for p in problems]
    assert paths == ["correlations.0.between", "correlations.1.between"]
    assert "is a fixed number, not a distribution" in text
    assert "did you mean 'generations.cost_multiplier'" in text


def test_correlation_outside_minus_one_to_one():
    problems, _ = problems_of(
        {
            "generations": {"cost_multiplier": "2 to 5", "first_training_cost": "1M to 2M"},
            "correlations": [
                {
                    "between": ["generations.cost_multiplier", "generations.first_training_cost"],
                    "rank": 1.5,
                }
            ],
        }
    )
    assert problems[0].path == "correlations.0.rank"


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(ScenarioError) as info:
        labecon.load_scenario(missing)
    assert info.value.problems[0].path == "file"
    assert str(missing) in str(info.value)
    assert "no such scenario file" in str(info.value)


def test_unknown_builtin_name_lists_the_builtins():
    with pytest.raises(ScenarioError) as info:
        labecon.load_scenario("amodel")
    text = str(info.value)
    assert "did you mean 'amodei'" in text
    assert "baseline" in text


def test_invalid_yaml_is_reported_not_raised_raw(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("generations: [unclosed\n")
    with pytest.raises(ScenarioError, match="is not valid YAML"):
        labecon.load_scenario(path)


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "many.yaml"
    path.write_text(
        textwrap.dedent(
            """
            horizon_months: -5
            generations:
              first_training_cost: "$2.2X"
              cost_multiplier: "5 to 2"
              experiment_overhead: -1
            lifecycle:
              legacy_retention: 150%
            revenue:
              mode: sideways
            """
        )
    )
    problems = labecon.validate(path)
    assert sorted(p.path for p in problems) == sorted(
        [
            "horizon_months",
            "generations.first_training_cost",
            "generations.cost_multiplier",
            "generations.experiment_overhead",
            "lifecycle.legacy_retention",
            "revenue.mode",
        ]
    )


def test_toml_files_load_like_yaml(tmp_path):
    path = tmp_path / "lab.toml"
    path.write_text(
        'start = "2024-01"\nhorizon_months = 24\n[generations]\nfirst_training_cost = "$1B"\n'
        'cost_multiplier = "2 to 5"\n'
    )
    scenario = labecon.load_scenario(path)
    assert scenario.generations.first_training_cost == 1e9
    assert scenario.generations.cost_multiplier.quantile(0.95) == pytest.approx(5.0)


def test_uncertain_cadence_needs_a_generation_count():
    problems, text = problems_of({"generations": {"cadence_months": "6 to 18"}})
    assert "is required when generations.cadence_months is uncertain" in text
    assert problems[0].path == "generations.count"


def test_an_input_set_outside_its_fields_range_is_refused_with_the_range() -> None:
    # The schema's ranges: a training cost cap is > 0 (USD), a retention share is <= 1.
    with pytest.raises(OptionError, match=r"'generations.max_training_cost' = -5: must be > 0"):
        labecon.simulate("baseline", samples=4, inputs={"generations.max_training_cost": -5})
    with pytest.raises(OptionError, match=r"'lifecycle.legacy_retention' = 7: must be <= 1"):
        labecon.simulate("baseline", samples=4, inputs={"lifecycle.legacy_retention": 7})
    per_sample = np.array([0.2, 0.3, 1.5, 0.4])  # one sample's value is out of range
    with pytest.raises(OptionError, match=r"= 1.5: must be <= 1, got 1.5"):
        labecon.simulate("baseline", samples=4, inputs={"lifecycle.legacy_retention": per_sample})
    kept = labecon.simulate("baseline", samples=4, inputs={"lifecycle.legacy_retention": 1.0})
    assert kept.sample_count == 4  # the bound itself is in range
