"""Reports of a run: an offline HTML page, an Excel workbook and per-sample Parquet.

An adapter over the core (DESIGN §2): it reads a :class:`~labecon.result.Result` and never
changes it; nothing in the core imports it.

>>> import labecon
>>> result = labecon.simulate("amodei", samples=2, seed=0)
>>> sorted(report_files(result))
['report.html', 'report.xlsx', 'samples.parquet']
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd

from labecon.errors import OptionError
from labecon.report import content, excel, html, parquet
from labecon.report.html import Sensitivity
from labecon.result import Result

REPORT_FILES = ("report.html", "report.xlsx", "samples.parquet")

__all__ = ["REPORT_FILES", "Sensitivity", "report_files", "write_report"]


def report_files(
    result: Result,
    *,
    sensitivity: Sensitivity | None = None,
    inputs: pd.DataFrame | None = None,
    generated: dt.datetime | None = None,
) -> dict[str, bytes]:
    """The contents of report.html, report.xlsx and samples.parquet, by file name.

    ``sensitivity`` adds tornado, Sobol or Morris charts (see
    :func:`labecon.report.html.sensitivity_charts` for the columns read); ``inputs`` is the
    scenario's :func:`labecon.explain` table (computed from ``result.scenario`` if not given);
    ``generated`` is the time printed in the header (now, in UTC, if not given).
    """
    import labecon  # at call time: labecon's __init__ imports this package

    if result.keep != "monthly":
        # The report draws monthly ranges (p5-p95 fans) from every sample's months.
        raise OptionError(
            f"report: a keep={result.keep!r} run has no per-sample months to draw; "
            "accepted: a run with keep='monthly' (the default)"
        )
    when = generated or dt.datetime.now(dt.UTC)
    table = content.inputs_table(result, inputs)
    return {
        "report.html": html.page(result, table, sensitivity, generated=when).encode("utf-8"),
        "report.xlsx": excel.workbook_bytes(
            result, table, version=labecon.__version__, generated=when
        ),
        "samples.parquet": parquet.parquet_bytes(result),
    }


def write_report(
    result: Result,
    directory: str | Path,
    *,
    sensitivity: Sensitivity | None = None,
    inputs: pd.DataFrame | None = None,
) -> Path:
    """Write report.html, report.xlsx and samples.parquet into ``directory``, atomically.

    Every file is built and written to a temporary folder inside ``directory`` first, then
    moved into place, so a failure leaves no half-written report. Returns the path of
    report.html.
    """
    files = report_files(result, sensitivity=sensitivity, inputs=inputs)
    target = Path(directory).resolve()
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".labecon-report-", dir=target))
    try:
        for name, data in files.items():
            with (staging / name).open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for name in files:
            os.replace(staging / name, target / name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target / "report.html"
