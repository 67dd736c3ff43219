"""CLI commands about evidence: the fact base, where inputs come from, calibration, backtests.

Registered on the main Typer app by :mod:`labecon.cli`; each command calls the core and
renders its tables with Rich.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from labecon.calibration import (
    METRICS,
    Calibration,
    CalibrationError,
    builtin_target_sets,
    calibrate,
    load_targets,
)
from labecon.calibration.backtest import Backtest, backtest
from labecon.errors import OptionError, ScenarioError
from labecon.facts import Fact, FactError, load_facts
from labecon.scenario.explain import explain
from labecon.scenario.loading import load_scenario


def _cli() -> Any:
    from labecon import cli  # the main app's helpers; imported late, cli imports this module

    return cli


def _fail_calibration(exc: CalibrationError) -> NoReturn:
    console = Console(stderr=True, highlight=False)
    head = f"{exc.source}: " if exc.source else ""
    count = len(exc.problems)
    console.print(
        Text(f"Error: {head}{count} problem{'s' if count != 1 else ''}:", style="bold red"),
        soft_wrap=True,
    )
    for problem in exc.problems:
        console.print(Text(f"  - {problem}", style="red"), soft_wrap=True)
    raise typer.Exit(_cli().EXIT_USAGE)


@contextmanager
def _reported(label: str) -> Iterator[None]:
    """Turn labecon's input errors into messages on stderr and exit status 2."""
    try:
        yield
    except ScenarioError as exc:
        _cli()._fail_scenario(exc, label)
    except CalibrationError as exc:
        _fail_calibration(exc)
    except OptionError as exc:
        _cli()._fail(str(exc))


def _figure(value: Any, unit: str, *, per: bool = True) -> str:
    """A number in a unit for people: money with $, fractions as %, others with 4 digits.

    ``per`` keeps the unit's "/year"-like suffix (tables whose rows name the unit drop it).
    """
    cli = _cli()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    if unit.startswith("USD"):
        return cli.format_money(value) + (unit.removeprefix("USD") if per else "")
    if unit.startswith("fraction"):
        return cli.format_rate(value) + (unit.removeprefix("fraction") if per else "")
    return f"{value:.4g} {unit}" if per else f"{value:.4g}"


# -- facts -----------------------------------------------------------------------------------
def facts(
    words: Annotated[
        list[str] | None,
        typer.Argument(help="Show only facts containing every one of these words."),
    ] = None,
    search: Annotated[
        str | None, typer.Option("--search", "-s", help="Same as WORD: words to look for.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the facts as JSON.")] = False,
) -> None:
    """List the fact base, or search it: each fact's id, figure, date and source."""
    query = " ".join([*(words or []), *([search] if search else [])]) or None
    try:
        found = load_facts().search(query)
    except FactError as exc:
        _cli()._fail(str(exc))
    if as_json:
        typer.echo(json.dumps([f.model_dump(mode="json") for f in found], indent=2))
        if not found:
            raise typer.Exit(_cli().EXIT_INVALID)
        return
    console = Console(highlight=False)
    if not found:
        console.print(Text(f"No fact matches {query!r}.", style="yellow"))
        raise typer.Exit(_cli().EXIT_INVALID)
    table = Table(box=box.SIMPLE_HEAD, show_lines=False, title_justify="left")
    table.title = f"{len(found)} fact{'s' if len(found) != 1 else ''}" + (
        f" matching {query!r}" if query else ""
    )
    table.add_column("id", style="bold cyan", no_wrap=True)
    table.add_column("figure", justify="right")
    table.add_column("as of", no_wrap=True)
    table.add_column("publisher")
    for fact in found:
        table.add_row(fact.id, _fact_figure(fact), fact.as_of, _short_source(fact))
    console.print(table)


def _fact_figure(fact: Fact) -> str:
    """E.g. "$3.0B/year", "2.4x/year (2x to 3.1x)", "12 months (5 to 22)", "72%"."""
    unit = fact.unit
    suffix = ""
    if unit.startswith(("USD", "fraction")):
        suffix = unit.removeprefix("USD").removeprefix("fraction")
    elif unit.startswith("multiplier"):
        suffix = "x" + unit.removeprefix("multiplier")
    else:
        suffix = f" {unit}"

    def bare(value: float) -> str:
        shown = _figure(value, unit, per=False)
        return shown + "x" if unit.startswith("multiplier") else shown

    if fact.value is None:
        assert fact.low is not None and fact.high is not None
        return f"{bare(fact.low)} to {bare(fact.high)}{suffix.removeprefix('x')}"
    text = _figure(fact.value, unit, per=False) + suffix
    if fact.low is not None and fact.high is not None:
        text += f" ({bare(fact.low)} to {bare(fact.high)})"
    return text


