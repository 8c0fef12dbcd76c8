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
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from metrics.exposure import _BETA_ONE_SYMBOL
from metrics.market_calendar import EXCHANGE, exchange_holiday, is_trading_day
from metrics.models import HistoricalMetric
from metrics.selectors import new_york_today
from portfolios.models import Portfolio
from thetavue_site import rls

__all__ = ["EXCHANGE", "exchange_holiday", "is_trading_day", "snapshot_all"]

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
        CASE WHEN pos.instrument_type IN ('Equity', 'Future', 'Cryptocurrency')
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


_BACKFILL = """
INSERT INTO historical_metrics
    (portfolio_id, date, net_liquidation_value, legs_unpriced, backfilled, created_at)
SELECT point.portfolio_id, point.date, point.net_liquidation_value, 0, true, %(now)s
FROM unnest(%(ids)s::bigint[], %(days)s::date[], %(values)s::numeric[])
    AS point (portfolio_id, date, net_liquidation_value)
ON CONFLICT (portfolio_id, date) DO NOTHING
"""


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
    is a day worth showing). Returns the rows written (a backfilled day
    already there is not written).
    """
    today = new_york_today()
    points = [
        (portfolio_id, day, value)
        for portfolio_id, history in net_liq_history.items()
        for day, value in history
        if day < today
    ]
    written = 0
    if points:
        ids, days, values = (list(column) for column in zip(*points, strict=True))
        # One statement for the whole year: a row per INSERT cost PostgreSQL
        # most of a first sync's CPU (~250 trading days per account).
        with rls.as_service(), connection.cursor() as cursor:
            cursor.execute(
                _BACKFILL, {"ids": ids, "days": days, "values": values, "now": timezone.now()}
            )
            written += cursor.rowcount
    if portfolio_ids:
        written += snapshot_all(date=today, force=True, portfolio_ids=portfolio_ids)
    return written


def accounts_without_history(*, user_id: str, account_numbers: list[str]) -> set[str]:
    """Return which of the user's broker accounts have no history row yet (new to ThetaVue)."""
    with rls.as_user(user_id):
        known = set(
            HistoricalMetric.objects.filter(
                portfolio__user_id=user_id, portfolio__broker_account_id__in=account_numbers
            )
            .values_list("portfolio__broker_account_id", flat=True)
            .distinct()
        )
    return set(account_numbers) - known


def portfolio_history_start(
    *, user_id: str, net_liq_by_account: dict[str, list[tuple[dt.date, Decimal | None]]]
) -> int:
    """Start the history of the user's newly synced accounts: broker net liq, then today.

    ``net_liq_by_account`` maps a broker account number to its end-of-day net
    liq ($) by New York date (possibly empty when the broker gave none).
    Returns the rows written.
    """
    with rls.as_user(user_id):
        ids = dict(
            Portfolio.objects.filter(
                user_id=user_id, broker_account_id__in=list(net_liq_by_account)
            ).values_list("broker_account_id", "id")
        )
    if not ids:
        return 0
    return history_start(
        portfolio_ids=sorted(ids.values()),
        net_liq_history={
            ids[number]: points for number, points in net_liq_by_account.items() if number in ids
        },
    )
