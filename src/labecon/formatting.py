"""Numbers for people: money, shares, rates, multiples and months (CLI and reports)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

#: Money suffixes, largest first: (size, letter).
SCALES = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))


def finite(value: Any) -> bool:
    """True for a real, finite number."""
    return isinstance(value, int | float | np.number) and math.isfinite(float(value))


def format_money(value: Any) -> str:
    """Format USD for humans to three significant figures: $1.23B, -$800M, $12.5k, $4.0T."""
    if not finite(value):
        return "—"
    size = abs(float(value))
    if size < 0.005:
        return "$0"
    rounded = float(f"{size:.3g}")
    scale, suffix = 1.0, ""
    for unit, name in SCALES:
        if rounded >= unit:
            scale, suffix = unit, name
            break
    mantissa = rounded / scale
    decimals = 0 if mantissa >= 100 else 1 if mantissa >= 10 else 2
    text = f"{mantissa:,.{decimals}f}"
    if decimals == 2 and text.endswith("0"):
        text = text[:-1]  # $4.00T -> $4.0T, $1.20B -> $1.2B
    sign = "-" if float(value) < 0 else ""
    return f"{sign}${text}{suffix}"


def format_percent(value: Any) -> str:
    """Format a probability or share: 0%, <1%, 37%, >99%, 100%."""
    if not finite(value):
        return "—"
    share = float(value)
    if 0 < share < 0.01:
        return "<1%"
    if 0.99 < share < 1:
        return ">99%"
    return f"{share:.0%}"


def format_rate(value: Any) -> str:
    """Format a rate such as an IRR per year: 8.5%, 23%, -40%, 1,200%."""
    if not finite(value):
        return "—"
    rate = float(value)
    return f"{rate:.1%}" if abs(rate) < 0.1 else f"{rate:,.0%}"


def format_multiple(value: Any) -> str:
    """Format a ratio such as an ROI multiple: 2.00x."""
    return f"{float(value):.2f}x" if finite(value) else "—"


def format_months(value: Any) -> str:
    """Format a duration in months: 6.0 mo."""
    return f"{float(value):.1f} mo" if finite(value) else "—"


def format_input(value: float, kind: str) -> str:
    """A scenario input's value in its kind ("money", "rate", "months", "number")."""
    if not finite(value):
        return "—"
    if kind == "money":
        return format_money(value)
    if kind == "rate":
        return format_rate(value)
    if kind == "months":
        return format_months(value)
    return f"{value:.3g}"
