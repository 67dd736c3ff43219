"""The HTML report: one self-contained, offline page with Plotly charts and tables.

plotly.js is embedded once, inline; every chart is a ``<figure class="chart">`` whose div
Plotly fills when the page loads. The page loads nothing from anywhere: no CDN, no font,
no image, no MathJax (sources in the inputs table are shown as text, not links).
"""

from __future__ import annotations

import datetime as dt
import html
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from labecon.errors import OptionError
from labecon.formatting import SCALES, format_money, format_percent
from labecon.formatting import finite as _finite
from labecon.ledger import UNATTRIBUTED_COSTS
from labecon.report import content
from labecon.report.content import Fan, Unit
from labecon.result import Result, statistic

#: A sensitivity table, or several by title (e.g. {"Tornado": ..., "Sobol": ...}).
Sensitivity = pd.DataFrame | Mapping[str, pd.DataFrame]

CHART_HEIGHT = 380
BAND_OUTER = "rgba(31, 119, 180, 0.15)"  # p5–p95
BAND_INNER = "rgba(31, 119, 180, 0.30)"  # p25–p75
MEDIAN = "rgb(31, 119, 180)"
GAIN, LOSS, TOTAL = "#2ca02c", "#d62728", "#1f77b4"
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}
SENSITIVITY_TOP = 15  # inputs shown per sensitivity chart, the largest first


@dataclass(frozen=True)
class Chart:
    """One chart of the page: its id, title, a caption and the Plotly figure."""

    key: str
    title: str
    caption: str
    figure: go.Figure


# -- number formatting -----------------------------------------------------------------------
money = format_money
percent = format_percent


def figure_text(value: Any, unit: Unit) -> str:
    """A number in its unit, for tables."""
    if not _finite(value):
        return "–"
    number = float(value)
    if unit is Unit.USD:
        return money(number)
    if unit is Unit.SHARE:
        return percent(number)
    if unit is Unit.MULTIPLE:
        return f"{number:.2f}x"
    if unit is Unit.MONTHS:
        return f"{number:.1f} mo"
    if unit is Unit.USD_PER_UNIT:
        return f"${number:,.2f}"
    return f"{number:,.3g}"


def _scale(values: Iterable[float]) -> tuple[float, str]:
    """A divisor and suffix so that the largest absolute value reads well ($12.3B)."""
    finite = [abs(v) for v in values if math.isfinite(v)]
    top = max(finite, default=0.0)
    return next(((s, n) for s, n in SCALES if top >= s), (1.0, ""))


def _axis(fig: go.Figure, unit: Unit, per: str, suffix: str) -> None:
    """Label the y axis with the unit: '$' and 'B' ticks for money, '%' for shares."""
    period = f" per {per}" if per else ""
    if unit is Unit.USD:
        fig.update_yaxes(tickprefix="$", ticksuffix=suffix, title_text=f"USD{period}")
    elif unit is Unit.SHARE:
        fig.update_yaxes(tickformat=".0%", title_text="share of samples")
    elif unit is Unit.GW:
        fig.update_yaxes(title_text=f"GW{period}")
    else:
        fig.update_yaxes(title_text=unit.value + period)


def _layout(fig: go.Figure, **extra: Any) -> go.Figure:
    settings: dict[str, Any] = {
        "template": "plotly_white",
        "height": CHART_HEIGHT,
        "margin": {"l": 70, "r": 20, "t": 20, "b": 50},
        "legend": {"orientation": "h", "y": -0.15},
        "hovermode": "x unified",
    }
    fig.update_layout(**(settings | extra))
    return fig


def _dates(index: pd.Index) -> list[str]:
    return [str(p) for p in index]


# -- charts ----------------------------------------------------------------------------------
def fan_chart(fan: Fan) -> go.Figure:
    """Median line with shaded p25–p75 and p5–p95 bands by month."""
    divisor, suffix = _scale(fan.quantiles.to_numpy().ravel()) if fan.unit is Unit.USD else (1, "")
    q = fan.quantiles / divisor
    x = _dates(fan.quantiles.index)
    fig = go.Figure()
    bands = (("p95", "p5", BAND_OUTER, "p5–p95"), ("p75", "p25", BAND_INNER, "p25–p75"))
    for high, low, colour, name in bands:
        fig.add_trace(
            go.Scatter(x=x, y=q[high], line={"width": 0}, showlegend=False, name=high, mode="lines")
        )
        fig.add_trace(
            go.Scatter(
                x=x, y=q[low], fill="tonexty", fillcolor=colour, line={"width": 0}, name=name
            )
        )
    fig.add_trace(go.Scatter(x=x, y=q["p50"], line={"color": MEDIAN, "width": 2}, name="median"))
    _axis(fig, fan.unit, fan.per, suffix)
    return _layout(fig, xaxis={"type": "date"})


