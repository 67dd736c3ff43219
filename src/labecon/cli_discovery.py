"""CLI command ``labecon discover``: which ranges of the inputs lead to an outcome (PRIM).

Registered on the main Typer app by :mod:`labecon.cli`; calls :func:`labecon.discovery.
discover` and renders the box and the peeling trajectory with Rich.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box as rich_box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from labecon.cli_evidence import _cli, _reported
from labecon.discovery import OUTCOME_FORMS, Discovery, PrimResult, discover
from labecon.formatting import format_input

# Trajectory steps shown on each side of the chosen one.
_STEPS_AROUND = 3


def _range(row: Any) -> str:
    """The box's limits on one input: "≥ $6.0B", "≤ 40%" or "$2.0B to $5.0B"."""
    kind = str(row["kind"])
    low_cut = row["low"] > row["data_low"]
    high_cut = row["high"] < row["data_high"]
    low, high = format_input(float(row["low"]), kind), format_input(float(row["high"]), kind)
    if low_cut and high_cut:
        return low if low == high else f"{low} to {high}"
    return f"≥ {low}" if low_cut else f"≤ {high}"


def box_table(found: PrimResult, number: int) -> Table:
    """The restricted inputs of a box, the most important first."""
    table = Table(box=rich_box.SIMPLE_HEAD, title_justify="left")
    table.title = (
        f"Box {number}: coverage {found.coverage:.0%}, density {found.density:.0%}, "
        f"mass {found.mass:.0%} ({found.n_cases_of_interest:,} of {found.n_cases:,} samples "
        f"inside have the outcome)"
    )
    table.caption = (
        "density if dropped: the box's density without that restriction (lower = matters more)"
    )
    table.add_column("input", style="bold", no_wrap=True)
    table.add_column("box", justify="right", no_wrap=True)
    table.add_column("range in the samples", justify="right", no_wrap=True)
    table.add_column("density if dropped", justify="right")
    rows = found.box[found.box["restricted"]].sort_values("density_if_dropped")
    for _, row in rows.iterrows():
        kind = str(row["kind"])
        table.add_row(
            str(row["input"]),
            _range(row),
            format_input(float(row["data_low"]), kind)
            + " to "
            + format_input(float(row["data_high"]), kind),
            f"{float(row['density_if_dropped']):.0%}",
        )
    if rows.empty:
        table.add_row("(no input restricted)", "", "", "")
    return table


def trajectory_table(found: PrimResult, kinds: dict[str, str]) -> Table:
    """The peeling steps around the chosen box, and the last step."""
    trajectory = found.trajectory
    last = len(trajectory) - 1
    shown = [
        step
        for step in range(last + 1)
        if abs(step - found.step) <= _STEPS_AROUND or step == last or step == 0
    ]
    table = Table(box=rich_box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    table.title = f"Peeling trajectory ({last} steps; the box was chosen at step {found.step})"
    table.caption = "--step N chooses another step's box; --threshold the density to reach"
    for column in ("step", "peeled", "end", "new limit", "coverage", "density", "mass", "inputs"):
        table.add_column(column, justify="left" if column in ("peeled", "end") else "right")
    previous = None
    for step in shown:
        if previous is not None and step != previous + 1:
            table.add_row("…", "", "", "", "", "", "", "")
        previous = step
        row = trajectory.iloc[step]
        name = None if step == 0 else str(row["input"])
        limit = "" if name is None else format_input(float(row["limit"]), kinds[name])
        table.add_row(
            str(step),
            name or "",
            "" if name is None else str(row["side"]),
            limit,
            f"{row['coverage']:.0%}",
            f"{row['density']:.0%}",
            f"{row['mass']:.0%}",
            str(row["restricted"]),
            style="bold" if step == found.step else "",
        )
    return table


def print_discovery(console: Console, found: Discovery) -> None:
    """The base rate, each box and the first box's trajectory."""
    console.print(
        Text(
            f"{found.scenario}: {found.outcome.label} happens in {found.base_rate:.1%} of "
            f"{found.samples:,} samples ({found.n_cases_of_interest:,}); seed {found.seed}.",
            style="bold",
        ),
        soft_wrap=True,
    )
    for number, result in enumerate(found.boxes, start=1):
        if not result.met_threshold:
            console.print(
                Text(
                    f"No box of trajectory {number} reaches density {result.threshold:.0%}; "
                    f"showing the densest (step {result.step}).",
                    style="yellow",
                ),
                soft_wrap=True,
            )
        console.print(box_table(result, number))
    kinds = dict(zip(found.box["input"], found.box["kind"], strict=True))
    console.print(trajectory_table(found.boxes[0], kinds))


def discover_command(
    scenario: Annotated[
        str, typer.Argument(metavar="FILE|NAME", help="A scenario file or built-in name.")
    ],
    outcome: Annotated[
        str,
        typer.Option(
            "--outcome",
            help="What to explain: " + ", ".join(OUTCOME_FORMS) + ".",
            show_default=False,
        ),
    ],
    samples: Annotated[int, typer.Option("--samples", "-n", help="Monte Carlo samples.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    threshold: Annotated[
        float, typer.Option(help="Density the chosen box must reach (share of its samples).")
    ] = 0.8,
    alpha: Annotated[float, typer.Option(help="Share of the box peeled at each step.")] = 0.05,
    step: Annotated[
        int | None, typer.Option(help="Take the box at this step of the trajectory instead.")
    ] = None,
    boxes: Annotated[
        int, typer.Option(help="Boxes to find, each on the samples the earlier ones left.")
    ] = 1,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Find the ranges of the uncertain inputs in which an outcome happens (PRIM).

    E.g. labecon discover baseline --outcome "breakeven_before:2030-01". Prints the share of
    samples with the outcome, a box of input ranges with its coverage (share of those samples
    inside the box) and density (share of the box's samples with the outcome), and the
    peeling trajectory.
    """
    cli = _cli()
    stderr = Console(stderr=True, highlight=False)
    progress = cli.DelayedProgress(stderr, "Simulating")
    try:
        with _reported(scenario):
            found = discover(
                scenario,
                outcome,
                samples=samples,
                seed=seed,
                threshold=threshold,
                alpha=alpha,
                step=step,
                boxes=boxes,
                progress=progress,
            )
    finally:
        progress.close()
    if as_json:
        typer.echo(cli.json_text(found.to_dict(), indent=2))
        return
    print_discovery(Console(highlight=False), found)


def register(app: typer.Typer) -> None:
    """Add the discover command to the main app."""
    app.command("discover")(discover_command)
