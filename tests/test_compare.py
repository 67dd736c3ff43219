"""labecon.compare and `labecon compare`: common random numbers and paired differences.

Reference numbers are hand calculations written next to each assertion; the amodei scenario
(generation g costs $100M * 10^g, trains over calendar year 2023 + g and earns its revenue
multiple times its cost over the next year; no other costs; losses funded without limit) is
small enough to work out by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

import labecon
from labecon import cli
from labecon.cli import app
from labecon.compare import TABLE_COLUMNS, paired_difference

runner = CliRunner(env={"COLUMNS": "120", "NO_COLOR": "1"})
B = 1e9
CENT = 0.01  # [USD]
BASE_METRICS = [
    "breakeven_month",
    "cash_breakeven_month",
    "capital_need_usd",
    "equity_raised_usd",
    "ending_cash_usd",
    "ownership_at_horizon",
    "insolvent",
    "insolvency_month",
    "cumulative_operating_income_usd",
]
# amodei with every model returning 3x its training cost instead of 2x.
AMODEI_3X: dict[str, Any] = {
    "extends": "amodei",
    "name": "amodei-3x",
    "revenue": {"top_down": {"revenue_multiple": 3}},
}


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def row(table: pd.DataFrame, metric: str, scenario: str) -> dict[str, Any]:
    rows = table[(table["metric"] == metric) & (table["scenario"] == scenario)]
    assert len(rows) == 1, (metric, scenario)
    return {str(k): v for k, v in rows.iloc[0].to_dict().items()}


# -- the paired difference ---------------------------------------------------------------------
def test_paired_difference_by_hand() -> None:
    # d = b - a = [1, 0, 2, 0]: mean 0.75; deviations 0.25, -0.75, 1.25, -0.75, squares sum to
    # 0.0625 + 0.5625 + 1.5625 + 0.5625 = 2.75; sd = sqrt(2.75 / 3); SE = sd / sqrt(4).
    mean, se = paired_difference(np.array([1.0, 2, 3, 4]), np.array([2.0, 2, 5, 4]))
    assert mean == pytest.approx(0.75, abs=1e-15)
    assert se == pytest.approx(math.sqrt(2.75 / 3) / 2, rel=1e-12)


def test_paired_difference_pairs_only_samples_where_both_are_numbers() -> None:
    # Only sample 0 has both values: d = 2 - 1 = 1; one pair has no standard error.
    mean, se = paired_difference(np.array([1.0, np.nan, 3]), np.array([2.0, 5, np.nan]))
    assert mean == 1.0
    assert math.isnan(se)
    mean, se = paired_difference(np.array([np.nan]), np.array([1.0]))
    assert math.isnan(mean) and math.isnan(se)


def test_paired_difference_of_a_constant_shift_is_exact() -> None:
    # Every difference is 0.1. A plain mean would give (0.1 + 0.1 + 0.1) / 3 =
    # 0.10000000000000002 and a standard deviation of rounding noise; the difference is
    # exactly 0.1 with a standard error of exactly 0.
    assert (0.1 + 0.1 + 0.1) / 3 != 0.1
    assert paired_difference(np.zeros(3), np.full(3, 0.1)) == (0.1, 0.0)
    a = np.array([0.25, 1.5, 3.0])
    assert paired_difference(a, a) == (0.0, 0.0)


# -- a scenario compared with itself ---------------------------------------------------------
@pytest.fixture(scope="module")
def baseline_twice() -> labecon.Comparison:
    return labecon.compare(["baseline", "baseline"], samples=200, seed=3)


def test_baseline_with_itself_differs_by_exactly_zero(baseline_twice: labecon.Comparison) -> None:
    table = baseline_twice.table()
    assert list(table.columns) == list(TABLE_COLUMNS)
    # baseline runs from 2026-01 for 120 months: calendar years 2026 to 2035.
    years = list(range(2026, 2036))
    assert baseline_twice.years == tuple(years)
    assert list(baseline_twice.metrics) == BASE_METRICS + [f"operating_income_{y}" for y in years]
    assert baseline_twice.labels == ("baseline", "baseline (2)")
    second = table[table["scenario"] == "baseline (2)"]
    assert len(second) == len(baseline_twice.metrics)
    # Same scenario, same seed, same sample index: every per-sample difference is 0.
    assert (second["diff_mean"] == 0.0).all()
    assert (second["diff_se"] == 0.0).all()
    first = table[table["scenario"] == "baseline"]
    for column in ("mean", "p5", "p50", "p95", "probability"):
        assert first[column].tolist() == pytest.approx(second[column].tolist(), abs=0, nan_ok=True)
    assert first["median_month"].tolist() == second["median_month"].tolist()
    for metric in baseline_twice.metrics:
        assert (baseline_twice.differences(metric, "baseline (2)") == 0).all()


def test_baseline_with_itself_uses_one_seed_for_both(baseline_twice: labecon.Comparison) -> None:
    assert baseline_twice.seed == 3
    assert [r.seed for r in baseline_twice.results] == [3, 3]
    assert [r.sample_count for r in baseline_twice.results] == [200, 200]


def test_a_fresh_seed_is_shared_by_every_scenario() -> None:
    comparison = labecon.compare(["amodei", "amodei"], samples=2, seed=None)
    assert comparison.results[0].seed == comparison.results[1].seed == comparison.seed


def test_month_metrics_read_as_probability_and_median_month(
    baseline_twice: labecon.Comparison,
) -> None:
    table = baseline_twice.table()
    reached = ~np.isnan(baseline_twice.values("breakeven_month", "baseline"))
    entry = row(table, "breakeven_month", "baseline")
    assert entry["probability"] == pytest.approx(reached.mean(), abs=1e-15)
    assert math.isnan(entry["mean"])
    # The median month is the one Result.metrics() reports for the same run.
    assert entry["median_month"] == baseline_twice.results[0].metrics()["breakeven_month"]["p50"]


# -- a constant changed: hand calculations -----------------------------------------------------
@pytest.fixture(scope="module")
def amodei_3x() -> labecon.Comparison:
    # No uncertain input: every sample is the worked example.
    return labecon.compare(["amodei", AMODEI_3X], samples=3)


def test_a_higher_revenue_multiple_by_hand(amodei_3x: labecon.Comparison) -> None:
    table = amodei_3x.table()
    assert amodei_3x.labels == ("amodei", "amodei-3x")
    # Generations 0..2 ($0.1B, $1B, $10B) are released within 2023-2026 and earn 3x instead
    # of 2x their cost there: +(3 - 2) * 11.1B = +$11.1B; generation 3 releases in 2027.
    cumulative = row(table, "cumulative_operating_income_usd", "amodei-3x")
    assert cumulative["diff_mean"] == pytest.approx(11.1 * B, abs=CENT)
    assert cumulative["diff_se"] == 0.0
    # Levels: 2x loses 0.1 + 0.8 + 8 + 80 = $88.9B; 3x loses 0.1 + 0.7 + 7 + 70 = $77.8B.
    assert row(table, "cumulative_operating_income_usd", "amodei")["mean"] == pytest.approx(
        -88.9 * B, abs=CENT
    )
    assert cumulative["mean"] == pytest.approx(-77.8 * B, abs=CENT)
    # Every month still burns cash (2026: $2.5B/month of revenue vs $8.33B of training), so
    # the capital need is the whole loss, raised as it comes: $11.1B less.
    for metric in ("capital_need_usd", "equity_raised_usd"):
        entry = row(table, metric, "amodei-3x")
        assert entry["diff_mean"] == pytest.approx(-11.1 * B, abs=CENT)
        assert entry["diff_se"] == 0.0
    # By year: 2023 nothing on sale; then +1x of $0.1B, $1B and $10B.
    for year, change in zip(range(2023, 2027), [0.0, 0.1 * B, 1 * B, 10 * B], strict=True):
        entry = row(table, f"operating_income_{year}", "amodei-3x")
        assert entry["diff_mean"] == pytest.approx(change, abs=CENT)
        assert entry["diff_se"] == 0.0
    # Unlimited funding: no dilution, never insolvent, no breakeven within the horizon.
    assert row(table, "ownership_at_horizon", "amodei-3x")["mean"] == 1.0
    for metric in ("insolvent", "breakeven_month", "cash_breakeven_month"):
        entry = row(table, metric, "amodei-3x")
        assert entry["probability"] == 0.0
        assert (entry["diff_mean"], entry["diff_se"]) == (0.0, 0.0)


def test_the_reference_row_differs_from_itself_by_zero(amodei_3x: labecon.Comparison) -> None:
    first = amodei_3x.table().query("scenario == 'amodei'")
    assert (first["diff_mean"] == 0.0).all()
    assert (first["diff_se"] == 0.0).all()


# -- common random numbers ---------------------------------------------------------------------
def test_a_change_that_cannot_touch_a_metric_gives_exactly_zero() -> None:
    # The discount rate enters only the generations' NPV, none of the compared metrics.
    variant = {"extends": "baseline", "name": "dear", "analysis": {"discount_rate_per_year": 0.3}}
    comparison = labecon.compare(["baseline", variant], samples=150, seed=1)
    second = comparison.table().query("scenario == 'dear'")
    assert (second["diff_mean"] == 0.0).all()
    assert (second["diff_se"] == 0.0).all()


def test_paired_differences_remove_the_shared_noise() -> None:
    # The revenue multiple is uncertain and shared; the variant adds a constant $1.2B a year
    # ($100M a month) of other infrastructure. Per sample, cumulative operating income over 48
    # months falls by exactly $4.8B and the capital need rises by $4.8B, whatever the draw.
    uncertain = {
        "extends": "amodei",
        "name": "uncertain",
        "revenue": {"top_down": {"revenue_multiple": {"uniform": {"low": 1.5, "high": 2.5}}}},
    }
    costlier = {**uncertain, "name": "costlier", "costs": {"other_infrastructure_per_year": 1.2e9}}
    n = 200
    comparison = labecon.compare([uncertain, costlier], samples=n, seed=5)
    table = comparison.table()
    income = row(table, "cumulative_operating_income_usd", "costlier")
    assert income["diff_mean"] == pytest.approx(-4.8 * B, abs=1.0)
    need = row(table, "capital_need_usd", "costlier")
    assert need["diff_mean"] == pytest.approx(4.8 * B, abs=1.0)
    # Unpaired, the two runs' means would differ by noise of about sqrt(2) * sd / sqrt(n):
    # revenue of 11.1B * U(1.5, 2.5) has sd 11.1B / sqrt(12) = $3.2B, so ~$0.32B. Paired on
    # common random numbers, only float rounding is left.
    a = comparison.values("cumulative_operating_income_usd", "uncertain")
    b = comparison.values("cumulative_operating_income_usd", "costlier")
    unpaired = math.sqrt(np.var(a, ddof=1) / n + np.var(b, ddof=1) / n)
    assert unpaired == pytest.approx(
        math.sqrt(2) * 11.1 * B / math.sqrt(12) / math.sqrt(n), rel=0.2
    )
    assert income["diff_se"] < 1.0 < unpaired
    assert need["diff_se"] < 1.0


def test_inputs_that_share_a_name_share_their_uniforms() -> None:
    # baseline draws lab_share ~ U(0.22, 0.40); the variant U(0.30, 0.50). Sample i maps the
    # same uniform u_i through each: variant = 0.30 + 0.20 * (base - 0.22) / 0.18.
    variant = {
        "extends": "baseline",
        "name": "bigger share",
        "revenue": {"api": {"lab_share": {"uniform": {"low": 0.3, "high": 0.5}}}},
    }
    comparison = labecon.compare(["baseline", variant], samples=50, seed=2)
    base, other = (r.input_values for r in comparison.results)
    name = "revenue.api.lab_share"
    expected = 0.30 + 0.20 * (base[name] - 0.22) / 0.18
    assert other[name] == pytest.approx(expected, rel=1e-12)
    # Every other input keeps identical draws.
    for key in base:
        if key != name:
            assert np.array_equal(base[key], other[key]), key


def test_mean_of_differences_is_difference_of_means() -> None:
    comparison = labecon.compare(["baseline", "plateau"], samples=100, seed=4)
    table = comparison.table()
    for metric in ("capital_need_usd", "ending_cash_usd", "ownership_at_horizon"):
        a, b = row(table, metric, "baseline"), row(table, metric, "plateau")
        assert b["diff_mean"] == pytest.approx(b["mean"] - a["mean"], rel=1e-9)
    for metric in ("breakeven_month", "insolvent"):
        a, b = row(table, metric, "baseline"), row(table, metric, "plateau")
        assert b["diff_mean"] == pytest.approx(b["probability"] - a["probability"], abs=1e-12)


# -- metrics, labels and years -----------------------------------------------------------------
def test_scenarios_over_different_months_skip_yearly_metrics() -> None:
    comparison = labecon.compare(["amodei", "baseline"], samples=5)
    assert comparison.years == ()
    assert list(comparison.metrics) == BASE_METRICS
    assert not comparison.table()["metric"].str.startswith("operating_income_").any()


def test_metrics_chooses_and_orders_rows() -> None:
    comparison = labecon.compare(
        ["amodei", AMODEI_3X], samples=2, metrics=["operating_income_2025", "insolvent"]
    )
    table = comparison.table()
    assert table["metric"].tolist() == ["operating_income_2025"] * 2 + ["insolvent"] * 2
    assert row(table, "operating_income_2025", "amodei-3x")["diff_mean"] == pytest.approx(
        1 * B, abs=CENT
    )
    single = labecon.compare(["amodei", "amodei"], samples=2, metrics="capital_need_usd")
    assert single.metrics == ("capital_need_usd",)


def test_labels_name_the_scenarios() -> None:
    comparison = labecon.compare(["amodei", AMODEI_3X], samples=2, labels=["2x", "3x"])
    assert comparison.labels == ("2x", "3x")
    assert comparison.reference == "2x"
    assert comparison.result("3x").scenario.name == "amodei-3x"
    mappings = labecon.compare([{"extends": "amodei"}, {"extends": "amodei"}], samples=1)
    assert mappings.labels == ("scenario", "scenario (2)")


def test_to_dict_is_strict_json() -> None:
    comparison = labecon.compare(["amodei", AMODEI_3X], samples=2)
    document = json.loads(json.dumps(comparison.to_dict(), allow_nan=False))
    assert document["reference"] == "amodei"
    assert document["samples"] == 2
    assert [s["label"] for s in document["scenarios"]] == ["amodei", "amodei-3x"]
    assert document["years"] == [2023, 2024, 2025, 2026]
    entry = document["metrics"]["cumulative_operating_income_usd"]
    assert entry["kind"] == "money"
    assert entry["scenarios"]["amodei-3x"]["diff_mean"] == pytest.approx(11.1 * B, abs=CENT)
    # With two samples the SE can be estimated; with one it is missing (null).
    assert entry["scenarios"]["amodei-3x"]["diff_se"] == 0.0
    month = document["metrics"]["breakeven_month"]["scenarios"]["amodei"]
    assert month["median_month"] is None and month["mean"] is None
    assert month["probability"] == 0.0
    one = labecon.compare(["amodei", AMODEI_3X], samples=1).to_dict()
    assert one["metrics"]["capital_need_usd"]["scenarios"]["amodei-3x"]["diff_se"] is None


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("scenarios", [["amodei"], [], "amodei", {"extends": "amodei"}])
def test_fewer_than_two_scenarios_is_refused(scenarios: Any) -> None:
    with pytest.raises(labecon.OptionError, match=r"^scenarios: .*at least 2 scenarios"):
        labecon.compare(scenarios, samples=1)


def test_an_unknown_metric_is_refused_with_the_accepted_names() -> None:
    with pytest.raises(labecon.OptionError) as caught:
        labecon.compare(["amodei", "amodei"], samples=1, metrics=["capital_need_usd", "profit"])
    message = str(caught.value)
    assert message.startswith("metrics: 'profit'")
    assert "capital_need_usd" in message and "operating_income_2026" in message


def test_a_yearly_metric_needs_the_same_months() -> None:
    with pytest.raises(labecon.OptionError, match="same calendar months"):
        labecon.compare(["amodei", "baseline"], samples=1, metrics=["operating_income_2026"])


@pytest.mark.parametrize("metrics", [[], 3])
def test_bad_metrics_values_are_refused(metrics: Any) -> None:
    with pytest.raises(labecon.OptionError, match=r"^metrics: "):
        labecon.compare(["amodei", "amodei"], samples=1, metrics=metrics)


def test_bad_labels_are_refused() -> None:
    with pytest.raises(labecon.OptionError, match=r"^labels: .*2 non-empty strings"):
        labecon.compare(["amodei", "amodei"], samples=1, labels=["only one"])


def test_a_bad_scenario_names_its_position() -> None:
    with pytest.raises(labecon.ScenarioError) as caught:
        labecon.compare(["amodei", {"extends": "amodei", "horizon_months": "soon"}], samples=1)
    assert caught.value.source == "scenarios[1]"
    assert "horizon_months" in str(caught.value)
    with pytest.raises(labecon.ScenarioError, match=r"scenarios\[0\] \(nope\)"):
        labecon.compare(["nope", "amodei"], samples=1)


def test_bad_samples_and_seed_are_refused() -> None:
    with pytest.raises(labecon.OptionError, match=r"^samples: 0"):
        labecon.compare(["amodei", "amodei"], samples=0)
    with pytest.raises(labecon.OptionError, match=r"^seed: -1"):
        labecon.compare(["amodei", "amodei"], seed=-1)


# -- the command line --------------------------------------------------------------------------
def test_cli_compare_with_itself_json_has_zero_differences() -> None:
    result = invoke("compare", "amodei", "amodei", "--samples", "3", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # stdout holds one JSON document only
    assert document["reference"] == "amodei"
    assert [s["label"] for s in document["scenarios"]] == ["amodei", "amodei (2)"]
    assert len(document["metrics"]) == len(BASE_METRICS) + 4  # + operating income 2023-2026
    for entry in document["metrics"].values():
        for figures in entry["scenarios"].values():
            assert figures["diff_mean"] == 0.0
            assert figures["diff_se"] == 0.0


def test_cli_compare_prints_values_and_paired_differences(tmp_path: Path) -> None:
    variant = tmp_path / "amodei-3x.yaml"
    variant.write_text("extends: amodei\nrevenue:\n  top_down:\n    revenue_multiple: 3\n")
    result = invoke("compare", "amodei", str(variant), "--samples", "2", "--seed", "9")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "2 samples, seed 9" in result.stdout
    # -$88.9B vs -$77.8B, and below the second: +$11.1B with a standard error of $0.
    at = next(i for i, line in enumerate(lines) if line.startswith("Operating income, horizon"))
    assert lines[at].split()[-2:] == ["-$88.9B", "-$77.8B"]
    assert lines[at + 1].split() == ["Δ", "+$11.1B", "±", "$0"]
    at = next(i for i, line in enumerate(lines) if line.startswith("Capital need"))
    assert lines[at].split()[-2:] == ["$88.9B", "$77.8B"]
    assert lines[at + 1].split() == ["Δ", "-$11.1B", "±", "$0"]
    at = next(i for i, line in enumerate(lines) if line.startswith("P(insolvent)"))
    assert lines[at + 1].split() == ["Δ", "0.0", "pp", "±", "0.0", "pp"]


def test_cli_compare_out_writes_both_files(tmp_path: Path) -> None:
    variant = tmp_path / "amodei-3x.yaml"
    variant.write_text("extends: amodei\nrevenue:\n  top_down:\n    revenue_multiple: 3\n")
    out = tmp_path / "results" / "cmp"
    result = invoke("compare", "amodei", str(variant), "-n", "2", "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(cli.COMPARE_FILES)
    assert str(out.resolve()) in result.stderr  # stdout is JSON only
    json.loads(result.stdout)
    table = pd.read_csv(out / "compare.csv")
    assert list(table.columns) == list(TABLE_COLUMNS)
    entry = row(table, "cumulative_operating_income_usd", str(variant))
    assert entry["diff_mean"] == pytest.approx(11.1 * B, abs=CENT)
    assert entry["diff_se"] == 0.0
    document = json.loads((out / "compare.json").read_text())
    assert document["scenarios"][1]["label"] == str(variant)
    assert document["metrics"]["operating_income_2026"]["scenarios"][str(variant)][
        "diff_mean"
    ] == pytest.approx(10 * B, abs=CENT)


def test_cli_compare_names_the_scenario_that_fails() -> None:
    result = invoke("compare", "amodei", "nope")
    assert result.exit_code == 2
    assert "scenario 'nope'" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_cli_compare_needs_two_scenarios() -> None:
    for args in (["compare", "amodei"], ["compare"]):
        result = invoke(*args)
        assert result.exit_code == 2
        assert "scenarios:" in result.stderr
        assert "at least 2 scenarios" in result.stderr
        assert "Traceback" not in result.output


def test_cli_compare_refuses_an_unknown_metric(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = invoke("compare", "amodei", "amodei", "-n", "1", "--metric", "profit", "-o", str(out))
    assert result.exit_code == 2
    assert "metrics: 'profit'" in result.stderr
    assert "capital_need_usd" in result.stderr
    assert not out.exists()  # nothing written


def test_cli_compare_metric_option_selects_rows() -> None:
    result = invoke("compare", "amodei", "amodei", "-n", "1", "-m", "capital_need_usd", "--json")
    assert result.exit_code == 0, result.output
    assert list(json.loads(result.stdout)["metrics"]) == ["capital_need_usd"]


def test_cli_compare_refuses_bad_options_before_writing(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = invoke("compare", "amodei", "amodei", "-n", "1", "--out", str(blocker))
    assert result.exit_code == 2
    assert "existing file" in result.stderr
    assert blocker.read_text() == "x"
    out = tmp_path / "o"
    result = invoke("compare", "amodei", "amodei", "--samples", "0", "--out", str(out))
    assert result.exit_code == 2
    assert "samples: 0" in result.stderr
    assert not out.exists()
    assert "Traceback" not in result.output
