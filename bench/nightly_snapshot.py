"""8. Nightly snapshot of 10,000 portfolios × 30 legs vs one hand-written upsert.

Ours: ``metrics.snapshot.snapshot_all(date=…, force=True)``, which runs
under ``rls.as_service()``. Floor: one ``INSERT … SELECT … GROUP BY … ON
CONFLICT`` of the same aggregate (a plain join of portfolios and their legs,
the beta-weighting rules of ``metrics.exposure``, the SPY price fallback),
on the same connection and RLS context. Each run writes a fresh date so both
sides insert 10,000 new rows; the rows of both are compared, and ours must
stay a constant handful of statements (no per-portfolio Python loop).
Target ≤ 2×. Seeded with set-based SQL: 3 % of legs unpriced, some betas
missing (assumed 1.0 only for SPY), a tenth of the portfolios without a
SPY price of their own.
"""

from __future__ import annotations

import datetime as dt

from bench import environment, seed
from bench.runner import Context, Result, interleaved, median, not_available

TARGET = 2.0
NAME = "8 nightly snapshot 10k×30"
USERS = 100
LEGS = 30

SEED_PORTFOLIOS = """
INSERT INTO portfolios (
    user_id, name, account_type, broker_account_id, net_liquidation_value, cash_balance,
    spy_price, sync_version, created_at, updated_at
)
SELECT
    'user_snap' || lpad(((g - 1) %% %(users)s)::text, 5, '0'),
    'Snapshot ' || g, 'margin', 'SNAP' || g,
    100000 + (g %% 977) * 100, 50000,
    CASE WHEN g %% 10 = 0 THEN NULL ELSE 580.00 END,
    1, now(), now()
FROM generate_series(1, %(portfolios)s) g
"""

SEED_LEGS = """
INSERT INTO positions (
    portfolio_id, symbol, underlying_symbol, instrument_type, option_type, strategy_type,
    strategy_group_id, quantity, multiplier, settlement_type, expiration_date, strike_price,
    mark, underlying_price, implied_volatility, iv_status, greeks_source, opening_order_id,
    delta, gamma, theta, vega, beta, premium_received, current_value, created_at, updated_at
)
SELECT
    p.id,
    'SNAP' || leg,
    u.symbol,
    CASE WHEN leg = 30 THEN 'Equity' ELSE 'Equity Option' END,
    CASE WHEN leg = 30 THEN NULL WHEN leg %% 2 = 0 THEN 'C' ELSE 'P' END,
    'other', 'g' || (leg / 4), CASE WHEN leg = 30 THEN 100 ELSE -1 - leg %% 3 END,
    CASE WHEN leg = 30 THEN 1 ELSE 100 END,
    'PM',
    CASE WHEN leg = 30 THEN NULL ELSE current_date + 7 * (1 + leg %% 8) END,
    CASE WHEN leg = 30 THEN NULL ELSE round((u.price * (0.8 + leg * 0.013))::numeric, 0) END,
    round((CASE WHEN leg = 30 THEN u.price ELSE 0.5 + leg * 0.1 END)::numeric, 2),
    u.price, CASE WHEN leg = 30 THEN NULL ELSE 0.3 END,
    'solved', 'implied', '',
    CASE WHEN unpriced THEN NULL ELSE (random() - 0.5) * 100 END,
    CASE WHEN unpriced THEN NULL ELSE (random() - 0.5) * 5 END,
    CASE WHEN unpriced THEN NULL ELSE random() * 20 END,
    CASE WHEN unpriced THEN NULL ELSE -random() * 50 END,
    CASE WHEN u.symbol = 'SPY' OR leg %% 17 = 0 THEN NULL ELSE u.beta END,
    round((random() * 500)::numeric, 2), round((-random() * 400)::numeric, 2),
    now(), now()
FROM (SELECT id FROM portfolios WHERE name LIKE 'Snapshot %%') p
CROSS JOIN generate_series(1, %(legs)s) leg
CROSS JOIN LATERAL (SELECT random() < 0.03 AS unpriced) r
CROSS JOIN LATERAL (
    SELECT symbol, price, beta FROM (VALUES {underlyings}) v(n, symbol, price, beta)
    WHERE n = (p.id + leg) %% %(underlying_count)s
) u
"""

FLOOR = """
INSERT INTO historical_metrics (
    portfolio_id, date, net_liquidation_value, total_delta, total_gamma, total_theta,
    total_vega, beta_weighted_delta, legs_unpriced, created_at
)
SELECT
    a.id, %(date)s, a.net_liquidation_value, a.delta, a.gamma, a.theta, a.vega,
    CASE WHEN a.spy > 0 THEN a.bwd_shares_x_spy / a.spy END, a.unpriced, %(created_at)s
FROM (
    SELECT
        p.id,
        p.net_liquidation_value,
        coalesce(sum(pos.delta) FILTER (WHERE pos.priced), 0) AS delta,
        coalesce(sum(pos.gamma) FILTER (WHERE pos.priced), 0) AS gamma,
        coalesce(sum(pos.theta) FILTER (WHERE pos.priced), 0) AS theta,
        coalesce(sum(pos.vega) FILTER (WHERE pos.priced), 0) AS vega,
        coalesce(sum(pos.delta * pos.beta * pos.price) FILTER (WHERE pos.priced), 0)
            AS bwd_shares_x_spy,
        count(pos.id) FILTER (WHERE NOT pos.priced) AS unpriced,
        coalesce(
            p.spy_price, max(pos.underlying_price) FILTER (WHERE pos.underlying_symbol = 'SPY')
        )::float8 AS spy
    FROM portfolios p
    LEFT JOIN (
        SELECT
            id, portfolio_id, delta, gamma, theta, vega, underlying_symbol, underlying_price,
            delta IS NOT NULL AND gamma IS NOT NULL AND theta IS NOT NULL
                AND vega IS NOT NULL AS priced,
            coalesce(beta, CASE WHEN underlying_symbol ~ %(beta_one)s THEN 1.0 END) AS beta,
            (CASE WHEN instrument_type IN ('Equity', 'Future')
                THEN coalesce(mark, underlying_price) ELSE underlying_price END)::float8 AS price
        FROM positions
    ) pos ON pos.portfolio_id = p.id
    GROUP BY p.id
) a
ON CONFLICT (portfolio_id, date) DO UPDATE SET
    net_liquidation_value = EXCLUDED.net_liquidation_value,
    total_delta = EXCLUDED.total_delta,
    total_gamma = EXCLUDED.total_gamma,
    total_theta = EXCLUDED.total_theta,
    total_vega = EXCLUDED.total_vega,
    beta_weighted_delta = EXCLUDED.beta_weighted_delta,
    legs_unpriced = EXCLUDED.legs_unpriced
"""

