"""The ``labecon`` command line: run, compare, validate, examples, schema (DESIGN §8).

User errors (a bad scenario, a bad option, an output path that cannot be written) print a
message naming the field, the value and what is accepted, and exit with status 2; ``validate``
exits with 1 when the scenario has problems. Nothing is written unless all of it can be.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import numpy as np
import pandas as pd
import typer
from numpy.typing import NDArray
from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from labecon import __version__
from labecon.api import default_chunk_size, simulate
from labecon.backends import open_backend
from labecon.cli_market import run_market
from labecon.compare import Comparison, check_scenarios
from labecon.compare import compare as compare_scenarios
from labecon.errors import OptionError, Problem, ScenarioError
from labecon.formatting import (
    finite as _finite,
)
from labecon.formatting import (
    format_money,
    format_months,
    format_multiple,
    format_percent,
    format_rate,
)
from labecon.ledger import UNATTRIBUTED_COSTS
from labecon.market.loading import builtin_market_names, is_market, load_market
from labecon.metrics import metric_kind
from labecon.report import REPORT_FILES, report_files
from labecon.result import STATS, Result, statistic
from labecon.scenario.explain import explain
from labecon.scenario.loading import builtin_descriptions, load_scenario
from labecon.scenario.schema import Scenario
from labecon.sensitivity import METHODS as SENSITIVITY_METHODS
from labecon.sensitivity import sensitivity

Array = NDArray[np.float64]

# CSV figures keep 12 significant digits (float noise such as 199999999.99999997 is dropped);
# result.json keeps full precision.
CSV_FLOAT_FORMAT = "%.12g"
DATA_FILES = ("annual.csv", "generations.csv", "metrics.json", "result.json")
# report.html, report.xlsx, samples.parquet: written too unless --no-report.
OUTPUT_FILES = (*DATA_FILES, *REPORT_FILES)
# Runs at least this large get ~50 progress ticks; smaller ones let simulate() choose chunks.
PROGRESS_TICK_SAMPLES = 20_000
PROGRESS_TICKS = 50
PROGRESS_DELAY_SECONDS = 1.0
EXIT_INVALID = 1
EXIT_USAGE = 2

app = typer.Typer(
    name="labecon",
    help="Monte Carlo economics of AI labs: training, revenue, inference, cash and funding.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# -- formatting: labecon.formatting (shared with the report) --------------------------------


def format_range(low: Any, high: Any) -> str:
    """Format a p5–p95 range of money, or nothing when the two ends are the same figure."""
    if not (_finite(low) and _finite(high)) or format_money(low) == format_money(high):
        return ""
    return f"{format_money(low)} … {format_money(high)}"


def _signed_style(value: Any, positive: str = "green") -> str:
    """Red for a negative figure, ``positive`` for a positive one."""
    if not _finite(value) or float(value) == 0:
        return ""
    return "red" if float(value) < 0 else positive


# -- errors ----------------------------------------------------------------------------------
def _error_console() -> Console:
    """A Rich console on stderr (created per call so redirections are honoured)."""
    return Console(stderr=True, highlight=False)


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print an error on stderr and exit with ``code``."""
    _error_console().print(Text(f"Error: {message}", style="bold red"), soft_wrap=True)
    raise typer.Exit(code)


def _fail_scenario(exc: ScenarioError, source: str) -> NoReturn:
    """Print every problem of a scenario on stderr and exit with status 2."""
    console = _error_console()
    count = len(exc.problems)
    plural = "s" if count != 1 else ""
    console.print(
        Text(f"Error: scenario {source!r} has {count} problem{plural}:", style="bold red"),
        soft_wrap=True,
    )
    for problem in exc.problems:
        console.print(Text(f"  - {problem}", style="red"), soft_wrap=True)
    raise typer.Exit(EXIT_USAGE)


