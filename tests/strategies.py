"""Hypothesis strategies: valid scenario dicts that exercise the whole scenario schema.

:func:`scenarios` draws a scenario mapping (what a user would write in a YAML file) section
by section; each section has its own strategy (:func:`generations_section`,
:func:`lifecycle_section`, :func:`revenue_section`, :func:`inference_section`,
:func:`costs_section`, :func:`capital_section`, :func:`analysis_section`), and
:func:`scenarios` accepts a replacement for any of them, so later features add a section
strategy here and pass it in (or extend the default one) without touching the others. The
revenue section draws the bottom-up channels the same way, one sub-strategy each
(:func:`consumer_section` with :func:`tier_section`, :func:`enterprise_section`,
:func:`cloud_partners_section`, :func:`licensing_section`, and :func:`elasticity_section`
inside :func:`api_section`).

Every numeric field is drawn by :func:`quantity`: either a constant (a float, or a string
such as ``"$2.5B"``, ``"800M"``, ``"30%"``) or a distribution in one of the schema's forms
(``"a to b"``, ``{lognormal: {p5, p95}}``, ``uniform``, ``triangular``, ``pert``,
``normal`` with ``min``/``max``, ``beta``, ``choice``). Each field states a realistic range
(most of the probability mass lies inside it) and the field's hard bounds from the schema
(distributions whose support would leave them are truncated with ``min``/``max``).

Magnitudes are those of real labs ($1M-$10B training runs, $0-$50B of cash, 1e5-1e9 Mtok a
month; 1e5-5e7 subscribers at $5-$300 a month, 10-5000 enterprise contracts at $50k-$5M a
year, up to $2B a year of licensing), so that in some examples labs run out of cash
(insolvency and cancelled generations), raise equity under the runway policy, or are
covered by the unlimited policy.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

#: Settings for properties that simulate a drawn scenario: few examples, small runs.
PROPERTY = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

#: Sentinel for "leave the field out, use the schema's default".
OMIT = object()

Draw = Callable[[st.SearchStrategy[Any]], Any]


# -- written forms of numbers ------------------------------------------------------------------


def money_text(value: float, style: int) -> str | float:
    """``value`` [USD] written as a number or one of the accepted money strings."""
    if style == 0 or value == 0:
        return value
    sign = "-" if value < 0 else ""
    size = abs(value)
    if size >= 1e9:
        number, suffix = size / 1e9, ("B" if style == 1 else "bn")
    elif size >= 1e6:
        number, suffix = size / 1e6, "M"
    elif size >= 1e3:
        number, suffix = size / 1e3, "k"
    else:
        number, suffix = size, ""
    dollar = "$" if style == 1 else ""
    return f"{sign}{dollar}{number:.4g}{suffix}"


def rate_text(value: float, style: int) -> str | float:
    """``value`` [fraction] written as a number or a percentage string like ``"30%"``."""
    if style == 0:
        return value
    return f"{value * 100:.4g}%"


def written(value: float, kind: str, style: int) -> Any:
    """A number in the form a scenario file might hold it (string forms for money and rates).

    ``style`` 0 is the plain number; 1 and 2 are string forms. String forms keep four
    significant digits, a monotone rounding, so the parameters of one distribution, all
    written in the same style, keep their order (low <= mode <= high).
    """
    if kind == "money":
        return money_text(value, style)
    if kind == "rate":
        return rate_text(value, style)
    return value


# -- quantities ---------------------------------------------------------------------------------


STEPS = 10_000  # values lie on a grid of this many steps over a range


def real(low: float, high: float, log: bool = False) -> st.SearchStrategy[float]:
    """A value in [low, high] on a fine grid (linear, or geometric when ``log``).

    A grid rather than arbitrary floats: hypothesis's floats include 1e-300 and subnormals,
    which are valid but no lab's numbers; the grid keeps magnitudes realistic while still
    reaching both ends of the range.
    """
    if log:
        lo, hi = math.log(low), math.log(high)
        return st.integers(0, STEPS).map(
            lambda k: min(max(math.exp(lo + (hi - lo) * k / STEPS), low), high)
        )
    return st.integers(0, STEPS).map(lambda k: min(max(low + (high - low) * k / STEPS, low), high))


def _interval(draw: Draw, low: float, high: float, log: bool) -> tuple[float, float]:
    """A sub-interval [a, b] of [low, high] at least a tenth of its width (in log if ``log``)."""
    lo, hi = (math.log(low), math.log(high)) if log else (low, high)
    width = hi - lo
    a = draw(real(lo, lo + 0.8 * width))
    b = draw(real(a + 0.1 * width, hi))
    return (math.exp(a), math.exp(b)) if log else (a, b)


FAMILY_NAMES = (
    "constant",
    "shorthand",
    "lognormal",
    "uniform",
    "triangular",
    "pert",
    "normal",
    "beta",
    "choice",
)


@st.composite
def quantity(
    draw: Draw,
    low: float,
    high: float,
    *,
    kind: str = "number",
    log: bool = False,
    ceiling: float | None = None,
    floor: float | None = None,
    uncertain: bool = True,
) -> Any:
    """A constant or a distribution for a field whose realistic range is [low, high].

    ``low``/``high`` lie within the field's hard bounds; ``ceiling`` is the field's upper
    hard bound (``le``), if any, so unbounded families get a ``max`` there. Hard lower
    bounds are ``>= 0`` or ``> -1`` in the schema, or ``floor`` when it is above 0 (e.g. a
    multiplier ``>= 1``); families whose support reaches below ``low`` (normal) are
    truncated at ``low``, lognormals need ``low >= 0`` and no ``floor``.
    """
    families = list(FAMILY_NAMES) if uncertain else ["constant"]
    if low < 0 or floor is not None:  # lognormals have support (0, inf): below such bounds
        families = [f for f in families if f not in ("shorthand", "lognormal")]
    if ceiling is not None:
        families = [f for f in families if f != "shorthand"]  # cannot be truncated
    family = draw(st.sampled_from(families))
    style = draw(st.integers(0, 2))

    def w(x: float) -> Any:
        return written(x, kind, style)

    if family == "constant":
        return w(draw(real(low, high, log)))
    positive = family in ("shorthand", "lognormal")
    a, b = _interval(draw, max(low, 1e-3 * high) if positive else low, high, log)

    if family == "shorthand":
        text_a, text_b = w(a), w(b)
        return f"{text_a} to {text_b}"
    if family == "lognormal":
        out: dict[str, Any] = {"lognormal": {"p5": w(a), "p95": w(b)}}
        if ceiling is not None:
            out["max"] = ceiling
        return out
    if family == "uniform":
        return {"uniform": {"low": w(a), "high": w(b)}}
    if family in ("triangular", "pert"):
        mode = draw(real(a, b))
        params = {"low": w(a), "mode": w(mode), "high": w(b)}
        if family == "pert" and draw(st.booleans()):
            params["lambda"] = draw(real(1.0, 8.0))
        return {family: params}
    if family == "normal":
        mean = (a + b) / 2
        sd = draw(real(0.1, 1.0)) * (b - a)
        if draw(st.booleans()):
            params = {"mean": w(mean), "sd": sd}
        else:
            params = {"p5": w(mean - 0.8 * sd), "p95": w(mean + 0.8 * sd)}
        return {"normal": params, "min": w(a), "max": w(b)}
    if family == "beta":
        shape_a = draw(real(0.5, 5.0))
        shape_b = draw(real(0.5, 5.0))
        return {"beta": {"a": shape_a, "b": shape_b, "low": w(a), "high": w(b)}}
    # choice
    values = draw(st.lists(real(a, b), min_size=1, max_size=4))
    out = {"choice": {"values": [w(v) for v in values]}}
    if draw(st.booleans()):
        out["choice"]["weights"] = draw(
            st.lists(real(0.1, 5.0), min_size=len(values), max_size=len(values))
        )
    return out


def money(low: float, high: float, **kw: Any) -> st.SearchStrategy[Any]:
    """A money field [USD], drawn on a log scale when ``low > 0``."""
    return quantity(low, high, kind="money", log=low > 0, **kw)


def rate(low: float, high: float, **kw: Any) -> st.SearchStrategy[Any]:
    """A rate field [fraction or 1/year]."""
    return quantity(low, high, kind="rate", **kw)


def number(low: float, high: float, **kw: Any) -> st.SearchStrategy[Any]:
    """A plain-number field."""
    return quantity(low, high, kind="number", **kw)


def months(low: float, high: float, **kw: Any) -> st.SearchStrategy[Any]:
    """A months field."""
    return quantity(low, high, kind="months", **kw)


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """The field's value, or :data:`OMIT` (the schema's default)."""
    return st.one_of(st.just(OMIT), strategy)


def section(draw: Draw, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """Draw each field (any may be omitted, leaving the default) into a section mapping."""
    out = {}
    for name, strategy in fields.items():
        value = draw(optional(strategy))
        if value is not OMIT:
            out[name] = value
    return out


# -- sections ------------------------------------------------------------------------------------


@st.composite
def generations_section(draw: Draw) -> dict[str, Any]:
    """Schedule and cost of generations: plateau, overhang, overhead, negative start."""
    fixed_count = draw(st.booleans())
    out = section(
        draw,
        {
            "first_training_start_month": st.integers(-24, 6),
            "training_months": months(1, 15),
            "first_training_cost": money(1e6, 1e10),
            "cost_multiplier": number(0.7, 5.0, log=True),
            "max_training_cost": money(1e7, 1e11),
            "experiment_overhead": rate(0.0, 3.0),
            "capability_gain": number(0.8, 3.0, log=True),
            "capability_stall_after": number(0.0, 6.0),
        },
    )
    if fixed_count:
        out["count"] = draw(st.integers(1, 8))
        out["cadence_months"] = draw(months(2, 24))  # may be uncertain when count is given
    else:
        cadence = draw(optional(months(3, 24, uncertain=False)))
        if cadence is not OMIT:
            out["cadence_months"] = cadence
    return out


@st.composite
def lifecycle_section(draw: Draw) -> dict[str, Any]:
    """Lifetime, ramp and legacy retention (cannibalisation)."""
    return section(
        draw,
        {
            "lifetime_months": months(1, 36),
            "ramp_months": months(0, 6),
            "legacy_retention": rate(0.05, 1.0, ceiling=1.0),
        },
    )


@st.composite
def top_down_section(draw: Draw) -> dict[str, Any]:
    """Top-down revenue: a multiple of training cost, with an inference share."""
    return section(
        draw,
        {
            "revenue_multiple": number(0.0, 5.0),
            "inference_cost_share": rate(0.0, 0.8),
        },
    )


@st.composite
def api_section(draw: Draw) -> dict[str, Any]:
    """Bottom-up API revenue: demand (growth, ceiling), share, prices, open-weight pressure."""
    return section(
        draw,
        {
            "demand_mtok_per_month": number(1e5, 1e9, log=True),
            "demand_growth_per_year": rate(-0.5, 3.0),
            "demand_ceiling_mtok_per_month": number(1e6, 1e10, log=True),
            "demand_capability_exponent": number(-0.5, 1.5),
            "lab_share": rate(0.05, 1.0, ceiling=1.0),
            "release_price_per_mtok": money(0.5, 30.0),
            "price_capability_exponent": number(-0.5, 1.0),
            "price_decline_per_year": rate(0.0, 0.9, ceiling=1.0),
            "open_source_lag_months": months(0, 24),
            "open_source_price_cut": rate(0.0, 1.0, ceiling=1.0),
            "open_source_share_loss": rate(0.0, 1.0, ceiling=1.0),
            "elasticity": elasticity_section(),
        },
    )


@st.composite
def elasticity_section(draw: Draw) -> dict[str, Any]:
    """Price elasticity of API demand: off (0) to Jevons (> 1), with or without a reference."""
    return section(
        draw,
        {
            "price_elasticity": number(0.0, 1.5),
            "reference_price_per_mtok": money(0.5, 30.0),
        },
    )


TIER_NAMES = ("free", "plus", "pro", "team", "max")


@st.composite
def tier_section(draw: Draw, name: str) -> dict[str, Any]:
    """One consumer tier named ``name``: price (required), subscribers, adds, churn, usage."""
    out = {"name": name, "price_per_month": draw(money(5.0, 300.0))}
    out.update(
        section(
            draw,
            {
                "subscribers": number(1e5, 5e7, log=True),
                "new_subscribers_per_month": number(0.0, 2e6),
                "new_subscriber_growth_per_year": rate(-0.5, 2.0),
                "churn_per_month": rate(0.0, 0.15, ceiling=1.0),
                "tokens_per_subscriber_per_month": number(0.1, 50.0, log=True),
                "token_growth_per_year": rate(-0.3, 2.0),
            },
        )
    )
    return out


@st.composite
def consumer_section(draw: Draw) -> dict[str, Any]:
    """Consumer subscriptions: one to three tiers with distinct names."""
    names = draw(st.lists(st.sampled_from(TIER_NAMES), min_size=1, max_size=3, unique=True))
    return {"tiers": [draw(tier_section(name)) for name in names]}


@st.composite
def enterprise_section(draw: Draw) -> dict[str, Any]:
    """Enterprise contracts: stock, pipeline and sales cycle, churn (open-weight), ACV, usage."""
    return section(
        draw,
        {
            "contracts": number(10.0, 5000.0, log=True),
            "new_contracts_per_month": number(0.0, 200.0),
            "new_contract_growth_per_year": rate(-0.3, 2.0),
            "sales_cycle_months": months(0, 12),
            "churn_per_month": rate(0.0, 0.1, ceiling=1.0),
            "open_source_churn_multiplier": number(1.0, 5.0, floor=1.0),
            "contract_value_per_year": money(5e4, 5e6),
            "contract_value_growth_per_year": rate(-0.2, 0.5),
            "tokens_per_contract_per_month": number(10.0, 1e5, log=True),
            "token_growth_per_year": rate(-0.3, 2.0),
        },
    )


@st.composite
def cloud_partners_section(draw: Draw) -> dict[str, Any]:
    """API sold through clouds: the share sold, the clouds' take, the share they serve."""
    return section(
        draw,
        {
            "share_of_api": rate(0.0, 0.8, ceiling=1.0),
            "take": rate(0.0, 0.8, ceiling=1.0),
            "served_on_cloud_compute": rate(0.0, 1.0, ceiling=1.0),
        },
    )


