"""Reports: the offline HTML page in a real browser, the workbook against the CSV, Parquet."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import plotly.offline
import pytest
from typer.testing import CliRunner

import labecon
from labecon import cli
from labecon.cli import app
from labecon.errors import OptionError
from labecon.report import REPORT_FILES, content, excel, html, report_files, write_report
from labecon.scenario.explain import explain

runner = CliRunner(env={"COLUMNS": "100", "NO_COLOR": "1"})
SCENARIO, SAMPLES, SEED = "baseline", 300, 3
INSTALL_HINT = "run scripts/install-system-deps.sh (as root) or apt-get install chromium"
# Five fans, revenue by channel and by generation, one generation's waterfall, breakeven.
BASELINE_CHARTS = 9
REL = 1e-9  # the CSV keeps 12 significant digits; the workbook keeps every bit


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The files of `labecon run baseline --out DIR`."""
    out = tmp_path_factory.mktemp("report") / "baseline"
    args = ["run", SCENARIO, "--samples", str(SAMPLES), "--seed", str(SEED), "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "report.html, report.xlsx, samples.parquet to " + str(out.resolve()) in result.stdout
    return out


@pytest.fixture(scope="module")
def result() -> labecon.Result:
    """The same run in-process (same seed, same numbers, whatever the chunking)."""
    return labecon.simulate(SCENARIO, samples=SAMPLES, seed=SEED)


# -- the browser ------------------------------------------------------------------------------
def chromium_executable() -> str:
    """Debian's chromium; the test fails (never skips) with how to install it when missing."""
    for candidate in (os.environ.get("LABECON_CHROMIUM"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file():
            return candidate
    found = shutil.which("chromium")
    if found is None:
        pytest.fail(f"Chromium is not installed (no /usr/bin/chromium): {INSTALL_HINT}")
    return found


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


def open_report(browser: Any, path: Path) -> dict[str, Any]:
    """Load a report offline; return console errors, outside requests and per-chart drawing."""
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    outside: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith("file:"):
            request_route.continue_()
        else:
            outside.append(url)
            request_route.abort()

    page.route("**/*", route)
    page.goto(path.resolve().as_uri(), wait_until="load")
    charts = page.locator("figure.chart").count()
    # Plotly draws each chart's traces into an svg.main-svg; wait until all are there.
    page.wait_for_function(
        """count => {
            const figures = [...document.querySelectorAll('figure.chart')];
            return figures.length === count && figures.every(
                f => f.querySelector('.js-plotly-plot svg.main-svg .trace'));
        }""",
        arg=charts,
        timeout=30_000,
    )
    drawn = page.evaluate(
        """() => [...document.querySelectorAll('figure.chart')].map(f => {
            const svg = f.querySelector('.js-plotly-plot svg.main-svg');
            const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
            return {key: f.dataset.chart, traces: f.querySelectorAll('.main-svg .trace').length,
                    width: box.width, height: box.height};
        })"""
    )
    page.close()
    return {"errors": errors, "outside": outside, "charts": charts, "drawn": drawn}


def test_report_opens_in_chromium_with_every_chart_drawn(out_dir: Path, browser: Any) -> None:
    opened = open_report(browser, out_dir / "report.html")
    assert opened["errors"] == []
    assert opened["outside"] == []  # nothing fetched from anywhere
    assert opened["charts"] == BASELINE_CHARTS
    keys = [chart["key"] for chart in opened["drawn"]]
    assert keys == [
        "fan-revenue",
        "fan-costs",
        "fan-operating_income",
        "fan-cash",
        "fan-gw",
        "breakeven",
        "layers-channel",
        "layers-generation",
        "waterfall",
    ]
    for chart in opened["drawn"]:
        assert chart["traces"] >= 1, chart
        assert chart["width"] > 300 and chart["height"] > 200, chart


def tornado_table() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "input": ["revenue.api.lab_share", "generations.cost_multiplier", "opex.talent"],
            "metric_at_low": [-3e11, 1e11, -1.5e11],
            "metric_at_high": [1e11, -4e11, -0.5e11],
        }
    )
    frame["swing"] = (frame["metric_at_high"] - frame["metric_at_low"]).abs()
    frame["base"] = -1e11
    frame.attrs = {"method": "tornado", "metric": "cumulative_operating_income_usd"}
    return frame


def sobol_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "input": ["a", "b", "c"],
            "S1": [0.5, 0.2, 0.01],
            "S1_conf": [0.05, 0.04, 0.02],
            "ST": [0.6, 0.3, 0.05],
            "ST_conf": [0.06, 0.05, 0.02],
        }
    )


