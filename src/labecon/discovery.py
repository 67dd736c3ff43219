"""Scenario discovery: which ranges of the inputs lead to an outcome.

An outcome ("insolvent by 2029-12", "capital need above $50B", ``operating_income_2028<0``)
is a yes/no question about each Monte Carlo sample, defined on the per-sample metrics of
:mod:`labecon.metrics`. PRIM, the Patient Rule Induction Method [1]_, then looks for a box
(a range of each input) where the outcome is frequent, the way scenario discovery does in
exploratory modelling [2]_:

- coverage = cases of interest inside the box / all cases of interest,
- density = cases of interest inside the box / all cases inside the box,
- mass = cases inside the box / all cases.

Peeling removes, one step at a time, the share ``alpha`` of the cases in the box with the
lowest or the highest value of one input, choosing the peel that leaves the highest density;
the trajectory of boxes trades coverage for density. The chosen box (the last with density
>= ``threshold``, or the user's ``step``) is pasted back out where that does not lower its
density, and restrictions that do not matter are dropped.

PRIM is written here rather than taken from a library: ``ema_workbench`` (BSD, maintained)
supports Python >= 3.12 from its 3.0 release and brings scikit-learn, statsmodels,
matplotlib, seaborn and platypus-opt with it; ``PRIM`` (Project Platypus) is GPL-3, last
released in September 2024, and needs matplotlib.

.. [1] Friedman, J. H. and Fisher, N. I., 1999, "Bump hunting in high-dimensional data",
   Statistics and Computing 9, 123-143.
.. [2] Bryant, B. P. and Lempert, R. J., 2010, "Thinking inside the box: A participatory,
   computer-assisted approach to scenario discovery", Technological Forecasting and Social
   Change 77, 34-49.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from labecon.api import Progress, simulate
from labecon.errors import OptionError
from labecon.metrics import accepted_metrics, metric_kind, metric_values
from labecon.result import Result
from labecon.sampler import Overrides
from labecon.scenario.citations import field_meta
from labecon.scenario.loading import load_scenario
from labecon.scenario.quantities import Kind, QuantityError, parse_scalar
from labecon.scenario.schema import Scenario

Array = NDArray[np.float64]
Flags = NDArray[np.bool_]
Comparison = Literal[">", "<", ">=", "<="]

#: The outcome forms :func:`parse_outcome` accepts, for error messages and docs.
OUTCOME_FORMS = (
    "insolvent_by:YYYY-MM",
    "breakeven_before:YYYY-MM",
    "cash_breakeven_before:YYYY-MM",
    "capital_need_above:MONEY",
    "METRIC>VALUE",
    "METRIC<VALUE",
)
# KEY:VALUE outcomes: the metric they read, how they compare, and what their value is.
_KEYED: dict[str, tuple[str, Comparison, str]] = {
    "insolvent_by": ("insolvency_month", "<=", "month"),
    "breakeven_before": ("breakeven_month", "<", "month"),
    "cash_breakeven_before": ("cash_breakeven_month", "<", "month"),
    "capital_need_above": ("capital_need_usd", ">", "money"),
}
_COMPARISON_RE = re.compile(
    r"^\s*(?P<metric>[A-Za-z_][A-Za-z0-9_]*)\s*(?P<op>>=|<=|>|<)\s*(?P<value>.+?)\s*$"
)
_MONTH_RE = re.compile(r"^\d{4}-\d{2}$")
# Metric kinds -> the scenario kind their values are written in.
_VALUE_KIND = {"money": Kind.MONEY, "share": Kind.RATE, "probability": Kind.RATE}


class NothingToDiscoverError(OptionError):
    """The outcome happens in every sample or in none: there is no range to find."""


# -- outcomes ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """A yes/no question about each sample: ``metric`` compared with ``value``.

    ``value`` is in the metric's unit: a month index from the scenario's start for month
    metrics [month], USD for money, a fraction for shares. A month metric that is never
    reached within the horizon (NaN) counts as later than every month: it is ``>`` any
    value and ``<`` none.
    """

    label: str  # canonical text, e.g. "insolvent_by:2029-12"
    metric: str
    comparison: Comparison
    value: float

    def evaluate(self, result: Result) -> Flags:
        """Whether the outcome happens in each sample of ``result``, shape (samples,)."""
        values = metric_values(result, self.metric)
        if metric_kind(self.metric) == "month":
            values = np.where(np.isnan(values), np.inf, values)
        with np.errstate(invalid="ignore"):
            if self.comparison == ">":
                out = values > self.value
            elif self.comparison == "<":
                out = values < self.value
            elif self.comparison == ">=":
                out = values >= self.value
            else:
                out = values <= self.value
        return np.asarray(out, dtype=bool)


def _forms() -> str:
    return ", ".join(OUTCOME_FORMS)


def _calendar(scenario: Scenario) -> pd.PeriodIndex:
    start = pd.Period(scenario.start, freq="M")
    return pd.period_range(start, periods=scenario.horizon_months, freq="M")


def _month_index(text: str, value: str, scenario: Scenario, *, before: bool) -> int:
    """Month index of ``YYYY-MM`` within the horizon (``before``: up to the month after it)."""
    months = _calendar(scenario)
    first, last = months[0], months[-1]
    # "Before M" can name the month after the horizon: before it means within the horizon.
    latest = last + 1 if before else last
    if not _MONTH_RE.match(value.strip()):
        raise OptionError(
            f"outcome: {text!r}: {value.strip()!r} is not a month; accepted: YYYY-MM from "
            f"{first} to {latest}"
        )
    try:
        month = pd.Period(value.strip(), freq="M")
    except ValueError:
        raise OptionError(
            f"outcome: {text!r}: {value.strip()!r} is not a month; accepted: YYYY-MM from "
            f"{first} to {latest}"
        ) from None
    index = (month - first).n
    lowest = 1 if before else 0
    if not lowest <= index <= (latest - first).n:
        raise OptionError(
            f"outcome: {text!r}: {month} is outside the horizon of {scenario.name!r} "
            f"({first} to {last}); accepted: a month from {first + lowest} to {latest}"
        )
    return int(index)


def _metric_value(text: str, metric: str, value: str, scenario: Scenario) -> float:
    """``value`` in the unit of ``metric``: a month index, USD or a fraction."""
    kind = metric_kind(metric)
    if kind == "month":
        if _MONTH_RE.match(value.strip()):
            return float(_month_index(text, value, scenario, before=False))
        try:
            return parse_scalar(value, Kind.NUMBER)
        except QuantityError:
            raise OptionError(
                f"outcome: {text!r}: {value!r} is not a month; accepted for {metric}: YYYY-MM "
                "or a month index from the scenario's start"
            ) from None
    scalar_kind = _VALUE_KIND[kind]
    try:
        return parse_scalar(value, scalar_kind)
    except QuantityError as exc:
        raise OptionError(f"outcome: {text!r}: {exc} (for {metric})") from None


def parse_outcome(text: str, scenario: Scenario | str | Path | Mapping[str, Any]) -> Outcome:
    """Read an outcome such as ``insolvent_by:2029-12`` for ``scenario``.

    Forms: ``insolvent_by:YYYY-MM`` (insolvency month <= that month),
    ``breakeven_before:YYYY-MM`` and ``cash_breakeven_before:YYYY-MM`` (operating or cash
    breakeven month < that month), ``capital_need_above:MONEY`` (``capital_need_usd`` >
    MONEY, written as in scenarios: ``$50B``), and ``METRIC>VALUE`` / ``METRIC<VALUE`` (also
    ``>=``, ``<=``) for any metric of :mod:`labecon.metrics`, its value in the metric's unit
    (money as ``$2B`` or ``-5e9``, shares as ``30%``, months as ``YYYY-MM``). Months must lie
    within the scenario's horizon. Raises :class:`OptionError` naming the accepted forms.
    """
    loaded = load_scenario(scenario)
    if not isinstance(text, str) or not text.strip():
        raise OptionError(f"outcome: {text!r} is not an outcome; accepted: {_forms()}")
    years = sorted({int(p.year) for p in _calendar(loaded)})
    accepted = accepted_metrics(years)
    comparison = _COMPARISON_RE.match(text)
    if comparison is not None:
        metric, op, value = comparison["metric"], comparison["op"], comparison["value"]
        if metric not in accepted:
            raise OptionError(
                f"outcome: {text!r}: {metric!r} is not a metric; accepted: {', '.join(accepted)}"
            )
        number = _metric_value(text, metric, value, loaded)
        return Outcome(f"{metric}{op}{value.strip()}", metric, _comparison(op), number)
    key, colon, value = text.partition(":")
    key = key.strip()
    if not colon or key not in _KEYED:
        shown = f": {key!r} is not an outcome form" if colon else " is not an outcome"
        raise OptionError(f"outcome: {text!r}{shown}; accepted: {_forms()}")
    metric, op, unit = _KEYED[key]
    if unit == "month":
        number = float(_month_index(text, value, loaded, before=op == "<"))
    else:
        try:
            number = parse_scalar(value.strip(), Kind.MONEY)
        except QuantityError as exc:
            raise OptionError(f"outcome: {text!r}: {exc}") from None
    return Outcome(f"{key}:{value.strip()}", metric, op, number)


def _comparison(op: str) -> Comparison:
    for known in (">=", "<=", ">", "<"):
        if op == known:
            return known
    raise AssertionError(op)  # the regular expression admits only these


# -- PRIM --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PrimResult:
    """One PRIM box, the peeling trajectory it was chosen from, and its statistics.

    ``box`` has one row per input: ``input``, ``low`` and ``high`` (the box's limits, the
    smallest and largest value of the input among the cases inside, in the input's unit),
    ``restricted`` (whether the box is narrower than the data on that input), ``data_low``
    and ``data_high`` (the input's range in the data) and ``density_if_dropped`` (the density
    the box would have without this restriction; NaN when unrestricted).

    ``trajectory`` has one row per peeling step (step 0 is the whole data): the input and side
    peeled, the new limit, and coverage, density, mass, cases inside, cases of interest inside
    and the number of restricted inputs. Coverage and mass are shares of the whole data, also
    for a second box found on the cases the first left.
    """

    box: pd.DataFrame
    trajectory: pd.DataFrame
    step: int  # trajectory step the box was chosen from
    met_threshold: bool  # whether some box of the trajectory reached the density threshold
    threshold: float
    coverage: float
    density: float
    mass: float
    n_cases: int  # cases inside the box
    n_cases_of_interest: int  # cases of interest inside the box

    @property
    def restricted(self) -> list[str]:
        """The inputs the box restricts, in the data's column order."""
        return [str(name) for name in self.box.loc[self.box["restricted"], "input"]]

    def contains(self, x: pd.DataFrame) -> Flags:
        """Whether each row of ``x`` lies inside the box (only restricted inputs are checked)."""
        inside = np.ones(len(x), dtype=bool)
        rows = self.box[self.box["restricted"]]
        for name, low, high in zip(rows["input"], rows["low"], rows["high"], strict=True):
            values = x[str(name)].to_numpy(dtype=np.float64)
            inside &= (values >= float(low)) & (values <= float(high))
        return inside


@dataclass
class _Data:
    """The cases PRIM works on, and the totals its shares are taken of."""

    values: Array  # (cases, inputs)
    interest: Flags  # (cases,)
    total_cases: int
    total_interest: int

    def stats(self, inside: Flags) -> tuple[float, float, float, int, int]:
        """Coverage, density, mass, cases inside and cases of interest inside."""
        n_in = int(inside.sum())
        n_hit = int(self.interest[inside].sum())
        density = n_hit / n_in if n_in else math.nan
        return n_hit / self.total_interest, density, n_in / self.total_cases, n_in, n_hit


def _inside(values: Array, low: Array, high: Array) -> Flags:
    return np.asarray(np.all((values >= low) & (values <= high), axis=1), dtype=bool)


def _peel(
    data: _Data, names: list[str], alpha: float, min_mass: float
) -> tuple[list[tuple[Array, Array]], list[dict[str, Any]]]:
    """The peeling trajectory: limits and statistics at each step."""
    values, interest = data.values, data.interest
    full_low, full_high = values.min(axis=0), values.max(axis=0)
    low, high = full_low.copy(), full_high.copy()
    inside = np.ones(len(values), dtype=bool)
    limits = [(low.copy(), high.copy())]
    rows = [_row(0, None, None, math.nan, data, inside, 0)]
    while True:
        index = np.flatnonzero(inside)
        n_in = len(index)
        current = interest[index]
        if current.all():
            break  # density 1: no peel can raise it
        k = max(1, math.ceil(alpha * n_in))
        best: tuple[float, int, int, str, Flags] | None = None
        for j in range(values.shape[1]):
            column = values[index, j]
            ordered = np.sort(column)
            # Peel the k lowest (highest) values and every case tied with the k-th, so a
            # discrete input loses whole values.
            for side, keep in (
                ("low", column > ordered[k - 1]),
                ("high", column < ordered[n_in - k]),
            ):
                kept = int(keep.sum())
                if kept == 0 or kept == n_in or kept < min_mass * data.total_cases:
                    continue
                density = float(current[keep].mean())
                candidate = (density, kept, -j, side, keep)
                if best is None or candidate[:3] > best[:3]:
                    best = candidate
        if best is None:
            break
        _, _, negative_j, side, keep = best
        j = -negative_j
        kept_values = values[index[keep], j]
        if side == "low":
            low[j] = kept_values.min()
        else:
            high[j] = kept_values.max()
        inside[index[~keep]] = False
        limits.append((low.copy(), high.copy()))
        restricted = int(np.sum((low > full_low) | (high < full_high)))
        limit = float(low[j] if side == "low" else high[j])
        rows.append(_row(len(rows), names[j], side, limit, data, inside, restricted))
    return limits, rows


def _row(
    step: int,
    peeled: str | None,
    side: str | None,
    limit: float,
    data: _Data,
    inside: Flags,
    restricted: int,
) -> dict[str, Any]:
    coverage, density, mass, n_in, n_hit = data.stats(inside)
    return {
        "step": step,
        "input": peeled,
        "side": side,
        "limit": limit,
        "coverage": coverage,
        "density": density,
        "mass": mass,
        "n_cases": n_in,
        "n_cases_of_interest": n_hit,
        "restricted": restricted,
    }


def _paste(data: _Data, low: Array, high: Array, paste_alpha: float) -> tuple[Array, Array]:
    """Widen the box one limit at a time while that does not lower its density."""
    values, interest = data.values, data.interest
    low, high = low.copy(), high.copy()
    while True:
        inside = _inside(values, low, high)
        n_in = int(inside.sum())
        hits = int(interest[inside].sum())
        density = hits / n_in
        outside = (values < low) | (values > high)
        # Cases outside the box on one input only: pasting that input's limit reaches them.
        single = outside.sum(axis=1) == 1
        k = max(1, math.ceil(paste_alpha * n_in))
        best: tuple[float, int, str, float] | None = None
        for j in range(values.shape[1]):
            column = values[:, j]
            for side in ("low", "high"):
                reach = single & ((column < low[j]) if side == "low" else (column > high[j]))
                if not reach.any():
                    continue
                near = np.sort(column[reach])
                limit = near[-min(k, len(near))] if side == "low" else near[min(k, len(near)) - 1]
                added = reach & ((column >= limit) if side == "low" else (column <= limit))
                new_density = (hits + int(interest[added].sum())) / (n_in + int(added.sum()))
                if best is None or new_density > best[0]:
                    best = (new_density, j, side, float(limit))
        if best is None or best[0] < density:
            return low, high
        _, j, side, limit = best
        if side == "low":
            low[j] = limit
        else:
            high[j] = limit


def _drop_restrictions(
    data: _Data, low: Array, high: Array, epsilon: float, threshold: float
) -> tuple[Array, Array, Array]:
    """Reset to the full range each input whose limits do not matter.

    Repeatedly drops the restriction whose removal keeps the highest density, while that
    density stays within ``epsilon`` of the box's (and at or above ``threshold`` if the box
    reached it). Returns the limits and, per input, the density the final box would have
    without its restriction (NaN when unrestricted).
    """
    values = data.values
    full_low, full_high = values.min(axis=0), values.max(axis=0)
    low, high = low.copy(), high.copy()
    density = data.stats(_inside(values, low, high))[1]
    floor = density - epsilon
    if density >= threshold:
        floor = max(floor, threshold)
    while True:
        without = _density_without(data, low, high, full_low, full_high)
        if np.all(np.isnan(without)):
            return low, high, without
        j = int(np.nanargmax(without))
        if without[j] < floor:
            return low, high, without
        low[j], high[j] = full_low[j], full_high[j]


def _density_without(
    data: _Data, low: Array, high: Array, full_low: Array, full_high: Array
) -> Array:
    out = np.full(len(low), np.nan)
    for j in np.flatnonzero((low > full_low) | (high < full_high)):
        wide_low, wide_high = low.copy(), high.copy()
        wide_low[j], wide_high[j] = full_low[j], full_high[j]
        out[j] = data.stats(_inside(data.values, wide_low, wide_high))[1]
    return out


def _check_prim_options(
    alpha: float, threshold: float, min_mass: float, paste_alpha: float, epsilon: float
) -> None:
    for name, value, low, high, accepted in (
        ("alpha", alpha, 0.0, 0.5, "a share in (0, 0.5), e.g. 0.05"),
        ("threshold", threshold, 0.0, 1.0, "a density in (0, 1], e.g. 0.8"),
        ("min_mass", min_mass, 0.0, 1.0, "a share in (0, 1), e.g. 0.05"),
        ("paste_alpha", paste_alpha, 0.0, 0.5, "a share in (0, 0.5), e.g. 0.01"),
        ("epsilon", epsilon, -1e-12, 1.0, "a density difference in [0, 1), e.g. 0.01"),
    ):
        closed = name == "threshold"
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and low < value and (value <= high if closed else value < high)
        if not ok:
            raise OptionError(f"{name}: {value!r} is not accepted; accepted: {accepted}")


def _check_data(x: pd.DataFrame, y: ArrayLike) -> tuple[Array, Flags]:
    if not isinstance(x, pd.DataFrame) or x.shape[1] == 0:
        raise OptionError("x: accepted: a DataFrame with one numeric column per input")
    bad = [str(c) for c in x.columns if not pd.api.types.is_numeric_dtype(x[c])]
    if bad:
        raise OptionError(f"x: columns {bad} are not numeric; accepted: numeric inputs")
    values = x.to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(values)):
        raise OptionError("x: has values that are not finite; accepted: finite numbers")
    flags = np.asarray(y)
    if flags.shape != (len(x),):
        raise OptionError(f"y: shape {flags.shape} does not match x's {len(x)} rows")
    if flags.dtype != bool and not np.isin(flags, (0, 1)).all():
        raise OptionError("y: accepted: booleans (or 0/1), one per row of x")
    flags = flags.astype(bool)
    if not flags.any() or flags.all():
        raise NothingToDiscoverError(
            f"y: the outcome is {'true' if flags.all() else 'false'} in all {len(flags)} cases; "
            "accepted: an outcome that holds in some cases but not all"
        )
    return values, flags