def _short_source(fact: Fact) -> str:
    publisher = fact.source.publisher
    return publisher if len(publisher) <= 40 else publisher[:37] + "..."


# -- explain ---------------------------------------------------------------------------------
def explain_command(
    scenario: Annotated[
        str, typer.Argument(metavar="FILE|NAME", help="A scenario file or built-in name.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
    cited_only: Annotated[
        bool, typer.Option("--facts", help="Show only the inputs that cite a fact.")
    ] = False,
) -> None:
    """Print each input of a scenario: its value and where it comes from (fact and source)."""
    try:
        frame = explain(scenario)
    except ScenarioError as exc:
        _cli()._fail_scenario(exc, scenario)
    counts = frame["origin"].value_counts()
    total = len(frame)
    if cited_only:
        frame = frame[frame["origin"] == "fact"]
    if as_json:
        typer.echo(frame.to_json(orient="records", indent=2))
        return
    table = Table(box=box.SIMPLE_HEAD, title_justify="left")
    table.title = (
        f"{scenario}: {total} inputs — {counts.get('fact', 0)} from facts, "
        f"{counts.get('scenario', 0)} set in the scenario, {counts.get('default', 0)} defaults"
    )
    table.add_column("input", style="bold", no_wrap=True)
    table.add_column("value (p5 / p50 / p95)")
    table.add_column("from")
    style = {"fact": "green", "scenario": "cyan", "default": "dim"}
    for row in frame.to_dict("records"):
        if row["p5"] == row["p95"]:
            shown = f"{row['p50']:.4g}"
        else:
            shown = f"{row['p5']:.3g} / {row['p50']:.3g} / {row['p95']:.3g}"
        kind = str(row["origin"])
        origin = f"{row['facts']}\n{row['sources']}" if kind == "fact" else kind
        table.add_row(str(row["input"]), shown, Text(origin, style=style[kind]))
    Console(highlight=False).print(table)


# -- calibrate -------------------------------------------------------------------------------
def calibrate_command(
    scenario: Annotated[
        str, typer.Argument(metavar="FILE|NAME", help="The scenario to calibrate.")
    ],
    targets: Annotated[
        str,
        typer.Option(
            "--targets",
            "-t",
            help="A targets file (.yaml) or a built-in target set.",
            show_default=False,
        ),
    ],
    fit: Annotated[
        list[str] | None,
        typer.Option(
            "--fit",
            "-f",
            help="An uncertain input to fit (repeat); default: the targets file's fit: list.",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the calibrated scenario (default: NAME-calibrated.yaml).",
        ),
    ] = None,
    point: Annotated[
        bool, typer.Option("--point", help="Write the point fit instead of the posterior.")
    ] = False,
    samples: Annotated[int, typer.Option(help="Samples per importance-sampling round.")] = 4000,
    point_samples: Annotated[
        int, typer.Option(help="Samples whose medians the point fit matches.")
    ] = 400,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    force: Annotated[bool, typer.Option(help="Overwrite an existing output file.")] = False,
) -> None:
    """Fit uncertain inputs of a scenario to observed figures; write the calibrated scenario.

    Makes a point fit (least squares on medians) and a posterior (importance sampling), prints
    both against the targets, and writes the scenario with the fitted inputs replaced and the
    diagnostics in comments.
    """
    cli = _cli()
    with _reported(scenario):
        name = load_scenario(scenario).name
    target = out or Path(f"{name}-calibrated.yaml")
    _check_out(target, force)  # before the fit, not after it
    with _reported(scenario):
        result = calibrate(
            scenario,
            targets,
            fit,
            method="point" if point else "both",
            samples=samples,
            point_samples=point_samples,
            seed=seed,
        )
    kind = "point" if point else "posterior"
    console = Console(highlight=False)
    _print_calibration(console, result)
    try:
        written = result.write(target, kind)
    except OSError as exc:
        cli._fail(f"--out: cannot write to {str(target)!r}: {exc.strerror or exc}")
    except ScenarioError as exc:
        cli._fail_scenario(exc, str(target))
    console.print(Text.assemble(("Calibrated scenario written to ", "bold"), str(written)))


def _check_out(target: Path, force: bool) -> None:
    """Refuse an output path that exists (unless ``force``) or whose folder does not."""
    cli = _cli()
    if target.exists() and not force:
        cli._fail(f"--out: {str(target)!r} exists; accepted: a new path, or --force to replace it")
    if not target.parent.exists():
        cli._fail(f"--out: folder {str(target.parent)!r} does not exist")


def _print_calibration(console: Console, result: Calibration) -> None:
    lines = result.report_lines()
    for line in lines[: lines.index("")]:
        style = "bold yellow" if line.startswith("WARNING") else ""
        console.print(Text(line, style=style), soft_wrap=True)
    inputs = result.inputs_table()
    table = Table(box=box.SIMPLE_HEAD, title="Fitted inputs", title_justify="left")
    for column in ("input", "prior p5-p95", "point fit", "posterior p50", "posterior p5-p95"):
        table.add_column(
            column, justify="left" if column == "input" else "right", no_wrap=column == "input"
        )
    for name, row in inputs.iterrows():
        table.add_row(
            str(name),
            f"{row['prior_p5']:.3g} to {row['prior_p95']:.3g}",
            f"{row['point']:.4g}",
            f"{row.get('posterior_p50', math.nan):.4g}",
            f"{row.get('posterior_p5', math.nan):.3g} to {row.get('posterior_p95', math.nan):.3g}",
        )
    console.print(table)
    console.print(_targets_table("Targets", result.targets_table(), result))


def _targets_table(title: str, frame: pd.DataFrame, result: Calibration) -> Table:
    table = Table(box=box.SIMPLE_HEAD, title=title, title_justify="left")
    table.caption = "Money per year for run_rate; otherwise over the target's period."
    for column in (
        "target",
        "observed",
        "sd",
        "prior p50",
        "point fit",
        "posterior p50",
        "posterior 90%",
    ):
        table.add_column(column, justify="left" if column == "target" else "right")
    units = {t.label: METRICS[t.metric].unit for t in (*result.targets.targets, *result.tracked)}
    for label, row in frame.iterrows():
        unit = units[str(label)]
        table.add_row(
            str(label),
            _figure(row["observed"], unit, per=False),
            _figure(row["sd"], unit, per=False),
            _figure(row.get("prior_p50"), unit, per=False),
            _figure(row.get("point_median"), unit, per=False),
            _figure(row.get("posterior_p50"), unit, per=False),
            _figure(row.get("posterior_p5"), unit, per=False)
            + " to "
            + _figure(row.get("posterior_p95"), unit, per=False),
        )
    return table


# -- backtest --------------------------------------------------------------------------------
def backtest_command(
    name: Annotated[
        str | None,
        typer.Argument(help="A built-in target set (see --list) or a targets file."),
    ] = None,
    list_sets: Annotated[
        bool, typer.Option("--list", help="List the built-in target sets.")
    ] = False,
    cutoff: Annotated[
        str | None, typer.Option(help="Cut-off month YYYY-MM (default: the set's own).")
    ] = None,
    samples: Annotated[int, typer.Option(help="Samples per importance-sampling round.")] = 4000,
    point_samples: Annotated[
        int, typer.Option(help="Samples whose medians the point fit matches.")
    ] = 400,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the table as JSON.")] = False,
) -> None:
    """Calibrate on a lab's figures up to a cut-off and report the error on the later ones."""
    cli = _cli()
    console = Console(highlight=False)
    if list_sets or name is None:
        for set_name in builtin_target_sets():
            loaded = load_targets(set_name)
            console.print(
                Text.assemble(
                    (set_name, "bold cyan"),
                    f"  cut-off {loaded.cutoff}, "
                    f"{len(loaded.targets)} targets: {loaded.description}",
                ),
                soft_wrap=True,
            )
        if name is None and not list_sets:
            raise typer.Exit(cli.EXIT_USAGE)
        return
    with _reported(name):
        result = backtest(
            name, cutoff=cutoff, samples=samples, point_samples=point_samples, seed=seed
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "name": result.name,
                    "cutoff": result.cutoff,
                    "summary": result.summary(),
                    "held_out": json.loads(result.table().reset_index().to_json(orient="records")),
                    "fitted": json.loads(
                        result.calibration.inputs_table().reset_index().to_json(orient="records")
                    ),
                },
                indent=2,
            )
        )
        return
    _print_backtest(console, result)


def _print_backtest(console: Console, result: Backtest) -> None:
    calibration = result.calibration
    console.print(
        Text(
            f"Backtest {result.name}: calibrated on {len(calibration.targets.targets)} figures "
            f"up to {result.cutoff}, scored on {len(calibration.tracked)} after it.",
            style="bold",
        ),
        soft_wrap=True,
    )
    _print_calibration(console, calibration)
    table = _targets_table("Held-out figures (not fitted)", result.table(), calibration)
    console.print(table)
    summary = result.summary()
    parts = [
        f"{name}: median |error| {summary[f'{name}_median_abs_error']:.0%}"
        for name in ("prior", "point", "posterior")
        if f"{name}_median_abs_error" in summary
    ]
    if "coverage_90" in summary:
        parts.append(f"observed inside the posterior 90% interval: {summary['coverage_90']:.0%}")
    console.print(Text("; ".join(parts)), soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the evidence commands to the main app."""
    app.command("facts")(facts)
    app.command("explain")(explain_command)
    app.command("calibrate")(calibrate_command)
    app.command("backtest")(backtest_command)
