"""Quantities in scenario files: money, rates, plain numbers and distributions over them.

Every numeric input of a scenario is either a number or a distribution. Money may be
written as ``"$2.25B"``, ``"800M"`` or ``"15bn"``; rates as ``0.3`` or ``"30%"``. A
distribution is a one-key mapping such as ``{lognormal: {p5: 3, p95: 10}}``, optionally
with ``min``/``max`` truncation, or the shorthand ``"3 to 10"`` (a lognormal with that
90% interval, the convention of squigglepy's ``to``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import special

#: z-score of the 95th percentile of a standard normal (90% central interval).
Z95 = float(special.ndtri(0.95))


class Kind(StrEnum):
    """What a numeric field measures; decides which strings it accepts."""

    MONEY = "money"
    RATE = "rate"
    NUMBER = "number"
    MONTHS = "months"

    @property
    def accepted(self) -> str:
        """Human description of the forms this kind accepts, for error messages."""
        return {
            Kind.MONEY: 'a number of USD or a string like "$2.25B", "800M", "15bn", "$40k"',
            Kind.RATE: 'a fraction like 0.3 or a percentage string like "30%"',
            Kind.NUMBER: "a number",
            Kind.MONTHS: "a number of months",
        }[self]


_MONEY_SUFFIX = {
    "": 1.0,
    "k": 1e3,
    "thousand": 1e3,
    "m": 1e6,
    "mm": 1e6,
    "mn": 1e6,
    "million": 1e6,
    "b": 1e9,
    "bn": 1e9,
    "billion": 1e9,
    "t": 1e12,
    "tn": 1e12,
    "trillion": 1e12,
}
_MONEY_RE = re.compile(
    r"^\s*(?P<sign>-)?\s*(?:usd\s*)?\$?\s*(?P<num>\d[\d,_]*(?:\.\d*)?|\.\d+)(?:e(?P<exp>[+-]?\d+))?"
    r"\s*(?P<suffix>[a-z]*)\s*(?:usd)?\s*$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"^\s*-?(\d[\d,_]*(\.\d*)?|\.\d+)(e[+-]?\d+)?\s*$", re.IGNORECASE)
_RANGE_RE = re.compile(r"^\s*(?P<low>.+?)\s+to\s+(?P<high>.+?)\s*$", re.IGNORECASE)


class QuantityError(ValueError):
    """A value that is not a valid quantity; the message says what is accepted."""


def parse_scalar(value: Any, kind: Kind) -> float:
    """Convert a number or a string of the given kind to a float [USD, fraction, or plain]."""
    if isinstance(value, bool):
        raise QuantityError(f"{value!r} is a boolean; accepted: {kind.accepted}")
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        number = _parse_string(value, kind)
    else:
        raise QuantityError(f"{value!r} is not a number; accepted: {kind.accepted}")
    if not math.isfinite(number):
        raise QuantityError(f"{value!r} is not finite; accepted: {kind.accepted}")
    return number


def _parse_string(text: str, kind: Kind) -> float:
    stripped = text.strip()
    if kind is Kind.RATE and stripped.endswith("%"):
        inner = stripped[:-1]
        if _NUMBER_RE.match(inner):
            return float(inner.replace(",", "").replace("_", "")) / 100.0
        raise QuantityError(f"{text!r} is not a percentage; accepted: {kind.accepted}")
    if kind is Kind.MONEY:
        match = _MONEY_RE.match(stripped)
        if match and match["suffix"].lower() in _MONEY_SUFFIX:
            number = float(match["num"].replace(",", "").replace("_", ""))
            if match["exp"]:
                number *= 10.0 ** int(match["exp"])
            number *= _MONEY_SUFFIX[match["suffix"].lower()]
            return -number if match["sign"] else number
        raise QuantityError(f"{text!r} is not a money amount; accepted: {kind.accepted}")
    if _NUMBER_RE.match(stripped):
        return float(stripped.replace(",", "").replace("_", ""))
    raise QuantityError(f"{text!r} is not {kind.accepted}")


@dataclass(frozen=True)
class Distribution:
    """A univariate distribution, sampled by its inverse CDF so copulas and truncation are exact.

    ``family`` is one of :data:`FAMILIES`; ``params`` are already converted to floats in the
    field's unit; ``low``/``high`` truncate the support (``None``: untruncated).
    """

    family: str
    params: Mapping[str, Any]
    low: float | None = None
    high: float | None = None
    _frozen: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_frozen", _build(self.family, self.params))

    def __reduce__(self) -> tuple[type[Distribution], tuple[Any, ...]]:
        # The quantile and distribution functions are closures, which pickle cannot carry:
        # a pickle holds the definition and rebuilds them, so a Scenario travels to the
        # worker processes of a cluster (labecon.backends).
        return (Distribution, (self.family, self.params, self.low, self.high))

    def ppf(self, u: NDArray[np.float64]) -> NDArray[np.float64]:
        """Quantile function applied to uniforms ``u`` in (0, 1), honouring truncation."""
        frozen = self._frozen
        if self.low is not None or self.high is not None:
            lo = frozen.cdf(self.low) if self.low is not None else 0.0
            hi = frozen.cdf(self.high) if self.high is not None else 1.0
            u = lo + u * (hi - lo)
        out = np.asarray(frozen.ppf(np.asarray(u, dtype=np.float64)), dtype=np.float64)
        if self.low is not None or self.high is not None:
            out = np.clip(
                out,
                self.low if self.low is not None else -np.inf,
                self.high if self.high is not None else np.inf,
            )
        return out

    def quantile(self, q: float) -> float:
        """One quantile of the (truncated) distribution."""
        return float(self.ppf(np.array([q]))[0])

    @property
    def median(self) -> float:
        """The median [field unit]."""
        return self.quantile(0.5)

    def label(self) -> str:
        """Compact text, e.g. ``lognormal(p5=1e+09, p95=3e+09)`` or ``uniform(low=0, high=1)``."""

        def show(value: Any) -> str:
            if isinstance(value, list):
                return "[" + ", ".join(f"{v:g}" for v in value) + "]"
            return f"{value:g}"

        parts = [f"{name}={show(value)}" for name, value in self.params.items()]
        parts += [f"{b}={v:g}" for b, v in (("min", self.low), ("max", self.high)) if v is not None]
        return f"{self.family}({', '.join(parts)})"

    def to_dict(self) -> dict[str, Any]:
        """The canonical scenario-file form of this distribution."""
        out: dict[str, Any] = {self.family: dict(self.params)}
        if self.low is not None:
            out["min"] = self.low
        if self.high is not None:
            out["max"] = self.high
        return out


class _Law:
    """A univariate law given by its quantile and distribution functions (closed forms)."""

    def __init__(
        self,
        ppf: Callable[[NDArray[np.float64]], NDArray[np.float64]],
        cdf: Callable[[float], float],
    ) -> None:
        self.ppf = ppf
        self.cdf = cdf


def _choice(values: Sequence[float], weights: Sequence[float]) -> _Law:
    """A discrete law over ``values`` with the given relative ``weights``."""
    points = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    cum = np.cumsum(w / w.sum())
    cum[-1] = 1.0

    def ppf(u: NDArray[np.float64]) -> NDArray[np.float64]:
        index = np.searchsorted(cum, u, side="right")
        return points[np.minimum(index, len(points) - 1)]

    def cdf(x: float) -> float:
        below = np.flatnonzero(points <= x)
        return float(cum[below[-1]]) if below.size else 0.0

    return _Law(ppf, cdf)


def _normal(mean: float, sd: float) -> _Law:
    return _Law(
        lambda u: mean + sd * special.ndtri(u),
        lambda x: float(special.ndtr((x - mean) / sd)),
    )


def _lognormal(mu: float, sigma: float) -> _Law:
    def cdf(x: float) -> float:
        if x <= 0:
            return 0.0
        if sigma == 0:
            return float(x >= math.exp(mu))
        return float(special.ndtr((math.log(x) - mu) / sigma))

    return _Law(lambda u: np.exp(mu + sigma * special.ndtri(u)), cdf)


def _beta(a: float, b: float, low: float, high: float) -> _Law:
    width = high - low
    return _Law(
        lambda u: low + width * special.betaincinv(a, b, u),
        lambda x: float(special.betainc(a, b, min(max((x - low) / width, 0.0), 1.0))),
    )


def _triangular(low: float, mode: float, high: float) -> _Law:
    width = high - low
    split = (mode - low) / width

    def ppf(u: NDArray[np.float64]) -> NDArray[np.float64]:
        left = low + np.sqrt(u * width * (mode - low))
        right = high - np.sqrt((1 - u) * width * (high - mode))
        return np.where(u < split, left, right)

    def cdf(x: float) -> float:
        if x <= low:
            return 0.0
        if x >= high:
            return 1.0
        if x <= mode:
            return (x - low) ** 2 / (width * (mode - low))
        return 1 - (high - x) ** 2 / (width * (high - mode))

    return _Law(ppf, cdf)


def _lognormal_params(params: Mapping[str, float]) -> tuple[float, float]:
    if "p5" in params:
        p5, p95 = params["p5"], params["p95"]
        return (math.log(p5) + math.log(p95)) / 2, (math.log(p95) - math.log(p5)) / (2 * Z95)
    if "median" in params:
        mu = math.log(params["median"])
        return mu, (math.log(params["p95"]) - mu) / Z95
    return params["mu"], params["sigma"]


def _build(family: str, p: Mapping[str, Any]) -> _Law:
    if family == "lognormal":
        return _lognormal(*_lognormal_params(p))
    if family == "normal":
        if "p5" in p:
            return _normal((p["p5"] + p["p95"]) / 2, (p["p95"] - p["p5"]) / (2 * Z95))
        return _normal(p["mean"], p["sd"])
    if family == "uniform":
        low, high = p["low"], p["high"]
        return _Law(
            lambda u: low + u * (high - low),
            lambda x: min(max((x - low) / (high - low), 0.0), 1.0),
        )
    if family == "triangular":
        return _triangular(p["low"], p["mode"], p["high"])
    if family == "pert":
        # PERT: a beta on [low, high] with shape 1 + lambda (mode - low) / (high - low), ...
        # (Malcolm et al. 1959; lambda = 4 by default).
        low, mode, high = p["low"], p["mode"], p["high"]
        lam = p.get("lambda", 4.0)
        width = high - low
        return _beta(1 + lam * (mode - low) / width, 1 + lam * (high - mode) / width, low, high)
    if family == "beta":
        return _beta(p["a"], p["b"], p.get("low", 0.0), p.get("high", 1.0))
    if family == "choice":
        values = p["values"]
        return _choice(values, p.get("weights") or [1.0] * len(values))
    raise QuantityError(f"unknown distribution {family!r}")  # pragma: no cover - guarded earlier


#: Accepted distribution families and their parameter sets (any one set per family).
FAMILIES: dict[str, list[tuple[str, ...]]] = {
    "lognormal": [("p5", "p95"), ("median", "p95"), ("mu", "sigma")],
    "normal": [("mean", "sd"), ("p5", "p95")],
    "uniform": [("low", "high")],
    "triangular": [("low", "mode", "high")],
    "pert": [("low", "mode", "high"), ("low", "mode", "high", "lambda")],
    "beta": [("a", "b"), ("a", "b", "low", "high")],
    "choice": [("values",), ("values", "weights")],
}
# Parameters that are shape numbers, not values in the field's unit.
_UNITLESS = {"sigma", "lambda", "a", "b", "weights"}


def _describe_families() -> str:
    forms = []
    for family, sets in FAMILIES.items():
        forms.append(f"{family} {{{', '.join(sets[0])}}}")
    return "; ".join(forms)


def parse_quantity(value: Any, kind: Kind) -> float | Distribution:
    """Parse a scenario value of the given kind into a float or a :class:`Distribution`.

    Raises :class:`QuantityError` whose message names the bad value and what is accepted.
    """
    if isinstance(value, Distribution):
        return value
    if isinstance(value, str):
        match = _RANGE_RE.match(value)
        if match:
            low = parse_scalar(match["low"], kind)
            high = parse_scalar(match["high"], kind)
            return _make("lognormal", {"p5": low, "p95": high}, None, None, shorthand=value)
        return parse_scalar(value, kind)
    if isinstance(value, Mapping):
        return _parse_mapping(value, kind)
    return parse_scalar(value, kind)


def _parse_mapping(value: Mapping[str, Any], kind: Kind) -> Distribution:
    keys = set(value)
    families = keys & set(FAMILIES)
    extra = keys - set(FAMILIES) - {"min", "max"}
    if len(families) != 1 or extra:
        raise QuantityError(
            f"{dict(value)!r} is not a distribution; accepted: a one-key mapping, one of "
            f'{_describe_families()}, with optional min/max, or the shorthand "LOW to HIGH"'
        )
    family = families.pop()
    raw = value[family]
    if not isinstance(raw, Mapping):
        raise QuantityError(
            f"{family}: {raw!r} must be a mapping of parameters, one of "
            + " or ".join("{" + ", ".join(s) + "}" for s in FAMILIES[family])
        )
    given = tuple(sorted(raw))
    if not any(given == tuple(sorted(s)) for s in FAMILIES[family]):
        raise QuantityError(
            f"{family} takes parameters "
            + " or ".join("{" + ", ".join(s) + "}" for s in FAMILIES[family])
            + f", not {{{', '.join(raw)}}}"
        )
    params: dict[str, Any] = {}
    for name, item in raw.items():
        if name in ("values", "weights"):
            if not isinstance(item, Sequence) or isinstance(item, str) or not item:
                raise QuantityError(f"{family}.{name} must be a non-empty list")
            unit = Kind.NUMBER if name == "weights" else kind
            params[name] = [parse_scalar(v, unit) for v in item]
        else:
            params[name] = parse_scalar(item, Kind.NUMBER if name in _UNITLESS else kind)
    low = parse_scalar(value["min"], kind) if "min" in value else None
    high = parse_scalar(value["max"], kind) if "max" in value else None
    return _make(family, params, low, high)


def _make(
    family: str,
    p: dict[str, Any],
    low: float | None,
    high: float | None,
    shorthand: str | None = None,
) -> Distribution:
    """Check a distribution's parameters and build it; messages say what is wrong."""
    where = f"{shorthand!r}" if shorthand else family
    if family in ("lognormal", "normal") and "p5" in p and not p["p5"] < p["p95"]:
        raise QuantityError(
            f"{where}: the interval is inverted or empty (p5={p['p5']:g} must be below "
            f"p95={p['p95']:g})"
        )
    if family == "lognormal":
        if "p5" in p and p["p5"] <= 0:
            raise QuantityError(
                f"{where}: a lognormal needs positive bounds, got p5={p['p5']:g}; for an "
                "interval that includes zero or negatives use {normal: {p5, p95}} or uniform"
            )
        if "median" in p and not 0 < p["median"] < p["p95"]:
            raise QuantityError(f"{where}: needs 0 < median < p95")
        if "sigma" in p and p["sigma"] < 0:
            raise QuantityError(f"{where}: sigma must be >= 0")
    if family == "normal" and "sd" in p and p["sd"] <= 0:
        raise QuantityError(f"normal: sd must be positive, got {p['sd']:g}")
    if family == "uniform" and not p["low"] < p["high"]:
        raise QuantityError(
            f"uniform: the interval is inverted or empty (low={p['low']:g}, high={p['high']:g})"
        )
    if (family in ("triangular", "pert") and not (p["low"] <= p["mode"] <= p["high"])) or (
        family in ("triangular", "pert") and not p["low"] < p["high"]
    ):
        raise QuantityError(f"{family}: needs low <= mode <= high and low < high, got {p}")
    if family == "beta":
        if p["a"] <= 0 or p["b"] <= 0:
            raise QuantityError("beta: a and b must be positive")
        if "low" in p and not p["low"] < p["high"]:
            raise QuantityError("beta: the interval is inverted or empty (low must be below high)")
    if family == "choice":
        weights = p.get("weights")
        if weights is not None:
            if len(weights) != len(p["values"]):
                raise QuantityError("choice: weights must have one entry per value")
            if any(w < 0 for w in weights) or sum(weights) <= 0:
                raise QuantityError("choice: weights must be non-negative and not all zero")
    if low is not None and high is not None and not low < high:
        raise QuantityError(f"min ({low:g}) must be below max ({high:g})")
    return Distribution(family, p, low, high)


def per_year_to_per_month(rate_per_year: NDArray[np.float64] | float) -> Any:
    """Convert a compound rate per year to the equivalent per month: (1+r)^(1/12) - 1 [1/month].

    DESIGN §3: annual rates are converted exactly, never divided by 12.
    """
    return np.power(1.0 + np.asarray(rate_per_year, dtype=np.float64), 1.0 / 12.0) - 1.0