def morris_table() -> pd.DataFrame:
    return pd.DataFrame(
        {"input": ["a", "b"], "mu_star": [3.0, 1.0], "mu_star_conf": [0.3, 0.2], "sigma": [1, 2]}
    )


def test_sensitivity_charts_are_drawn_when_given(
    result: labecon.Result, browser: Any, tmp_path: Path
) -> None:
    sensitivity = {"Tornado": tornado_table(), "Sobol": sobol_table(), "Morris": morris_table()}
    path = write_report(result, tmp_path, sensitivity=sensitivity)
    opened = open_report(browser, path)
    assert opened["errors"] == []
    assert opened["charts"] == BASELINE_CHARTS + 3
    keys = [chart["key"] for chart in opened["drawn"]][BASELINE_CHARTS:]
    assert keys == [
        "sensitivity-tornado-cumulative-operating-income-usd-tornado",
        "sensitivity-sobol-sobol",
        "sensitivity-morris-morris",
    ]
    assert all(chart["traces"] >= 1 for chart in opened["drawn"])
    text = path.read_text(encoding="utf-8")
    assert "Tornado: cumulative_operating_income_usd" in text  # the outcome from attrs


# -- the HTML file ----------------------------------------------------------------------------
def test_html_embeds_plotly_once_and_points_nowhere(out_dir: Path) -> None:
    text = (out_dir / "report.html").read_text(encoding="utf-8")
    bundle = plotly.offline.get_plotlyjs()
    assert text.count(bundle) == 1
    page = text.replace(bundle, "")  # plotly.js itself mentions map-tile servers it never uses
    assert re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I) is None
    for link in re.finditer(r"https?://", page):  # only sources cited as text: <https://...>
        assert page[link.start() - 4 : link.start()] == "&lt;", page[link.start() - 80 : link.end()]
    text_only = re.sub(r'"bdata":"[^"]*"', "", page)  # chart data is base64: "cdn" can occur
    assert "cdn" not in text_only.lower()
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert page.count("<script") == BASELINE_CHARTS + 1  # one per chart, plus plotly.js
    assert len(text.encode()) < 8_000_000


def test_html_header_metrics_and_inputs(out_dir: Path, result: labecon.Result) -> None:
    text = (out_dir / "report.html").read_text(encoding="utf-8")
    assert "<h1>baseline</h1>" in text
    assert f"{SAMPLES:,} samples · seed {SEED} · horizon 120 months (2026-01 to 2035-12)" in text
    assert f"labecon {labecon.__version__}" in text
    assert "Capital need (peak cumulative burn)" in text
    capital = result.metrics()["capital_need_usd"]
    assert html.money(capital["p50"]) in text
    assert f"{html.money(capital['p5'])} … {html.money(capital['p95'])}" in text
    assert "<code>generations.cost_multiplier</code>" in text
    assert "arXiv:2405.21015" in text  # a cited fact's source, as text


# -- the workbook -----------------------------------------------------------------------------
def header_columns(sheet: Any) -> dict[tuple[str, str], int]:
    """(item, stat) -> column of a statement sheet (item merged over its stats in row 1)."""
    columns: dict[tuple[str, str], int] = {}
    item = ""
    for column in range(2, sheet.max_column + 1):
        item = sheet.cell(row=1, column=column).value or item
        columns[(item, sheet.cell(row=2, column=column).value)] = column
    return columns


