"""The Excel workbook: statements by year and month, generations, metrics, inputs.

Numbers are stored as numbers (never text) with number formats: money ``$#,##0``, shares
``0.0%``, multiples ``0.00"x"``, GW ``#,##0.000``; months are dates shown as ``yyyy-mm``.
Statement sheets have two header rows (the item, merged over its columns, then the
statistic), so ``pandas.read_excel(path, sheet_name="expensed yearly", header=[0, 1],
index_col=0)`` reads one back.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from labecon.report import content
from labecon.report.content import Unit
from labecon.result import Result
from labecon.views import VIEWS

NUMBER_FORMATS = {
    Unit.USD: "$#,##0",
    Unit.USD_PER_UNIT: "$#,##0.00",
    Unit.SHARE: "0.0%",
    Unit.MULTIPLE: '0.00"x"',
    Unit.GW: "#,##0.000",
    Unit.COUNT: "#,##0",
    Unit.MONTHS: "0.0",
}
MONTH_FORMAT = "yyyy-mm"
GENERATION_STATS = ("mean", "p50", "p5", "p95")
_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="DCE6F1")
_CENTRE = Alignment(horizontal="center")
_WRAP = Alignment(wrap_text=True, vertical="top")
VALUE_WIDTH = 15


def _number(value: Any) -> float | None:
    """A finite float, or None for NaN, infinity and missing values (Excel has no NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _month(label: Any) -> dt.date | None:
    """The first day of a 'YYYY-MM' month, or None (for None, NaN: beyond the horizon)."""
    if not isinstance(label, str) or not label:
        return None
    year, month = label.split("-")
    return dt.date(int(year), int(month), 1)


def _header(sheet: Worksheet, row: int, column: int, text: str) -> None:
    cell = sheet.cell(row=row, column=column, value=text)
    cell.font = _HEADER_FONT
    cell.fill = _HEADER_FILL


def _grouped_header(
    sheet: Worksheet, first_column: int, groups: Sequence[str], stats: Sequence[str]
) -> None:
    """Row 1: each group's name merged over its statistics; row 2: the statistics."""
    for g, group in enumerate(groups):
        start = first_column + g * len(stats)
        _header(sheet, 1, start, group)
        sheet.cell(row=1, column=start).alignment = _CENTRE
        for s, stat in enumerate(stats):
            _header(sheet, 2, start + s, stat)
        if len(stats) > 1:
            sheet.merge_cells(
                start_row=1, start_column=start, end_row=1, end_column=start + len(stats) - 1
            )


def _widths(sheet: Worksheet, widths: Mapping[int, float]) -> None:
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width


# -- sheets ----------------------------------------------------------------------------------
def statement_sheet(book: Workbook, result: Result, view: str, monthly: bool) -> None:
    """One view by year (or month): per item its p50, p5 and p95 over samples."""
    sheet = book.create_sheet(f"{view} {'monthly' if monthly else 'yearly'}")
    stats = content.STATEMENT_STATS
    frames = content.statement(result, view, stats, monthly)
    items = list(VIEWS[view])
    # Plain arrays: pandas indexing per cell would dominate the time.
    values = {stat: frames[stat][items].to_numpy(dtype=float) for stat in stats}
    _header(sheet, 1, 1, "")
    _header(sheet, 2, 1, "month" if monthly else "year")
    _grouped_header(sheet, 2, items, stats)
    index = frames[stats[0]].index
    for r, period in enumerate(index, start=3):
        label = sheet.cell(row=r, column=1)
        if monthly:
            label.value = dt.date(period.year, period.month, 1)
            label.number_format = MONTH_FORMAT
        else:
            label.value = int(period)
        for i, item in enumerate(items):
            number_format = NUMBER_FORMATS[content.item_unit(item)]
            for s, stat in enumerate(stats):
                cell = sheet.cell(row=r, column=2 + i * len(stats) + s)
                cell.value = _number(values[stat][r - 3, i])
                cell.number_format = number_format
    sheet.freeze_panes = "B3"
    _widths(sheet, {1: 10} | {c: VALUE_WIDTH for c in range(2, 2 + len(items) * len(stats))})


def generations_sheet(book: Workbook, result: Result) -> None:
    """Each generation as a company: release, shares, then every figure's mean and quantiles."""
    sheet = book.create_sheet("generations")
    frames = {stat: result.generations(stat) for stat in GENERATION_STATS}
    first = frames["p50"]
    labels = ["generation", "training_start_month", "release_month"]
    shares = ["share_trained", "share_released", "share_paid_back"]
    figures = [c for c in first.columns if c not in {*labels, *shares}]
    fixed = [*labels, *shares]
    for c, name in enumerate(fixed, start=1):
        _header(sheet, 1, c, "")
        _header(sheet, 2, c, name)
    _grouped_header(sheet, len(fixed) + 1, figures, GENERATION_STATS)
    for r, row in enumerate(first.to_dict(orient="records"), start=3):
        sheet.cell(row=r, column=1, value=int(row["generation"]))
        for c, name in enumerate(labels[1:], start=2):
            cell = sheet.cell(row=r, column=c, value=_month(row[name]))
            cell.number_format = MONTH_FORMAT
        for c, name in enumerate(shares, start=len(labels) + 1):
            cell = sheet.cell(row=r, column=c, value=_number(row[name]))
            cell.number_format = NUMBER_FORMATS[Unit.SHARE]
        for f, figure in enumerate(figures):
            number_format = NUMBER_FORMATS[content.item_unit(figure)]
            for s, stat in enumerate(GENERATION_STATS):
                column = len(fixed) + 1 + f * len(GENERATION_STATS) + s
                value = frames[stat][figure].iloc[r - 3]
                cell = sheet.cell(row=r, column=column, value=_number(value))
                cell.number_format = number_format
    sheet.freeze_panes = sheet.cell(row=3, column=len(labels) + 1)
    total = len(fixed) + len(figures) * len(GENERATION_STATS)
    _widths(sheet, {c: VALUE_WIDTH for c in range(1, total + 1)})


def metrics_sheet(book: Workbook, result: Result) -> None:
    """Key metrics: months as dates, money and shares as numbers, with quantiles."""
    sheet = book.create_sheet("metrics")
    table = content.metrics_table(result)
    columns = list(table.columns)
    for c, name in enumerate(columns, start=1):
        _header(sheet, 1, c, name)
    numeric = ("probability", "mean", *content.FAN_STATS)
    for r, row in enumerate(table.to_dict(orient="records"), start=2):
        unit = Unit(row["unit"])
        for c, name in enumerate(columns, start=1):
            value = row[name]
            cell = sheet.cell(row=r, column=c)
            if name not in numeric:
                cell.value = value
            elif name == "probability":
                cell.value = _number(value)
                cell.number_format = NUMBER_FORMATS[Unit.SHARE]
            elif row["kind"] == "month":
                cell.value = _month(value)
                cell.number_format = MONTH_FORMAT
            else:
                cell.value = _number(value)
                cell.number_format = NUMBER_FORMATS[unit]
    sheet.freeze_panes = "C2"
    _widths(sheet, {1: 32, 2: 46, 3: 12, 4: 10} | {c: VALUE_WIDTH for c in range(5, 12)})


def inputs_sheet(book: Workbook, inputs: pd.DataFrame) -> None:
    """Every input: value or distribution, 5/50/95% quantiles, origin, facts, sources."""
    sheet = book.create_sheet("inputs")
    columns = list(inputs.columns)
    for c, name in enumerate(columns, start=1):
        _header(sheet, 1, c, name)
    for r, row in enumerate(inputs.to_dict(orient="records"), start=2):
        for c, name in enumerate(columns, start=1):
            value = row[name]
            if name in {"p5", "p50", "p95"}:
                value = _number(value)
            cell = sheet.cell(row=r, column=c, value=value)
            if name in {"facts", "sources"}:
                cell.alignment = _WRAP
    sheet.freeze_panes = "B2"
    widths = {"input": 44, "value": 34, "origin": 11, "facts": 50, "sources": 70}
    _widths(sheet, {c: widths.get(name, 13) for c, name in enumerate(columns, start=1)})


def about_sheet(book: Workbook, result: Result, version: str, generated: dt.datetime) -> None:
    """What the run is and what each sheet holds."""
    sheet = book.active
    assert sheet is not None
    sheet.title = "about"
    scenario = result.scenario
    months = result.months
    rows: list[tuple[str, Any]] = [
        ("scenario", scenario.name),
        ("description", (scenario.description or "").strip()),
        ("samples", result.sample_count),
        ("seed", result.seed),
        ("horizon", f"{scenario.horizon_months} months ({months[0]} to {months[-1]})"),
        ("labecon", version),
        ("generated", generated.strftime("%Y-%m-%d %H:%M UTC")),
        ("", ""),
        (
            "VIEW yearly / monthly",
            "A view's items by year or month: p50, p5 and p95 over "
            "samples. Yearly flows are each sample's yearly total, balances the year-end value, "
            "levels (GW, rates) the year's mean; the p50 of a year is the median yearly total.",
        ),
        (
            "generations",
            "Each model as a company: lifetime figures within the horizon; mean, "
            "p50, p5 and p95 over the samples that train it.",
        ),
        (
            "metrics",
            "Breakeven and insolvency months (dates; blank beyond the horizon) with "
            "the probability they happen; capital need, equity, cash, ownership.",
        ),
        ("inputs", "Every input: its value or distribution, quantiles, and its source."),
    ]
    for r, (key, value) in enumerate(rows, start=1):
        sheet.cell(row=r, column=1, value=key).font = _HEADER_FONT
        sheet.cell(row=r, column=2, value=value).alignment = _WRAP
    _widths(sheet, {1: 24, 2: 110})


def workbook_bytes(
    result: Result, inputs: pd.DataFrame, *, version: str, generated: dt.datetime
) -> bytes:
    """The whole workbook as .xlsx bytes."""
    book = Workbook()
    about_sheet(book, result, version, generated)
    for view in VIEWS:
        if view in result.statements:
            statement_sheet(book, result, view, monthly=False)
    for view in VIEWS:
        if view in result.statements:
            statement_sheet(book, result, view, monthly=True)
    generations_sheet(book, result)
    metrics_sheet(book, result)
    inputs_sheet(book, inputs)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