COMPARE = """
SELECT
    count(*),
    max(abs(o.total_delta - f.total_delta) / greatest(abs(f.total_delta), 1)),
    max(abs(o.total_theta - f.total_theta) / greatest(abs(f.total_theta), 1)),
    max(abs(o.total_vega - f.total_vega) / greatest(abs(f.total_vega), 1)),
    max(abs(o.total_gamma - f.total_gamma) / greatest(abs(f.total_gamma), 1)),
    max(abs(o.beta_weighted_delta - f.beta_weighted_delta)
        / greatest(abs(f.beta_weighted_delta), 1)),
    count(*) FILTER (WHERE (o.beta_weighted_delta IS NULL) <> (f.beta_weighted_delta IS NULL)),
    count(*) FILTER (WHERE o.legs_unpriced <> f.legs_unpriced),
    count(*) FILTER (WHERE o.net_liquidation_value IS DISTINCT FROM f.net_liquidation_value)
FROM historical_metrics o
JOIN historical_metrics f ON f.portfolio_id = o.portfolio_id AND f.date = %(floor_date)s
WHERE o.date = %(ours_date)s
"""


def _seed(portfolios: int) -> None:
    from django.db import connection

    from thetavue_site import rls

    underlyings = ", ".join(
        f"({n}, '{symbol}', {price}, {beta})"
        for n, (symbol, price, beta, _) in enumerate(seed.UNDERLYINGS)
    )
    with rls.as_service():
        seed.make_users("snap", USERS)
        with connection.cursor() as cursor:
            cursor.execute("SELECT setseed(0.25)")
            cursor.execute(SEED_PORTFOLIOS, {"users": USERS, "portfolios": portfolios})
            cursor.execute(
                SEED_LEGS.replace("{underlyings}", underlyings),
                {"legs": LEGS, "underlying_count": len(seed.UNDERLYINGS)},
            )
    seed.analyze()


def run(ctx: Context) -> list[Result]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from thetavue_site import rls

    try:
        from metrics.exposure import _BETA_ONE_SYMBOL
        from metrics.snapshot import snapshot_all
    except ImportError as error:
        return [not_available(NAME, f"metrics.snapshot.snapshot_all: {error}", TARGET)]

    portfolios = 1_000 if ctx.quick else 10_000
    # The snapshot covers every portfolio: start from an empty bench database.
    environment.wipe()
    _seed(portfolios)
    with rls.as_service(), connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM portfolios")
        (portfolio_rows,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM positions")
        (leg_rows,) = cursor.fetchone()

    today = timezone.localdate()
    dates = {"ours": today - dt.timedelta(days=1), "floor": today - dt.timedelta(days=2000)}
    written: dict[str, list[int]] = {"ours": [], "floor": []}

    def next_date(side: str) -> dt.date:
        dates[side] -= dt.timedelta(days=1)
        return dates[side]

    def ours():
        written["ours"].append(snapshot_all(date=next_date("ours"), force=True))

    def floor():
        with rls.as_service(), connection.cursor() as cursor:
            cursor.execute(
                FLOOR,
                {
                    "date": next_date("floor"),
                    "created_at": timezone.now(),
                    "beta_one": _BETA_ONE_SYMBOL.pattern,
                },
            )
            written["floor"].append(cursor.rowcount)

    repeat = 3 if ctx.quick else 5
    ours_times, floor_times = interleaved(ours, floor, repeat=repeat)
    with CaptureQueriesContext(connection) as captured:
        ours()
    floor()
    with rls.as_service(), connection.cursor() as cursor:
        cursor.execute(COMPARE, {"ours_date": dates["ours"], "floor_date": dates["floor"]})
        compared = cursor.fetchone()
    rows, *differences, bwd_null_mismatch, unpriced_mismatch, net_liq_mismatch = compared
    worst = max((d or 0.0) for d in differences)
    same = (
        rows == portfolio_rows
        and worst < 1e-9
        and bwd_null_mismatch == unpriced_mismatch == net_liq_mismatch == 0
    )
    return [
        Result(
            name=NAME if not ctx.quick else "8 nightly snapshot 1k×30",
            ours=median(ours_times),
            floor=median(floor_times),
            target=TARGET,
            checks={
                "same rows": same,
                "one statement, no loop": sum(
                    1 for q in captured.captured_queries if "historical_metrics" in q["sql"]
                )
                == 1
                and len(captured) <= 6,
                "every portfolio written": set(written["ours"]) == {portfolio_rows},
            },
            details={
                "portfolios": portfolio_rows,
                "legs": leg_rows,
                "runs": repeat,
                "rows_written": written,
                "statements": [q["sql"][:80] for q in captured.captured_queries],
                "max_relative_difference": worst,
                "rows_compared": rows,
            },
        )
    ]