@st.composite
def licensing_section(draw: Draw) -> dict[str, Any]:
    """Licensing fees per year."""
    return section(draw, {"fees_per_year": money(0.0, 2e9)})


#: The optional channel sections of ``revenue`` and their strategies.
CHANNELS: dict[str, Callable[[], st.SearchStrategy[dict[str, Any]]]] = {
    "consumer": consumer_section,
    "enterprise": enterprise_section,
    "cloud_partners": cloud_partners_section,
    "licensing": licensing_section,
}


@st.composite
def revenue_section(draw: Draw) -> dict[str, Any]:
    """Either revenue mode; the unused mode's section is sometimes present too.

    Each channel section is present or not, independently (in top-down mode too, where the
    engine ignores them).
    """
    mode = draw(st.sampled_from(["top_down", "bottom_up"]))
    out: dict[str, Any] = {"mode": mode}
    if mode == "top_down" or draw(st.booleans()):
        out["top_down"] = draw(top_down_section())
    if mode == "bottom_up" or draw(st.booleans()):
        out["api"] = draw(api_section())
    for name, strategy in CHANNELS.items():
        if draw(st.booleans()):
            out[name] = draw(strategy())
    return out


@st.composite
def inference_section(draw: Draw) -> dict[str, Any]:
    """Serving cost from compute: price per GW-year, throughput, size and efficiency."""
    return section(
        draw,
        {
            "cost_per_gw_year": money(1e9, 2e10),
            "reference_mtok_per_gw_month": number(1e7, 1e9, log=True),
            "reference_training_cost": money(1e8, 1e10),
            "efficiency_gain_per_year": rate(-0.3, 1.0),
            "size_exponent": number(0.0, 1.0),
        },
    )


