"""Dashboard formatting: money, greeks and percentages with units and signs.

Numbers are shown the way a trader reads them: a true minus sign (U+2212),
thousands separators, a fixed number of decimals per kind, and a tone class
("pos", "neg") so gains and losses are coloured the same everywhere. None is
an em dash: unknown is never shown as zero.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import InvalidOperation

from django import template
from django.utils import timezone

from portfolios.strategy_types import StrategyType

register = template.Library()

MINUS = "\u2212"
DASH = "\u2014"


def _number(value) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, InvalidOperation):
        return None
    return number if math.isfinite(number) else None


def _grouped(number: float, places: int) -> str:
    text = f"{abs(number):,.{places}f}"
    # "-0.0" and friends read as zero.
    if float(text.replace(",", "")) == 0:
        return text
    return f"{MINUS}{text}" if number < 0 else text


@register.filter
def usd(value, places=2):
    """$1,234.56 / −$1,234.56; `places` decimals (0 for headline figures)."""
    number = _number(value)
    if number is None:
        return DASH
    text = _grouped(number, int(places))
    return f"{MINUS}${text[1:]}" if text.startswith(MINUS) else f"${text}"


@register.filter
def signed_usd(value, places=2):
    """+$1,234.56 / −$1,234.56: a change or a P/L."""
    number = _number(value)
    if number is None:
        return DASH
    text = usd(value, places)
    return f"+{text}" if number > 0 and float(f"{number:.{int(places)}f}") != 0 else text


@register.filter
def num(value, places=1):
    """1,234.5 / −1,234.5 with `places` decimals."""
    number = _number(value)
    if number is None:
        return DASH
    return _grouped(number, int(places))


@register.filter
def signed_num(value, places=1):
    number = _number(value)
    if number is None:
        return DASH
    text = _grouped(number, int(places))
    return f"+{text}" if number > 0 and float(text.replace(",", "")) != 0 else text


@register.filter
def pct(value, places=2):
    """A fraction as a percentage: 0.0123 → 1.23 %."""
    number = _number(value)
    if number is None:
        return DASH
    return f"{_grouped(number * 100, int(places))} %"


@register.filter
def points(value, places=0):
    """Percentage points as given (a move of −10 → −10 %), signed."""
    number = _number(value)
    if number is None:
        return DASH
    return f"{signed_num(number, places)} %"


@register.filter
def tone(value):
    """CSS class for a signed figure: "pos", "neg" or "" (zero or unknown)."""
    number = _number(value)
    if not number:
        return ""
    return "pos" if number > 0 else "neg"


@register.filter
def strategy_label(value):
    """short_put → "Short put"; unknown codes are shown as given."""
    if not value:
        return "Single leg"
    try:
        return StrategyType(value).label
    except ValueError:
        return str(value).replace("_", " ").capitalize()


@register.filter
def qty(value):
    """A signed quantity without trailing zeros: −2, +100, +2.5."""
    number = _number(value)
    if number is None:
        return DASH
    text = f"{abs(number):,.3f}".rstrip("0").rstrip(".")
    if text == "0":
        return text
    return f"+{text}" if number > 0 else f"{MINUS}{text}"


@register.filter
def strike(value):
    number = _number(value)
    if number is None:
        return ""
    return f"{number:,.2f}".rstrip("0").rstrip(".")


@register.filter
def ago(value):
    """A short relative time: "just now", "4 min ago", "3 h ago", "2 d ago"."""
    if not isinstance(value, dt.datetime):
        return "never"
    seconds = (timezone.now() - value).total_seconds()
    if seconds < 45:
        return "just now"
    if seconds < 3600:
        return f"{round(seconds / 60)} min ago"
    if seconds < 86400:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} d ago"