# -- progress --------------------------------------------------------------------------------
class DelayedProgress:
    """A ``progress(done, total)`` callback that shows a Rich bar only once a run passes 1 s."""

    def __init__(
        self,
        console: Console,
        description: str,
        delay: float = PROGRESS_DELAY_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._description = description
        self._delay = delay
        self._clock = clock
        self._started = clock()
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def shown(self) -> bool:
        """Whether the bar has been shown."""
        return self._progress is not None

    def __call__(self, done: int, total: int) -> None:
        """Record that ``done`` of ``total`` samples are simulated."""
        if self._progress is None:
            if self._clock() - self._started <= self._delay:
                return
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("samples"),
                TimeElapsedColumn(),
                TextColumn("eta"),
                TimeRemainingColumn(),
                console=self._console,
                transient=True,
            )
            self._progress.start()
            self._task = self._progress.add_task(self._description, total=total)
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def close(self) -> None:
        """Remove the bar, if it was shown."""
        if self._progress is not None:
            self._progress.stop()


def progress_chunk_size(scenario: Scenario, samples: int) -> int | None:
    """Chunk size giving ~50 progress ticks on large runs; None lets simulate() choose."""
    if samples < PROGRESS_TICK_SAMPLES:
        return None
    ticks = max(1, samples // PROGRESS_TICKS)
    return max(1, min(ticks, default_chunk_size(scenario, samples)))


# -- machine-readable outputs ----------------------------------------------------------------
def _json_ready(value: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, Mapping):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def json_text(document: Any, indent: int | None = None) -> str:
    """Strict JSON text of a document (no NaN: missing values become null)."""
    return json.dumps(_json_ready(document), indent=indent, allow_nan=False)


def annual_table(document: Mapping[str, Any]) -> pd.DataFrame:
    """Tidy yearly table of every view and item: view, item, year, mean, p5 … p95."""
    rows = []
    years = document["years"]
    for view, items in document["views"].items():
        for item, stats in items.items():
            for i, year in enumerate(years):
                rows.append(
                    {"view": view, "item": item, "year": year}
                    | {stat: stats[stat][i] for stat in STATS}
                )
    return pd.DataFrame(rows, columns=["view", "item", "year", *STATS])


def generations_table(result: Result) -> pd.DataFrame:
    """Long table of generations: one row per statistic and generation, ``stat`` first."""
    frames = []
    for stat in STATS:
        frame = result.generations(stat)
        frame.insert(0, "stat", stat)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def output_texts(result: Result, document: Mapping[str, Any]) -> dict[str, str]:
    """The contents of every file ``--out`` writes, by file name."""
    return {
        "annual.csv": annual_table(document).to_csv(
            index=False, lineterminator="\n", float_format=CSV_FLOAT_FORMAT
        ),
        "generations.csv": generations_table(result).to_csv(
            index=False, lineterminator="\n", float_format=CSV_FLOAT_FORMAT
        ),
        "metrics.json": json_text(result.metrics(), indent=2) + "\n",
        "result.json": json_text(document) + "\n",
    }


def check_out_dir(directory: Path) -> None:
    """Refuse an output directory that is a file or lies under a file, before any work."""
    accepted = "accepted: a directory (created if missing)"
    if directory.exists() and not directory.is_dir():
        _fail(f"--out: {str(directory)!r} is an existing file, not a directory; {accepted}")
    for parent in directory.parents:
        if parent.exists():
            if not parent.is_dir():
                _fail(f"--out: {str(directory)!r} lies under the file {str(parent)!r}; {accepted}")
            break
    for name in OUTPUT_FILES:
        target = directory / name
        if target.is_dir():
            _fail(f"--out: {str(target)!r} is a directory, so {name} cannot be written there")


def write_outputs(directory: Path, texts: Mapping[str, str | bytes]) -> Path:
    """Write files into ``directory`` atomically: all into a temporary folder, then moved.

    A failure leaves no partial file behind (and removes ``directory`` if it was created
    here and is still empty). Returns the absolute directory.
    """
    directory = directory.resolve()
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    staging: Path | None = None
    try:
        staging = Path(tempfile.mkdtemp(prefix=".labecon-", dir=directory))
        for name, text in texts.items():
            with (staging / name).open("wb") as handle:
                handle.write(text.encode("utf-8") if isinstance(text, str) else text)
                handle.flush()
                os.fsync(handle.fileno())
        for name in texts:
            os.replace(staging / name, directory / name)
    except BaseException:
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)
        if created and not any(directory.iterdir()):
            directory.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    return directory


