"""Calibration: fit chosen uncertain inputs of a scenario to observed figures.

Targets are observed figures (revenue in a year, the run rate at a month, cash burn in a
quarter, GW held...) each with an uncertainty. Two fits are made:

- a **point fit**: least squares on medians. The fitted inputs are fixed at a point, every
  other input keeps its uncertainty, and the medians of the targeted outputs over a fixed set
  of samples (common random numbers) are pulled towards the targets, residuals scaled by each
  target's standard deviation (``scipy.optimize.least_squares``, in normal-score space of
  each input's prior so the search stays inside the prior's support);
- a **posterior** over the fitted inputs by importance sampling: samples drawn from the
  scenario (the prior) are weighted by the Gaussian likelihood of the targets given each
  sample's outputs; while the effective sample size is small, further rounds draw the fitted
  inputs from a Gaussian proposal (in normal-score space) fitted to the weighted samples and
  widened, weighting by likelihood x prior / proposal (adaptive importance sampling, as in
  population Monte Carlo; Cappé et al. 2004). Rounds after the first draw the fitted inputs
  independently of the scenario's other inputs (their rank correlations are not kept).

The result writes a new scenario file: the original with the fitted inputs replaced by their
posterior (or point) values and the diagnostics in comments.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from numpy.typing import NDArray
from scipy import optimize, special

from labecon.api import Chunk, Run, default_chunk_size, simulate_samples
from labecon.backends import Backend, InProcess, chunk_bounds, using
from labecon.errors import MISSING, OptionError, Problem, ProblemsError
from labecon.facts import FactError, get_fact
from labecon.sampler import Sampler, normalise_seed
from labecon.scenario.citations import Citation, factor
from labecon.scenario.loading import SUFFIXES, from_mapping, parse_text, read_mapping
from labecon.scenario.quantities import Distribution, Kind, QuantityError, parse_scalar
from labecon.scenario.schema import Scenario

Array = NDArray[np.float64]
TARGETS_PACKAGE = "labecon.calibration.targets"
#: Normal-score bounds of the point fit: the prior's 0.02% and 99.98% quantiles.
Z_BOUND = 3.5
_SHIFT = 10.0


class CalibrationError(ProblemsError):
    """Targets or fit settings that cannot be used; ``problems`` lists every one."""

    subject = "the calibration"


# -- metrics ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """An observable output: a view's line item rolled up over a period [unit]."""

    description: str
    view: str
    item: str
    how: str  # "sum" over the period, "last" month, "mean" over the months
    unit: str
    kind: Kind
    scale: float = 1.0
    per: tuple[str, str] | None = None  # a ratio: divide by this (view, item) summed
    months_only: bool = False


METRICS: dict[str, Metric] = {
    "revenue": Metric(
        "Revenue over the period [USD]", "expensed", "revenue", "sum", "USD", Kind.MONEY
    ),
    "run_rate": Metric(
        "Annualised revenue: 12 x the month's revenue [USD/year]",
        "expensed",
        "revenue",
        "last",
        "USD/year",
        Kind.MONEY,
        12.0,
        months_only=True,
    ),
    "net_loss": Metric(
        "Net loss (minus net income, expensed view) [USD]",
        "expensed",
        "net_income",
        "sum",
        "USD",
        Kind.MONEY,
        -1.0,
    ),
    "operating_loss": Metric(
        "Operating loss (minus operating income, expensed) [USD]",
        "expensed",
        "operating_income",
        "sum",
        "USD",
        Kind.MONEY,
        -1.0,
    ),
    "cash_burn": Metric(
        "Cash burn: minus operating cash flow [USD]",
        "cash",
        "operating_cash_flow",
        "sum",
        "USD",
        Kind.MONEY,
        -1.0,
    ),
    "equity_raised": Metric(
        "Equity raised [USD]", "cash", "equity_raised", "sum", "USD", Kind.MONEY
    ),
    "cash": Metric(
        "Cash at the end of the period [USD]", "cash", "cash", "last", "USD", Kind.MONEY
    ),
    "training_cost": Metric(
        "Training compute spent [USD]", "expensed", "training_cost", "sum", "USD", Kind.MONEY
    ),
    "inference_cost": Metric(
        "Inference cost [USD]", "expensed", "inference_cost", "sum", "USD", Kind.MONEY
    ),
    "gross_margin": Metric(
        "Gross profit / revenue over the period [fraction]",
        "expensed",
        "gross_profit",
        "sum",
        "fraction",
        Kind.RATE,
        per=("expensed", "revenue"),
    ),
    "gw": Metric(
        "Compute held, training plus inference, mean over the period [GW]",
        "compute",
        "gw_total",
        "mean",
        "GW",
        Kind.NUMBER,
    ),
}