def prim(
    x: pd.DataFrame,
    y: ArrayLike,
    *,
    alpha: float = 0.05,
    threshold: float = 0.8,
    min_mass: float = 0.05,
    paste: bool = True,
    paste_alpha: float = 0.01,
    epsilon: float = 0.01,
    step: int | None = None,
) -> PrimResult:
    """Find a box of the inputs ``x`` (one column each) where ``y`` is mostly true.

    Peels ``alpha`` [share of the cases in the box] at a time off one input's low or high end
    (the peel leaving the highest density), until the box has density 1 or a peel would leave
    less than ``min_mass`` [share of all cases]. The box kept is the last of the trajectory
    with density >= ``threshold`` (the densest one if none is, with ``met_threshold`` False),
    or the one at ``step``. With ``paste`` its limits are then widened ``paste_alpha`` at a
    time while that does not lower its density, and restrictions whose removal lowers the
    density by no more than ``epsilon`` are dropped. Discrete inputs lose whole values.
    """
    values, flags = _check_data(x, y)
    data = _Data(values, flags, len(flags), int(flags.sum()))
    return _prim(data, list(map(str, x.columns)), alpha, threshold, min_mass, paste,
                 paste_alpha, epsilon, step)  # fmt: skip


def _prim(
    data: _Data,
    names: list[str],
    alpha: float,
    threshold: float,
    min_mass: float,
    paste: bool,
    paste_alpha: float,
    epsilon: float,
    step: int | None,
) -> PrimResult:
    _check_prim_options(alpha, threshold, min_mass, paste_alpha, epsilon)
    limits, rows = _peel(data, names, alpha, min_mass)
    trajectory = pd.DataFrame(rows)
    density = trajectory["density"].to_numpy(dtype=np.float64)
    met = bool((density >= threshold).any())
    if step is not None:
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step < len(rows):
            raise OptionError(
                f"step: {step!r} is not a step of the trajectory; accepted: 0 to {len(rows) - 1}"
            )
        chosen = step
    elif met:
        # The widest box dense enough: the highest coverage, and of equal ones (peels that
        # removed no case of interest) the densest, which is the latest.
        covered = trajectory["coverage"].to_numpy(dtype=np.float64)
        dense = np.flatnonzero(density >= threshold)
        chosen = int(dense[covered[dense] == covered[dense].max()][-1])
    else:
        chosen = int(np.flatnonzero(density == density.max())[-1])
    low, high = limits[chosen]
    if paste:
        low, high = _paste(data, low, high, paste_alpha)
    low, high, without = _drop_restrictions(data, low, high, epsilon, threshold)
    inside = _inside(data.values, low, high)
    coverage, box_density, mass, n_in, n_hit = data.stats(inside)
    full_low, full_high = data.values.min(axis=0), data.values.max(axis=0)
    # A restricted end is the value of the last case inside the box (a limit pasted to a value
    # no case inside has would overstate the box); an unrestricted end is the data's.
    box_values = data.values[inside]
    box = pd.DataFrame(
        {
            "input": names,
            "low": np.where(low > full_low, box_values.min(axis=0), full_low),
            "high": np.where(high < full_high, box_values.max(axis=0), full_high),
            "restricted": (low > full_low) | (high < full_high),
            "data_low": full_low,
            "data_high": full_high,
            "density_if_dropped": without,
        }
    )
    return PrimResult(
        box=box,
        trajectory=trajectory,
        step=chosen,
        met_threshold=met,
        threshold=threshold,
        coverage=coverage,
        density=box_density,
        mass=mass,
        n_cases=n_in,
        n_cases_of_interest=n_hit,
    )