@st.composite
def compute_section(draw: Draw) -> dict[str, Any]:
    """Compute capacity: pay-as-used, rented above owned GW, or a hard cap on serving."""
    out = section(
        draw,
        {
            "owned_gw": number(0.0, 3.0),
            "owned_gw_growth_per_year": rate(-0.2, 1.0),
            "owned_gw_max": optional(number(0.1, 5.0)),
            "rent_premium": rate(0.0, 0.8),
        },
    )
    out["capacity"] = draw(st.sampled_from(["unconstrained", "rent", "hard"]))
    return out


@st.composite
def costs_section(draw: Draw) -> dict[str, Any]:
    """Talent, SG&A and other infrastructure."""
    return section(
        draw,
        {
            "talent": st.builds(
                dict,
                headcount=number(0, 5000),
                headcount_growth_per_year=rate(-0.3, 1.0),
                loaded_cost_per_head=money(1e5, 1e6),
                cost_growth_per_year=rate(-0.1, 0.3),
            ),
            "sga": st.builds(
                dict,
                fixed_per_year=money(1e6, 2e9),
                share_of_revenue=rate(0.0, 0.3, ceiling=1.0),
            ),
            "other_infrastructure_per_year": money(1e6, 2e9),
        },
    )


@st.composite
def funding_section(draw: Draw) -> dict[str, Any]:
    """All three funding policies, with round-size and dilution caps."""
    out = section(
        draw,
        {
            "runway_trigger_months": months(0, 24),
            "raise_months": months(1, 36),
            "valuation_multiple": number(1, 50, log=True),
            "min_pre_money": money(0, 1e11),
            "max_dilution_per_round": rate(0.05, 1.0, ceiling=1.0),
            "max_raise": money(1e8, 1e11),
            "burn_window_months": st.integers(1, 12),
            "raise_success_probability": rate(0.0, 1.0, ceiling=1.0),
        },
    )
    policy = draw(st.sampled_from(["none", "runway", "unlimited", OMIT]))  # OMIT: runway
    if policy is not OMIT:
        out["policy"] = policy
    return out


