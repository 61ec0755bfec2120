"""How the report writes numbers for people: money with its currency sign, per year; percentages;
names of metrics and cost buckets in words. Money in the engine is per period; the report annualises
with `scenario.horizon.periods_per_year` and says "per year" wherever it does. Everything here returns
plain text (a currency code is user text): the page templates escape it, nothing here writes HTML."""

from __future__ import annotations

import math
from typing import Any

SYMBOLS = {"CNY": "¥", "JPY": "¥", "RMB": "¥", "EUR": "€", "USD": "$", "GBP": "£", "INR": "₹", "KRW": "₩",
           "CHF": "CHF ", "AUD": "A$", "CAD": "C$"}

BUCKETS = ["cost_carrying", "cost_ordering", "cost_order_processing", "cost_transport", "cost_warehousing",
           "cost_shortage"]
BUCKET_LABELS = {
    "cost_carrying": "Inventory carrying",
    "cost_ordering": "Ordering (lot quantity)",
    "cost_order_processing": "Order processing",
    "cost_transport": "Transport",
    "cost_warehousing": "Warehousing",
    "cost_shortage": "Lost sales & shortage",
}
METRIC_LABELS = {
    "fill_rate": "fill rate",
    "cycle_service_level": "cycle service level",
    "order_fill_rate": "order fill rate",
    "on_time_rate": "on-time rate",
    "stockout_frequency": "stockout frequency",
    "order_cycle_mean": "order cycle mean",
    "order_cycle_sd": "order cycle sd",
}


def symbol(currency: str) -> str:
    """The sign people read for an ISO currency code (the code itself followed by a space if unknown)."""
    return SYMBOLS.get(str(currency).upper(), f"{currency} ")


def is_number(x: Any) -> bool:
    """True for a finite real number (not None, NaN or infinite)."""
    try:
        return x is not None and not isinstance(x, bool) and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def money(x: Any, currency: str, compact: bool = False, sign: bool = False) -> str:
    """An amount in `currency`: thousands separated, no decimals from 100 up; `compact` writes large
    amounts as 1.23 M / 45.6 k (headlines); `sign` prefixes + for gains. Empty for a missing value."""
    if not is_number(x):
        return "–"
    x = float(x)
    lead = "−" if x < 0 else ("+" if sign and x > 0 else "")
    a = abs(x)
    s = symbol(currency)
    if compact and a >= 1e6:
        body = f"{a / 1e6:.3g} M" if a < 1e9 else f"{a / 1e9:.3g} bn"
    elif compact and a >= 1e4:
        body = f"{a / 1e3:.3g} k"
    elif a >= 100:
        body = f"{a:,.0f}"
    elif a >= 1:
        body = f"{a:,.2f}"
    else:
        body = f"{a:.3g}" if a > 0 else "0"
    return f"{lead}{s}{body}"


def pct(x: Any, digits: int = 1) -> str:
    """A share (0.962) as a percentage ("96.2 %"); a dash when missing."""
    if not is_number(x):
        return "–"
    return f"{100.0 * float(x):.{digits}f} %"


def num(x: Any, digits: int = 2) -> str:
    """A plain number with `digits` significant decimals, thousands separated; a dash when missing."""
    if not is_number(x):
        return "–"
    x = float(x)
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def per_year(x: Any, periods_per_year: float) -> float:
    """Money per period turned into money per year (NaN stays NaN, None becomes NaN)."""
    if not is_number(x):
        return float("nan")
    return float(x) * float(periods_per_year)


def metric_label(metric: str) -> str:
    """A metric's code name in words ("fill_rate" -> "fill rate")."""
    return METRIC_LABELS.get(metric, metric.replace("_", " "))


def period_word(scenario) -> str:
    """The scenario's period in words for time figures (periods are days unless periods_per_year says
    otherwise: 52 -> week, 12 -> month, 365/364/360 -> day)."""
    ppy = float(scenario.horizon.periods_per_year)
    if 300 <= ppy <= 370:
        return "day"
    if 48 <= ppy <= 53:
        return "week"
    if ppy == 12:
        return "month"
    return "period"


def plain(value: Any) -> Any:
    """An enum (or any object with a `.value`, such as a solver status) as its plain value."""
    import enum

    if isinstance(value, enum.Enum):  # before the str test: a str-based enum prints as Class.member
        return value.value
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return getattr(value, "value", value)