def prim_boxes(x: pd.DataFrame, y: ArrayLike, boxes: int = 2, **options: Any) -> list[PrimResult]:
    """PRIM's covering approach: each box is found on the cases the earlier boxes left.

    Coverage and mass stay shares of all the data, so coverages add up. Stops early when the
    cases left have no case of interest (or nothing else). ``options`` are those of
    :func:`prim`; a ``step`` chooses the first box only (the later trajectories differ).
    """
    if isinstance(boxes, bool) or not isinstance(boxes, int) or boxes < 1:
        raise OptionError(f"boxes: {boxes!r} is not accepted; accepted: an integer >= 1")
    values, flags = _check_data(x, y)
    names = list(map(str, x.columns))
    defaults = {
        "alpha": 0.05,
        "threshold": 0.8,
        "min_mass": 0.05,
        "paste": True,
        "paste_alpha": 0.01,
        "epsilon": 0.01,
        "step": None,
    }
    unknown = sorted(set(options) - set(defaults))
    if unknown:
        raise OptionError(f"options: {unknown} are not PRIM options; accepted: {sorted(defaults)}")
    settings = defaults | options
    found: list[PrimResult] = []
    left = np.ones(len(flags), dtype=bool)
    for _ in range(boxes):
        rest = flags[left]
        if not rest.any() or rest.all():
            break
        data = _Data(values[left], rest, len(flags), int(flags.sum()))
        result = _prim(data, names, **(settings if not found else settings | {"step": None}))
        found.append(result)
        left &= ~result.contains(x)
    return found