# -- the Rich summary ------------------------------------------------------------------------
def _yearly_quantiles(result: Result, view: str, items: Iterable[str]) -> list[dict[str, float]]:
    """p5/p50/p95 by year of the per-sample sum of some items of a view."""
    total: Array = np.sum([result.annual_samples(view, item) for item in items], axis=0)
    by_stat = {stat: statistic(total, stat) for stat in ("p5", "p50", "p95")}
    return [
        {stat: float(values[i]) for stat, values in by_stat.items()} for i in range(total.shape[1])
    ]


def _money_cell(q: Mapping[str, float], positive: str | None = None) -> Text:
    """A median with its p5–p95 range dimmed below; red if negative, else ``positive``."""
    style = "" if positive is None else _signed_style(q["p50"], positive)
    text = Text(format_money(q["p50"]), style=style)
    spread = format_range(q["p5"], q["p95"])
    if spread:
        text.append("\n" + spread, style="dim")
    return text


def header_panel(result: Result) -> Panel:
    """The run's header: scenario name, description, samples, seed and horizon."""
    scenario = result.scenario
    months = result.months
    meta = Text.assemble(
        ("samples ", "dim"),
        f"{result.sample_count:,}",
        ("  ·  seed ", "dim"),
        str(result.seed),
        ("  ·  horizon ", "dim"),
        f"{scenario.horizon_months} months ({months[0]} to {months[-1]})",
    )
    parts: list[Text] = []
    if scenario.description:
        parts.append(Text(scenario.description.strip()))
    parts.append(meta)
    return Panel(
        Group(*parts),
        title=Text(scenario.name, style="bold cyan"),
        title_align="left",
        border_style="cyan",
    )


def _table(title: str, caption: str | None = None) -> Table:
    """A table in the summary's house style: simple head, left titles, no outer edge."""
    return Table(
        title=title,
        caption=caption,
        box=box.SIMPLE_HEAD,
        title_justify="left",
        caption_justify="left",
        header_style="bold",
        pad_edge=False,
        show_edge=False,
        collapse_padding=True,
    )


def statements_table(result: Result) -> Table:
    """Yearly expensed statements: median with the p5–p95 range below each figure."""
    table = _table(
        "Income statement by year, training expensed",
        caption="Median over samples; below it, the 5th to 95th percentile range.\n"
        "¹ talent, SG&A, other infrastructure, idle compute and the premium on rented compute.",
    )
    columns: list[tuple[str, tuple[str, ...], str | None]] = [
        ("Revenue", ("revenue",), None),
        ("Inference", ("inference_cost",), None),
        ("Training", ("training_cost",), None),
        ("Other opex¹", UNATTRIBUTED_COSTS, None),
        ("Operating income", ("operating_income",), "green"),
    ]
    table.add_column("Year", style="bold")
    for title, _, _ in columns:
        table.add_column(title, justify="right")
    by_column = [_yearly_quantiles(result, "expensed", items) for _, items, _ in columns]
    for i, year in enumerate(result.years):
        cells = [
            _money_cell(by_column[c][i], positive) for c, (_, _, positive) in enumerate(columns)
        ]
        table.add_row(str(year), *cells)
    return table


def cash_table(result: Result) -> Table:
    """Yearly cash: year-end balance, equity raised, founders' ownership, P(insolvent)."""
    table = _table("Cash and funding by year")
    table.add_column("Year", style="bold")
    table.add_column("Cash at year end", justify="right")
    table.add_column("Equity raised", justify="right")
    table.add_column("Ownership", justify="right")
    table.add_column("P(insolvent)", justify="right")
    cash = _yearly_quantiles(result, "cash", ["cash"])
    raised = _yearly_quantiles(result, "cash", ["equity_raised"])
    ownership = _yearly_quantiles(result, "cash", ["ownership"])
    insolvent = np.mean(result.annual_samples("cash", "insolvent"), axis=0)
    for i, year in enumerate(result.years):
        table.add_row(
            str(year),
            _money_cell(cash[i], positive=""),
            format_money(raised[i]["p50"]),
            format_percent(ownership[i]["p50"]),
            Text(format_percent(insolvent[i]), style="red" if insolvent[i] > 0 else ""),
        )
    return table


