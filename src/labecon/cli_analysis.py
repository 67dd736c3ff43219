"""CLI commands for analyses over a scenario's uncertain inputs: ``labecon sensitivity``.

Registered on the main Typer app by :mod:`labecon.cli`; the command calls
:func:`labecon.sensitivity.sensitivity` and renders its frame with Rich.
"""

from __future__ import annotations

import math
import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from labecon.cli_evidence import _check_out, _cli, _reported
from labecon.discovery import input_kind
from labecon.formatting import format_input
from labecon.metrics import metric_kind
from labecon.scenario.loading import load_scenario
from labecon.sensitivity import METHOD_OPTIONS as SENSITIVITY_OPTIONS
from labecon.sensitivity import METHODS, sensitivity

#: Characters of a bar at most (a tornado's two sides together), and at least (or none).
BAR = 21
MIN_BAR = 7
#: The options that belong to one method only, by flag.
METHOD_OPTIONS = {f"--{option}": method for option, method in SENSITIVITY_OPTIONS.items()}


def sensitivity_command(
    scenario: Annotated[
        str,
        typer.Argument(
            metavar="NAME|FILE",
            help="A built-in scenario name (see `labecon examples`) or a .yaml/.yml/.toml file.",
            show_default=False,
        ),
    ],
    metric: Annotated[
        str,
        typer.Option(
            "--metric",
            "-m",
            help="The metric to explain, e.g. capital_need_usd, insolvent, breakeven_month, "
            "cumulative_operating_income_usd, operating_income_2027.",
            show_default=False,
        ),
    ],
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="tornado (each input p5 to p95, the rest at medians), morris (elementary "
            "effects, mu*) or sobol (variance shares S1, ST with 95% intervals).",
        ),
    ] = "tornado",
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            help="tornado: samples averaged per point (default 1, or 64 when raises can fail).",
            show_default=False,
        ),
    ] = None,
    n: Annotated[
        int | None,
        typer.Option(
            "--n",
            help="sobol: base sample size, a power of 2 (default 512); runs n x (inputs + 2).",
            show_default=False,
        ),
    ] = None,
    trajectories: Annotated[
        int | None,
        typer.Option(
            "--trajectories",
            help="morris: trajectories (default 50); runs trajectories x (inputs + 1).",
            show_default=False,
        ),
    ] = None,
    levels: Annotated[
        int | None,
        typer.Option("--levels", help="morris: grid levels, even (default 4).", show_default=False),
    ] = None,
    inputs: Annotated[
        list[str] | None,
        typer.Option(
            "--input",
            "-i",
            help="Vary only this uncertain input (repeat); the others stay at their medians.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", "-s", help="Random seed (>= 0).")] = 0,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the table as JSON records, one per input.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Also write the table to this CSV file.", show_default=False
        ),
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing --out file.")] = False,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Run the model on the Dask cluster at ADDRESS (e.g. tcp://host:8786); same "
            "numbers. Needs the dask extra of labecon.",
            show_default=False,
        ),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Run the model on a local Dask cluster of N worker processes; same numbers. "
            "Needs the dask extra of labecon.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Which uncertain inputs drive a metric: a tornado, Morris screening or Sobol indices.

    Morris and Sobol vary the inputs independently: a scenario's correlations are not applied.
    """
    cli = _cli()
    if method not in METHODS:
        cli._fail(f"--method: {method!r} is not accepted; accepted: {', '.join(METHODS)}")
    given = {"--samples": samples, "--n": n, "--trajectories": trajectories, "--levels": levels}
    for flag, value in given.items():
        if value is not None and METHOD_OPTIONS[flag] != method:
            cli._fail(
                f"{flag}: applies to --method {METHOD_OPTIONS[flag]} only, not {method}; "
                f"accepted with {method}: "
                + (", ".join(f for f, m in METHOD_OPTIONS.items() if m == method) or "none")
            )
    options: dict[str, Any] = {"seed": seed, "inputs": inputs or None}
    options |= {"scheduler": scheduler, "workers": workers}
    options |= {flag.removeprefix("--"): v for flag, v in given.items() if v is not None}
    with _reported(scenario):
        loaded = load_scenario(scenario)
    if out is not None:
        _check_out(out, force)  # before the runs, not after them
    stderr = Console(stderr=True, highlight=False)
    progress = cli.DelayedProgress(stderr, f"{method.capitalize()} on {loaded.name}")
    try:
        with _reported(scenario):
            frame = sensitivity(loaded, metric, method, progress=progress, **options)
    finally:
        progress.close()
    if out is not None:
        try:
            _write_csv(out, frame)
        except OSError as exc:
            cli._fail(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}")
    if as_json:
        typer.echo(cli.json_text(frame.to_dict("records"), indent=2))
    else:
        console = Console(highlight=False)
        console.print(sensitivity_table(frame, console))
        for note in notes(frame):
            console.print(Text(note, style="yellow"), soft_wrap=True)
    if out is not None:
        notice = stderr if as_json else Console(highlight=False)
        notice.print(Text.assemble(("Wrote ", "bold"), str(out.resolve())), soft_wrap=True)


def _write_csv(target: Path, frame: pd.DataFrame) -> None:
    """Write ``frame`` as CSV atomically: a temporary file beside ``target``, then renamed."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format=_cli().CSV_FLOAT_FORMAT)
    handle, staging = tempfile.mkstemp(prefix=".labecon-", suffix=".csv", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise


# -- rendering --------------------------------------------------------------------------------
def sensitivity_table(frame: pd.DataFrame, console: Console | None = None) -> Table:
    """The frame of a tornado, Morris or Sobol analysis as a Rich table with text bars.

    On a ``console`` too narrow for the whole table the bars are shortened, then left out, so
    the input names and the figures stay whole.
    """
    method = frame.attrs["method"]
    build = {"tornado": _tornado_table, "sobol": _sobol_table}.get(method, _morris_table)
    table = build(frame, BAR)
    if console is None:
        return table
    room = console.width - (_columns_width(console, table) - BAR)
    if room >= BAR:
        return table
    if room >= MIN_BAR:
        return build(frame, room)
    table.columns.pop()  # the bar column, with its cells
    return table


def _columns_width(console: Console, table: Table) -> int:
    """The width a table's columns want, unwrapped; its title and caption wrap, so not them."""
    title, caption = table.title, table.caption
    table.title = table.caption = None
    try:
        wide = console.options.update_width(100_000)
        return console.measure(table, options=wide).maximum
    finally:
        table.title, table.caption = title, caption


def _add_columns(
    table: Table, frame: pd.DataFrame, *figures: str, wrap: tuple[str, ...] = ()
) -> None:
    """The input column, kept whole (names are long), the figures, then a bar that may crop.

    Only the ``wrap`` columns may wrap on a narrow console; the others keep their figures whole.
    """
    longest = max((len(str(name)) for name in frame["input"]), default=5)
    table.add_column("input", style="bold", no_wrap=True, min_width=longest)
    for figure in figures:
        table.add_column(figure, justify="right", no_wrap=figure not in wrap)
    table.add_column("", no_wrap=True, overflow="crop")


def _input_value(value: Any, name: str) -> str:
    """An input's value in its unit: money with $, rates in %, months; other numbers compact."""
    kind = input_kind(name)
    if kind in ("money", "rate", "months"):
        return str(format_input(float(value), kind))
    return _number(value)


def _number(value: Any) -> str:
    """An input's value in its own unit, compact: 0.155, 2000, 400k, 25B."""
    number = float(f"{float(value):.3g}")  # 999,999,999.9 -> 1e9, shown as 1B
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(number) >= max(scale, 1e4):
            return f"{number / scale:.3g}{suffix}"
    return f"{number:.4g}"


def _metric_figure(value: Any, metric: str, *, difference: bool = False) -> str:
    """A metric's value for people: money, a percentage, or months from the start."""
    cli = _cli()
    if value is None or not math.isfinite(float(value)):
        return "—"
    kind = metric_kind(metric)
    if kind == "money":
        return str(cli.format_money(value))
    if kind in ("probability", "share"):
        return f"{float(value) * 100:.1f} pts" if difference else str(cli.format_percent(value))
    return f"{float(value):.1f} mo"


def _tornado_table(frame: pd.DataFrame, bar: int) -> Table:
    attrs = frame.attrs
    metric = attrs["metric"]
    base = float(frame["base"].iloc[0]) if len(frame) else math.nan
    table = Table(box=box.SIMPLE_HEAD, title_justify="left")
    table.title = (
        f"Tornado: {metric} of {attrs['scenario']} — base {_metric_figure(base, metric)} "
        "with every uncertain input at its median"
    )
    per_point = attrs["samples_per_point"]
    table.caption = (
        f"Each input alone at its p5 and p95, the others at their medians; "
        f"{per_point} sample{'s' if per_point != 1 else ''} per point, seed {attrs['seed']}. "
        "Bar: the metric at the input's p5 (cyan) and p95 (magenta) around the base (│)."
    )
    table.caption_justify = "left"
    _add_columns(table, frame, "p5 → p95", "at p5", "at p95", "swing", wrap=("p5 → p95",))
    reach = max(
        (
            abs(float(v) - base)
            for v in (*frame["metric_at_low"], *frame["metric_at_high"])
            if math.isfinite(float(v))
        ),
        default=0.0,
    )
    for row in frame.to_dict("records"):
        name = str(row["input"])
        table.add_row(
            name,
            f"{_input_value(row['low_value'], name)} → {_input_value(row['high_value'], name)}",
            _metric_figure(row["metric_at_low"], metric),
            _metric_figure(row["metric_at_high"], metric),
            _metric_figure(row["swing"], metric, difference=True),
            tornado_bar(row["metric_at_low"], row["metric_at_high"], base, reach, (bar - 1) // 2),
        )
    return table


def tornado_bar(low: float, high: float, base: float, reach: float, half: int) -> Text:
    """A bar around the base: cells towards the metric at p5 (cyan) and at p95 (magenta).

    ``reach`` is the largest distance from the base in the table; it fills ``half`` cells.
    """

    def cells(value: float) -> int:
        return round(abs(value - base) / reach * half) if reach > 0 else 0

    left = {"low": 0, "high": 0}
    right = {"low": 0, "high": 0}
    for end, value in (("low", low), ("high", high)):
        (left if value < base else right)[end] = cells(value)
    left_end = max(left, key=lambda k: left[k])
    right_end = max(right, key=lambda k: right[k])
    style = {"low": "cyan", "high": "magenta"}
    width_left, width_right = left[left_end], right[right_end]
    return Text.assemble(
        " " * (half - width_left),
        ("█" * width_left, style[left_end]),
        ("│", "dim"),
        ("█" * width_right, style[right_end]),
    )


def _bar(value: float, largest: float, width: int) -> str:
    if not (math.isfinite(value) and largest > 0):
        return ""
    return "█" * round(max(value, 0.0) / largest * width)


def _sobol_table(frame: pd.DataFrame, bar: int) -> Table:
    attrs = frame.attrs
    table = Table(box=box.SIMPLE_HEAD, title_justify="left", caption_justify="left")
    table.title = f"Sobol' indices: {attrs['metric']} of {attrs['scenario']}"
    table.caption = (
        f"Shares of the metric's variance (sd {_metric_figure(attrs['metric_sd'], attrs['metric'])}"
        f"): S1 by the input alone, ST with its interactions; ± 95% bootstrap interval. "
        f"n = {attrs['n']}, {attrs['evaluations']:,} runs, seed {attrs['seed']}. Bar: ST."
    )
    _add_columns(table, frame, "S1", "ST")
    largest = max((float(v) for v in frame["ST"] if math.isfinite(float(v))), default=0.0)
    for row in frame.to_dict("records"):
        table.add_row(
            str(row["input"]),
            f"{row['S1']:.3f} ± {row['S1_conf']:.3f}",
            f"{row['ST']:.3f} ± {row['ST_conf']:.3f}",
            Text(_bar(float(row["ST"]), largest, bar), style="green"),
        )
    return table


def _morris_table(frame: pd.DataFrame, bar: int) -> Table:
    attrs = frame.attrs
    metric = attrs["metric"]
    table = Table(box=box.SIMPLE_HEAD, title_justify="left", caption_justify="left")
    table.title = f"Morris screening: {metric} of {attrs['scenario']}"
    table.caption = (
        "mu*: mean |elementary effect| per unit of the input's [0, 1] grid (± 95% bootstrap "
        "interval); sigma: their spread (non-linearity, interactions); mu: mean signed effect. "
        f"{attrs['trajectories']} trajectories, {attrs['levels']} levels, "
        f"{attrs['evaluations']:,} runs, seed {attrs['seed']}. Bar: mu*."
    )
    _add_columns(table, frame, "mu*", "sigma", "mu")
    largest = max((float(v) for v in frame["mu_star"] if math.isfinite(float(v))), default=0.0)
    for row in frame.to_dict("records"):
        table.add_row(
            str(row["input"]),
            f"{_metric_figure(row['mu_star'], metric, difference=True)} ± "
            f"{_metric_figure(row['mu_star_conf'], metric, difference=True)}",
            _metric_figure(row["sigma"], metric, difference=True),
            _metric_figure(row["mu"], metric, difference=True),
            Text(_bar(float(row["mu_star"]), largest, bar), style="green"),
        )
    return table


def notes(frame: pd.DataFrame) -> list[str]:
    """Caveats to print under the table: ignored correlations, censored month metrics."""
    attrs = frame.attrs
    out = []
    if attrs["ignored_correlations"]:
        pairs = ", ".join(f"{a} ~ {b} ({rank:+g})" for a, b, rank in attrs["ignored_correlations"])
        out.append(
            f"Note: {attrs['method']} varies the inputs independently; the scenario's rank "
            f"correlations are not applied: {pairs}."
        )
    if attrs["censored_share"] > 0:
        out.append(
            f"Note: {attrs['metric']} is not reached within the horizon in "
            f"{attrs['censored_share']:.0%} of the runs; those count as month "
            f"{attrs['horizon_months']}, the first month after it."
        )
    return out


def register(app: typer.Typer) -> None:
    """Add the analysis commands to the main app."""
    app.command("sensitivity")(sensitivity_command)