# -- discovery on a scenario -------------------------------------------------------------------
def input_kind(name: str) -> Kind | None:
    """The kind (money, rate, number, months) of a scenario input by its dotted name."""
    meta = field_meta(name.split("."))
    return None if meta is None else meta.kind


@dataclass(frozen=True)
class Discovery:
    """Boxes of a scenario's uncertain inputs where an outcome happens.

    ``x`` holds each uncertain input's per-sample value (one column each) and ``y`` whether
    the outcome happened, so :func:`prim` can be rerun with other settings. ``boxes`` has one
    :class:`PrimResult` per box found; ``box`` and ``trajectory`` are the first's, and its box
    has a ``kind`` column (money, rate, number, months) to format the limits.
    """

    scenario: str
    outcome: Outcome
    samples: int
    seed: int
    base_rate: float  # share of samples where the outcome happens
    x: pd.DataFrame
    y: Flags
    boxes: tuple[PrimResult, ...]

    @property
    def box(self) -> pd.DataFrame:
        """The first box, one row per input (see :class:`PrimResult`)."""
        return self.boxes[0].box

    @property
    def trajectory(self) -> pd.DataFrame:
        """The first box's peeling trajectory."""
        return self.boxes[0].trajectory

    @property
    def n_cases_of_interest(self) -> int:
        """Samples where the outcome happens."""
        return int(self.y.sum())

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document (NaN as None is left to the writer)."""
        return {
            "scenario": self.scenario,
            "outcome": self.outcome.label,
            "metric": self.outcome.metric,
            "samples": self.samples,
            "seed": self.seed,
            "base_rate": self.base_rate,
            "n_cases_of_interest": self.n_cases_of_interest,
            "boxes": [
                {
                    "step": found.step,
                    "met_threshold": found.met_threshold,
                    "threshold": found.threshold,
                    "coverage": found.coverage,
                    "density": found.density,
                    "mass": found.mass,
                    "n_cases": found.n_cases,
                    "n_cases_of_interest": found.n_cases_of_interest,
                    "box": found.box.to_dict("records"),
                    "trajectory": found.trajectory.to_dict("records"),
                }
                for found in self.boxes
            ],
        }


def _nothing_message(outcome: Outcome, result: Result, rate: float) -> str:
    """Why there is nothing to discover, with the metric's range to choose a better outcome."""
    values = metric_values(result, outcome.metric)
    finite = values[np.isfinite(values)]
    never = "always" if rate == 1 else "never"
    head = (
        f"outcome: {outcome.label!r} {never} happens in the {len(values):,} samples "
        f"(rate {rate:.0%}): nothing to discover"
    )
    kind = metric_kind(outcome.metric)
    if finite.size == 0:
        return f"{head}; {outcome.metric} is never reached within the horizon"
    if kind == "month":
        first = result.month_label(float(finite.min()))
        last = result.month_label(float(finite.max()))
        share = finite.size / len(values)
        shown = f"{share:.0%}" if share >= 0.01 else f"{share:.2%}"
        spread = (
            f"{outcome.metric} is reached in {finite.size:,} of the {len(values):,} samples "
            f"({shown})"
        )
        spread += f", in {first}" if first == last else f", from {first} to {last}"
        hint = "choose a date in that range" if first != last else "choose a date around it"
    else:
        low, high = (float(v) for v in np.quantile(finite, [0.05, 0.95]))
        spread = (
            f"{outcome.metric} runs from {_plain(low, kind)} to {_plain(high, kind)} (p5 to p95)"
        )
        hint = "choose a value in that range"
    return f"{head}; {spread}: {hint}"