def stacked_chart(layers: pd.DataFrame) -> go.Figure:
    """Stacked areas by month: one layer per column [USD/month]."""
    divisor, suffix = _scale(layers.sum(axis=1).to_list())
    x = _dates(layers.index)
    fig = go.Figure()
    for column in layers.columns:
        fig.add_trace(
            go.Scatter(
                x=x,
                y=layers[column] / divisor,
                name=str(column).replace("_", " "),
                stackgroup="layers",
                mode="lines",
                line={"width": 0.5},
            )
        )
    _axis(fig, Unit.USD, "month", suffix)
    # Shown even for one layer, so a single channel is named; in stacking order.
    return _layout(
        fig,
        xaxis={"type": "date"},
        showlegend=True,
        legend={"orientation": "h", "y": -0.15, "traceorder": "normal"},
    )


def waterfall_chart(figures: Mapping[str, float]) -> go.Figure:
    """Training cost, lifetime revenue, inference cost, then lifetime profit as the total."""
    steps = [
        ("Training", -figures["training_cost_usd"], "relative"),
        ("Revenue", figures["lifetime_revenue_usd"], "relative"),
        ("Inference", -figures["lifetime_inference_cost_usd"], "relative"),
        ("Profit", figures["lifetime_profit_usd"], "total"),
    ]
    divisor, suffix = _scale(abs(v) for _, v, _ in steps)
    fig = go.Figure(
        go.Waterfall(
            x=[name for name, _, _ in steps],
            y=[0.0 if kind == "total" else value / divisor for _, value, kind in steps],
            measure=[kind for _, _, kind in steps],
            text=[money(value) for _, value, _ in steps],
            textposition="outside",
            increasing={"marker": {"color": GAIN}},
            decreasing={"marker": {"color": LOSS}},
            totals={"marker": {"color": TOTAL}},
            connector={"line": {"color": "#888", "width": 1}},
            name="lifetime",
        )
    )
    _axis(fig, Unit.USD, "", suffix)
    return _layout(fig, hovermode="closest", showlegend=False)


def breakeven_chart(result: Result) -> go.Figure:
    """P(broken even by month), operating and cash, as cumulative step curves."""
    fig = go.Figure()
    for metric, name, dash in (
        ("breakeven_month", "operating breakeven", "solid"),
        ("cash_breakeven_month", "cash breakeven", "dash"),
    ):
        curve = content.breakeven_probability(result, metric)
        fig.add_trace(
            go.Scatter(
                x=_dates(curve.index),
                y=curve.to_numpy(),
                name=name,
                line={"shape": "hv", "dash": dash},
            )
        )
    _axis(fig, Unit.SHARE, "", "")
    fig.update_yaxes(range=[0, 1.02])
    return _layout(fig, xaxis={"type": "date"})


# -- sensitivity -----------------------------------------------------------------------------
_TORNADO = {"input", "metric_at_low", "metric_at_high", "base"}
_OUTCOME_COLUMNS = ("metric", "outcome", "output")


def sensitivity_charts(sensitivity: Sensitivity) -> list[Chart]:
    """Charts for sensitivity tables: tornado, swing, Sobol indices, Morris mu*.

    Each table needs a column ``input`` and at least one of: ``metric_at_low``,
    ``metric_at_high`` and ``base`` (a tornado), ``swing``, ``S1``/``ST`` (Sobol indices,
    with ``S1_conf``/``ST_conf`` as error bars when present) or ``mu_star`` (Morris, with
    ``mu_star_conf``). A column ``metric`` (or ``outcome``) splits a table into one chart
    per outcome.
    """
    if isinstance(sensitivity, pd.DataFrame):
        method = str(sensitivity.attrs.get("method", "sensitivity"))
        tables: Mapping[str, pd.DataFrame] = {method.capitalize(): sensitivity}
    else:
        tables = sensitivity
    charts: list[Chart] = []
    for title, table in tables.items():
        _check_sensitivity(title, table)
        for outcome, frame in _by_outcome(table):
            # labecon.sensitivity names the outcome in attrs; a column may name several.
            outcome = outcome or str(table.attrs.get("metric", ""))
            charts.extend(_sensitivity_figures(title, outcome, frame))
    return charts