def test_workbook_numbers_equal_the_csv(out_dir: Path) -> None:
    annual = pd.read_csv(out_dir / "annual.csv")
    book = openpyxl.load_workbook(out_dir / "report.xlsx")
    for view in ("expensed", "cash", "compute", "capitalised"):
        sheet = book[f"{view} yearly"]
        columns = header_columns(sheet)
        rows = {sheet.cell(row=r, column=1).value: r for r in range(3, sheet.max_row + 1)}
        frame = annual[annual["view"] == view]
        for record in frame.to_dict(orient="records"):
            for stat in ("p50", "p5", "p95"):
                cell = sheet.cell(row=rows[record["year"]], column=columns[(record["item"], stat)])
                expected = record[stat]
                if np.isnan(expected):
                    assert cell.value is None
                else:
                    assert isinstance(cell.value, float | int)
                    assert cell.value == pytest.approx(expected, rel=REL, abs=1e-6)
    revenue_2030 = annual.query("view == 'expensed' and item == 'revenue' and year == 2030")
    sheet = book["expensed yearly"]
    assert sheet.cell(row=3 + 4, column=1).value == 2030
    assert sheet.cell(row=7, column=header_columns(sheet)[("revenue", "p50")]).value == (
        pytest.approx(revenue_2030["p50"].iloc[0], rel=REL)
    )


def test_workbook_formats_sheets_and_other_tables(out_dir: Path, result: labecon.Result) -> None:
    book = openpyxl.load_workbook(out_dir / "report.xlsx")
    views = list(result.statements)
    assert book.sheetnames == [
        "about",
        *(f"{v} yearly" for v in views),
        *(f"{v} monthly" for v in views),
        "generations",
        "metrics",
        "inputs",
    ]
    expensed = book["expensed yearly"]
    columns = header_columns(expensed)
    assert expensed.cell(row=3, column=columns[("revenue", "p50")]).number_format == "$#,##0"
    assert expensed.freeze_panes == "B3"
    cash = book["cash yearly"]
    ownership = cash.cell(row=3, column=header_columns(cash)[("ownership", "p50")])
    assert ownership.number_format == "0.0%" and 0 < ownership.value <= 1

    monthly = book["expensed monthly"]
    first = monthly.cell(row=3, column=1)
    assert first.value == dt.datetime(2026, 1, 1) and first.number_format == "yyyy-mm"
    assert monthly.max_row == 2 + 120
    median = result.monthly("expensed", "p50")["operating_income"]
    cell = monthly.cell(row=3 + 30, column=header_columns(monthly)[("operating_income", "p50")])
    assert cell.value == pytest.approx(median.iloc[30], rel=REL)

    generations = pd.read_csv(out_dir / "generations.csv").query("stat == 'p50'")
    sheet = book["generations"]
    column = header_columns(sheet)[("training_cost_usd", "p50")]
    for g, expected in enumerate(generations["training_cost_usd"]):
        assert sheet.cell(row=3 + g, column=column).value == pytest.approx(expected, rel=REL)
        assert sheet.cell(row=3 + g, column=column).number_format == "$#,##0"

    metrics = json.loads((out_dir / "metrics.json").read_text())
    rows = {row[0].value: row for row in book["metrics"].iter_rows(min_row=2)}
    names = [c.value for c in book["metrics"][1]]
    need = rows["capital_need_usd"][names.index("p50")]
    assert need.value == pytest.approx(metrics["capital_need_usd"]["p50"], rel=REL)
    assert need.number_format == "$#,##0"
    breakeven = rows["breakeven_month"][names.index("p5")]
    assert breakeven.value.strftime("%Y-%m") == metrics["breakeven_month"]["p5"]

    inputs = list(book["inputs"].values)
    assert list(inputs[0]) == list(explain(SCENARIO).columns)
    assert len(inputs) - 1 == len(explain(SCENARIO))
    assert any("arXiv:2405.21015" in (row[-1] or "") for row in inputs[1:])


