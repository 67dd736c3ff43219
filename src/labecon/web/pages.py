"""Server-rendered pages of the dashboard (issue 8, first part): the index, a scenario page.

Pages are plain HTML with one script of ours (static/app.js) and plotly.js from the Plotly
package installed with labecon: nothing is loaded from another site.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import plotly

from labecon.facts import Fact
from labecon.scenario.loading import builtin_descriptions
from labecon.store import RunInfo, ScenarioVersion

STATIC = Path(__file__).parent / "static"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #222; }
main { display: grid; grid-template-columns: minmax(18rem, 28rem) 1fr; gap: 1.5rem; }
textarea { width: 100%; height: 22rem; font-family: monospace; font-size: 0.85rem; }
.lever { display: grid; grid-template-columns: 1fr; margin: 0.4rem 0; font-size: 0.85rem; }
.lever .row { display: grid; grid-template-columns: 1fr 7rem; gap: 0.4rem; }
.lever input[type=range] { width: 100%; }
#problems { color: #b00020; }
.note { font-size: 0.8rem; color: #555; }
#chart { height: 26rem; }
.fan { height: 20rem; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(24rem, 1fr)); }
table { border-collapse: collapse; font-size: 0.85rem; }
td, th { padding: 0.15rem 0.6rem; border-bottom: 1px solid #ddd; text-align: right; }
td:first-child, th:first-child { text-align: left; }
a { color: #1f5fa8; }
"""


def _page(title: str, body: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)} · labecon</title><style>{STYLE}</style>"
        "<script src='/static/plotly.min.js'></script></head>"
        f"<body>{body}<script src='/static/app.js'></script></body></html>"
    )


def index_page(stored: list[ScenarioVersion], runs: list[RunInfo] | None = None) -> str:
    """The stored scenarios (links to their pages), recent runs and the built-in examples."""
    rows = "".join(
        f"<li><a href='/scenarios/{html.escape(s.name)}'>{html.escape(s.name)}</a> "
        f"(version {s.version})</li>"
        for s in stored
    )
    taken = {s.name for s in stored}
    examples = "".join(
        f"<li><button class='start' data-example='{html.escape(name)}'>Start from "
        f"{html.escape(name)}</button> {html.escape(text)}</li>"
        for name, text in builtin_descriptions().items()
    )
    return _page(
        "Scenarios",
        "<h1>labecon</h1><h2>Stored scenarios</h2>"
        + (
            f"<ul id='stored'>{rows}</ul>"
            if rows
            else "<p id='stored'>None yet: start from a built-in example below, or store "
            "one with POST /api/scenarios (see <a href='/docs'>/docs</a>).</p>"
        )
        + "<h2>Runs</h2><ul id='runs'>"
        + "".join(
            f"<li><a href='/runs/{r.id}'>{html.escape(r.scenario_name)}, {r.samples:,} "
            f"samples</a> ({r.status})</li>"
            for r in runs or []
        )
        + "</ul><p><a href='/compare'>Compare scenarios</a> on common random numbers. "
        "<a href='/data'>Explore the data</a>: the fact base and API prices.</p>"
        + "<h2>Built-in examples</h2><p>Each starts a stored scenario of your own that "
        "extends it: its page has the levers and the editor.</p>"
        + f"<ul id='examples' data-taken='{html.escape(json.dumps(sorted(taken)))}'>"
        + f"{examples}</ul><ul id='problems' hidden></ul>",
    )


def missing_page(why: str) -> str:
    """What a link to a scenario or run that is not in the store shows (with status 404)."""
    return _page(
        "Not found",
        "<h1><a href='/'>labecon</a> · not found</h1>"
        f"<p id='missing'>{html.escape(why)}</p><p><a href='/'>Back to the scenarios</a></p>",
    )


