"""``labecon sensitivity``: tables, JSON, CSV output and errors (exit 2, no traceback)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from labecon.cli import app
from labecon.cli_analysis import _number, tornado_bar

runner = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"})
B = 1e9
INCOME = "cumulative_operating_income_usd"
MULTIPLE = "revenue.top_down.revenue_multiple"
COST = "generations.first_training_cost"


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


def assert_usage_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert "Traceback" not in result.output


# -- results ------------------------------------------------------------------------------------
def test_tornado_json_records_by_hand() -> None:
    result = invoke("sensitivity", "sobol-product", "--metric", INCOME, "--json")
    assert result.exit_code == 0, result.output
    records = json.loads(result.stdout)
    # sobol-product: Y = (m - 1) C, m ~ U(1.5, 3.5), C ~ U($0.5B, $1.5B); medians 2.5, $1B.
    # m at p5 = 1.6, p95 = 3.4: Y = 0.6 x $1B and 2.4 x $1B; swing $1.8B.
    # C at p5 = $0.55B, p95 = $1.45B: Y = 1.5 x 0.55 = $0.825B and 1.5 x 1.45 = $2.175B.
    assert [r["input"] for r in records] == [MULTIPLE, COST]
    assert records[0]["metric_at_low"] == pytest.approx(0.6 * B)
    assert records[0]["metric_at_high"] == pytest.approx(2.4 * B)
    assert records[0]["swing"] == pytest.approx(1.8 * B)
    assert records[1]["metric_at_low"] == pytest.approx(0.825 * B)
    assert records[1]["metric_at_high"] == pytest.approx(2.175 * B)
    assert [r["base"] for r in records] == pytest.approx([1.5 * B] * 2)
    assert set(records[0]) == {
        "input",
        "low_value",
        "high_value",
        "metric_at_low",
        "metric_at_high",
        "swing",
        "base",
    }


def test_tornado_table_shows_figures_and_bars() -> None:
    result = invoke("sensitivity", "sobol-product", "--metric", INCOME)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Tornado: cumulative_operating_income_usd of sobol-product — base $1.5B" in out
    row = next(line for line in out.splitlines() if line.strip().startswith(MULTIPLE))
    assert "1.6 → 3.4" in row and "$600M" in row and "$2.4B" in row and "$1.8B" in row
    # The largest distance from the base is m's, |2.4 - 1.5| = |0.6 - 1.5| = $0.9B: it fills
    # each half of the bar (k cells, as wide as the console allows). C's ends are
    # |0.825 - 1.5| = |2.175 - 1.5| = $0.675B away: 0.675 / 0.9 = 3/4 of k cells each side.
    match = re.search(r"(█+)│(█+)", row)
    assert match is not None and len(match.group(1)) == len(match.group(2))
    half = len(match.group(1))
    assert half >= 3
    cost_row = next(line for line in out.splitlines() if line.strip().startswith(COST))
    assert "█" * round(0.75 * half) + "│" + "█" * round(0.75 * half) + " " in cost_row + " "
    assert "█" * (round(0.75 * half) + 1) + "│" not in cost_row


def test_morris_and_sobol_tables() -> None:
    result = invoke(
        "sensitivity", "sobol-product", "-m", INCOME, "--method", "morris", "--trajectories", "8"
    )
    assert result.exit_code == 0, result.output
    assert "Morris screening: cumulative_operating_income_usd of sobol-product" in result.stdout
    assert "8 trajectories, 4 levels, 24 runs" in " ".join(result.stdout.split())  # 8 x (2 + 1)
    result = invoke("sensitivity", "sobol-product", "-m", INCOME, "--method", "sobol", "--n", "64")
    assert result.exit_code == 0, result.output
    assert "Sobol' indices" in result.stdout
    assert "n = 64, 256 runs" in " ".join(result.stdout.split())  # 64 x (2 + 2) runs


def test_out_writes_the_table_as_csv(tmp_path: Path) -> None:
    target = tmp_path / "tornado.csv"
    result = invoke("sensitivity", "sobol-product", "-m", INCOME, "--out", str(target))
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(target)
    assert frame["input"].tolist() == [MULTIPLE, COST]
    assert frame.loc[0, "swing"] == pytest.approx(1.8 * B)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tornado.csv"]  # no temporary left
    # An existing file is kept unless --force.
    again = invoke("sensitivity", "sobol-product", "-m", INCOME, "--out", str(target))
    assert_usage_error(again, "--out", "exists", "--force")
    forced = invoke("sensitivity", "sobol-product", "-m", INCOME, "-o", str(target), "--force")
    assert forced.exit_code == 0, forced.output


def test_notes_for_correlations_and_censored_months(tmp_path: Path) -> None:
    scenario = tmp_path / "short.yaml"
    # sobol-product over 18 months with m ~ U(0.5, 1.7): breakeven (trailing 12 months > 0) needs
    # m > 1 by month 17; at m's p5 (0.56) it never comes: 1 of the 5 tornado points.
    scenario.write_text(
        "extends: sobol-product\n"
        "name: short\n"
        "horizon_months: 18\n"
        "revenue: {top_down: {revenue_multiple: {uniform: {low: 0.5, high: 1.7}}}}\n"
        "correlations:\n"
        f"  - between: [{MULTIPLE}, {COST}]\n"
        "    rank: 0.3\n"
    )
    result = invoke("sensitivity", str(scenario), "-m", "breakeven_month")
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert f"rank correlations are not applied: {MULTIPLE} ~ {COST} (+0.3)" in out
    assert "not reached within the horizon in 20% of the runs" in out
    assert "count as month 18" in out


def test_input_values_are_compact() -> None:
    # A p5 of 999,999,999.9 (float noise around $1B) reads 1B, not 1e+03M; headcounts stay
    # whole below 10,000; fractions keep three significant figures.
    assert [_number(v) for v in (999_999_999.9, 2.5e10, 4.5e5, 2000.0, 4500.0, 0.155, 7.0)] == [
        "1B",
        "25B",
        "450k",
        "2000",
        "4500",
        "0.155",
        "7",
    ]


def test_tornado_bar_cells() -> None:
    # Base 5, largest distance 6 over 4 cells: p5 end at 2 is 3 below (2 cells), p95 end at 8
    # is 3 above (2 cells).
    assert tornado_bar(2.0, 8.0, 5.0, 6.0, half=4).plain == "  ██│██"
    # Both ends above the base: the farther (8, 3 of 3) fills the right side.
    assert tornado_bar(6.0, 8.0, 5.0, 3.0, half=3).plain == "   │███"
    assert tornado_bar(5.0, 5.0, 5.0, 0.0, half=2).plain == "  │"


# -- errors ---------------------------------------------------------------------------------
def test_unknown_metric() -> None:
    result = invoke("sensitivity", "sobol-product", "--metric", "profit", "--method", "sobol")
    assert_usage_error(result, "metric: 'profit' is not a metric", "accepted:", "insolvent")


def test_sobol_without_uncertain_inputs() -> None:
    result = invoke("sensitivity", "amodei", "--metric", INCOME, "--method", "sobol")
    assert_usage_error(result, "scenario: 'amodei' has no uncertain input", "so sobol has nothing")


def test_bad_options() -> None:
    result = invoke("sensitivity", "sobol-product", "-m", INCOME, "--method", "fast")
    assert_usage_error(result, "--method: 'fast' is not accepted; accepted: tornado, morris")
    result = invoke("sensitivity", "sobol-product", "-m", INCOME, "--n", "64")
    assert_usage_error(result, "--n: applies to --method sobol only, not tornado", "--samples")
    result = invoke("sensitivity", "sobol-product", "-m", INCOME, "--method", "sobol", "--n", "100")
    assert_usage_error(result, "n: 100 is not accepted", "power of 2")
    result = invoke("sensitivity", "sobol-product", "-m", INCOME, "-i", "revenue.top_down.x")
    assert_usage_error(result, "inputs: 'revenue.top_down.x' is not an input", MULTIPLE)


def test_bad_scenario_lists_its_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("horizn_months: 12\n")
    result = invoke("sensitivity", str(bad), "-m", INCOME)
    assert_usage_error(result, "horizn_months", "unknown field")
    missing = invoke("sensitivity", "no-such-scenario", "-m", INCOME)
    assert missing.exit_code == 2 and "Traceback" not in missing.output