def _plain(value: float, kind: str) -> str:
    """A metric's value in words for an error message: $2.5B, 30%, or 3 significant digits."""
    if kind == "money":
        sign = "-" if value < 0 else ""
        size = abs(value)
        return f"{sign}${size / 1e9:,.3g}B" if size >= 1e8 else f"{sign}${size / 1e6:,.3g}M"
    if kind in ("share", "probability"):
        return f"{value:.0%}"
    return f"{value:.3g}"


def discover(
    scenario: Scenario | str | Path | Mapping[str, Any],
    outcome: str | Outcome,
    *,
    samples: int = 5000,
    seed: int | None = 0,
    threshold: float = 0.8,
    alpha: float = 0.05,
    step: int | None = None,
    boxes: int = 1,
    inputs: Overrides | None = None,
    progress: Progress | None = None,
) -> Discovery:
    """Which ranges of a scenario's uncertain inputs lead to ``outcome``.

    Simulates ``samples`` samples (``inputs`` may set chosen inputs per sample, as in
    :func:`labecon.simulate`), evaluates the outcome in each (a text such as
    ``"insolvent_by:2029-12"``, see :func:`parse_outcome`) and runs PRIM over the uncertain
    inputs (:func:`prim`; ``boxes`` > 1 finds further boxes on the samples the earlier ones
    left). Raises :class:`NothingToDiscoverError` when the outcome happens in every sample or in
    none, and :class:`OptionError` for a bad outcome or a scenario without uncertain inputs.
    """
    loaded = load_scenario(scenario)
    parsed = outcome if isinstance(outcome, Outcome) else parse_outcome(outcome, loaded)
    uncertain = [name for name, _ in loaded.uncertain_inputs()]
    if not uncertain:
        raise OptionError(
            f"scenario {loaded.name!r} has no uncertain inputs: nothing varies, so nothing can "
            "be discovered; accepted: a scenario with some inputs given as distributions "
            '(e.g. first_training_cost: "$1B to $3B")'
        )
    result = simulate(loaded, samples=samples, seed=seed, inputs=inputs, progress=progress)
    flags = parsed.evaluate(result)
    rate = float(flags.mean())
    if not flags.any() or flags.all():
        raise NothingToDiscoverError(_nothing_message(parsed, result, rate))
    x = pd.DataFrame({name: result.input_values[name] for name in uncertain})
    varying = [name for name in uncertain if np.ptp(x[name].to_numpy()) > 0]
    if not varying:
        raise OptionError(
            f"inputs: every uncertain input of {loaded.name!r} is set to one value; accepted: "
            "inputs that vary across samples"
        )
    found = prim_boxes(x[varying], flags, boxes, threshold=threshold, alpha=alpha, step=step)
    kinds = [getattr(input_kind(name), "value", "number") for name in varying]
    for result_box in found:
        result_box.box.insert(1, "kind", kinds)
    return Discovery(
        scenario=loaded.name,
        outcome=parsed,
        samples=samples,
        seed=result.seed,
        base_rate=rate,
        x=x,
        y=flags,
        boxes=tuple(found),
    )


__all__ = [
    "OUTCOME_FORMS",
    "Discovery",
    "NothingToDiscoverError",
    "Outcome",
    "PrimResult",
    "discover",
    "input_kind",
    "parse_outcome",
    "prim",
    "prim_boxes",
]
