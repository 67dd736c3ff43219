"""Compare scenarios on common random numbers: key metrics side by side, with paired differences.

Every scenario is simulated with the same seed and sample count. The sampler gives each
uncertain input its own random stream keyed by the seed and the input's *name*, so an input
that two scenarios share takes the same draw in sample ``i`` of both (an input whose
distribution differs between them takes the same uniform, mapped through its own
distribution). These are common random numbers: sample ``i`` of every scenario is the same
"world", changed only where the scenarios differ. (A correlation present in one scenario and
not in the other changes the uniforms of the inputs it links, so those are no longer shared.)

Differences to the first scenario (the reference) are therefore taken *per sample* and
paired by sample index: ``d_i = x_i(scenario) - x_i(reference)``. Their mean is the difference
of the means, and its Monte Carlo standard error is ``sd(d) / sqrt(n)``, which is small when
the scenarios share most of their uncertainty, far smaller than the error of two independent
runs, ``sqrt(var(x) / n + var(y) / n)``. A change that cannot affect a metric gives
``d_i = 0`` in every sample and a difference of exactly 0 with a standard error of 0.

Month metrics (breakeven, cash breakeven, insolvency) may not happen within the horizon;
they are compared through the probability that they happen (the differences are of 0/1
values), with each scenario's median month as 'YYYY-MM'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from labecon.api import simulate
from labecon.errors import OptionError, ScenarioError
from labecon.metrics import (
    YEAR_METRIC_PREFIX,
    accepted_metrics,
    metric_kind,
    metric_values,
)
from labecon.result import Result, statistic
from labecon.sampler import normalise_seed
from labecon.scenario.loading import load_scenario
from labecon.scenario.schema import Scenario

Array = NDArray[np.float64]
ScenarioLike = Scenario | str | Path | Mapping[str, Any]
Progress = Callable[[int, int], None]

TABLE_COLUMNS = (
    "metric",
    "kind",
    "scenario",
    "mean",
    "p5",
    "p50",
    "p95",
    "probability",
    "median_month",
    "diff_mean",
    "diff_se",
)
MIN_SCENARIOS = 2


def paired_difference(reference: Array, other: Array) -> tuple[float, float]:
    """Mean and Monte Carlo standard error of ``other - reference``, paired by sample index.

    Only samples where both values are numbers count. The standard error is the sample
    standard deviation of the differences (``ddof=1``) over the square root of their count:
    NaN with fewer than two pairs (it cannot be estimated), and exactly 0 when every
    difference is the same (then the mean is that difference, exactly).
    """
    a = np.asarray(reference, dtype=np.float64)
    b = np.asarray(other, dtype=np.float64)
    both = np.isfinite(a) & np.isfinite(b)
    d = b[both] - a[both]
    n = d.shape[0]
    if n == 0:
        return math.nan, math.nan
    se = math.nan if n < 2 else 0.0
    if float(np.ptp(d)) == 0.0:
        return float(d[0]) + 0.0, se  # + 0.0 turns -0.0 into 0.0
    return float(np.mean(d)), float(np.std(d, ddof=1) / math.sqrt(n))


def shared_years(scenarios: Sequence[Scenario]) -> tuple[int, ...]:
    """Calendar years of the scenarios' horizon when they all cover the same months, else ()."""
    spans = {(str(_start(s)), s.horizon_months) for s in scenarios}
    if len(spans) != 1:
        return ()
    return tuple(sorted({int(p.year) for p in _months(scenarios[0])}))


def _start(scenario: Scenario) -> pd.Period:
    return pd.Period(scenario.start, freq="M")


def _months(scenario: Scenario) -> pd.PeriodIndex:
    return pd.period_range(_start(scenario), periods=scenario.horizon_months, freq="M")


def _check_metrics(metrics: str | Sequence[str] | None, years: Sequence[int]) -> tuple[str, ...]:
    """The metrics asked for (all by default), each checked against those on offer."""
    accepted = accepted_metrics(years)
    if metrics is None:
        return tuple(accepted)
    asked = [metrics] if isinstance(metrics, str) else metrics
    if not isinstance(asked, Sequence) or not asked:
        raise OptionError(
            f"metrics: {metrics!r} is not accepted; accepted: None (every metric) or a "
            f"non-empty list of names from {', '.join(accepted)}"
        )
    chosen: list[str] = []
    for name in asked:
        if not isinstance(name, str) or name not in accepted:
            note = ""
            if isinstance(name, str) and name.startswith(YEAR_METRIC_PREFIX) and not years:
                note = " (per-year metrics need scenarios covering the same calendar months)"
            raise OptionError(
                f"metrics: {name!r} is not a metric of this comparison{note}; accepted: "
                f"{', '.join(accepted)}"
            )
        if name not in chosen:
            chosen.append(name)
    return tuple(chosen)


