"""The NYSE calendar: trading days and early closes, from the ``holidays`` package.

One calendar serves the nightly snapshot (which days are trading days) and
time to expiry (when an expiry day's session ends), so the two never
disagree. ``holidays.financial_holidays("NYSE")`` lists full closures in its
public category and the 13:00 closes (the day after Thanksgiving, Christmas
Eve, July 3 when it is a weekday session) in its half-day category.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays

EXCHANGE = "NYSE"
REGULAR_CLOSE = dt.time(16, 0)
EARLY_CLOSE = dt.time(13, 0)


@cache
def _exchange_holidays() -> holidays.HolidayBase:
    # The calendar expands to each year on first lookup.
    return holidays.financial_holidays(EXCHANGE)


@cache
def _early_closes() -> holidays.HolidayBase:
    return holidays.financial_holidays(EXCHANGE, categories=(holidays.HALF_DAY,))


def exchange_holiday(date: dt.date) -> str | None:
    """Return the NYSE holiday's name on ``date``, or None."""
    return _exchange_holidays().get(date)


def is_trading_day(date: dt.date) -> bool:
    """Return whether the NYSE is open on ``date`` (a weekday and not a holiday)."""
    return date.weekday() < 5 and exchange_holiday(date) is None


def is_early_close(date: dt.date) -> bool:
    """Return whether ``date`` is a trading day whose session ends at 13:00 New York."""
    return is_trading_day(date) and date in _early_closes()


def session_close(date: dt.date) -> dt.time:
    """Return the New York time the regular session ends on ``date`` (16:00 or 13:00)."""
    return EARLY_CLOSE if is_early_close(date) else REGULAR_CLOSE
