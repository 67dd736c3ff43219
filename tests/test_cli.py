"""The labecon command line: results, files, errors and formatting."""

from __future__ import annotations

import io
import json
import math
import os
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner, Result

import labecon
from labecon import cli
from labecon.cli import app
from labecon.market.loading import builtin_market_names

runner = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"})

BAD_SCENARIO = """\
name: bad
horizn_months: 12
generations:
  first_training_cost: lots of money
"""


def invoke(*args: str) -> Result:
    return runner.invoke(app, list(args))


# -- run ---------------------------------------------------------------------------------------
def test_run_json_reproduces_amodei_operating_income() -> None:
    result = invoke("run", "amodei", "--samples", "5", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # stdout holds one JSON document and nothing else
    assert document["scenario"] == "amodei"
    assert document["samples"] == 5
    assert document["years"] == [2023, 2024, 2025, 2026]
    p50 = document["views"]["expensed"]["operating_income"]["p50"]
    assert p50 == pytest.approx([-1e8, -8e8, -8e9, -8e10], abs=0.01)


def test_run_json_passes_the_seed() -> None:
    result = invoke("run", "amodei", "--samples", "3", "--seed", "7", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["seed"] == 7


def test_run_prints_a_summary_with_human_money() -> None:
    result = invoke("run", "amodei", "--samples", "5")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "amodei" in out
    assert "samples 5" in out
    assert "horizon 48 months (2023-01 to 2026-12)" in out
    # 2024: $200M revenue, $1B training, -$800M operating income.
    row_2024 = next(line for line in out.splitlines() if line.startswith("2024"))
    assert row_2024.split() == ["2024", "$200M", "$0", "$1.0B", "$0", "-$800M"]
    row_gen0 = next(line for line in out.splitlines() if line.split()[:2] == ["0", "2024-01"])
    assert "2.00x" in row_gen0
    assert "6.0 mo" in row_gen0
    assert "$88.9B median" in out  # capital need: 0.1 + 0.8 + 8 + 80 $B


def test_run_out_writes_the_four_files(tmp_path: Path) -> None:
    out = tmp_path / "results" / "amodei"
    result = invoke("run", "amodei", "--samples", "5", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(cli.OUTPUT_FILES)
    assert str(out.resolve()) in result.stdout

    annual = pd.read_csv(out / "annual.csv")
    assert list(annual.columns) == ["view", "item", "year", *labecon.STATS]
    assert set(annual["view"]) == {
        "expensed",
        "capitalised",
        "cash",
        "channels",
        "compute",
        "watch",
    }
    row = annual[
        (annual["view"] == "expensed")
        & (annual["item"] == "operating_income")
        & (annual["year"] == 2024)
    ]
    assert len(row) == 1
    assert row["p50"].iloc[0] == pytest.approx(-8e8, abs=0.01)

    generations = pd.read_csv(out / "generations.csv")
    assert list(generations.columns[:3]) == ["stat", "generation", "training_start_month"]
    assert len(generations) == 4 * len(labecon.STATS)
    first = generations[(generations["stat"] == "p50") & (generations["generation"] == 0)]
    assert first["roi_multiple"].iloc[0] == pytest.approx(2.0)
    assert first["payback_months"].iloc[0] == pytest.approx(6.0)  # $100M at $200M/12 a month
    assert first["release_month"].iloc[0] == "2024-01"

    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["samples"] == 5
    assert metrics["capital_need_usd"]["p50"] == pytest.approx(88.9e9)
    document = json.loads((out / "result.json").read_text())
    assert document["views"]["expensed"]["revenue"]["p50"][1] == pytest.approx(2e8)


def test_run_json_with_out_keeps_stdout_pure(tmp_path: Path) -> None:
    result = invoke("run", "amodei", "--samples", "2", "--json", "--out", str(tmp_path / "o"))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["samples"] == 2
    assert str((tmp_path / "o").resolve()) in result.stderr
    assert (tmp_path / "o" / "result.json").is_file()


def test_run_out_into_an_existing_file_fails_and_leaves_it(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me\n")
    result = invoke("run", "amodei", "--samples", "5", "--out", str(target))
    assert result.exit_code == 2
    assert "--out" in result.stderr
    assert "existing file" in result.stderr
    assert "Traceback" not in result.output
    assert target.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_run_out_write_failure_exits_2_without_partial_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "annual.csv").write_text("old\n")

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli.os, "replace", full_disk)
    result = invoke("run", "amodei", "--samples", "5", "--out", str(out))
    assert result.exit_code == 2
    assert "No space left on device" in result.stderr
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["annual.csv"]  # no staging folder left
    assert (out / "annual.csv").read_text() == "old\n"


def test_run_missing_file_names_it_without_traceback(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = invoke("run", str(missing))
    assert result.exit_code == 2
    assert str(missing) in result.stderr
    assert "no such scenario file" in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_run_unknown_name_suggests_the_builtin() -> None:
    result = invoke("run", "amodej")
    assert result.exit_code == 2
    assert "did you mean 'amodei'?" in result.stderr


def test_run_invalid_scenario_lists_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_SCENARIO)
    result = invoke("run", str(path))
    assert result.exit_code == 2
    assert "2 problems" in result.stderr
    assert "horizn_months" in result.stderr
    assert "generations.first_training_cost" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("option", "value", "field"),
    [("--samples", "0", "samples"), ("--samples", "-4", "samples"), ("--seed", "-1", "seed")],
)
def test_run_bad_option_exits_2_naming_it(option: str, value: str, field: str) -> None:
    result = invoke("run", "amodei", option, value)
    assert result.exit_code == 2
    assert f"{field}: {value}" in result.stderr
    assert "accepted" in result.stderr
    assert "Traceback" not in result.output


# -- validate, examples, schema, version -------------------------------------------------------
def test_validate_reports_every_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BAD_SCENARIO)
    result = invoke("validate", str(path))
    assert result.exit_code == 1
    assert "2 problems" in result.output
    assert "horizn_months: unknown field; did you mean 'horizon_months'?" in result.output
    assert "generations.first_training_cost:" in result.output
    assert "(given: 'lots of money')" in result.output