# -- targets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One observed figure with its standard deviation, over months ``first..last``."""

    metric: str
    period: str
    value: float
    sd: float
    first: int
    last: int
    fact: str | None = None

    @property
    def label(self) -> str:
        """E.g. ``run_rate 2025-05``."""
        return f"{self.metric} {self.period}"

    @property
    def end(self) -> pd.Period:
        """The period's last calendar month."""
        return _period_months(self.period)[1]

    def observe(self, statements: Mapping[str, Mapping[str, Array]]) -> Array:
        """The metric per sample from (samples, months) statements [metric unit]."""
        metric = METRICS[self.metric]
        window = slice(self.first, self.last + 1)
        values = statements[metric.view][metric.item][:, window]
        if metric.how == "sum":
            out = values.sum(axis=1)
        elif metric.how == "last":
            out = values[:, -1]
        else:
            out = values.mean(axis=1)
        if metric.per is not None:
            denominator = statements[metric.per[0]][metric.per[1]][:, window].sum(axis=1)
            with np.errstate(divide="ignore", invalid="ignore"):
                out = np.where(denominator != 0, out / denominator, np.nan)
        return np.asarray(out * metric.scale, dtype=np.float64)


@dataclass(frozen=True)
class TargetSet:
    """Targets read from a file or a built-in set, with the defaults it names."""

    name: str
    targets: tuple[Target, ...]
    description: str = ""
    scenario: str | None = None
    fit: tuple[str, ...] = ()
    cutoff: str | None = None
    source: str | None = None

    def split(self) -> tuple[TargetSet, TargetSet]:
        """(targets ending by the cut-off, targets after it); needs ``cutoff``."""
        if self.cutoff is None:
            raise OptionError(f"targets {self.name!r}: no cutoff: to split at; add cutoff: YYYY-MM")
        cut = pd.Period(self.cutoff, freq="M")
        before = tuple(t for t in self.targets if t.end <= cut)
        after = tuple(t for t in self.targets if t.end > cut)
        return (
            TargetSet(self.name, before, self.description, self.scenario, self.fit, None),
            TargetSet(self.name, after, self.description, self.scenario, self.fit, None),
        )


