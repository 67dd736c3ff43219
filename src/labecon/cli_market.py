"""``labecon run`` for a market (``kind: market``): survival, consolidation and shares.

Called by :func:`labecon.cli.run` when its argument is a market; the numbers come from
:func:`labecon.market.simulate_market` and are rendered with Rich, or written as JSON/CSV.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from labecon.errors import OptionError
from labecon.market import MarketError, MarketResult, load_market, simulate_market

#: Files ``--out`` writes for a market, then each lab's as a single-lab run writes them.
MARKET_FILES = ("survival.csv", "timeline.csv", "events.csv", "shares.csv", "market.json")
LAB_FILES = ("annual.csv", "generations.csv", "metrics.json")


def _cli() -> Any:
    from labecon import cli  # the main CLI module, imported late (it imports this one)

    return cli


def _yearly_mean(table: pd.DataFrame) -> pd.DataFrame:
    """Means of a monthly table (PeriodIndex) by calendar year."""
    return table.groupby(pd.PeriodIndex(table.index).year).mean()


def market_document(result: MarketResult) -> dict[str, Any]:
    """The market's tables as one JSON-ready document."""
    survival = result.survival()
    timeline = result.timeline()
    events = result.events()
    shares: dict[str, Any] = {}
    for segment in result.shares:
        yearly = _yearly_mean(result.share_table(segment))
        shares[segment] = {
            str(year): {str(name): float(v) for name, v in row.items()}
            for year, row in yearly.iterrows()
        }
    return {
        "market": result.market.name,
        "samples": result.sample_count,
        "seed": result.seed,
        "labs": result.loaded.names,
        "survival": {
            str(lab): {str(year): float(p) for year, p in survival[lab].items()}
            for lab in survival.columns
        },
        "timeline": [{"year": str(year), **row} for year, row in timeline.to_dict("index").items()],
        "events": [
            {"lab": str(lab), **{k: v for k, v in row.items() if k != f"acquired_by_{lab}"}}
            for lab, row in events.to_dict("index").items()
        ],
        "mean_shares_by_year": shares,
    }


def market_files(result: MarketResult, document: dict[str, Any]) -> dict[str, str]:
    """CSV tables and the JSON document, by file name."""

    def csv(frame: pd.DataFrame) -> str:
        buffer = io.StringIO()
        frame.to_csv(buffer)
        return buffer.getvalue()

    rows = []
    for segment in result.shares:
        table = result.share_table(segment)
        for month, row in table.iterrows():
            for option, value in row.items():
                rows.append(
                    {"segment": segment, "month": str(month), "option": option, "mean": value}
                )
    labs: dict[str, str] = {}
    for name, lab in result.labs.items():
        texts = _cli().output_texts(lab, lab.to_dict())
        labs.update({f"{name}.{file}": texts[file] for file in LAB_FILES})
    return {
        **labs,
        "survival.csv": csv(result.survival()),
        "timeline.csv": csv(result.timeline()),
        "events.csv": csv(result.events()),
        "shares.csv": pd.DataFrame(rows).to_csv(index=False),
        "market.json": _cli().json_text(document, indent=2),
    }


def run_market(
    source: str, samples: int, seed: int, out: Path | None, as_json: bool, refused: dict[str, bool]
) -> None:
    """Simulate a market and print its survival, consolidation timeline and shares."""
    cli = _cli()
    for flag, given in refused.items():
        if given:
            cli._fail(f"{flag}: applies to a single-lab scenario; not accepted with a market yet")
    try:
        loaded = load_market(source)
    except MarketError as exc:
        cli._fail_scenario(exc, source)
    if out is not None:
        cli.check_out_dir(out)
    stderr = Console(stderr=True, highlight=False)
    stderr.print(Text(f"Simulating the market {loaded.market.name} ({samples:,} samples)..."))
    try:
        result = simulate_market(loaded, samples=samples, seed=seed)
    except OptionError as exc:
        cli._fail(str(exc))
    document = market_document(result)
    written: Path | None = None
    if out is not None:
        try:
            written = cli.write_outputs(out, market_files(result, document))
        except OSError as exc:
            cli._fail(f"--out: cannot write to {str(out)!r}: {exc.strerror or exc}")
    if as_json:
        print(cli.json_text(document))
    else:
        print_market(Console(highlight=False), result)
    if written is not None:
        notice = stderr if as_json else Console(highlight=False)
        notice.print(
            Text.assemble(
                ("Wrote ", "bold"),
                ", ".join(MARKET_FILES) + ", and LAB." + ", LAB.".join(LAB_FILES) + " for each lab",
                (" to ", "bold"),
                str(written),
            )
        )