def check_scenarios(scenarios: Any) -> list[ScenarioLike]:
    """A list of at least two scenarios (the same one may appear more than once)."""
    accepted = (
        f"accepted: a list of at least {MIN_SCENARIOS} scenarios (built-in names, file paths, "
        "mappings or Scenario objects; the same scenario may appear twice)"
    )
    if isinstance(scenarios, str | bytes | Path | Mapping | Scenario) or not isinstance(
        scenarios, Sequence
    ):
        raise OptionError(f"scenarios: {_short(scenarios)} is not a list; {accepted}")
    if len(scenarios) < MIN_SCENARIOS:
        count = len(scenarios)
        raise OptionError(
            f"scenarios: {count} scenario{'s' if count != 1 else ''} given "
            f"({_short(list(scenarios))}); {accepted}"
        )
    return list(scenarios)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _labels(scenarios: Sequence[Scenario], labels: Sequence[str] | None) -> tuple[str, ...]:
    """One distinct label per scenario: the given ones or the names, repeats numbered."""
    if labels is None:
        raw = [s.name for s in scenarios]
    else:
        if (
            isinstance(labels, str)
            or not isinstance(labels, Sequence)
            or len(labels) != len(scenarios)
            or not all(isinstance(label, str) and label.strip() for label in labels)
        ):
            raise OptionError(
                f"labels: {_short(labels)} is not accepted; accepted: None (the scenarios' "
                f"names) or a list of {len(scenarios)} non-empty strings, one per scenario"
            )
        raw = list(labels)
    out: list[str] = []
    for label in raw:
        candidate, count = label, 1
        while candidate in out:
            count += 1
            candidate = f"{label} ({count})"
        out.append(candidate)
    return tuple(out)


@dataclass(frozen=True)
class Comparison:
    """Results of several scenarios on common random numbers, compared to the first.

    ``labels[i]`` names ``results[i]``; ``labels[0]`` is the reference. ``metrics`` are the
    metrics compared; ``years`` the calendar years of per-year metrics (empty when the
    scenarios cover different months).
    """

    labels: tuple[str, ...]
    results: tuple[Result, ...]
    metrics: tuple[str, ...]
    seed: int
    samples: int
    years: tuple[int, ...]

    @property
    def reference(self) -> str:
        """Label of the first scenario, which the others are compared to."""
        return self.labels[0]

    def result(self, scenario: str) -> Result:
        """The Result of the scenario with this label."""
        if scenario not in self.labels:
            raise OptionError(
                f"scenario: {scenario!r} is not in this comparison; accepted: "
                f"{', '.join(self.labels)}"
            )
        return self.results[self.labels.index(scenario)]

    def values(self, metric: str, scenario: str) -> Array:
        """Per-sample values of a metric in one scenario, shape (samples,).

        Month metrics are month indexes from that scenario's start, NaN when the month is
        not reached within the horizon; ``insolvent`` is 0 or 1.
        """
        if metric not in self.metrics:
            raise OptionError(
                f"metric: {metric!r} is not in this comparison; accepted: {', '.join(self.metrics)}"
            )
        return metric_values(self.result(scenario), metric)

    def paired_values(self, metric: str, scenario: str) -> Array:
        """What is differenced per sample: the values, or 0/1 "reached" for month metrics."""
        values = self.values(metric, scenario)
        if metric_kind(metric) == "month":
            return (~np.isnan(values)).astype(np.float64)
        return values

    def differences(self, metric: str, scenario: str) -> Array:
        """Per-sample differences to the reference (the first scenario), paired by sample."""
        return self.paired_values(metric, scenario) - self.paired_values(metric, self.reference)

    def table(self) -> pd.DataFrame:
        """Tidy table, one row per (metric, scenario), metrics in order, scenarios in order.

        Columns: ``metric``, ``kind`` (money, share, probability, month), ``scenario``;
        ``mean``, ``p5``, ``p50``, ``p95`` over samples (money and share metrics; ``mean`` is
        also the probability of a probability metric); ``probability`` (month metrics: the
        share of samples where the month is reached within the horizon; probability metrics:
        the share where it holds); ``median_month`` ('YYYY-MM' of month metrics, "never"
        ranked last, so None when most samples never reach it); ``diff_mean`` and ``diff_se``:
        the mean of the per-sample differences to the first scenario (of the probability, for
        probability and month metrics) and its Monte Carlo standard error, paired by sample.
        """
        rows = [self._row(metric, label) for metric in self.metrics for label in self.labels]
        return pd.DataFrame(rows, columns=list(TABLE_COLUMNS))

    def _row(self, metric: str, label: str) -> dict[str, Any]:
        kind = metric_kind(metric)
        values = self.values(metric, label)
        column = values[:, None]
        row: dict[str, Any] = {"metric": metric, "kind": kind, "scenario": label}
        nan = math.nan
        row.update(mean=nan, p5=nan, p50=nan, p95=nan, probability=nan, median_month=None)
        if kind in ("money", "share"):
            for stat in ("mean", "p5", "p50", "p95"):
                row[stat] = float(statistic(column, stat)[0]) + 0.0  # no -0.0
        elif kind == "probability":
            row["mean"] = row["probability"] = float(np.mean(values))
        else:
            row["probability"] = float(np.mean(~np.isnan(values)))
            median = float(statistic(column, "p50", never_last=True)[0])
            row["median_month"] = self.result(label).month_label(median)
        row["diff_mean"], row["diff_se"] = paired_difference(
            self.paired_values(metric, self.reference), self.paired_values(metric, label)
        )
        return row

    def to_dict(self) -> dict[str, Any]:
        """One JSON-ready document (missing values are None).

        ``metrics[metric]`` holds the ``kind`` and, under ``scenarios[label]``, the columns
        of :meth:`table` for that metric and scenario.
        """
        table = self.table()
        metrics: dict[str, Any] = {}
        for metric in self.metrics:
            rows = table[table["metric"] == metric]
            metrics[metric] = {
                "kind": metric_kind(metric),
                "scenarios": {
                    str(row["scenario"]): {key: _json_value(row[key]) for key in TABLE_COLUMNS[3:]}
                    for row in rows.to_dict(orient="records")
                },
            }
        return {
            "samples": self.samples,
            "seed": self.seed,
            "reference": self.reference,
            "pairing": "differences to the reference are per sample, paired by sample index "
            "on common random numbers; diff_se = sd(differences) / sqrt(samples)",
            "scenarios": [
                {
                    "label": label,
                    "name": result.scenario.name,
                    "start": str(_start(result.scenario)),
                    "horizon_months": result.scenario.horizon_months,
                }
                for label, result in zip(self.labels, self.results, strict=True)
            ],
            "years": list(self.years),
            "metrics": metrics,
        }