def generations_summary(result: Result) -> Table:
    """Per-generation medians: release, training cost, lifetime revenue and profit, returns."""
    table = _table(
        "Generations, each model as a company: lifetime figures, medians",
        caption="— not reached within the horizon, or undefined. "
        "Paid back: share of samples that recover the training cost.",
    )
    frame = result.generations("p50")
    show_trained = bool((frame["share_trained"] < 1).any())
    table.add_column("Gen", justify="right", style="bold")
    table.add_column("Release")
    table.add_column("Training", justify="right")
    table.add_column("Revenue", justify="right")
    table.add_column("Profit", justify="right")
    table.add_column("ROI", justify="right")
    table.add_column("Payback", justify="right")
    table.add_column("IRR/yr", justify="right")
    table.add_column("Paid back", justify="right")
    if show_trained:
        table.add_column("Trained", justify="right")
    for row in frame.to_dict(orient="records"):
        profit = row["lifetime_profit_usd"]
        cells: list[str | Text] = [
            str(row["generation"]),
            str(row["release_month"] or "—"),
            format_money(row["training_cost_usd"]),
            format_money(row["lifetime_revenue_usd"]),
            Text(format_money(profit), style=_signed_style(profit)),
            format_multiple(row["roi_multiple"]),
            format_months(row["payback_months"]),
            format_rate(row["irr_per_year"]),
            format_percent(row["share_paid_back"]),
        ]
        if show_trained:
            cells.append(format_percent(row["share_trained"]))
        table.add_row(*cells)
    return table


def _month_metric(entry: Mapping[str, Any]) -> str:
    """A month metric: its median month and how often it happens at all."""
    share = format_percent(entry["probability"])
    if not entry["probability"]:
        return "not within the horizon"
    if entry.get("p50") is None:
        return f"not within the horizon in most samples (reached in {share} of samples)"
    return f"{entry['p50']} median (reached in {share} of samples)"


def _money_metric(entry: Mapping[str, Any]) -> str:
    """A money metric: median and p5–p95 range."""
    spread = format_range(entry["p5"], entry["p95"])
    tail = f"   (p5–p95 {spread})" if spread else ""
    return f"{format_money(entry['p50'])} median{tail}"


def metrics_table(result: Result) -> Table:
    """Key metrics: breakeven, capital need, insolvency, equity raised, ownership."""
    metrics = result.metrics()
    table = Table(title="Key metrics", box=None, title_justify="left", show_header=False)
    table.add_column("metric", style="bold")
    table.add_column("value")
    table.add_row("Operating breakeven", _month_metric(metrics["breakeven_month"]))
    table.add_row("Cash breakeven", _month_metric(metrics["cash_breakeven_month"]))
    table.add_row("Capital need", _money_metric(metrics["capital_need_usd"]))
    table.add_row("Equity raised", _money_metric(metrics["equity_raised_usd"]))
    table.add_row("Cash at horizon", _money_metric(metrics["ending_cash_usd"]))
    ownership = metrics["ownership_at_horizon"]
    table.add_row("Ownership at horizon", f"{format_percent(ownership['p50'])} median")
    insolvent = metrics["probability_insolvent"]
    table.add_row(
        "P(insolvent)",
        Text(format_percent(insolvent), style="bold red" if insolvent > 0 else "green"),
    )
    return table


def print_summary(console: Console, result: Result) -> None:
    """Print the Rich summary of a run."""
    console.print(header_panel(result))
    for table in (
        statements_table(result),
        cash_table(result),
        generations_summary(result),
        metrics_table(result),
    ):
        console.print()
        console.print(table)


# -- commands --------------------------------------------------------------------------------
def _version(value: bool) -> None:
    """Print the version and exit (the eager ``--version`` option)."""
    if value:
        typer.echo(f"labecon {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Show the labecon version and exit.",
        ),
    ] = False,
) -> None:
    """Monte Carlo economics of AI labs: training, revenue, inference, cash and funding."""