@st.composite
def strategies_section(draw: Draw) -> dict[str, Any]:
    """The essays' strategies, each present or not (from_generation 0 always exists)."""
    options = {
        "reuse": st.fixed_dictionaries({"saving": rate(0.0, 0.8, ceiling=1.0)}),
        "routing": st.fixed_dictionaries(
            {
                "share": rate(0.0, 0.9, ceiling=1.0),
                "size_factor": rate(0.0, 1.0, ceiling=1.0),
                "price_discount": rate(0.0, 0.5, ceiling=1.0),
            }
        ),
        "internal": st.fixed_dictionaries(
            {
                "gw": number(0.0, 0.5),
                "start_month": months(0, 24),
                "edge_per_year": money(0, 5e10),
                "firms_at_start": number(1, 5, floor=1.0),
                "new_firms_per_year": number(0, 4),
            }
        ),
        "training_finance": st.fixed_dictionaries(
            {
                "from_generation": st.just(0),
                "share_of_training": rate(0.0, 0.8, ceiling=1.0),
                "revenue_share": rate(0.0, 0.6, ceiling=1.0),
                "cap_multiple": number(1.0, 4.0, floor=1.0),
            }
        ),
        "compute_credits": st.fixed_dictionaries(
            {"from_generation": st.just(0), "share_of_training": rate(0.0, 0.5, ceiling=1.0)}
        ),
        "open_source_eol": st.fixed_dictionaries(
            {"after_months": months(1, 36), "financier_cap_multiple": number(1.0, 3.0, floor=1.0)}
        ),
    }
    out = {}
    for name, strategy in options.items():
        if draw(st.booleans()):
            out[name] = draw(strategy)
    return out