def builtin_target_sets() -> list[str]:
    """Names of the target sets shipped with labecon (real labs, for backtests)."""
    folder = resources.files(TARGETS_PACKAGE)
    return sorted(
        Path(entry.name).stem for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def read_targets(name_or_path: str | Path) -> dict[str, Any]:
    """The raw mapping of a targets file or built-in target set."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix.lower() in SUFFIXES or path.exists():
        if not path.is_file():
            raise CalibrationError([Problem("targets", text_name, "no such targets file")])
        data = parse_text(path.read_text("utf-8"), toml=path.suffix == ".toml", source=text_name)
        return data
    if text_name in builtin_target_sets():
        text = resources.files(TARGETS_PACKAGE).joinpath(f"{text_name}.yaml").read_text("utf-8")
        return parse_text(text, toml=False, source=text_name)
    names = builtin_target_sets()
    close = difflib.get_close_matches(text_name, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise CalibrationError(
        [
            Problem(
                "targets",
                text_name,
                f"is neither a targets file (.yaml) nor a built-in target set{hint}; "
                f"built-in: {', '.join(names)}",
            )
        ]
    )


def load_targets(
    targets: str | Path | Mapping[str, Any] | TargetSet, scenario: Scenario | None = None
) -> TargetSet:
    """Parse targets; with ``scenario``, check every period lies within its horizon.

    Each target is ``{metric, month | quarter | year, value, uncertainty | sd}``: ``value`` is
    a number, a string in the metric's unit ("$3B", "72%") or ``{fact: ID}``; ``uncertainty``
    a relative standard deviation ("15%"), ``sd`` an absolute one. A cited fact with a range
    gives the standard deviation when none is stated: (high - low) / 3.29, its range read as
    a 90% interval.
    """
    if isinstance(targets, TargetSet):
        return _check_horizon(targets, scenario) if scenario is not None else targets
    source = None if isinstance(targets, Mapping) else str(targets)
    data = dict(targets) if isinstance(targets, Mapping) else read_targets(targets)
    problems: list[Problem] = []
    known = {"name", "description", "scenario", "fit", "cutoff", "targets"}
    for key in sorted(set(data) - known):
        problems.append(
            Problem(key, data[key], f"unknown field; accepted: {', '.join(sorted(known))}")
        )
    entries = data.get("targets")
    if not isinstance(entries, list) or not entries:
        problems.append(
            Problem(
                "targets",
                entries if entries is not None else MISSING,
                "must be a non-empty list of targets",
            )
        )
        entries = []
    parsed = []
    for index, entry in enumerate(entries):
        target = _parse_target(entry, f"targets.{index}", problems)
        if target is not None:
            parsed.append(target)
    fit = data.get("fit", [])
    if isinstance(fit, str):
        fit = [fit]
    if not isinstance(fit, list) or not all(isinstance(f, str) for f in fit):
        problems.append(Problem("fit", fit, "must be a list of input names"))
        fit = []
    cutoff = data.get("cutoff")
    if cutoff is not None:
        cutoff = str(cutoff)
        if _month(cutoff) is None:
            problems.append(Problem("cutoff", cutoff, "must be a month YYYY-MM"))
    if problems:
        raise CalibrationError(problems, source)
    default_name = Path(source).stem if source else "targets"
    out = TargetSet(
        name=str(data.get("name", default_name)),
        targets=tuple(parsed),
        description=" ".join(str(data.get("description", "")).split()),
        scenario=data.get("scenario"),
        fit=tuple(fit),
        cutoff=cutoff,
        source=source,
    )
    return _check_horizon(out, scenario) if scenario is not None else out


def _parse_target(entry: Any, path: str, problems: list[Problem]) -> Target | None:
    if not isinstance(entry, Mapping):
        problems.append(
            Problem(
                path, entry, "must be a mapping {metric, month|quarter|year, value, uncertainty|sd}"
            )
        )
        return None
    allowed = {"metric", "month", "quarter", "half", "year", "value", "uncertainty", "sd", "note"}
    before = len(problems)
    for key in sorted(set(entry) - allowed):
        problems.append(
            Problem(
                f"{path}.{key}",
                entry[key],
                f"unknown field; accepted: {', '.join(sorted(allowed))}",
            )
        )
    metric_name = entry.get("metric")
    metric = METRICS.get(str(metric_name))
    if metric is None:
        close = difflib.get_close_matches(str(metric_name), list(METRICS), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        problems.append(
            Problem(
                f"{path}.metric",
                metric_name if metric_name is not None else MISSING,
                f"unknown metric; {hint}accepted: {', '.join(METRICS)}",
            )
        )
        return None
    periods = [k for k in PERIODS if k in entry]
    if len(periods) != 1:
        problems.append(
            Problem(
                path,
                dict(entry),
                "needs exactly one of month: YYYY-MM, quarter: YYYY-Qn, half: YYYY-Hn or "
                "year: YYYY",
            )
        )
        return None
    period_key = periods[0]
    period = str(entry[period_key])
    if metric.months_only and period_key != "month":
        problems.append(
            Problem(
                f"{path}.{period_key}",
                period,
                f"{metric_name} is measured at a month; give month: YYYY-MM",
            )
        )
        return None
    if _period_months(period, period_key) is None:
        form = {
            "month": "YYYY-MM",
            "quarter": "YYYY-Qn (n from 1 to 4)",
            "half": "YYYY-H1 or YYYY-H2",
            "year": "YYYY",
        }
        problems.append(
            Problem(
                f"{path}.{period_key}",
                entry[period_key],
                f"is not a {period_key}; accepted: {form[period_key]}",
            )
        )
        return None
    fact_id: str | None = None
    fact_sd: float | None = None
    raw_value = entry.get("value", MISSING)
    try:
        if (
            isinstance(raw_value, Mapping)
            and set(raw_value) <= {"fact", "times"}
            and ("fact" in raw_value)
        ):
            fact = get_fact(str(raw_value["fact"]))
            times = factor(raw_value.get("times", 1.0))
            if times is None:
                raise QuantityError('times must be a number > 0 or a fraction "A/B"')
            accepted = _target_units(metric, period_key)
            if "times" not in raw_value and fact.unit not in accepted:
                raise QuantityError(
                    f"fact {fact.id!r} is in {fact.unit} but a {metric_name} target over a "
                    f"{period_key} takes {' or '.join(accepted)}; cite a fact in a matching "
                    "unit, or convert it with times:"
                )
            fact_id = fact.id
            value = fact.central * times
            if fact.low is not None and fact.high is not None:
                fact_sd = (fact.high - fact.low) * times / (2 * special.ndtri(0.95))
        elif raw_value is MISSING:
            raise QuantityError("is required")
        else:
            value = parse_scalar(raw_value, metric.kind)
    except (QuantityError, FactError, TypeError, ValueError) as exc:
        problems.append(Problem(f"{path}.value", raw_value, str(exc)))
        return None
    sd = _target_sd(entry, value, metric, fact_sd, path, problems)
    if sd is None or len(problems) > before:
        return None
    return Target(str(metric_name), period, value, sd, 0, 0, fact_id)


def _target_units(metric: Metric, period_key: str) -> list[str]:
    """Fact units that measure ``metric`` over a period of this kind without conversion.

    A money total over a year may be cited from a fact in USD or USD/year, over a quarter in
    USD or USD/quarter, over a month in USD or USD/month; other metrics take their own unit.
    """
    if metric.unit != "USD":
        return [metric.unit]
    per = {"year": "USD/year", "quarter": "USD/quarter", "month": "USD/month"}.get(period_key)
    return ["USD", per] if per else ["USD"]


def _target_sd(
    entry: Mapping[str, Any],
    value: float,
    metric: Metric,
    fact_sd: float | None,
    path: str,
    problems: list[Problem],
) -> float | None:
    try:
        if "uncertainty" in entry and "sd" in entry:
            raise QuantityError("give uncertainty (relative) or sd (absolute), not both")
        if "uncertainty" in entry:
            relative = parse_scalar(entry["uncertainty"], Kind.RATE)
            if relative <= 0:
                raise QuantityError("must be > 0")
            if value == 0:
                raise QuantityError("a relative uncertainty needs a non-zero value; use sd")
            return relative * abs(value)
        if "sd" in entry:
            sd = parse_scalar(entry["sd"], metric.kind)
            if sd <= 0:
                raise QuantityError("must be > 0")
            return sd
    except QuantityError as exc:
        key = "uncertainty" if "uncertainty" in entry else "sd"
        problems.append(Problem(f"{path}.{key}", entry[key], str(exc)))
        return None
    if fact_sd is not None and fact_sd > 0:
        return fact_sd
    problems.append(
        Problem(
            path,
            dict(entry),
            "has no uncertainty; accepted: uncertainty: 15% (relative "
            "standard deviation) or sd: in the metric's unit, or a value citing a fact "
            "with a range",
        )
    )
    return None


def _month(text: str) -> pd.Period | None:
    try:
        if len(text) != 7:
            return None
        return pd.Period(text, freq="M")
    except (ValueError, TypeError):
        return None


#: Periods a target may cover: one month, a quarter, a half-year or a calendar year.
PERIODS = ("month", "quarter", "half", "year")


def _period_kind(text: str) -> str:
    upper = text.upper()
    if "-Q" in upper:
        return "quarter"
    if "-H" in upper:
        return "half"
    return "year" if len(text) == 4 else "month"


def _period_months(period: str, key: str | None = None) -> tuple[pd.Period, pd.Period]:
    """First and last calendar month of ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-Hn`` or ``YYYY``."""
    text = period.strip()
    kind = key or _period_kind(text)
    try:
        if kind == "month":
            month = _month(text)
            if month is None:
                raise ValueError(text)
            return month, month
        if kind in ("quarter", "half"):
            letter, span = ("Q", 3) if kind == "quarter" else ("H", 6)
            year, _, number_text = text.upper().partition(f"-{letter}")
            number = int(number_text)
            if not 1 <= number <= 12 // span or len(year) != 4:
                raise ValueError(text)
            first = pd.Period(f"{int(year)}-{span * (number - 1) + 1:02d}", freq="M")
            return first, first + (span - 1)
        if len(text) != 4:
            raise ValueError(text)
        return pd.Period(f"{int(text)}-01", freq="M"), pd.Period(f"{int(text)}-12", freq="M")
    except (ValueError, TypeError):
        return None  # type: ignore[return-value]


def _check_horizon(targets: TargetSet, scenario: Scenario) -> TargetSet:
    start = pd.Period(scenario.start, freq="M")
    end = start + scenario.horizon_months - 1
    problems, placed = [], []
    for index, target in enumerate(targets.targets):
        first, last = _period_months(target.period)
        if first < start or last > end:
            problems.append(
                Problem(
                    f"targets.{index}",
                    target.period,
                    f"{target.label} lies outside the scenario's horizon ({start} to {end}); "
                    "accepted: periods within it (change the scenario's start or "
                    "horizon_months, or drop the target)",
                )
            )
            continue
        placed.append(
            Target(
                target.metric,
                target.period,
                target.value,
                target.sd,
                (first - start).n,
                (last - start).n,
                target.fact,
            )
        )
    if problems:
        raise CalibrationError(problems, targets.source)
    return TargetSet(
        targets.name,
        tuple(placed),
        targets.description,
        targets.scenario,
        targets.fit,
        targets.cutoff,
        targets.source,
    )


# -- the fit ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PointFit:
    """Least squares on medians: fitted values, target medians and the optimiser's report."""

    values: dict[str, float]
    medians: dict[str, float]
    cost: float  # half the sum of squared standardised residuals
    evaluations: int
    message: str
    success: bool


@dataclass(frozen=True)
class Posterior:
    """Weighted samples of the fitted inputs and of the targeted outputs."""

    inputs: dict[str, Array]  # input -> (n,)
    outputs: dict[str, Array]  # target label -> (n,)
    weights: Array  # (n,), sum 1
    rounds: int
    prior_outputs: dict[str, Array]  # target label -> (n0,): the first round, unweighted

    @property
    def ess(self) -> float:
        """Effective sample size (sum w)^2 / sum w^2 of the normalised weights."""
        return float(1.0 / np.sum(self.weights**2))

    def quantile(self, values: Array, q: float) -> float:
        """Weighted quantile of ``values`` (NaN-free part)."""
        return weighted_quantile(values, self.weights, q)


def weighted_quantile(values: Array, weights: Array, q: float) -> float:
    """The ``q`` quantile of ``values`` under ``weights`` (midpoint interpolation of the CDF)."""
    keep = np.isfinite(values) & (weights > 0)
    if not keep.any():
        return math.nan
    order = np.argsort(values[keep])
    ordered, w = values[keep][order], weights[keep][order]
    cdf = (np.cumsum(w) - 0.5 * w) / w.sum()
    return float(np.interp(q, cdf, ordered))


@dataclass
class Calibration:
    """The outcome of :func:`calibrate`: priors, the point fit, the posterior, diagnostics."""

    scenario: Scenario
    raw: dict[str, Any]
    targets: TargetSet
    tracked: tuple[Target, ...]
    fit: tuple[str, ...]
    priors: dict[str, Distribution]
    point: PointFit | None
    posterior: Posterior | None
    seed: int
    samples: int
    point_samples: int
    min_ess: float = 400.0
    source: str | None = None
    created: str = field(default_factory=lambda: dt.date.today().isoformat())

    def inputs_table(self) -> pd.DataFrame:
        """One row per fitted input: prior 5/50/95%, the point fit and the posterior 5/50/95%."""
        rows = []
        for name in self.fit:
            prior = self.priors[name]
            row: dict[str, Any] = {
                "input": name,
                "prior_p5": prior.quantile(0.05),
                "prior_p50": prior.quantile(0.5),
                "prior_p95": prior.quantile(0.95),
                "point": self.point.values[name] if self.point else math.nan,
            }
            if self.posterior is not None:
                values = self.posterior.inputs[name]
                for q in (5, 50, 95):
                    row[f"posterior_p{q}"] = self.posterior.quantile(values, q / 100)
            rows.append(row)
        return pd.DataFrame(rows).set_index("input")

    def targets_table(self, tracked: bool = False) -> pd.DataFrame:
        """One row per target: observed, sd, prior median, point fit, posterior 5/50/95%.

        The point fit's column is its median and z-score; ``tracked`` gives the targets left
        out of the fit (a backtest's held-out figures) instead of the fitted ones.
        """
        rows = []
        for target in self.tracked if tracked else self.targets.targets:
            row: dict[str, Any] = {
                "target": target.label,
                "observed": target.value,
                "sd": target.sd,
            }
            if self.posterior is not None:
                row["prior_p50"] = float(np.nanmedian(self.posterior.prior_outputs[target.label]))
            if self.point is not None:
                median = self.point.medians[target.label]
                row["point_median"] = median
                row["point_z"] = (median - target.value) / target.sd
            if self.posterior is not None:
                values = self.posterior.outputs[target.label]
                for q in (5, 50, 95):
                    row[f"posterior_p{q}"] = self.posterior.quantile(values, q / 100)
            rows.append(row)
        return pd.DataFrame(rows).set_index("target")

    def fitted_values(self, kind: str = "posterior") -> dict[str, Any]:
        """Input -> the value written for it: a distribution mapping or the point value."""
        if kind == "point":
            if self.point is None:
                raise OptionError(
                    "kind: 'point' needs a point fit; run with method 'point' or 'both'"
                )
            return dict(self.point.values)
        if kind != "posterior":
            raise OptionError(f"kind: {kind!r} is not accepted; accepted: posterior, point")
        if self.posterior is None:
            raise OptionError(
                "kind: 'posterior' needs a posterior; run with method 'posterior' or 'both'"
            )
        return {
            name: _summarise(self.posterior.inputs[name], self.posterior.weights, self.priors[name])
            for name in self.fit
        }

    def calibrated_mapping(self, kind: str = "posterior") -> dict[str, Any]:
        """The scenario's mapping with the fitted inputs replaced."""
        data = _plain(self.raw)
        for name, value in self.fitted_values(kind).items():
            _set_path(data, name, value)
        data["name"] = f"{self.scenario.name}-calibrated"
        data["description"] = (
            f"{self.scenario.name} calibrated to {self.targets.name}: "
            + ", ".join(self.fit)
            + f" fitted ({kind})."
        )
        return data

    def calibrated_scenario(self, kind: str = "posterior") -> Scenario:
        """The calibrated scenario, validated."""
        return from_mapping(self.calibrated_mapping(kind), source="calibrated scenario")

    def scenario_text(self, kind: str = "posterior") -> str:
        """The calibrated scenario as YAML, the fit's diagnostics in comments at the top."""
        body = yaml.safe_dump(self.calibrated_mapping(kind), sort_keys=False, width=100)
        return "\n".join(f"# {line}".rstrip() for line in self.report_lines(kind)) + "\n" + body

    def report_lines(self, kind: str = "posterior") -> list[str]:
        """The diagnostics as plain text lines."""
        lines = [
            f"Calibrated by labecon on {self.created}: scenario {self.source or self.scenario.name}"
            f", targets {self.targets.source or self.targets.name}; written: the {kind} fit.",
            f"Seed {self.seed}. Fitted inputs: {', '.join(self.fit)}.",
        ]
        for citation in self._fitted_citations():
            lines.append(f"Prior of {citation.input} came from fact {citation.fact.id}.")
        if self.point is not None:
            state = "converged" if self.point.success else "did NOT converge"
            lines.append(
                f"Point fit (least squares on medians of {self.point_samples:,} samples): {state}"
                f" after {self.point.evaluations} evaluations; cost {self.point.cost:.4g} "
                f"(half the sum of squared z); {self.point.message}"
            )
        if self.posterior is not None:
            lines.append(
                f"Posterior (importance sampling, {self.posterior.rounds} round(s) of "
                f"{self.samples:,} samples): effective sample size {self.posterior.ess:,.0f}."
            )
            if self.posterior.ess < self.min_ess:
                lines.append(
                    f"WARNING: the effective sample size {self.posterior.ess:,.0f} is below "
                    f"{self.min_ess:,.0f}; the posterior rests on few samples. Raise the "
                    "samples per round (--samples) or widen the targets' uncertainty."
                )
        lines.append("")
        lines += _text_table(self.inputs_table(), "input")
        lines.append("")
        lines += _text_table(self.targets_table(), "target")
        return lines

    def _fitted_citations(self) -> list[Citation]:
        return [c for c in self.scenario.citations if c.input in self.fit]

    def write(self, path: str | Path, kind: str = "posterior") -> Path:
        """Write the calibrated scenario to ``path`` atomically (never a half-written file)."""
        target = Path(path)
        text = self.scenario_text(kind)
        self.calibrated_scenario(kind)  # refuse to write what would not load
        temporary = target.with_name(f".{target.name}.partial")
        temporary.write_text(text, "utf-8")
        temporary.replace(target)
        return target


def _text_table(frame: pd.DataFrame, index: str) -> list[str]:
    shown = frame.reset_index().rename(columns={"index": index})
    text = shown.to_string(index=False, float_format=lambda v: f"{v:.4g}")
    return text.splitlines()


def calibrate(
    scenario: str | Path | Scenario | Mapping[str, Any],
    targets: str | Path | Mapping[str, Any] | TargetSet,
    fit: Sequence[str] | None = None,
    *,
    method: str = "both",
    samples: int = 4000,
    point_samples: int = 400,
    seed: int | None = 0,
    start: Mapping[str, float] | None = None,
    min_ess: float = 400.0,
    max_rounds: int = 4,
    track: Sequence[Target] | TargetSet = (),
    backend: str | Backend | None = None,
    scheduler: str | None = None,
    workers: int | None = None,
) -> Calibration:
    """Fit the inputs ``fit`` of ``scenario`` to ``targets``; see the module docstring.

    ``fit`` defaults to the target set's own ``fit:`` list. ``method`` is ``point``,
    ``posterior`` or ``both``. ``samples`` is the size of each importance-sampling round,
    ``point_samples`` the samples whose medians the point fit matches; ``start`` gives the
    point fit's starting values (default: the priors' medians). ``track`` are targets whose
    outputs are recorded alongside (for a backtest) but take no part in the fit.
    ``backend``, ``scheduler`` and ``workers`` say where the posterior's rounds run, as in
    :func:`labecon.simulate` (chunks of samples as tasks on a Dask cluster); same fit. The
    point fit's many small runs stay in this process.
    """
    if method not in ("point", "posterior", "both"):
        raise OptionError(f"method: {method!r} is not accepted; accepted: point, posterior, both")
    for name, value, low in (("samples", samples, 10), ("point_samples", point_samples, 10)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise OptionError(f"{name}: {value!r} is not accepted; accepted: an integer >= {low}")
    loaded, raw, source = _load(scenario)
    target_set = load_targets(targets, loaded)
    names = tuple(fit) if fit else target_set.fit
    priors = _check_fit(loaded, names, start)
    fixed_seed = normalise_seed(seed)
    tracked = load_targets(
        track if isinstance(track, TargetSet) else TargetSet("tracked", tuple(track)), loaded
    )
    point = None
    posterior = None
    if method in ("point", "both"):
        # Many small runs, one after the other: a cluster's round trips would cost more than
        # they save, so the point fit stays in this process whatever the backend.
        model = _Model(loaded, target_set.targets, fixed_seed, tracked.targets)
        point = _point_fit(model, priors, point_samples, start)
    if method in ("posterior", "both"):
        with using(backend, scheduler, workers) as opened:
            model = _Model(loaded, target_set.targets, fixed_seed, tracked.targets, opened)
            posterior = _posterior(model, priors, samples, min_ess, max_rounds)
    return Calibration(
        scenario=loaded,
        raw=raw,
        targets=target_set,
        tracked=tracked.targets,
        fit=names,
        priors=priors,
        point=point,
        posterior=posterior,
        seed=fixed_seed,
        samples=samples,
        point_samples=point_samples,
        min_ess=min_ess,
        source=source,
    )


def _load(
    scenario: str | Path | Scenario | Mapping[str, Any],
) -> tuple[Scenario, dict[str, Any], str | None]:
    if isinstance(scenario, Scenario):
        return scenario, scenario.model_dump(mode="json", exclude={"extends"}), None
    if isinstance(scenario, Mapping):
        raw = dict(scenario)
        return from_mapping(raw), raw, None
    raw, source = read_mapping(scenario)
    raw.setdefault("name", Path(str(scenario)).stem)
    return from_mapping(raw, source=source), raw, source


def _check_fit(
    scenario: Scenario, names: Sequence[str], start: Mapping[str, float] | None
) -> dict[str, Distribution]:
    problems = []
    if not names:
        problems.append(
            Problem(
                "fit",
                list(names),
                "no input to fit; name at least one "
                "uncertain input (e.g. revenue.api.demand_growth_per_year)",
            )
        )
    inputs = dict(scenario.inputs())
    priors: dict[str, Distribution] = {}
    for name in names:
        value = inputs.get(name, MISSING)
        if value is MISSING:
            close = difflib.get_close_matches(name, list(inputs), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            problems.append(
                Problem(
                    "fit",
                    name,
                    f"is not an input of the scenario; {hint}"
                    "accepted: the names `labecon explain` lists",
                )
            )
        elif not isinstance(value, Distribution):
            problems.append(
                Problem(
                    "fit",
                    name,
                    f"is a fixed number ({value:g}) in the scenario; "
                    "only uncertain inputs can be fitted: give it a prior range, "
                    'e.g. "1 to 3" or {uniform: {low: ..., high: ...}}',
                )
            )
        elif name in priors:
            problems.append(Problem("fit", name, "is named twice"))
        else:
            priors[name] = value
    for name, value in (start or {}).items():
        if name not in priors:
            problems.append(
                Problem("start", name, "is not a fitted input; accepted: " + ", ".join(names))
            )
        elif not math.isfinite(float(value)):
            problems.append(Problem(f"start.{name}", value, "must be a finite number"))
    if problems:
        raise CalibrationError(problems)
    return priors


@dataclass(frozen=True)
class _Observed:
    """What every chunk of a calibration's model runs shares: sent once to each worker."""

    scenario: Scenario
    seed: int
    targets: tuple[Target, ...]


def _observe_chunk(model: _Observed, chunk: Chunk) -> Array:
    """(count, targets) outputs of one chunk; on a cluster, a task returning only these."""
    views = simulate_samples(Run(model.scenario, model.seed), chunk)
    out = np.empty((chunk.count, len(model.targets)))
    for j, target in enumerate(model.targets):
        out[:, j] = target.observe(views.statements)
    return out


class _Model:
    """Targeted outputs per sample with some inputs set, on common random numbers."""

    def __init__(
        self,
        scenario: Scenario,
        targets: Sequence[Target],
        seed: int,
        tracked: Sequence[Target] = (),
        backend: Backend | None = None,
    ) -> None:
        self.scenario = scenario
        self.fitted = len(targets)
        self.targets = (*targets, *tracked)
        self.seed = seed
        self.sampler = Sampler(scenario, seed)
        self.backend = backend or InProcess()

    def outputs(self, start: int, count: int, overrides: Mapping[str, Array | float]) -> Array:
        """(count, targets) outputs of samples ``start..`` with ``overrides`` of input draws.

        Array overrides hold one value per sample of this call (not of the whole run). On a
        cluster the samples are split so that every worker thread has a share; each sample's
        outputs do not depend on the split.
        """
        size = min(
            default_chunk_size(self.scenario, count), -(-count // max(self.backend.threads, 1))
        )
        chunks = [
            Chunk(
                start + offset,
                n,
                {
                    name: value[offset : offset + n] if isinstance(value, np.ndarray) else value
                    for name, value in overrides.items()
                },
            )
            for offset, n in chunk_bounds(count, size)
        ]
        shared = _Observed(self.scenario, self.seed, self.targets)
        return np.concatenate(list(self.backend.map_ordered(_observe_chunk, shared, chunks)))

    def standardised(self, values: Array) -> Array:
        """(value - observed) / sd of the fitted targets (the first columns of the last axis)."""
        fitted = self.targets[: self.fitted]
        observed = np.array([t.value for t in fitted])
        sd = np.array([t.sd for t in fitted])
        return (values[..., : self.fitted] - observed) / sd


def _to_value(prior: Distribution, z: Array | float) -> Array:
    u = np.clip(special.ndtr(np.asarray(z, dtype=np.float64)), 1e-12, 1 - 1e-12)
    return prior.ppf(np.atleast_1d(u))


def _to_z(prior: Distribution, value: float) -> float:
    """Normal score of ``value`` under the prior (bisection on the quantile function)."""
    low, high = -Z_BOUND, Z_BOUND
    if value <= float(_to_value(prior, low)[0]):
        return low
    if value >= float(_to_value(prior, high)[0]):
        return high
    for _ in range(80):
        middle = (low + high) / 2
        if float(_to_value(prior, middle)[0]) < value:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _point_fit(
    model: _Model,
    priors: Mapping[str, Distribution],
    count: int,
    start: Mapping[str, float] | None,
) -> PointFit:
    names = list(priors)
    z0 = np.array([_to_z(priors[n], float((start or {}).get(n, priors[n].median))) for n in names])
    z0 = np.clip(z0, -Z_BOUND + 1e-6, Z_BOUND - 1e-6)

    def values_of(z: Array) -> dict[str, float]:
        return {n: float(_to_value(priors[n], z[i])[0]) for i, n in enumerate(names)}

    def medians(z: Array) -> Array:
        outputs = model.outputs(0, count, values_of(z))
        return np.nanmedian(outputs, axis=0)

    def residuals(shifted: Array) -> Array:
        r = model.standardised(medians(shifted - _SHIFT))
        return np.where(np.isfinite(r), r, 1e6)

    # SciPy's finite differences take steps relative to |x|; shifting the normal scores away
    # from zero gives steps of about 0.01 of a prior standard deviation everywhere.
    fit = optimize.least_squares(
        residuals,
        z0 + _SHIFT,
        bounds=(_SHIFT - Z_BOUND, _SHIFT + Z_BOUND),
        diff_step=1e-3,
        max_nfev=100 * (len(names) + 1),
    )
    fit.x = fit.x - _SHIFT
    final = medians(fit.x)
    return PointFit(
        values=values_of(fit.x),
        medians={t.label: float(m) for t, m in zip(model.targets, final, strict=True)},
        cost=float(fit.cost),
        evaluations=int(fit.nfev),
        message=str(fit.message),
        success=bool(fit.success),
    )


def _posterior(
    model: _Model,
    priors: Mapping[str, Distribution],
    count: int,
    min_ess: float,
    max_rounds: int,
) -> Posterior:
    names = list(priors)
    k = len(names)
    rng = np.random.default_rng(np.random.SeedSequence(model.sampler.seed, spawn_key=(7,)))
    proposals: list[tuple[Array, Array]] = [(np.zeros(k), np.eye(k))]  # round 0: the prior
    all_z, all_out, all_loglike = [], [], []
    weights = np.ones(1)
    for round_index in range(max_rounds):
        first = round_index * count
        if round_index == 0:
            draws = model.sampler.draw(first, count)
            z = np.column_stack([_z_of_draws(priors[n], draws[n]) for n in names])
            outputs = model.outputs(first, count, {})
        else:
            mean, cov = proposals[-1]
            z = np.clip(rng.multivariate_normal(mean, cov, size=count, method="cholesky"), -8, 8)
            values = {n: _to_value(priors[n], z[:, i]) for i, n in enumerate(names)}
            outputs = model.outputs(first, count, values)
        r = model.standardised(outputs)
        all_z.append(z)
        all_out.append(outputs)
        all_loglike.append(-0.5 * np.sum(np.where(np.isfinite(r), r, np.inf) ** 2, axis=1))
        weights = _mixture_weights(np.vstack(all_z), np.concatenate(all_loglike), proposals)
        if 1.0 / np.sum(weights**2) >= min_ess or round_index == max_rounds - 1:
            break
        proposals.append(_proposal(np.vstack(all_z), weights))
    z_pool, outputs_pool = np.vstack(all_z), np.vstack(all_out)
    return Posterior(
        inputs={n: _to_value(priors[n], z_pool[:, i]) for i, n in enumerate(names)},
        outputs={t.label: outputs_pool[:, j] for j, t in enumerate(model.targets)},
        weights=weights,
        rounds=len(all_z),
        prior_outputs={t.label: all_out[0][:, j] for j, t in enumerate(model.targets)},
    )


def _mixture_weights(z: Array, log_like: Array, proposals: Sequence[tuple[Array, Array]]) -> Array:
    """Normalised weights likelihood x prior / mixture of the proposals used so far.

    Every round draws the same number of samples, so the pooled samples come from the equal
    mixture of the rounds' proposals (the balance heuristic of multiple importance sampling;
    Veach and Guibas 1995), which keeps a few lucky prior draws from dominating.
    """
    log_q = np.column_stack([_log_normal_pdf(z, mean, cov) for mean, cov in proposals])
    top = log_q.max(axis=1)
    log_mixture = top + np.log(np.mean(np.exp(log_q - top[:, None]), axis=1))
    log_prior = _log_normal_pdf(z, np.zeros(z.shape[1]), np.eye(z.shape[1]))
    return _normalise(log_like + log_prior - log_mixture)


def _z_of_draws(prior: Distribution, values: Array) -> Array:
    grid = np.linspace(-8.0, 8.0, 4001)
    curve = _to_value(prior, grid)
    return np.interp(values, curve, grid)


def _normalise(log_weights: Array) -> Array:
    finite = np.isfinite(log_weights)
    if not finite.any():
        raise CalibrationError(
            [
                Problem(
                    "targets",
                    MISSING,
                    "no sample comes near the targets (every likelihood is "
                    "zero); widen the priors of the fitted inputs or the targets' uncertainty",
                )
            ]
        )
    shifted = np.where(finite, log_weights - np.max(log_weights[finite]), -np.inf)
    weights = np.exp(shifted)
    return weights / weights.sum()


def _proposal(z: Array, weights: Array) -> tuple[Array, Array]:
    """A widened Gaussian fitted to weighted normal scores (x2 the covariance, with a floor)."""
    mean = np.average(z, axis=0, weights=weights)
    centred = z - mean
    cov = (centred * weights[:, None]).T @ centred
    k = z.shape[1]
    cov = 2.0 * cov + 0.05 * np.eye(k)
    return mean, cov


def _log_normal_pdf(z: Array, mean: Array, cov: Array) -> Array:
    k = z.shape[1]
    chol = np.linalg.cholesky(cov)
    solved = np.linalg.solve(chol, (z - mean).T)
    log_det = 2.0 * np.sum(np.log(np.diag(chol)))
    return -0.5 * np.sum(solved**2, axis=0) - 0.5 * log_det - 0.5 * k * math.log(2 * math.pi)


def _summarise(values: Array, weights: Array, prior: Distribution) -> Any:
    """A distribution mapping for weighted samples: lognormal (or normal) 90% interval.

    Truncated to the prior's support so the field's bounds still hold.
    """
    p5 = weighted_quantile(values, weights, 0.05)
    p95 = weighted_quantile(values, weights, 0.95)
    median = weighted_quantile(values, weights, 0.5)
    low, high = prior.quantile(0.0), prior.quantile(1.0)
    if not p5 < p95:
        return float(median)
    family = "lognormal" if p5 > 0 else "normal"
    out: dict[str, Any] = {family: {"p5": _round(p5), "p95": _round(p95)}}
    if math.isfinite(low):
        out["min"] = _round(low)
    if math.isfinite(high):
        out["max"] = _round(high)
    return out


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def _plain(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {str(k): _plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_plain(v) for v in data]
    return data


def _set_path(data: dict[str, Any], dotted: str, value: Any) -> None:
    node: Any = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
    if isinstance(node, list):
        node[int(parts[-1])] = value
    else:
        node[parts[-1]] = value