def test_workbook_reads_back_with_pandas(out_dir: Path, result: labecon.Result) -> None:
    frame = pd.read_excel(
        out_dir / "report.xlsx", sheet_name="expensed yearly", header=[0, 1], index_col=0
    )
    expected = result.annual("expensed", "p95")["net_income"].to_numpy()
    np.testing.assert_allclose(frame[("net_income", "p95")].to_numpy(), expected, rtol=REL)


# -- Parquet ----------------------------------------------------------------------------------
def test_parquet_holds_every_sample_year_and_item(out_dir: Path, result: labecon.Result) -> None:
    frame = pd.read_parquet(out_dir / "samples.parquet")
    assert list(frame.columns) == ["sample", "year", "view", "item", "value"]
    items = sum(len(items) for items in result.statements.values())
    assert len(frame) == SAMPLES * len(result.years) * items
    for view, item in [
        ("expensed", "revenue"),
        ("expensed", "operating_income"),
        ("cash", "cash"),
        ("compute", "gw_total"),
        ("watch", "gross_margin"),
    ]:
        rows = frame[(frame["view"] == view) & (frame["item"] == item)]
        table = rows.pivot(index="sample", columns="year", values="value")
        assert list(table.columns) == result.years
        np.testing.assert_array_equal(table.to_numpy(), result.annual_samples(view, item))


# -- one generation's life --------------------------------------------------------------------
def test_waterfall_is_the_generation_table_and_adds_up(result: labecon.Result) -> None:
    generation = content.waterfall_generation(result)
    assert generation == 0  # released 2026-01 with an 18-month life: ends in the horizon
    figures = content.waterfall(result, generation)
    row = result.generations("mean").iloc[generation]
    for column, value in figures.items():
        assert value == row[column]
    profit = (
        figures["lifetime_revenue_usd"]
        - figures["lifetime_inference_cost_usd"]
        - figures["training_cost_usd"]
    )
    assert profit == pytest.approx(figures["lifetime_profit_usd"], rel=1e-12)
    trace = html.waterfall_chart(figures).data[0]
    assert list(trace.measure) == ["relative", "relative", "relative", "total"]
    scale = figures["lifetime_revenue_usd"] / trace.y[1]
    assert trace.y[0] * scale == pytest.approx(-figures["training_cost_usd"])
    assert trace.y[2] * scale == pytest.approx(-figures["lifetime_inference_cost_usd"])


def test_waterfall_hand_check_on_amodei() -> None:
    run = labecon.simulate("amodei", samples=1)
    # $100M trained in 2023 earns $200M in 2024 and costs nothing to serve: $100M profit.
    assert content.waterfall_generation(run) == 0
    assert content.waterfall(run, 0) == pytest.approx(
        {
            "training_cost_usd": 1e8,
            "lifetime_revenue_usd": 2e8,
            "lifetime_inference_cost_usd": 0.0,
            "lifetime_profit_usd": 1e8,
        }
    )


def test_breakeven_probability_is_the_share_reached_by_each_month(result: labecon.Result) -> None:
    curve = content.breakeven_probability(result)
    months = result.metric_values["breakeven_month"]
    assert len(curve) == result.scenario.horizon_months
    assert np.all(np.diff(curve.to_numpy()) >= 0)
    assert curve.iloc[-1] == pytest.approx(np.mean(~np.isnan(months)))
    assert curve.iloc[-1] == result.metrics()["breakeven_month"]["probability"]


# -- sensitivity tables -----------------------------------------------------------------------
def test_sensitivity_tables_draw_what_they_hold() -> None:
    charts = html.sensitivity_charts(tornado_table())
    assert [c.key for c in charts] == [
        "sensitivity-tornado-cumulative-operating-income-usd-tornado"
    ]
    bars = charts[0].figure.data
    assert list(bars[0].y) == list(tornado_table().sort_values("swing")["input"])
    swing_only = pd.DataFrame({"input": ["a", "b"], "swing": [2.0, 1.0]})
    assert [c.key for c in html.sensitivity_charts({"S": swing_only})] == ["sensitivity-s-swing"]
    by_metric = pd.concat([sobol_table().assign(metric="x"), sobol_table().assign(metric="y")])
    assert len(html.sensitivity_charts({"Sobol": by_metric})) == 2
    with pytest.raises(OptionError, match="not a sensitivity table"):
        html.sensitivity_charts(pd.DataFrame({"input": ["a"], "effect": [1.0]}))