@app.command()
def run(
    scenario: Annotated[
        str,
        typer.Argument(
            metavar="NAME|FILE",
            help="A built-in scenario name (see `labecon examples`) or a .yaml/.yml/.toml file.",
            show_default=False,
        ),
    ],
    samples: Annotated[
        int,
        typer.Option("--samples", "-n", help="Number of Monte Carlo samples (1 to 10,000,000)."),
    ] = 2000,
    seed: Annotated[
        int,
        typer.Option("--seed", "-s", help="Random seed (>= 0); the same seed gives the same run."),
    ] = 0,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Directory to write annual.csv (tidy: view, item, year, mean, p5, p25, p50, "
            "p75, p95), generations.csv (long: one row per stat and generation, columns stat, "
            "generation, then the generation figures), metrics.json, result.json and the "
            "report: report.html (offline charts), report.xlsx and samples.parquet (each "
            "sample's yearly results). Created if missing; files are written atomically.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print only the full result as one JSON document on stdout (no summary).",
        ),
    ] = False,
    report: Annotated[
        bool,
        typer.Option(
            "--report/--no-report",
            help="With --out, also write report.html, report.xlsx and samples.parquet "
            "(about as long again as the run at 10,000 samples).",
        ),
    ] = True,
    sensitivity_method: Annotated[
        str | None,
        typer.Option(
            "--sensitivity",
            help="With --out, add sensitivity charts to the report: tornado, morris or sobol "
            "(see `labecon sensitivity`).",
            show_default=False,
        ),
    ] = None,
    sensitivity_metric: Annotated[
        str,
        typer.Option(help="The metric the report's sensitivity charts explain."),
    ] = "capital_need_usd",
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Run the samples as tasks on the Dask cluster at ADDRESS (e.g. "
            "tcp://host:8786, as `dask scheduler` prints); same numbers as a local run. "
            "Needs the dask extra of labecon.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Run the samples on a local Dask cluster of N worker processes, started "
            "and closed for this run; same numbers as without. Needs the dask extra of labecon.",
            show_default=False,
        ),
    ] = None,
    threads: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Threads running the samples in this process [default: every core]; same "
            "numbers with any N.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Simulate a scenario and print a summary (or JSON), optionally writing result files.

    A market (a file with ``kind: market``, or a built-in market such as frontier-2026)
    prints each lab's survival, the consolidation timeline and the segments' shares.
    """
    if is_market(scenario):
        refused = {
            "--sensitivity": sensitivity_method is not None,
            "--scheduler": scheduler is not None,
            "--workers": workers is not None,
        }
        run_market(scenario, samples, seed, out, as_json, refused)
        return
    try:
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        _fail_scenario(exc, scenario)
    if sensitivity_method is not None:
        if out is None or not report:
            _fail("--sensitivity: draws charts in the report; accepted with --out (and the report)")
        if sensitivity_method not in SENSITIVITY_METHODS:
            _fail(
                f"--sensitivity: {sensitivity_method!r} is not a method; accepted: "
                + ", ".join(SENSITIVITY_METHODS)
            )
        try:
            metric_kind(sensitivity_metric)
        except OptionError as exc:
            _fail(f"--sensitivity-metric: {exc}")
    if out is not None:
        check_out_dir(out)
    stderr = _error_console()
    try:
        backend = open_backend(None, scheduler, workers, threads)
    except OptionError as exc:
        _fail(_as_option(str(exc), "scheduler", "workers", "threads"))
    # A local cluster started for this run is closed when the command ends, however it ends.
    with backend:
        where = backend.describe()
        progress = DelayedProgress(stderr, f"Simulating {loaded.name} {where}".strip())
        try:
            result = simulate(
                loaded,
                samples=samples,
                seed=seed,
                chunk_size=progress_chunk_size(loaded, samples),
                progress=progress,
                backend=backend,
            )
        except OptionError as exc:
            _fail(str(exc))
        finally:
            progress.close()
        # The full document is costly on large runs: build it only when it is asked for.
        document = result.to_dict() if as_json or out is not None else {}
        written: Path | None = None
        if out is not None:
            files: dict[str, str | bytes] = dict(output_texts(result, document))
            if report:
                swings = None
                if sensitivity_method is not None:
                    try:
                        swings = sensitivity(
                            loaded,
                            sensitivity_metric,
                            sensitivity_method,
                            seed=seed,
                            backend=backend,
                        )
                    except OptionError as exc:
                        _fail(f"--sensitivity: {exc}")
                files |= report_files(result, sensitivity=swings, inputs=explain(scenario))
            try:
                written = write_outputs(out, files)
            except OSError as exc:
                _fail(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}")
        if as_json:
            typer.echo(json_text(document))
        else:
            print_summary(Console(highlight=False), result)
        if written is not None:
            # Under --json, stdout holds the JSON document only.
            notice = stderr if as_json else Console(highlight=False)
            names = ", ".join(name for name in OUTPUT_FILES if report or name in DATA_FILES)
            notice.print(
                Text.assemble(("Wrote ", "bold"), names, (" to ", "bold"), str(written)),
                soft_wrap=True,
            )


def _as_option(message: str, *names: str) -> str:
    """An API error message ("workers: ...") in the CLI's words ("--workers: ...")."""
    for name in names:
        if message.startswith(f"{name}:"):
            return f"--{message}"
    return message


