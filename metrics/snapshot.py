"""Nightly snapshot: one row per portfolio per New York trading day in historical_metrics.

One set-based statement aggregates every portfolio's stored per-position
greeks (DESIGN.md §5 units: delta in share-equivalents, theta $ per calendar
day, vega $ per vol point; beta-weighted delta in SPY share-equivalents) and
upserts them, under ``rls.as_service()``: no Python loop per portfolio.

The aggregate follows ``metrics.exposure`` so a night's row equals the
real-time figures at that moment: a leg counts when all four greeks are
stored; beta 1.0 is assumed for SPY, ES and MES without one; a stock's or
future's price is its mark, else its underlying price; the SPY price is the
portfolio's, else a SPY leg's underlying price.
"""

from __future__ import annotations

import datetime as dt
from functools import cache

import holidays
from django.db import connection
from django.utils import timezone

from metrics.exposure import _BETA_ONE_SYMBOL
from metrics.selectors import new_york_today
from thetavue_site import rls

EXCHANGE = "NYSE"

# Today's row takes the latest figures on a rerun; an earlier date only
# fills a gap, so a backfill never overwrites a night recorded at the time
# with figures from later.
_UPSERT = """
INSERT INTO historical_metrics (
    portfolio_id, date, net_liquidation_value, total_delta, total_gamma, total_theta,
    total_vega, beta_weighted_delta, legs_unpriced, created_at
)
SELECT
    p.id,
    %(date)s,
    p.net_liquidation_value,
    COALESCE(SUM(leg.delta) FILTER (WHERE leg.priced), 0),
    COALESCE(SUM(leg.gamma) FILTER (WHERE leg.priced), 0),
    COALESCE(SUM(leg.theta) FILTER (WHERE leg.priced), 0),
    COALESCE(SUM(leg.vega) FILTER (WHERE leg.priced), 0),
    CASE WHEN spy.price > 0 THEN
        COALESCE(
            SUM(leg.delta * leg.beta * leg.price / spy.price) FILTER (
                WHERE leg.priced AND leg.beta IS NOT NULL AND leg.price IS NOT NULL
            ),
            0
        )
    END,
    COUNT(leg.id) FILTER (WHERE NOT leg.priced),
    %(created_at)s
FROM portfolios p
LEFT JOIN LATERAL (
    SELECT
        pos.id,
        pos.delta,
        pos.gamma,
        pos.theta,
        pos.vega,
        (pos.delta IS NOT NULL AND pos.gamma IS NOT NULL
            AND pos.theta IS NOT NULL AND pos.vega IS NOT NULL
            -- an option past expiry, still listed, carries no risk (metrics.selectors)
            AND NOT (pos.instrument_type IN ('Equity Option', 'Future Option')
                     AND pos.expiration_date < %(date)s)) AS priced,
        COALESCE(
            pos.beta,
            CASE WHEN pos.underlying_symbol ~ %(beta_one)s THEN 1.0 END
        ) AS beta,
        CASE WHEN pos.instrument_type IN ('Equity', 'Future')
            THEN COALESCE(pos.mark, pos.underlying_price)
            ELSE pos.underlying_price
        END::double precision AS price
    FROM positions pos
    WHERE pos.portfolio_id = p.id
) leg ON true
LEFT JOIN LATERAL (
    SELECT COALESCE(
        p.spy_price,
        (SELECT MAX(spy_leg.underlying_price) FROM positions spy_leg
            WHERE spy_leg.portfolio_id = p.id AND spy_leg.underlying_symbol = 'SPY')
    )::double precision AS price
) spy ON true
WHERE %(all)s OR p.id = ANY(%(ids)s)
GROUP BY p.id, p.net_liquidation_value, spy.price
ON CONFLICT (portfolio_id, date) DO UPDATE SET
    net_liquidation_value = EXCLUDED.net_liquidation_value,
    total_delta = EXCLUDED.total_delta,
    total_gamma = EXCLUDED.total_gamma,
    total_theta = EXCLUDED.total_theta,
    total_vega = EXCLUDED.total_vega,
    beta_weighted_delta = EXCLUDED.beta_weighted_delta,
    legs_unpriced = EXCLUDED.legs_unpriced,
    backfilled = false
WHERE %(overwrite)s
"""


@cache
def _exchange_holidays() -> holidays.HolidayBase:
    # The calendar expands to each year on first lookup.
    return holidays.financial_holidays(EXCHANGE)


def exchange_holiday(date: dt.date) -> str | None:
    """Return the NYSE holiday's name on ``date``, or None."""
    return _exchange_holidays().get(date)


def is_trading_day(date: dt.date) -> bool:
    """Return whether the NYSE is open on ``date`` (a weekday and not a holiday)."""
    return date.weekday() < 5 and exchange_holiday(date) is None


def snapshot_all(
    *, date: dt.date | None = None, force: bool = False, portfolio_ids: list[int] | None = None
) -> int:
    """Upsert every portfolio's metrics row for ``date``; return the rows written.

    ``date`` defaults to today in New York. A weekend or NYSE holiday writes
    nothing (returns 0) unless ``force``. A future date is refused. Rerunning
    today replaces today's rows with the latest figures; an earlier date only
    fills portfolios that have no row for it. ``portfolio_ids`` limits the
    write to those portfolios (a first sync's), else every portfolio.
    """
    today = new_york_today()
    date = date or today
    if date > today:
        raise ValueError(f"{date} is in the future (today in New York is {today}).")
    if not force and not is_trading_day(date):
        return 0
    pattern = _BETA_ONE_SYMBOL.pattern
    with rls.as_service(), connection.cursor() as cursor:
        cursor.execute(
            _UPSERT,
            {
                "date": date,
                "created_at": timezone.now(),
                "beta_one": pattern,
                "overwrite": date == today,
                "all": portfolio_ids is None,
                "ids": list(portfolio_ids or []),
            },
        )
        return cursor.rowcount


def history_start(
    *, portfolio_ids: list[int], net_liq_history: dict[int, list[tuple[dt.date, object]]]
) -> int:
    """Give new portfolios their history at once: backfilled net liq, then today's row.

    ``net_liq_history`` maps a portfolio id to the broker's end-of-day net liq
    ($, by New York date) before today; those rows are marked ``backfilled``
    and never replace a row already there. Today's row is the full snapshot
    of the stored book, written even on a weekend or holiday (a first sync
    is a day worth showing). Returns the rows written.
    """
    today = new_york_today()
    now = timezone.now()
    rows = [
        (portfolio_id, day, value, now)
        for portfolio_id, points in net_liq_history.items()
        for day, value in points
        if day < today
    ]
    written = 0
    with rls.as_service(), connection.cursor() as cursor:
        if rows:
            cursor.executemany(
                "INSERT INTO historical_metrics (portfolio_id, date, net_liquidation_value, "
                "legs_unpriced, backfilled, created_at) VALUES (%s, %s, %s, 0, true, %s) "
                "ON CONFLICT (portfolio_id, date) DO NOTHING",
                rows,
            )
            written += len(rows)
    if portfolio_ids:
        written += snapshot_all(date=today, force=True, portfolio_ids=portfolio_ids)
    return written