def test_validate_counts_uncertain_inputs(tmp_path: Path) -> None:
    path = tmp_path / "lab.yaml"
    path.write_text("name: lab\ngenerations:\n  cost_multiplier: 2 to 5\n")
    result = invoke("validate", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "OK: lab is valid (1 uncertain input)"
    builtin = invoke("validate", "amodei")
    assert builtin.exit_code == 0
    assert builtin.stdout.strip() == "OK: amodei is valid (0 uncertain inputs)"


def test_examples_lists_the_builtins() -> None:
    result = invoke("examples")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # The built-in scenarios, then the built-in markets.
    names = labecon.scenario.loading.builtin_names() + builtin_market_names()
    assert [line.split()[0] for line in lines] == names
    amodei = next(line for line in lines if line.startswith("amodei "))
    assert "Model as a company, Amodei's worked example" in amodei
    # Descriptions start in one column: names are padded to the longest.
    starts = {len(line) - len(line[len(line.split()[0]) :].lstrip()) for line in lines}
    assert starts == {max(len(n) for n in names) + 2}


def test_schema_is_the_scenario_json_schema() -> None:
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "generations" in schema["properties"]
    assert schema == labecon.Scenario.model_json_schema()


def test_version() -> None:
    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"labecon {labecon.__version__}"


def test_no_arguments_shows_help() -> None:
    result = invoke()
    assert "run" in result.output
    assert "validate" in result.output
    assert "Traceback" not in result.output


# -- formatting --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.234e9, "$1.23B"),
        (-8e8, "-$800M"),
        (12_500, "$12.5k"),
        (4e12, "$4.0T"),
        (999.6e6, "$1.0B"),
        (88.9e9, "$88.9B"),
        (1.2e9, "$1.2B"),
        (950, "$950"),
        (1_234e12, "$1,230T"),  # three significant figures
        (0.0, "$0"),
        (-1e-9, "$0"),
        (math.nan, "—"),
        (None, "—"),
    ],
)
def test_format_money(value: float | None, text: str) -> None:
    assert cli.format_money(value) == text


def test_other_formats() -> None:
    assert cli.format_percent(0.0) == "0%"
    assert cli.format_percent(0.004) == "<1%"
    assert cli.format_percent(0.375) == "38%"
    assert cli.format_percent(0.999) == ">99%"
    assert cli.format_percent(1.0) == "100%"
    assert cli.format_rate(1.0) == "100%"
    assert cli.format_rate(0.085) == "8.5%"
    assert cli.format_rate(-0.4) == "-40%"
    assert cli.format_multiple(2.0) == "2.00x"
    assert cli.format_months(6.0) == "6.0 mo"
    assert cli.format_months(math.nan) == "—"
    assert cli.format_range(1e9, 2.5e9) == "$1.0B … $2.5B"
    assert cli.format_range(1e9, 1e9) == ""


# -- progress and output plumbing --------------------------------------------------------------
def test_progress_bar_appears_only_after_a_second() -> None:
    now = [100.0]
    stream = io.StringIO()
    progress = cli.DelayedProgress(
        Console(file=stream, force_terminal=True, width=100), "Simulating", clock=lambda: now[0]
    )
    now[0] = 100.9
    progress(10, 100)
    assert not progress.shown
    assert stream.getvalue() == ""
    now[0] = 101.5
    progress(20, 100)
    assert progress.shown
    progress(100, 100)
    progress.close()
    assert "Simulating" in stream.getvalue()


def test_progress_chunk_size() -> None:
    amodei = labecon.load_scenario("amodei")
    assert cli.progress_chunk_size(amodei, 2_000) is None
    assert cli.progress_chunk_size(amodei, 200_000) == 4_000  # 50 ticks
    big = amodei.model_copy(update={"horizon_months": 600})
    bound = labecon.api.default_chunk_size(big, 10_000_000)
    assert bound < 10_000_000 // 50
    assert cli.progress_chunk_size(big, 10_000_000) == bound  # memory bound wins


def test_write_outputs_replaces_whole_files(tmp_path: Path) -> None:
    out = tmp_path / "new" / "dir"
    written = cli.write_outputs(out, {"a.txt": "one\n", "b.txt": "two\n"})
    assert written == out.resolve()
    assert sorted(os.listdir(out)) == ["a.txt", "b.txt"]
    cli.write_outputs(out, {"a.txt": "three\n"})
    assert (out / "a.txt").read_text() == "three\n"
    assert (out / "b.txt").read_text() == "two\n"


def test_write_outputs_failure_removes_a_directory_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(src: object, dst: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(cli.os, "replace", broken)
    with pytest.raises(OSError, match="Input/output error"):
        cli.write_outputs(tmp_path / "fresh", {"a.txt": "x"})
    assert list(tmp_path.iterdir()) == []
