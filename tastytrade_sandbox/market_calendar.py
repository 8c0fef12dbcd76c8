"""Exchange dates: New York trading days, monthly and weekly option expirations."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

NEW_YORK = ZoneInfo("America/New_York")
FRIDAY = 4
QUARTERLY_MONTHS = (3, 6, 9, 12)
_NYSE_HOLIDAYS = holidays.NYSE()
# Pure functions of their dates, asked thousands of times per second under a
# sync wave (every listed expiry of every symbol): cached.
_cached = lru_cache(maxsize=8192)


def new_york_today(now: datetime) -> date:
    return now.astimezone(NEW_YORK).date()


@_cached
def is_trading_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _NYSE_HOLIDAYS


@_cached
def trading_day_on_or_before(day: date) -> date:
    while not is_trading_day(day):
        day -= timedelta(days=1)
    return day


def trading_days_back(day: date, count: int) -> date:
    """Return the trading day ``count`` sessions before ``day``'s session."""
    day = trading_day_on_or_before(day)
    for _ in range(count):
        day = trading_day_on_or_before(day - timedelta(days=1))
    return day


@_cached
def third_friday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(FRIDAY - first.weekday()) % 7 + 14)


def expiration_on(friday: date) -> date:
    """A Friday expiry moves to Thursday when Friday is a holiday (Good Friday)."""
    return trading_day_on_or_before(friday)


@_cached
def monthly_expiration(after: date, min_days: int) -> date:
    """Return the first monthly (third-Friday) expiry at least ``min_days`` away."""
    year, month = after.year, after.month
    while True:
        expiry = expiration_on(third_friday(year, month))
        if (expiry - after).days >= min_days:
            return expiry
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@_cached
def weekly_expiration(after: date, min_days: int) -> date:
    """Return the first Friday expiry at least ``min_days`` away."""
    day = after + timedelta(days=min_days)
    friday = day + timedelta(days=(FRIDAY - day.weekday()) % 7)
    expiry = expiration_on(friday)
    return expiry if (expiry - after).days >= min_days else weekly_expiration(after, min_days + 7)


def last_weekly_before(day: date) -> date:
    """Return the most recent Friday expiry strictly before ``day``."""
    friday = day - timedelta(days=(day.weekday() - FRIDAY) % 7 or 7)
    return expiration_on(friday)


@_cached
def is_monthly(expiry: date) -> bool:
    return expiry == expiration_on(third_friday(expiry.year, expiry.month))


def front_quarterly(after: date) -> tuple[int, int, date]:
    """Return (year, month, expiry) of the first quarterly future expiring after."""
    year, month = after.year, after.month
    while True:
        if month in QUARTERLY_MONTHS:
            expiry = expiration_on(third_friday(year, month))
            if expiry > after:
                return year, month, expiry
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


@_cached
def session_close(day: date) -> datetime:
    """Return 16:00 New York on ``day`` as aware UTC: when options expire."""
    return datetime.combine(day, time(16, 0), tzinfo=NEW_YORK).astimezone(UTC)


def at_new_york(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=NEW_YORK).astimezone(UTC)