def _check_sensitivity(title: str, table: pd.DataFrame) -> None:
    columns = set(table.columns)
    known = bool(columns & {"swing", "S1", "ST", "mu_star"}) or columns >= _TORNADO
    if "input" not in columns or not known:
        raise OptionError(
            f"sensitivity {title!r}: columns {sorted(map(str, columns))} are not a sensitivity "
            "table; accepted: 'input' with 'metric_at_low', 'metric_at_high' and 'base' "
            "(tornado), 'swing', 'S1'/'ST' (Sobol) or 'mu_star' (Morris)"
        )


def _by_outcome(table: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    column = next((c for c in _OUTCOME_COLUMNS if c in table.columns), None)
    if column is None:
        return [("", table)]
    return [(str(name), frame) for name, frame in table.groupby(column, sort=False)]


def _top(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """The inputs with the largest |column|, largest at the top of a horizontal bar chart."""
    order = frame[column].abs().sort_values(ascending=False).index[:SENSITIVITY_TOP]
    return frame.loc[order[::-1]]


def _bars(frame: pd.DataFrame, column: str, name: str, error: str | None = None) -> go.Bar:
    errors = frame[error] if error and error in frame.columns else None
    return go.Bar(
        y=frame["input"].astype(str),
        x=frame[column],
        name=name,
        orientation="h",
        error_x=None if errors is None else {"type": "data", "array": errors.to_list()},
    )


def _sensitivity_layout(
    fig: go.Figure, rows: int, x_title: str, money_axis: bool = False, suffix: str = ""
) -> go.Figure:
    _layout(fig, hovermode="closest", barmode="group")
    fig.update_layout(height=max(CHART_HEIGHT, 120 + 28 * rows), margin={"l": 260})
    fig.update_xaxes(title_text=x_title)
    if money_axis:
        fig.update_xaxes(tickprefix="$", ticksuffix=suffix)
    return fig


def _sensitivity_figures(title: str, outcome: str, frame: pd.DataFrame) -> list[Chart]:
    """The charts one sensitivity table supports; ``outcome`` names what was measured."""
    charts: list[Chart] = []
    about = outcome or title
    key = "sensitivity-" + re.sub(r"[^a-z0-9]+", "-", f"{title} {outcome}".lower()).strip("-")
    money_axis = outcome.endswith("_usd")  # metric names carry their unit
    unit_title = f"{outcome or 'outcome'}{' [USD]' if money_axis else ''}"
    if set(frame.columns) >= _TORNADO:
        tornado = frame.assign(swing=(frame["metric_at_high"] - frame["metric_at_low"]).abs())
        tornado = _top(tornado, "swing")
        ends = tornado[["metric_at_low", "metric_at_high", "base"]].to_numpy().ravel()
        divisor, suffix = _scale(ends.tolist()) if money_axis else (1.0, "")
        base = float(tornado["base"].iloc[0]) / divisor
        fig = go.Figure(
            [
                go.Bar(
                    y=tornado["input"].astype(str),
                    x=tornado[end] / divisor - base,
                    base=base,
                    name=name,
                    orientation="h",
                    marker={"color": colour},
                )
                for end, name, colour in (
                    ("metric_at_low", "input at its low end", "#ff7f0e"),
                    ("metric_at_high", "input at its high end", TOTAL),
                )
            ]
        )
        _sensitivity_layout(fig, len(tornado), unit_title, money_axis, suffix)
        fig.update_layout(barmode="overlay")
        fig.add_vline(x=base, line={"color": "#444", "width": 1})
        charts.append(
            Chart(
                key + "-tornado",
                f"Tornado: {about}",
                "The outcome with each input moved to its low and high end, the others at "
                "their base values (the vertical line); inputs ordered by swing.",
                fig,
            )
        )
    elif "swing" in frame.columns:
        top = _top(frame, "swing")
        divisor, suffix = _scale(top["swing"].to_list()) if money_axis else (1.0, "")
        top = top.assign(swing=top["swing"] / divisor)
        fig = go.Figure(_bars(top, "swing", "swing"))
        _sensitivity_layout(fig, len(top), f"swing of {unit_title}", money_axis, suffix)
        charts.append(
            Chart(key + "-swing", f"Swing: {about}", "Swing of the outcome by input.", fig)
        )
    if {"S1", "ST"} & set(frame.columns):
        top = _top(frame, "ST" if "ST" in frame.columns else "S1")
        traces = [
            _bars(top, index, name, index + "_conf")
            for index, name in (("S1", "first order (S1)"), ("ST", "total (ST)"))
            if index in top.columns
        ]
        fig = _sensitivity_layout(go.Figure(traces), len(top), "share of variance")
        charts.append(
            Chart(
                key + "-sobol",
                f"Sobol indices: {about}",
                "Share of the outcome's variance due to each input alone (S1) and with its "
                "interactions (ST); bars show confidence intervals where given.",
                fig,
            )
        )
    if "mu_star" in frame.columns:
        top = _top(frame, "mu_star")
        spread = [c for c in ("mu_star", "mu_star_conf", "sigma") if c in top.columns]
        divisor, suffix = _scale(top["mu_star"].to_list()) if money_axis else (1.0, "")
        top = top.assign(**{c: top[c] / divisor for c in spread})
        traces = [_bars(top, "mu_star", "μ*", "mu_star_conf")]
        if "sigma" in top.columns:
            traces.append(_bars(top, "sigma", "σ"))
        fig = go.Figure(traces)
        _sensitivity_layout(fig, len(top), f"elementary effect on {unit_title}", money_axis, suffix)
        charts.append(
            Chart(
                key + "-morris",
                f"Morris screening: {about}",
                "Mean absolute elementary effect (μ*) of each input, and its spread (σ).",
                fig,
            )
        )
    return charts


# -- the charts of a result ------------------------------------------------------------------
def charts(result: Result, sensitivity: Sensitivity | None = None) -> list[Chart]:
    """Every chart of the report, in page order."""
    out = [
        Chart(
            f"fan-{fan.key}",
            fan.title,
            "Median by month, with the 25th–75th (dark) and 5th–95th (light) percentiles "
            f"over samples{' [USD per month]' if fan.per == 'month' else ''}.",
            fan_chart(fan),
        )
        for fan in content.fans(result)
    ]
    out.append(
        Chart(
            "layers-channel",
            "Revenue by channel",
            "Mean revenue by month, stacked by channel (means add up; medians would not).",
            stacked_chart(content.revenue_by_channel(result)),
        )
    )
    out.append(
        Chart(
            "layers-generation",
            "Revenue by generation (the layer cake)",
            "Mean revenue by month, stacked by model generation: each new model takes over "
            "from the last.",
            stacked_chart(content.revenue_by_generation(result)),
        )
    )
    generation = content.waterfall_generation(result)
    if generation is not None:
        figures = content.waterfall(result, generation)
        row = result.generations("p50").iloc[generation]
        out.append(
            Chart(
                "waterfall",
                f"One model as a company: generation {generation}, released "
                f"{row['release_month'] or 'after the horizon'}",
                "Mean over the samples that train it: training "
                f"{money(figures['training_cost_usd'])}, lifetime revenue "
                f"{money(figures['lifetime_revenue_usd'])}, inference "
                f"{money(figures['lifetime_inference_cost_usd'])}, lifetime profit "
                f"{money(figures['lifetime_profit_usd'])} (revenue − inference − training). "
                "The first generation whose commercial life ends within the horizon.",
                waterfall_chart(figures),
            )
        )
    out.append(
        Chart(
            "breakeven",
            "Probability of breakeven by month",
            "Share of samples whose trailing-12-month operating income (solid) or operating "
            "cash flow (dashed) has turned positive by each month.",
            breakeven_chart(result),
        )
    )
    if sensitivity is not None:
        out.extend(sensitivity_charts(sensitivity))
    return out


# -- tables ----------------------------------------------------------------------------------
def _cell(value: Any) -> str:
    return html.escape("–" if value is None or value != value else str(value))


def _table(head: list[str], rows: list[list[str]], classes: str = "") -> str:
    """An HTML table from already-escaped cells."""
    thead = "".join(f"<th>{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{classes}"><thead><tr>{thead}</tr></thead><tbody>{body}</tbody></table>'


def _with_range(p50: Any, p5: Any, p95: Any, unit: Unit) -> str:
    low, high = figure_text(p5, unit), figure_text(p95, unit)
    spread = f'<span class="range">{html.escape(low)} … {html.escape(high)}</span>'
    return html.escape(figure_text(p50, unit)) + ("" if low == high else spread)


def metrics_html(result: Result) -> str:
    """Key metrics: median with its p5–p95 interval, and how often month metrics happen."""
    rows = []
    for row in content.metrics_table(result).to_dict(orient="records"):
        unit = Unit(row["unit"])
        if row["kind"] == "month":
            median = row["p50"] or "beyond the horizon"
            interval = f"{row['p5'] or 'beyond'} … {row['p95'] or 'beyond'}"
            cells = [median, interval, percent(row["probability"])]
        elif row["kind"] == "probability":
            cells = [percent(row["probability"]), "", ""]
        else:
            low, high = figure_text(row["p5"], unit), figure_text(row["p95"], unit)
            cells = [figure_text(row["p50"], unit), f"{low} … {high}", ""]
        rows.append([html.escape(str(row["title"])), *map(_cell, cells)])
    head = ["Metric", "Median", "p5 … p95", "Happens within the horizon"]
    return _table(head, rows, "metrics")


def statements_html(result: Result) -> str:
    """Yearly income statement (training expensed) and cash: median, p5–p95 below."""
    columns: list[tuple[str, str, tuple[str, ...]]] = [
        ("Revenue", "expensed", ("revenue",)),
        ("Inference", "expensed", ("inference_cost",)),
        ("Training", "expensed", ("training_cost",)),
        ("Other opex", "expensed", UNATTRIBUTED_COSTS),
        ("Operating income", "expensed", ("operating_income",)),
        ("Cash at year end", "cash", ("cash",)),
        ("Equity raised", "cash", ("equity_raised",)),
    ]
    sums = [
        np.sum([result.annual_samples(view, item) for item in items], axis=0)
        for _, view, items in columns
    ]
    stats = [{s: statistic(total, s) for s in ("p5", "p50", "p95")} for total in sums]
    rows = []
    for i, year in enumerate(result.years):
        cells = [_with_range(q["p50"][i], q["p5"][i], q["p95"][i], Unit.USD) for q in stats]
        rows.append([str(year), *cells])
    return _table(["Year", *(title for title, _, _ in columns)], rows, "numbers")


def generations_html(result: Result) -> str:
    """Each generation as a company: medians of its lifetime figures."""
    frame = result.generations("p50")
    rows = []
    for row in frame.to_dict(orient="records"):
        rows.append(
            [
                str(row["generation"]),
                _cell(row["release_month"]),
                html.escape(money(row["training_cost_usd"])),
                html.escape(money(row["lifetime_revenue_usd"])),
                html.escape(money(row["lifetime_inference_cost_usd"])),
                html.escape(money(row["lifetime_profit_usd"])),
                html.escape(figure_text(row["roi_multiple"], Unit.MULTIPLE)),
                html.escape(figure_text(row["payback_months"], Unit.MONTHS)),
                html.escape(percent(row["share_paid_back"])),
            ]
        )
    head = [
        "Gen",
        "Release",
        "Training",
        "Revenue",
        "Inference",
        "Profit",
        "ROI",
        "Payback",
        "Paid back",
    ]
    return _table(head, rows, "numbers")


def inputs_html(inputs: pd.DataFrame) -> str:
    """Every input: value or distribution, its 5/50/95% quantiles, origin and sources."""
    rows = []
    for row in inputs.to_dict(orient="records"):
        rows.append(
            [
                f"<code>{_cell(row['input'])}</code>",
                _cell(row["value"]),
                *(_cell(f"{float(row[q]):.4g}") for q in ("p5", "p50", "p95")),
                _cell(row["origin"]),
                _cell(row["facts"] or ""),
                _cell(row["sources"] or ""),
            ]
        )
    head = ["Input", "Value", "p5", "p50", "p95", "Origin", "Facts", "Sources"]
    return f'<div class="wide">{_table(head, rows, "inputs")}</div>'


# -- the page --------------------------------------------------------------------------------
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0 auto;max-width:1100px;padding:1.5rem;color:#1d2733;line-height:1.45}
header{border-bottom:2px solid #1f77b4;margin-bottom:1rem}
h1{margin:.2rem 0}h2{margin-top:2.2rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.92rem}nav a{margin-right:1rem}
figure.chart{margin:1.2rem 0 2rem}figcaption{color:#555;font-size:.9rem}
figure.chart h3{margin:.2rem 0}
table{border-collapse:collapse;font-size:.88rem;margin:.6rem 0;width:100%}
th,td{border-bottom:1px solid #e3e3e3;padding:.3rem .45rem;vertical-align:top;text-align:left}
table.numbers td+td,table.metrics td+td{text-align:right}
.range{display:block;color:#888;font-size:.78rem}
table.inputs td{font-size:.8rem}table.inputs td:nth-child(7){min-width:12rem}
table.inputs td:nth-child(8){min-width:20rem;overflow-wrap:anywhere}
.wide{overflow-x:auto}
footer{margin-top:3rem;color:#777;font-size:.85rem}
"""


def _chart_html(chart: Chart) -> str:
    div = chart.figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        config=PLOTLY_CONFIG,
        div_id=f"chart-{chart.key}",
    )
    return (
        f'<figure class="chart" data-chart="{html.escape(chart.key)}">'
        f"<h3>{html.escape(chart.title)}</h3>{div}"
        f"<figcaption>{html.escape(chart.caption)}</figcaption></figure>"
    )


def page(
    result: Result,
    inputs: pd.DataFrame,
    sensitivity: Sensitivity | None = None,
    *,
    generated: dt.datetime | None = None,
) -> str:
    """The whole report page as one HTML document."""
    import labecon  # at call time: labecon's __init__ imports this package

    scenario = result.scenario
    months = result.months
    when = (generated or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%d %H:%M UTC")
    all_charts = charts(result, sensitivity)
    fans = [c for c in all_charts if c.key.startswith("fan-")]
    layers = [c for c in all_charts if c.key.startswith("layers-") or c.key == "waterfall"]
    breakeven = [c for c in all_charts if c.key == "breakeven"]
    sensitive = [c for c in all_charts if c.key.startswith("sensitivity-")]
    sections = [
        ("metrics", "Key metrics", metrics_html(result)),
        ("paths", "Paths over time", "".join(map(_chart_html, fans))),
        ("breakeven", "Breakeven", "".join(map(_chart_html, breakeven))),
        ("revenue", "Where revenue comes from", "".join(map(_chart_html, layers))),
        ("statements", "Yearly statements", statements_html(result)),
        ("generations", "Generations (medians)", generations_html(result)),
    ]
    if sensitive:
        sections.append(("sensitivity", "Sensitivity", "".join(map(_chart_html, sensitive))))
    sections.append(("inputs", "Inputs and their sources", inputs_html(inputs)))
    nav = "".join(f'<a href="#{key}">{html.escape(title)}</a>' for key, title, _ in sections)
    body = "".join(
        f'<section id="{key}"><h2>{html.escape(title)}</h2>{inner}</section>'
        for key, title, inner in sections
    )
    description = html.escape((scenario.description or "").strip())
    meta = (
        f"{result.sample_count:,} samples · seed {result.seed} · horizon "
        f"{scenario.horizon_months} months ({months[0]} to {months[-1]}) · labecon "
        f"{labecon.__version__} · generated {when}"
    )
    plotly_js = plotly.offline.get_plotlyjs()
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>labecon report: {html.escape(scenario.name)}</title>"
        f"<style>{STYLE}</style>"
        f'<script type="text/javascript" id="plotly-js">{plotly_js}</script>'
        "</head><body>"
        f"<header><h1>{html.escape(scenario.name)}</h1><p>{description}</p>"
        f'<p class="meta">{html.escape(meta)}</p><nav>{nav}</nav></header>'
        f"{body}"
        "<footer>Made by labecon. Figures are statistics over Monte Carlo samples; money in "
        "nominal USD. The workbook report.xlsx holds the same statements by year and month, "
        "and samples.parquet every sample's yearly results.</footer>"
        "</body></html>\n"
    )
