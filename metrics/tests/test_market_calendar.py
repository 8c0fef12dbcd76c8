"""One NYSE calendar for the snapshot's trading days and the expiries' close."""

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from metrics import market_calendar, snapshot
from metrics.greeks import SECONDS_PER_YEAR, year_fraction

NY = ZoneInfo("America/New_York")


def test_at_noon_the_day_after_thanksgiving_one_hour_remains():
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=NY)
    years = year_fraction(np.array(["2026-11-27"], dtype="datetime64[D]"), "PM", now)
    assert years[0] * SECONDS_PER_YEAR == pytest.approx(3600.0, abs=1e-6)


def test_a_regular_day_closes_at_four_and_am_settlement_at_half_past_nine():
    now = dt.datetime(2026, 11, 25, 12, 0, tzinfo=NY)
    days = np.array(["2026-11-25", "2026-11-25", "2026-11-27"], dtype="datetime64[D]")
    years = year_fraction(days, np.array(["PM", "AM", "AM"]), now)
    hours = years * SECONDS_PER_YEAR / 3600.0
    assert hours.tolist() == pytest.approx([4.0, -2.5, 45.5])


@pytest.mark.parametrize(
    ("day", "close"),
    [
        (dt.date(2026, 11, 27), dt.time(13, 0)),  # day after Thanksgiving
        (dt.date(2026, 12, 24), dt.time(13, 0)),  # Christmas Eve
        (dt.date(2025, 7, 3), dt.time(13, 0)),  # July 3, a Thursday
        (dt.date(2026, 7, 2), dt.time(16, 0)),  # July 3 2026 is the holiday itself
        (dt.date(2026, 11, 30), dt.time(16, 0)),
    ],
)
def test_session_close_on_early_close_days(day, close):
    assert market_calendar.session_close(day) == close


def test_snapshot_and_expiry_calendars_agree_over_three_years():
    # given: every day of 2025-2027
    start = dt.date(2025, 1, 1)
    days = [start + dt.timedelta(days=i) for i in range(3 * 365 + 1)]
    # then: the snapshot's trading days are the calendar's, and every early
    # close (a 13:00 expiry) falls on one of them
    assert [snapshot.is_trading_day(d) for d in days] == [
        market_calendar.is_trading_day(d) for d in days
    ]
    early = [d for d in days if market_calendar.is_early_close(d)]
    assert early and all(snapshot.is_trading_day(d) for d in early)
    assert len(early) >= 6  # at least two a year
    noon = {d: dt.datetime.combine(d, dt.time(12, 0), tzinfo=NY) for d in early}
    for day, now in noon.items():
        years = year_fraction(np.array([day], dtype="datetime64[D]"), "PM", now)[0]
        assert years * SECONDS_PER_YEAR == pytest.approx(3600.0, abs=1e-6), day