@app.command()
def validate(
    scenario: Annotated[
        str,
        typer.Argument(
            metavar="FILE|NAME",
            help="A .yaml/.yml/.toml scenario file or a built-in scenario name.",
            show_default=False,
        ),
    ],
) -> None:
    """Check a scenario or a market: report every problem (exit 1) or confirm it is valid."""
    console = Console(highlight=False)
    try:
        if is_market(scenario):
            market = load_market(scenario)
            console.print(
                Text(
                    f"OK: the market {market.market.name} is valid ({len(market.names)} labs: "
                    + ", ".join(market.names)
                    + ")",
                    style="green",
                ),
                soft_wrap=True,
            )
            return
        loaded = load_scenario(scenario)
    except ScenarioError as exc:
        problems: list[Problem] = exc.problems
        count = len(problems)
        plural = "s" if count != 1 else ""
        console.print(
            Text(f"{scenario}: {count} problem{plural}", style="bold red"), soft_wrap=True
        )
        for problem in problems:
            console.print(Text(f"  {problem}", style="red"), soft_wrap=True)
        raise typer.Exit(EXIT_INVALID) from None
    uncertain = len(list(loaded.uncertain_inputs()))
    plural = "s" if uncertain != 1 else ""
    console.print(
        Text(f"OK: {loaded.name} is valid ({uncertain} uncertain input{plural})", style="green"),
        soft_wrap=True,
    )


@app.command()
def examples() -> None:
    """List the built-in scenarios and markets, one a line: name, then description."""
    console = Console(highlight=False)
    descriptions = builtin_descriptions()
    markets = {
        name: "Market: " + " ".join(load_market(name).market.description.split())
        for name in builtin_market_names()
    }
    width = max((len(name) for name in (*descriptions, *markets)), default=0)
    for name, description in {**descriptions, **markets}.items():
        line = Text.assemble((name.ljust(width), "bold cyan"), "  ", description)
        console.print(line, soft_wrap=True)


LOOPBACK = ("127.0.0.1", "localhost", "::1")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    db: Annotated[
        str | None,
        typer.Option(
            metavar="URL",
            help="Database of scenarios and runs, e.g. postgresql+psycopg://user@host/labecon "
            "[default: an SQLite file in the user's data directory].",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            help="Worker processes that execute runs (each run uses one core and holds its "
            "samples' results in memory).",
        ),
    ] = 2,
    preview_workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes that compute the scenario page's previews, kept running "
            "[default: one per core]; 0 computes them on the server's own threads.",
            show_default=False,
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="LABECON_API_TOKEN",
            help="API token that writes must carry (Authorization: Bearer TOKEN); required "
            "when --host is not a loopback address.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve the dashboard (http://HOST:PORT/) and its REST API (/docs) on the run store."""
    if host not in LOOPBACK and not token:
        _fail(
            f"--token: {host!r} is reachable from other machines, so writes need an API token; "
            "accepted: --token TOKEN (or LABECON_API_TOKEN), or --host 127.0.0.1"
        )
    if not 1 <= port <= 65535:
        _fail(f"--port: {port} is not accepted; accepted: 1 to 65535")
    if not 1 <= workers <= 64:
        _fail(f"--workers: {workers} is not accepted; accepted: 1 to 64 worker processes")
    if preview_workers is not None and not 0 <= preview_workers <= 64:
        _fail(
            f"--preview-workers: {preview_workers} is not accepted; accepted: 0 to 64 worker "
            "processes"
        )
    import uvicorn

    from labecon.backends import available_cores
    from labecon.store import Store
    from labecon.web import create_app

    store = Store(db)
    if store.recovered:
        _error_console().print(f"Marked {store.recovered} interrupted run(s) failed.")
    previewing = available_cores() if preview_workers is None else preview_workers
    web = create_app(store, token=token, workers=workers, preview_workers=previewing)
    web.state.pool.warm()  # worker processes ready before the first run
    if web.state.previewers is not None:
        from labecon.web.preview import warm

        warm(web.state.previewers)  # and before the first preview
    uvicorn.run(web, host=host, port=port, log_level="info")


