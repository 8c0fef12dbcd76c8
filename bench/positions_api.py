"""3. GET /api/portfolio/{id}/positions/ with 500 legs through the whole stack.

Ours: Django's test client calling the WSGI handler in-process, so every
middleware runs (security, metrics, CSP, sessions, Clerk JWT verification
with the PEM key, the RLS transaction), then DRF, the selector and the
serializer, for ``?limit=500`` (one page holding all 500 legs), authenticated
by a Bearer session JWT. No socket: the HTTP server's own cost is measured in
benchmark 9.

Floor: a raw psycopg fetch of the same rows (same columns, same order, the
same RLS context, decimals cast to text by the server, so nothing is
converted in Python) and ``orjson.dumps`` of the same page envelope. Target
≤ 2×; the query count at 10 and at 500 legs must be equal.
"""

from __future__ import annotations

import datetime as dt

import orjson
import psycopg
from psycopg.rows import dict_row

from bench import seed
from bench.runner import Context, Result, interleaved, median

TARGET = 2.0
LEGS = 500
SMALL = 10

FLOOR_SQL = """
SELECT
    id, portfolio_id, symbol, underlying_symbol, instrument_type, option_type,
    strike_price::text AS strike_price, expiration_date,
    expiration_date - %(today)s AS dte, open_date, quantity::float8 AS quantity,
    multiplier::float8 AS multiplier, strategy_type, strategy_group_id,
    average_open_price::text AS average_open_price, mark::text AS mark,
    previous_close::text AS previous_close, underlying_price::text AS underlying_price,
    implied_volatility, iv_status, greeks_source, beta,
    premium_received::text AS premium_received, current_value::text AS current_value,
    (premium_received + current_value)::text AS unrealized_pnl,
    fees.total::text AS fees_since_open,
    (premium_received + current_value - fees.total)::text AS pnl_open,
    (CASE WHEN open_date = %(today)s THEN premium_received + current_value
          WHEN previous_close IS NOT NULL
          THEN current_value - round(previous_close * quantity * multiplier, 2)
     END)::text AS pnl_day,
    delta, gamma, theta, vega, rho, exercise_style, exercise_style_source, iv_rank,
    iv_percentile, updated_at
FROM positions p
-- P/L open's fees: the leg's symbol's fees booked since it opened (portfolios.pnl).
CROSS JOIN LATERAL (
    SELECT coalesce(sum(t.fees), 0.00) AS total FROM transactions t
    WHERE t.portfolio_id = p.portfolio_id AND t.symbol = p.symbol
      AND t.transaction_date >= coalesce(p.open_date, DATE '1900-01-01')
) fees
WHERE portfolio_id = %(portfolio)s
-- Qualified: the bare names would sort by the text output columns.
ORDER BY p.underlying_symbol, p.expiration_date, p.strike_price, p.symbol, p.id
"""


class PositionsFloor:
    """The least work that yields the page: one set_config, one SELECT, one encode."""

    def __init__(self, database_url: str) -> None:
        self.conn = psycopg.connect(database_url, row_factory=dict_row)

    def get(self, user_id: str, portfolio_id: int, today: dt.date) -> bytes:
        with self.conn.cursor() as cursor:
            cursor.execute("SELECT set_config('app.user_id', %s, true)", [user_id])
            cursor.execute(FLOOR_SQL, {"today": today, "portfolio": portfolio_id})
            rows = cursor.fetchall()
        self.conn.commit()
        return orjson.dumps({"count": len(rows), "next": None, "previous": None, "results": rows})

    def close(self) -> None:
        self.conn.close()


def seed_book(prefix: str, legs: int, seed_number: int) -> tuple[str, int]:
    """Create a trader holding one synced portfolio of `legs` legs; return (user id, portfolio id)."""
    from django.utils import timezone

    from thetavue_site import rls

    with rls.as_service():
        (user_id,) = seed.make_users(prefix, 1)
        portfolio = seed.make_portfolio(
            user_id=user_id, name=f"{prefix} book", account_id=f"{prefix[:8].upper()}01"
        )
        seed.insert_legs(
            portfolio_id=portfolio.pk,
            legs=seed.book_legs(legs, seed=seed_number, today=timezone.localdate()),
        )
    return user_id, portfolio.pk


def api_client(ctx: Context, user_id: str):
    """Return a test client whose requests carry a Bearer session JWT for the user."""
    from django.test import Client

    token = seed.session_token(ctx.env.clerk_private_pem, user_id)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def get_ok(client, url: str):
    response = client.get(url, secure=True)
    assert response.status_code == 200, (url, response.status_code, response.content[:300])
    return response


def query_count(client, url: str) -> tuple[int, list[str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        get_ok(client, url)
    return len(captured), [query["sql"][:160] for query in captured.captured_queries]


def request_profile(client, url: str, runs: int) -> dict[str, float]:
    """Split a request's time into SQL (round trips included) and the rest, by median."""
    import statistics
    import time

    from django.db import connection

    totals, sql = [], []
    for _ in range(runs):
        spent = []

        def timed_execute(execute, statement, params, many, context, spent=spent):
            started = time.perf_counter()
            try:
                return execute(statement, params, many, context)
            finally:
                spent.append(time.perf_counter() - started)

        started = time.perf_counter()
        with connection.execute_wrapper(timed_execute):
            get_ok(client, url)
        totals.append(time.perf_counter() - started)
        sql.append(sum(spent))
    total, in_sql = statistics.median(totals), statistics.median(sql)
    return {"total_s": total, "sql_s": in_sql, "python_s": total - in_sql, "queries": len(spent)}


def positions_url(portfolio_id: int) -> str:
    return f"/api/portfolio/{portfolio_id}/positions/?limit={LEGS}"


def run(ctx: Context) -> list[Result]:
    from portfolios.selectors import market_today

    big_user, big = seed_book("posapi", LEGS, 3)
    small_user, small = seed_book("posapismall", SMALL, 4)
    seed.analyze()
    big_client = api_client(ctx, big_user)
    small_client = api_client(ctx, small_user)
    repeat = 7 if ctx.quick else 41

    floor = PositionsFloor(ctx.env.database_url)
    try:
        today = market_today()
        ours_times, floor_times = interleaved(
            lambda: get_ok(big_client, positions_url(big)),
            lambda: floor.get(big_user, big, today),
            repeat=repeat,
            warmup=2,
        )
        ours_body = orjson.loads(get_ok(big_client, positions_url(big)).content)
        floor_body = orjson.loads(floor.get(big_user, big, today))
    finally:
        floor.close()

    same_rows = [row["id"] for row in ours_body["results"]] == [
        row["id"] for row in floor_body["results"]
    ] and len(ours_body["results"]) == LEGS
    same_fields = set(ours_body["results"][0]) == set(floor_body["results"][0])
    queries_small, sql_small = query_count(small_client, positions_url(small))
    queries_big, sql_big = query_count(big_client, positions_url(big))
    split = request_profile(big_client, positions_url(big), 5 if ctx.quick else 15)
    return [
        Result(
            name="3 GET positions 500 legs",
            ours=median(ours_times),
            floor=median(floor_times),
            target=TARGET,
            checks={
                "same rows": same_rows and same_fields,
                "queries 10 = 500": queries_small == queries_big,
            },
            details={
                "legs": LEGS,
                "runs": repeat,
                "queries_at_10_legs": queries_small,
                "queries_at_500_legs": queries_big,
                "queries": sql_big,
                "ours_split_median": split,
                "ours_bytes": len(orjson.dumps(ours_body)),
                "floor_bytes": len(orjson.dumps(floor_body)),
            },
        )
    ]