def run_page(run: RunInfo) -> str:
    """A stored run: its status while it runs, then its monthly fans, generations and metrics."""
    charts = "".join(
        f"<div id='run-{key}' class='fan' data-draws='0'></div>"
        for key in ("cash", "revenue", "operating_income")
    )
    return _page(
        f"Run of {run.scenario_name}",
        f"<h1><a href='/'>labecon</a> · run of {html.escape(run.scenario_name)}</h1>"
        f"<div id='run' data-id='{run.id}'><p>{run.samples:,} samples, seed {run.seed}, "
        f"labecon {html.escape(run.labecon_version)}: <span id='run-status'></span> "
        "<button id='cancel' hidden>Cancel</button> "
        f"<a href='/api/runs/{run.id}/result.csv'>CSV</a> · "
        f"<a href='/api/runs/{run.id}/result.parquet'>Parquet</a> · "
        f"<a href='/api/runs/{run.id}/result'>JSON</a></p>"
        f"<div class='charts'>{charts}</div>"
        "<h2>Generations (median over samples)</h2><table id='generations'></table>"
        "<h2>Metrics</h2><table id='metrics'></table></div>",
    )


def compare_page(stored: list[ScenarioVersion], chosen: list[str]) -> str:
    """Pick stored scenarios (the first is the reference); their cash and metrics, paired."""
    boxes = "".join(
        f"<label><input type='checkbox' value='{html.escape(s.name)}'"
        f"{' checked' if s.name in chosen else ''}> {html.escape(s.name)}</label> "
        for s in stored
    )
    return _page(
        "Compare",
        "<h1><a href='/'>labecon</a> · compare</h1>"
        f"<div id='compare' data-chosen='{html.escape(json.dumps(chosen))}'>"
        "<p>Scenarios, the first ticked is the reference: "
        f"<span id='choices'>{boxes or 'none stored yet'}</span></p>"
        "<p><label>Samples <input id='compare-samples' type='number' min='1' value='2000'>"
        "</label> <button id='compare-button'>Compare</button> <span id='compare-status'>"
        "</span></p><ul id='problems' hidden></ul>"
        "<div id='compare-chart' class='fan' data-draws='0'></div>"
        "<p>Medians (months: the share of samples reaching it, and its median). In brackets, "
        "the mean difference to the reference, paired sample by sample on common random "
        "numbers, ± its standard error.</p><table id='compare-table'></table></div>",
    )


def _figure(fact: Fact) -> str:
    if fact.low is not None and fact.high is not None:
        return f"{fact.low:,.4g} to {fact.high:,.4g}"
    return "—" if fact.value is None else f"{fact.value:,.4g}"


def data_page(facts: list[Fact]) -> str:
    """The fact base as a table, and a chart of API launch prices by tier."""
    rows = "".join(
        f"<tr><td>{html.escape(f.id)}</td><td>{_figure(f)}</td><td>{html.escape(f.unit)}</td>"
        f"<td>{html.escape(f.as_of)}</td><td>{html.escape(f.source.title)}</td></tr>"
        for f in facts
    )
    return _page(
        "Data",
        "<h1><a href='/'>labecon</a> · data</h1>"
        "<div id='prices' data-draws='0' style='height:26rem'></div>"
        f"<h2>Fact base ({len(facts)} facts)</h2><table id='facts'><tr><th>id</th><th>figure"
        f"</th><th>unit</th><th>as of</th><th>source</th></tr>{rows}</table>",
    )


def scenario_page(version: ScenarioVersion) -> str:
    """A scenario's levers, YAML editor (validated as you type) and cash fan."""
    name = html.escape(version.name)
    return _page(
        version.name,
        f"<h1><a href='/'>labecon</a> · {name} <small id='version'>version {version.version}"
        "</small></h1>"
        f"<main id='scenario' data-name='{name}' data-version='{version.version}'>"
        "<section><h2>Levers</h2><p class='note'>The uncertain inputs that move the capital "
        "need most (tornado, p5 to p95), each set for every sample; the others vary.</p>"
        "<div id='levers'></div>"
        "<h2>Scenario</h2>"
        f"<textarea id='editor' spellcheck='false'>{html.escape(version.text)}</textarea>"
        "<ul id='problems' hidden></ul><p><button id='save'>Save as a new version</button> "
        "<button id='run-button'>Run 10,000 samples of the saved version</button> "
        f"<a href='/compare?scenarios={name}'>Compare with another</a></p></section>"
        "<section><div id='chart' data-draws='0'></div><p id='status'></p>"
        "<div id='generations' class='fan' data-draws='0'></div>"
        "<div id='swings' class='fan' data-draws='0' hidden></div></section></main>",
    )