# -- writing ----------------------------------------------------------------------------------
def test_no_report_writes_the_data_files_only(tmp_path: Path) -> None:
    out = tmp_path / "plain"
    result = runner.invoke(app, ["run", "amodei", "-n", "3", "--out", str(out), "--no-report"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == sorted(cli.DATA_FILES)
    assert "report.html" not in result.stdout


def test_a_failing_report_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "annual.csv").write_text("old\n")

    def broken(*args: object, **kwargs: object) -> str:
        raise RuntimeError("chart failed")

    monkeypatch.setattr(html, "page", broken)
    result = runner.invoke(app, ["run", "amodei", "-n", "3", "--out", str(out)])
    assert isinstance(result.exception, RuntimeError)
    assert sorted(p.name for p in out.iterdir()) == ["annual.csv"]  # no staging folder either
    assert (out / "annual.csv").read_text() == "old\n"


def test_write_report_is_atomic(
    result: labecon.Result, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = write_report(result, tmp_path / "new")
    assert written == (tmp_path / "new" / "report.html").resolve()
    assert sorted(p.name for p in written.parent.iterdir()) == sorted(REPORT_FILES)
    before = {name: (written.parent / name).read_bytes() for name in REPORT_FILES}

    def full_disk(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("labecon.report.os.replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        write_report(result, written.parent)
    assert sorted(p.name for p in written.parent.iterdir()) == sorted(REPORT_FILES)
    assert {name: (written.parent / name).read_bytes() for name in REPORT_FILES} == before

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("workbook failed")

    monkeypatch.setattr(excel, "workbook_bytes", broken)
    with pytest.raises(RuntimeError):
        write_report(result, tmp_path / "other")
    assert not (tmp_path / "other").exists()


def test_report_files_without_an_explain_table_mark_uncited_inputs(
    result: labecon.Result,
) -> None:
    files = report_files(result, generated=dt.datetime(2030, 1, 2, 3, 4, tzinfo=dt.UTC))
    text = files["report.html"].decode()
    assert "generated 2030-01-02 03:04 UTC" in text
    assert "scenario or default" in text
    assert files["report.xlsx"][:2] == b"PK"  # a zip, as every .xlsx
    assert files["samples.parquet"][:4] == b"PAR1"


def test_make_run_ends_by_printing_the_report_path() -> None:
    makefile = (Path(__file__).parents[1] / "Makefile").read_text()
    recipe = makefile.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert recipe.rstrip().splitlines()[-1].strip() == (
        '@echo "Report: $(abspath $(OUT))/report.html"'
    )


def test_run_draws_the_tornado_it_is_asked_for(tmp_path: Path) -> None:
    # sobol-product: cumulative operating income is (m - 1) x C, so both inputs swing it.
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app,
        [
            "run",
            "sobol-product",
            "--samples",
            "50",
            "--out",
            str(out),
            "--sensitivity",
            "tornado",
            "--sensitivity-metric",
            "cumulative_operating_income_usd",
        ],
    )
    assert result.exit_code == 0, result.output
    page = (out / "report.html").read_text("utf-8")
    assert "sensitivity-tornado-cumulative-operating-income-usd-tornado" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sensitivity", "tornad"], "'tornad' is not a method; accepted: tornado, morris, sobol"),
        (
            ["--sensitivity", "tornado", "--sensitivity-metric", "profit"],
            "'profit' is not a metric",
        ),
        (["--sensitivity", "tornado", "--no-report"], "accepted with --out"),
    ],
)
def test_run_refuses_bad_sensitivity_options_before_running(
    tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "run"
    result = CliRunner().invoke(app, ["run", "amodei", "--samples", "5", "--out", str(out), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()