def _json_value(value: Any) -> Any:
    """A Python scalar, with NaN and missing values as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value


def compare(
    scenarios: Sequence[ScenarioLike],
    samples: int = 2000,
    seed: int | None = 0,
    chunk_size: int | None = None,
    metrics: str | Sequence[str] | None = None,
    *,
    labels: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> Comparison:
    """Simulate scenarios on common random numbers and compare them to the first.

    ``scenarios`` is a list of at least two Scenarios, built-in names, file paths or mappings
    (the same one may appear twice). All are run with the same ``seed`` (``None`` draws one
    fresh seed, shared by all) and ``samples``, so inputs they share take the same draws and
    differences are paired by sample index (see the module documentation). ``metrics``
    chooses metrics by name (default: all; see :func:`accepted_metrics`). ``labels`` name
    the scenarios (default: their names; repeats are numbered "name (2)").
    ``progress(done, total)`` counts samples over all scenarios.

    Raises OptionError for bad options and ScenarioError (its source names the position in
    ``scenarios``) for a scenario that cannot be loaded.
    """
    given = check_scenarios(scenarios)
    loaded: list[Scenario] = []
    for index, scenario in enumerate(given):
        try:
            loaded.append(load_scenario(scenario))
        except ScenarioError as exc:
            where = f"scenarios[{index}]"
            source = f"{where} ({exc.source})" if exc.source else where
            raise ScenarioError(exc.problems, source=source) from None
    names = _labels(loaded, labels)
    years = shared_years(loaded)
    chosen = _check_metrics(metrics, years)
    fixed_seed = normalise_seed(seed)
    results: list[Result] = []
    for index, scenario in enumerate(loaded):
        step: Progress | None = None
        if progress is not None:
            step = _offset_progress(progress, index * samples, len(loaded) * samples)
        results.append(
            simulate(
                scenario, samples=samples, seed=fixed_seed, chunk_size=chunk_size, progress=step
            )
        )
    return Comparison(
        labels=names,
        results=tuple(results),
        metrics=chosen,
        seed=fixed_seed,
        samples=samples,
        years=years,
    )


def _offset_progress(progress: Progress, before: int, total: int) -> Progress:
    """A per-run progress callback reporting samples done over the whole comparison."""

    def report(done: int, _total: int) -> None:
        progress(before + done, total)

    return report