@st.composite
def capital_section(draw: Draw) -> dict[str, Any]:
    """Starting cash (occasionally negative: a lab that starts in debt) and funding."""
    out: dict[str, Any] = {}
    cash = draw(optional(st.one_of(money(1e6, 5e10), st.sampled_from([0.0, -5e8, "-$1B"]))))
    if cash is not OMIT:
        out["starting_cash"] = cash
    out["funding"] = draw(funding_section())
    loans = st.fixed_dictionaries(
        {
            "month": months(0, 24),
            "amount": money(0, 2e10),
            "rate_per_year": rate(0.0, 0.2),
            "term_months": months(1, 60),
        }
    )
    out["debt"] = draw(st.lists(loans, max_size=2))
    if draw(st.booleans()):
        out["ipo"] = draw(
            st.fixed_dictionaries(
                {
                    "month": months(0, 48),
                    "amount": money(0, 5e10),
                    "valuation_multiple": number(1, 50, log=True),
                }
            )
        )
    return out


@st.composite
def analysis_section(draw: Draw) -> dict[str, Any]:
    """Discount rate and the working-capital recovery window."""
    return section(
        draw,
        {"discount_rate_per_year": rate(-0.2, 0.5), "recovery_months": months(1, 24)},
    )


# -- correlations -------------------------------------------------------------------------------


def is_distribution(value: Any) -> bool:
    """Whether a written value is a distribution (mapping, or the ``"a to b"`` shorthand)."""
    return isinstance(value, dict) or (isinstance(value, str) and " to " in value)


