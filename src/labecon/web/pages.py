"""Server-rendered pages of the dashboard (issue 8, first part): the index, a scenario page.

Pages are plain HTML with one script of ours (static/app.js) and plotly.js from the Plotly
package installed with labecon: nothing is loaded from another site.
"""

from __future__ import annotations

import html
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
.lever input { width: 100%; }
#problems { color: #b00020; }
#chart { height: 26rem; }
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
    examples = "".join(
        f"<li><b>{html.escape(name)}</b>: {html.escape(text)}</li>"
        for name, text in builtin_descriptions().items()
    )
    return _page(
        "Scenarios",
        "<h1>labecon</h1><h2>Stored scenarios</h2>"
        + (
            f"<ul id='stored'>{rows}</ul>"
            if rows
            else "<p id='stored'>None yet: store one "
            "with POST /api/scenarios (see <a href='/docs'>/docs</a>).</p>"
        )
        + "<h2>Runs</h2><ul id='runs'>"
        + "".join(
            f"<li><a href='/runs/{r.id}'>{html.escape(r.scenario_name)}, {r.samples:,} "
            f"samples</a> ({r.status})</li>"
            for r in (runs or [])[:20]
        )
        + "</ul><p><a href='/data'>Explore the data</a>: the fact base and API prices.</p>"
        + f"<h2>Built-in examples</h2><ul>{examples}</ul>",
    )


def run_page(run: RunInfo) -> str:
    """A stored run: its status while it runs, then its yearly cash fan and metrics."""
    return _page(
        f"Run of {run.scenario_name}",
        f"<h1><a href='/'>labecon</a> · run of {html.escape(run.scenario_name)}</h1>"
        f"<div id='run' data-id='{run.id}'><p>{run.samples:,} samples, seed {run.seed}, "
        f"labecon {html.escape(run.labecon_version)}: <span id='run-status'></span></p>"
        "<div id='run-chart' data-draws='0' style='height:24rem'></div>"
        "<h2>Metrics (median)</h2><table id='metrics'></table></div>",
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
        "<section><h2>Levers</h2><div id='levers'></div>"
        "<h2>Scenario</h2>"
        f"<textarea id='editor' spellcheck='false'>{html.escape(version.text)}</textarea>"
        "<ul id='problems' hidden></ul><button id='save'>Save as a new version</button></section>"
        "<section><div id='chart' data-draws='0'></div><p id='status'></p></section></main>",
    )