@app.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editors and validators)."""
    typer.echo(json.dumps(Scenario.model_json_schema(), indent=2))


# -- compare ---------------------------------------------------------------------------------
COMPARE_FILES = ("compare.csv", "compare.json")
COMPARE_TITLES = {
    "breakeven_month": "Operating breakeven",
    "cash_breakeven_month": "Cash breakeven",
    "capital_need_usd": "Capital need",
    "equity_raised_usd": "Equity raised",
    "ending_cash_usd": "Cash at horizon",
    "ownership_at_horizon": "Ownership at horizon",
    "insolvent": "P(insolvent)",
    "insolvency_month": "Insolvency",
    "cumulative_operating_income_usd": "Operating income, horizon",
}


def compare_title(metric: str) -> str:
    """A metric's row title in the comparison table: 'Capital need', 'Operating income 2027'."""
    if metric in COMPARE_TITLES:
        return COMPARE_TITLES[metric]
    return "Operating income " + metric.rsplit("_", 1)[-1]


def format_signed_money(value: Any) -> str:
    """Format a difference of USD with its sign: +$11.1B, -$800M, $0."""
    text = format_money(value)
    return "+" + text if _finite(value) and float(value) > 0 and text != "$0" else text


def format_points(value: Any, signed: bool = True) -> str:
    """Format a difference of probabilities or shares in percentage points: +4.2 pp."""
    if not _finite(value):
        return "—"
    points = float(value) * 100 + 0.0
    return f"{points:+.1f} pp" if signed and points != 0 else f"{points:.1f} pp"


def _compare_value(row: Mapping[str, Any]) -> str:
    """A scenario's figure: mean money, mean share, probability, or median month (share)."""
    kind = row["kind"]
    if kind == "money":
        return format_money(row["mean"])
    if kind == "share":
        return format_percent(row["mean"])
    if kind == "probability":
        return format_percent(row["probability"])
    month = row["median_month"] if isinstance(row["median_month"], str) else "—"
    return f"{month} ({format_percent(row['probability'])})"


def _compare_delta(row: Mapping[str, Any]) -> str:
    """The paired difference to the reference and its standard error: 'Δ +$1.1B ± $20M'."""
    if row["kind"] == "money":
        diff, error = format_signed_money(row["diff_mean"]), format_money(row["diff_se"])
    else:
        diff, error = format_points(row["diff_mean"]), format_points(row["diff_se"], False)
    return f"Δ {diff} ± {error}"


def comparison_table(comparison: Comparison) -> Table:
    """Metrics as rows, scenarios as columns; after the first, the paired difference ± SE."""
    reference = comparison.reference
    caption = (
        "Money and ownership: mean over samples. Months: median month (share of samples that "
        "reach it within the horizon; — when most do not).\n"
        f"Δ: difference to {reference}, paired by sample on common random numbers, ± its "
        "Monte Carlo standard error; months and probabilities differ in percentage points "
        "(pp) of the probability."
    )
    if not comparison.years:
        caption += "\nOperating income by year is left out: the scenarios cover different months."
    table = _table(
        f"Comparison: {comparison.samples:,} samples, seed {comparison.seed}", caption=caption
    )
    table.add_column("Metric", style="bold")
    for label in comparison.labels:
        table.add_column(label, justify="right")
    rows = [
        {str(key): value for key, value in record.items()}
        for record in comparison.table().to_dict(orient="records")
    ]
    for metric in comparison.metrics:
        cells: list[str | Text] = []
        for row in (r for r in rows if r["metric"] == metric):
            text = Text(_compare_value(row))
            if row["scenario"] != reference:
                text.append("\n" + _compare_delta(row), style="dim")
            cells.append(text)
        table.add_row(compare_title(metric), *cells)
    return table


