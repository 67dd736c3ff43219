"""Calibration: targets, recovery of known inputs, the written scenario, backtests, errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import labecon
from labecon.calibration import (
    CalibrationError,
    _period_months,
    builtin_target_sets,
    calibrate,
    load_targets,
    weighted_quantile,
)
from labecon.calibration.backtest import backtest
from labecon.cli import app
from labecon.scenario.quantities import Distribution

runner = CliRunner(env={"COLUMNS": "140", "NO_COLOR": "1"})
B = 1e9
DEMAND = "revenue.api.demand_mtok_per_month"
GROWTH = "revenue.api.demand_growth_per_year"
TRUE_DEMAND, TRUE_GROWTH = 2e8, 1.2


def toy(demand: Any = "5e7 to 1e9", growth: Any = None) -> dict[str, Any]:
    """A small lab whose training cost and price stay uncertain (the nuisance inputs)."""
    return {
        "name": "toy",
        "start": "2024-01",
        "horizon_months": 48,
        "generations": {
            "first_training_start_month": -9,
            "cadence_months": 12,
            "training_months": 9,
            "first_training_cost": "$0.5B to $1.5B",
            "cost_multiplier": "2 to 3",
        },
        "revenue": {
            "mode": "bottom_up",
            "api": {
                "demand_mtok_per_month": demand,
                "demand_growth_per_year": growth
                if growth is not None
                else {"uniform": {"low": 0.3, "high": 3.0}},
                "lab_share": 0.3,
                "release_price_per_mtok": "$8 to $12",
            },
        },
    }


def observed_targets(samples: int = 400) -> list[dict[str, Any]]:
    """Medians of a run with the true inputs, read from the Result (not the calibrator)."""
    truth = labecon.simulate(toy(TRUE_DEMAND, TRUE_GROWTH), samples=samples, seed=0)
    revenue_2024 = float(np.median(truth.annual_samples("expensed", "revenue")[:, 0]))
    month = 12 * 2 + 5  # 2026-06 is 29 months after 2024-01
    run_rate = float(np.median(12 * truth.samples("expensed", "revenue")[:, month]))
    net_loss = float(np.median(-truth.annual_samples("expensed", "net_income")[:, 1]))
    return [
        {"metric": "revenue", "year": 2024, "value": revenue_2024, "uncertainty": "5%"},
        {"metric": "run_rate", "month": "2026-06", "value": run_rate, "uncertainty": "5%"},
        {"metric": "net_loss", "year": 2025, "value": net_loss, "sd": "$1B"},
    ]


@pytest.fixture(scope="module")
def recovered() -> labecon.calibration.Calibration:
    return calibrate(
        toy(),
        {"targets": observed_targets()},
        [DEMAND, GROWTH],
        start={DEMAND: 6e8, GROWTH: 2.5},  # far from the truth
        samples=2000,
    )


def test_point_fit_recovers_known_inputs(recovered: Any) -> None:
    # Same seed and the same nuisance draws: the medians match only at the true inputs.
    assert recovered.point.values[DEMAND] == pytest.approx(TRUE_DEMAND, rel=0.01)
    assert recovered.point.values[GROWTH] == pytest.approx(TRUE_GROWTH, rel=0.01)
    assert recovered.point.success
    assert recovered.point.cost < 1e-3


def test_posterior_covers_the_truth_and_narrows_the_prior(recovered: Any) -> None:
    table = recovered.inputs_table()
    for name, truth in ((DEMAND, TRUE_DEMAND), (GROWTH, TRUE_GROWTH)):
        row = table.loc[name]
        assert row["posterior_p5"] <= truth <= row["posterior_p95"]
        prior_width = row["prior_p95"] - row["prior_p5"]
        assert row["posterior_p95"] - row["posterior_p5"] < 0.5 * prior_width
    assert recovered.posterior.ess > 100
    assert recovered.posterior.weights.sum() == pytest.approx(1.0)


def test_calibration_is_deterministic_under_a_seed() -> None:
    targets = {"targets": observed_targets(100)}
    one = calibrate(toy(), targets, [DEMAND], samples=300, point_samples=50, seed=3)
    two = calibrate(toy(), targets, [DEMAND], samples=300, point_samples=50, seed=3)
    assert one.point.values == two.point.values
    np.testing.assert_array_equal(one.posterior.weights, two.posterior.weights)


def test_written_scenario_loads_with_the_fit_and_its_diagnostics(
    recovered: Any, tmp_path: Path
) -> None:
    path = recovered.write(tmp_path / "fitted.yaml")
    text = path.read_text()
    assert text.startswith("# Calibrated by labecon")
    assert "effective sample size" in text
    assert "run_rate 2026-06" in text
    fitted = labecon.load_scenario(path)
    demand = fitted.revenue.api.demand_mtok_per_month
    assert isinstance(demand, Distribution)
    table = recovered.inputs_table()
    # The written lognormal has the posterior's 5% and 95% as its 90% interval (truncated to
    # the prior's support, which does not bind here).
    assert demand.quantile(0.05) == pytest.approx(table.loc[DEMAND, "posterior_p5"], rel=1e-3)
    assert demand.quantile(0.95) == pytest.approx(table.loc[DEMAND, "posterior_p95"], rel=1e-3)
    point = labecon.load_scenario(recovered.write(tmp_path / "point.yaml", "point"))
    assert point.revenue.api.demand_mtok_per_month == pytest.approx(
        recovered.point.values[DEMAND], rel=1e-12
    )


def test_weighted_quantile_by_hand() -> None:
    values = np.array([1.0, 2.0, 3.0, 4.0])
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    # Midpoint CDF: 0.05, 0.2, 0.45, 0.8 at 1, 2, 3, 4; the median lies 0.05/0.35 of the
    # way from 3 to 4.
    assert weighted_quantile(values, weights, 0.5) == pytest.approx(3 + 0.05 / 0.35)
    assert weighted_quantile(values, weights, 0.01) == 1.0
    assert weighted_quantile(values, weights, 0.99) == 4.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=30),
    st.floats(0.01, 0.99),
    st.floats(0.01, 0.99),
)
def test_weighted_quantile_is_monotone_and_within_range(
    values: list[float], q1: float, q2: float
) -> None:
    array = np.array(values)
    weights = np.linspace(1.0, 2.0, len(values))
    low, high = sorted((q1, q2))
    a, b = weighted_quantile(array, weights, low), weighted_quantile(array, weights, high)
    assert array.min() <= a <= b <= array.max()


@given(st.integers(1990, 2100), st.integers(1, 4))
def test_quarters_cover_three_months(year: int, quarter: int) -> None:
    first, last = _period_months(f"{year}-Q{quarter}")
    assert (first.year, first.month) == (year, 3 * quarter - 2)
    assert (last - first).n == 2


# -- bad input --------------------------------------------------------------------------------
def target_problem(targets: Any, fit: list[str] | None = None, scenario: Any = None) -> str:
    with pytest.raises(CalibrationError) as caught:
        calibrate(scenario or toy(), {"targets": targets}, fit or [DEMAND], samples=20)
    return str(caught.value)


def test_a_target_outside_the_horizon_is_refused() -> None:
    message = target_problem([{"metric": "revenue", "year": 2031, "value": "$1B", "sd": "$1B"}])
    assert "targets.0" in message
    assert "outside the scenario's horizon (2024-01 to 2027-12)" in message


def test_a_target_without_uncertainty_is_refused() -> None:
    message = target_problem([{"metric": "run_rate", "month": "2025-01", "value": "$3B"}])
    assert "targets.0" in message
    assert "has no uncertainty" in message
    assert "uncertainty: 15%" in message


def test_fitting_a_fixed_input_is_refused() -> None:
    targets = [{"metric": "revenue", "year": 2025, "value": "$3B", "uncertainty": "10%"}]
    message = target_problem(targets, ["revenue.api.lab_share"])
    assert "revenue.api.lab_share" in message
    assert "is a fixed number (0.3)" in message
    assert "only uncertain inputs can be fitted" in message


def test_fitting_an_unknown_input_names_a_close_one() -> None:
    targets = [{"metric": "revenue", "year": 2025, "value": "$3B", "uncertainty": "10%"}]
    message = target_problem(targets, ["revenue.api.demand_mtok_per_mont"])
    assert "did you mean 'revenue.api.demand_mtok_per_month'" in message


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"metric": "profit", "year": 2025, "value": 1, "sd": 1}, "unknown metric"),
        ({"metric": "run_rate", "year": 2025, "value": "$1B", "sd": "$1B"}, "measured at a month"),
        ({"metric": "revenue", "quarter": "2025-Q5", "value": "$1B", "sd": "$1B"}, "YYYY-Qn"),
        ({"metric": "revenue", "year": 2025, "value": "lots", "sd": "$1B"}, "not a money amount"),
        ({"metric": "revenue", "year": 2025, "value": "$1B", "uncertainty": "0%"}, "must be > 0"),
        (
            {"metric": "revenue", "year": 2025, "value": {"fact": "no.such"}, "sd": 1},
            "unknown fact",
        ),
        ({"metric": "revenue", "value": "$1B", "sd": "$1B"}, "needs exactly one of month"),
    ],
)
def test_bad_targets_name_the_field(target: dict[str, Any], message: str) -> None:
    assert message in target_problem([target])


def test_a_fact_with_a_range_gives_the_uncertainty() -> None:
    # frontier_labs.next_raise is $250-500B (seed 004): sd = 250 / 3.29 = $76.0B, and the
    # value is the range's geometric middle, sqrt(250 x 500) = $353.6B.
    parsed = load_targets(
        {
            "targets": [
                {
                    "metric": "equity_raised",
                    "year": 2027,
                    "value": {"fact": "frontier_labs.next_raise"},
                }
            ]
        }
    )
    target = parsed.targets[0]
    assert target.value == pytest.approx((250e9 * 500e9) ** 0.5)
    assert target.sd == pytest.approx(250e9 / 3.2897, rel=1e-3)
    assert target.fact == "frontier_labs.next_raise"


def test_a_fact_in_another_unit_needs_a_conversion() -> None:
    # $12-15B per GW-year is not revenue; a monthly figure is not a year's total.
    message = target_problem(
        [{"metric": "revenue", "year": 2025, "value": {"fact": "compute.cost_per_gw_year"}}]
    )
    assert "is in USD/GW-year but a revenue target over a year takes USD or USD/year" in message
    message = target_problem(
        [{"metric": "revenue", "year": 2025, "value": {"fact": "nwc.monthly_revenue"}, "sd": 1}]
    )
    assert "is in USD/month" in message
    converted = load_targets(
        {
            "targets": [
                {
                    "metric": "revenue",
                    "year": 2025,
                    "value": {"fact": "nwc.monthly_revenue", "times": "12/1"},
                    "uncertainty": "10%",
                }
            ]
        }
    )
    assert converted.targets[0].value == pytest.approx(30e9)


# -- CLI and backtests ------------------------------------------------------------------------
def test_calibrate_cli_writes_a_scenario_and_refuses_to_overwrite(tmp_path: Path) -> None:
    scenario = tmp_path / "toy.yaml"
    scenario.write_text(yaml.safe_dump(toy()))
    targets = tmp_path / "targets.yaml"
    targets.write_text(yaml.safe_dump({"fit": [DEMAND, GROWTH], "targets": observed_targets(100)}))
    out = tmp_path / "fitted.yaml"
    args = ["calibrate", str(scenario), "--targets", str(targets), "--out", str(out)]
    first = runner.invoke(app, [*args, "--samples", "300", "--point-samples", "100"])
    assert first.exit_code == 0, first.output
    assert "Calibrated scenario written to" in first.output
    assert labecon.load_scenario(out).name == "toy-calibrated"
    again = runner.invoke(app, [*args, "--samples", "300"])
    assert again.exit_code == 2
    assert "exists" in again.output


def test_calibrate_cli_refuses_an_existing_out_before_fitting(tmp_path: Path) -> None:
    out = tmp_path / "kept.yaml"
    out.write_text("precious: true\n")
    # The targets would take a fit to read; the refusal comes first and the file is kept.
    result = runner.invoke(app, ["calibrate", "amodei", "--targets", "openai", "--out", str(out)])
    assert result.exit_code == 2
    assert "exists" in result.output
    assert out.read_text() == "precious: true\n"
    missing = runner.invoke(
        app,
        ["calibrate", "amodei", "--targets", "openai", "--out", str(tmp_path / "no" / "x.yaml")],
    )
    assert missing.exit_code == 2
    assert "does not exist" in missing.output


def test_a_small_effective_sample_size_is_flagged() -> None:
    fitted = calibrate(
        toy(),
        {"targets": observed_targets(100)},
        [DEMAND, GROWTH],
        method="posterior",
        samples=50,
        max_rounds=1,
    )
    assert fitted.posterior.ess < 400
    warnings = [line for line in fitted.report_lines() if line.startswith("WARNING")]
    assert len(warnings) == 1
    assert "effective sample size" in warnings[0]


def test_a_backtest_finds_its_scenario_beside_the_targets_file(tmp_path: Path) -> None:
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump(toy()))
    targets = observed_targets(100)
    targets[1]["month"] = "2026-06"
    (tmp_path / "set.yaml").write_text(
        yaml.safe_dump(
            {"scenario": "lab.yaml", "fit": [DEMAND], "cutoff": "2025-12", "targets": targets}
        )
    )
    result = backtest(tmp_path / "set.yaml", samples=100, point_samples=50)
    assert [t.label for t in result.calibration.tracked] == ["run_rate 2026-06"]


def test_calibrate_cli_reports_bad_targets_without_a_traceback(tmp_path: Path) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text(
        yaml.safe_dump({"targets": [{"metric": "revenue", "year": 2040, "value": 1}]})
    )
    result = runner.invoke(app, ["calibrate", "amodei", "--targets", str(targets), "--fit", "x"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "has no uncertainty" in result.output


def test_builtin_target_sets_cite_facts_and_fit_their_scenarios() -> None:
    assert {"openai", "anthropic"} <= set(builtin_target_sets())
    for name in builtin_target_sets():
        targets = load_targets(name)
        scenario = labecon.load_scenario(targets.scenario)
        placed = load_targets(name, scenario)  # every target within the horizon
        assert all(t.fact for t in placed.targets)  # every figure is a sourced fact
        before, after = targets.split()
        assert before.targets and after.targets
        uncertain = dict(scenario.uncertain_inputs())
        assert all(name in uncertain for name in targets.fit)


def test_backtest_scores_only_the_held_out_figures() -> None:
    result = backtest("anthropic", samples=500, point_samples=100)
    table = result.table()
    calibration = result.calibration
    cut = "2025-12"
    assert all(t.period <= cut for t in calibration.targets.targets)
    assert all(t.period > cut for t in calibration.tracked)
    assert set(table.index) == {t.label for t in calibration.tracked}
    # Relative error by hand for one row.
    row = table.loc["run_rate 2026-04"]
    assert row["observed"] == 30e9
    assert row["posterior_error"] == pytest.approx(row["posterior_p50"] / 30e9 - 1)
    summary = result.summary()
    assert 0.0 <= summary["coverage_90"] <= 1.0
    assert summary["held_out"] == len(table)


def test_backtest_cli_json() -> None:
    result = runner.invoke(app, ["backtest", "openai", "--samples", "300", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["cutoff"] == "2025-06"
    assert {row["target"] for row in document["held_out"]} >= {"run_rate 2025-12"}
    listed = runner.invoke(app, ["backtest", "--list"])
    assert "anthropic" in listed.output and "openai" in listed.output
    unknown = runner.invoke(app, ["backtest", "opnai"])
    assert unknown.exit_code == 2
    assert "did you mean 'openai'" in unknown.output
