"""Server-rendered pages of the dashboard (issue 8, first part): the index, a scenario page.

Pages are plain HTML with one script of ours (static/app.js) and plotly.js from the Plotly
package installed with labecon: nothing is loaded from another site.
"""

from __future__ import annotations

import html
from pathlib import Path

import plotly

from labecon.scenario.loading import builtin_descriptions
from labecon.store import ScenarioVersion

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


def index_page(stored: list[ScenarioVersion]) -> str:
    """The stored scenarios (links to their pages) and the built-in examples."""
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
        + f"<h2>Built-in examples</h2><ul>{examples}</ul>",
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