def comparison_texts(comparison: Comparison) -> dict[str, str]:
    """The contents of the files ``compare --out`` writes, by file name."""
    return {
        "compare.csv": comparison.table().to_csv(
            index=False, lineterminator="\n", float_format=CSV_FLOAT_FORMAT
        ),
        "compare.json": json_text(comparison.to_dict(), indent=2) + "\n",
    }


def check_compare_out_dir(directory: Path) -> None:
    """Refuse an output directory ``compare --out`` cannot write, before any work."""
    check_out_dir(directory)
    for name in COMPARE_FILES:
        target = directory / name
        if target.is_dir():
            _fail(f"--out: {str(target)!r} is a directory, so {name} cannot be written there")


@app.command()
def compare(
    scenarios: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="A B [C ...]",
            help="Two or more built-in scenario names or .yaml/.yml/.toml files; the first is "
            "the reference the others are compared to.",
            show_default=False,
        ),
    ] = None,
    samples: Annotated[
        int,
        typer.Option("--samples", "-n", help="Number of Monte Carlo samples (1 to 10,000,000)."),
    ] = 2000,
    seed: Annotated[
        int,
        typer.Option("--seed", "-s", help="Random seed (>= 0), shared by every scenario."),
    ] = 0,
    metric: Annotated[
        list[str] | None,
        typer.Option(
            "--metric",
            "-m",
            help="Compare only this metric (repeatable), e.g. capital_need_usd, "
            "breakeven_month, operating_income_2027. Default: all.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Directory to write compare.csv (tidy: metric, kind, scenario, mean, p5, p50, "
            "p95, probability, median_month, diff_mean, diff_se) and compare.json. Created if "
            "missing; files are written atomically.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print only the comparison as one JSON document on stdout."),
    ] = False,
) -> None:
    """Compare scenarios on common random numbers: key metrics side by side, with differences."""
    given = list(scenarios or [])
    try:
        check_scenarios(given)
    except OptionError as exc:
        _fail(str(exc))
    loaded: list[Scenario] = []
    for argument in given:
        try:
            loaded.append(load_scenario(argument))
        except ScenarioError as exc:
            _fail_scenario(exc, argument)
    if out is not None:
        check_compare_out_dir(out)
    stderr = _error_console()
    progress = DelayedProgress(stderr, f"Comparing {len(loaded)} scenarios")
    sizes = [progress_chunk_size(s, samples) for s in loaded]
    try:
        comparison = compare_scenarios(
            loaded,
            samples=samples,
            seed=seed,
            chunk_size=min((s for s in sizes if s is not None), default=None),
            metrics=metric,
            labels=given,
            progress=progress,
        )
    except OptionError as exc:
        _fail(str(exc))
    finally:
        progress.close()
    written: Path | None = None
    if out is not None:
        try:
            written = write_outputs(out, comparison_texts(comparison))
        except OSError as exc:
            _fail(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}")
    if as_json:
        typer.echo(json_text(comparison.to_dict()))
    else:
        Console(highlight=False).print(comparison_table(comparison))
    if written is not None:
        notice = stderr if as_json else Console(highlight=False)
        notice.print(
            Text.assemble(
                ("Wrote ", "bold"), ", ".join(COMPARE_FILES), (" to ", "bold"), str(written)
            ),
            soft_wrap=True,
        )


# The evidence commands (facts, explain, calibrate, backtest) live in their own module.
from labecon import cli_evidence  # noqa: E402

cli_evidence.register(app)

from labecon import cli_discovery  # noqa: E402

cli_discovery.register(app)

from labecon import cli_analysis  # noqa: E402

cli_analysis.register(app)