def _percent(value: float) -> str:
    return "—" if math.isnan(value) else f"{100 * value:.0f}%"


def print_market(console: Console, result: MarketResult) -> None:
    """Survival by year, the consolidation timeline, each lab's exit, the shares."""
    market = result.market
    console.print(
        Text.assemble(
            ("Market ", "bold"),
            (market.name, "bold cyan"),
            f": {len(result.loaded.names)} labs, {result.sample_count:,} samples, "
            f"seed {result.seed}, {market.start} + {market.horizon_months} months",
        )
    )
    survival = result.survival()
    table = Table(
        title="Probability each lab is still independent at the end of the year (%)",
        box=box.SIMPLE,
        padding=(0, 0),
        pad_edge=False,
    )
    table.add_column("lab", no_wrap=True)
    for year in survival.index:
        table.add_column(str(year), justify="right", no_wrap=True, min_width=4)
    for lab in survival.columns:
        table.add_row(str(lab), *(f"{100 * float(p):.0f}" for p in survival[lab]))
    console.print(table)

    table = Table(
        title="Consolidation timeline (mean per sample)",
        box=box.SIMPLE,
        padding=(0, 0),
        pad_edge=False,
    )
    for name in ("year", "exits", "acquisitions", "wind-downs", "independent labs"):
        table.add_column(name, justify="right")
    for year, row in result.timeline().to_dict("index").items():
        table.add_row(
            str(year),
            f"{row['exits']:.2f}",
            f"{row['acquisitions']:.2f}",
            f"{row['wind_downs']:.2f}",
            f"{row['independent_labs']:.2f}",
        )
    console.print(table)

    table = Table(
        title="How each lab ends within the horizon", box=box.SIMPLE, padding=(0, 0), pad_edge=False
    )
    for name in ("lab", "P(exit)", "median exit", "wound down", "most likely acquirer"):
        table.add_column(
            name,
            justify="left" if name in ("lab", "most likely acquirer") else "right",
            no_wrap=name == "lab",
        )
    for lab_name, ending in result.events().to_dict("index").items():
        buyers = {
            str(k).removeprefix("acquired_by_"): float(v)
            for k, v in ending.items()
            if str(k).startswith("acquired_by_") and not math.isnan(float(v))
        }
        best = max(buyers, key=lambda k: buyers[k]) if buyers else None
        table.add_row(
            str(lab_name),
            _percent(ending["probability"]),
            result.labs[str(lab_name)].month_label(ending["p50_month"]) or "—",
            _percent(ending["wound_down"]),
            f"{best} ({_percent(buyers[best])})" if best and buyers[best] > 0 else "—",
        )
    console.print(table)

    for segment in result.shares:
        yearly = _yearly_mean(result.share_table(segment)).iloc[::2]  # every other year
        table = Table(
            title=f"Mean share of the {segment} segment by year", box=box.SIMPLE, padding=(0, 0)
        )
        table.add_column("option", no_wrap=True)
        for year in yearly.index:
            table.add_column(str(year), justify="right", no_wrap=True, min_width=4)
        for option in yearly.columns:
            table.add_row(str(option), *(_percent(float(v)) for v in yearly[option]))
        console.print(table)