def uncertain_paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the distributions in a scenario mapping (list items by index)."""
    out = []
    for key, value in data.items():
        if key == "correlations":
            continue
        path = f"{prefix}{key}"
        if isinstance(value, dict) and not is_distribution_mapping(value):
            out.extend(uncertain_paths(value, path + "."))
        elif isinstance(value, list):  # a list of sections: items are named by index
            for index, entry in enumerate(value):
                if isinstance(entry, dict) and not is_distribution_mapping(entry):
                    out.extend(uncertain_paths(entry, f"{path}.{index}."))
        elif is_distribution(value):
            out.append(path)
    return out


def is_distribution_mapping(value: dict[str, Any]) -> bool:
    """Whether a mapping is a distribution rather than a section."""
    return bool(set(value) & set(FAMILY_NAMES[2:]))


@st.composite
def correlations_for(draw: Draw, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Up to two rank correlations over disjoint pairs of the scenario's uncertain inputs."""
    names = uncertain_paths(data)
    if len(names) < 2:
        return []
    pairs = draw(st.integers(0, min(2, len(names) // 2)))
    chosen = draw(st.permutations(names))[: 2 * pairs]
    return [
        {"between": [chosen[2 * i], chosen[2 * i + 1]], "rank": draw(real(-0.9, 0.9))}
        for i in range(pairs)
    ]


# -- whole scenarios -----------------------------------------------------------------------------


@st.composite
def scenarios(
    draw: Draw,
    *,
    horizon: st.SearchStrategy[int] | None = None,
    generations: st.SearchStrategy[dict[str, Any]] | None = None,
    lifecycle: st.SearchStrategy[dict[str, Any]] | None = None,
    revenue: st.SearchStrategy[dict[str, Any]] | None = None,
    inference: st.SearchStrategy[dict[str, Any]] | None = None,
    compute: st.SearchStrategy[dict[str, Any]] | None = None,
    costs: st.SearchStrategy[dict[str, Any]] | None = None,
    capital: st.SearchStrategy[dict[str, Any]] | None = None,
    analysis: st.SearchStrategy[dict[str, Any]] | None = None,
    strategies: st.SearchStrategy[dict[str, Any]] | None = None,
    correlate: bool = True,
) -> dict[str, Any]:
    """A valid scenario mapping; pass a strategy to replace the default for a section."""

    def pick(given: st.SearchStrategy[Any] | None, default: st.SearchStrategy[Any]) -> Any:
        return draw(default if given is None else given)

    year = draw(st.integers(2020, 2035))
    month = draw(st.integers(1, 12))
    data: dict[str, Any] = {
        "name": "drawn",
        "start": f"{year}-{month:02d}",
        "horizon_months": pick(horizon, st.integers(12, 60)),
        "generations": pick(generations, generations_section()),
        "lifecycle": pick(lifecycle, lifecycle_section()),
        "revenue": pick(revenue, revenue_section()),
        "inference": pick(inference, inference_section()),
        "compute": pick(compute, compute_section()),
        "costs": pick(costs, costs_section()),
        "capital": pick(capital, capital_section()),
        "analysis": pick(analysis, analysis_section()),
        "strategies": pick(strategies, strategies_section()),
    }
    if correlate:
        data["correlations"] = draw(correlations_for(data))
    return data


@st.composite
def amortised_scenarios(draw: Draw) -> dict[str, Any]:
    """Scenarios whose every generation is trained from month >= 0 and fully amortised.

    Fixed count, cadence, training and life, and a horizon past the last retirement, so over
    the horizon each generation's development spend is both spent and amortised in full.
    """
    count = draw(st.integers(1, 4))
    cadence = draw(st.integers(1, 12))
    training = draw(st.integers(1, 12))
    life = draw(st.integers(1, 12))
    start = draw(st.integers(0, 6))
    last_retirement = start + (count - 1) * cadence + training + life
    gens = draw(generations_section())
    gens.update(
        count=count,
        cadence_months=cadence,
        training_months=training,
        first_training_start_month=start,
    )
    cycle = draw(lifecycle_section())
    cycle["lifetime_months"] = life
    horizon = st.integers(last_retirement, last_retirement + 6)
    return draw(scenarios(horizon=horizon, generations=st.just(gens), lifecycle=st.just(cycle)))
