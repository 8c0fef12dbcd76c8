"""One page of a portfolio's legs, ready for JSON, in one statement.

The positions list is the API's busiest read and a book can hold hundreds of
legs. The ORM path (`selectors.position_rows`) reads the portfolio, counts
the legs, then fetches them as Decimals that the serializer turns back into
strings: three round trips and two conversions per money field. Here one
statement checks the portfolio is the caller's, counts the matching legs with
a window function and returns the page with money and prices already as the
API's decimal strings (`numeric::text` — the columns' scale is the API's
decimal places, so the text is exactly DRF's quantized output), quantities as
floats and dates as dates. Row Level Security applies as to any query.

`test_position_pages` checks the rows equal `PositionOutput` of the ORM path
for every filter and ordering.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import connection
from django.http import Http404

from portfolios.selectors import (
    DEFAULT_POSITION_ORDERING,
    POSITION_COLUMNS,
    POSITION_ORDERING_FIELDS,
    PositionFilters,
    market_today,
)

# POSITION_COLUMNS, in order, as SQL over `positions p`.
_SELECT = {
    "strike_price": "p.strike_price::text",
    # Dates as DRF writes them, whatever the server's DateStyle.
    "expiration_date": "to_char(p.expiration_date, 'YYYY-MM-DD')",
    "open_date": "to_char(p.open_date, 'YYYY-MM-DD')",
    "dte": "p.expiration_date - %(today)s::date",
    # A JSON number: an int when whole (see QuantityField), fixed in _json_row.
    "quantity": "p.quantity::float8",
    "average_open_price": "p.average_open_price::text",
    "mark": "p.mark::text",
    "underlying_price": "p.underlying_price::text",
    "premium_received": "p.premium_received::text",
    "current_value": "p.current_value::text",
    "unrealized_pnl": "(p.premium_received + p.current_value)::text",
}
# DRF's ISO 8601 in UTC: "Z" for +00:00, and no fraction when it is zero (isoformat()).
_UPDATED_AT_UTC = (
    "to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
    "|| CASE WHEN extract(microseconds FROM p.updated_at)::bigint %% 1000000 = 0 THEN '' "
    "ELSE to_char(p.updated_at, '.US') END || 'Z'"
)
UPDATED_AT_UTC = "utc"  # position_page(updated_at=…): formatted by PostgreSQL, see above


def _columns_sql(updated_at_in_sql: bool) -> str:
    select = {**_SELECT, "updated_at": _UPDATED_AT_UTC} if updated_at_in_sql else _SELECT
    return ", ".join(select.get(name, f"p.{name}") for name in POSITION_COLUMNS)


_COLUMNS_SQL = {in_sql: _columns_sql(in_sql) for in_sql in (True, False)}
# Sort on the stored values, never on the text casts above.
_SORT = {key: f"p.{column}" for key, column in POSITION_ORDERING_FIELDS.items()}
_SORT["unrealized_pnl"] = "(p.premium_received + p.current_value)"

_QUANTITY = POSITION_COLUMNS.index("quantity")
_UPDATED_AT = POSITION_COLUMNS.index("updated_at")


@dataclass(frozen=True)
class PositionPage:
    rows: list[dict]  # POSITION_COLUMNS, values as the API writes them (see module doc)
    count: int  # legs matching the filters, all pages together


def position_page(
    *,
    user_id: str,
    portfolio_id: int,
    filters: PositionFilters | None = None,
    limit: int | None = None,
    offset: int = 0,
    updated_at=UPDATED_AT_UTC,
    today: dt.date | None = None,
) -> PositionPage:
    """Return `limit` legs from `offset` (all when limit is None) and the total count.

    Raises Http404 when the portfolio is not the user's. `updated_at` says how
    the timestamp is written: UPDATED_AT_UTC, DRF's text in UTC made by the
    database; or a function turning the stored datetime into the API's text
    (the serializer's converter, for a request in another time zone).
    """
    filters = filters or PositionFilters()
    params = {
        "user": user_id,
        "portfolio": portfolio_id,
        "today": today or market_today(),
        "limit": limit,
        "offset": offset,
    }
    in_sql = updated_at == UPDATED_AT_UTC
    where = _where(filters, params)
    order = _order(filters.ordering or DEFAULT_POSITION_ORDERING)
    # The LEFT JOIN keeps one row when the portfolio exists but no leg matches;
    # no row at all means it is not the caller's (or is gone): 404.
    statement = (
        "SELECT pf.id, page.* FROM portfolios pf "  # noqa: S608 - whitelisted names only
        "LEFT JOIN LATERAL ("
        f"SELECT {_COLUMNS_SQL[in_sql]}, count(*) OVER () AS total FROM positions p "
        f"WHERE p.portfolio_id = pf.id{where} ORDER BY {order} "
        "LIMIT %(limit)s OFFSET %(offset)s"
        ") page ON true "
        "WHERE pf.id = %(portfolio)s AND pf.user_id = %(user)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        fetched = cursor.fetchall()
    if not fetched:
        raise Http404("No such portfolio.")
    if fetched[0][1] is None:  # the portfolio, without a leg on this page
        count = _count(portfolio_id, where, params) if offset else 0
        return PositionPage(rows=[], count=count)
    convert = None if in_sql else updated_at
    rows = [_json_row(row[1:-1], convert) for row in fetched]
    return PositionPage(rows=rows, count=fetched[0][-1])


def _json_row(values: tuple, convert_updated_at) -> dict:
    row = dict(zip(POSITION_COLUMNS, values, strict=True))
    quantity = values[_QUANTITY]
    if quantity.is_integer():
        row["quantity"] = int(quantity)
    if convert_updated_at is not None and values[_UPDATED_AT] is not None:
        row["updated_at"] = convert_updated_at(values[_UPDATED_AT])
    return row


def _where(filters: PositionFilters, params: dict) -> str:
    clauses = []
    for key, column, values in (
        ("underlyings", "underlying_symbol", filters.underlyings),
        ("strategy_types", "strategy_type", filters.strategy_types),
        ("instrument_types", "instrument_type", filters.instrument_types),
    ):
        if values:
            params[key] = list(values)
            clauses.append(f" AND p.{column} = ANY(%({key})s)")
    if filters.expiring_within_days is not None:
        # Legs past their expiry but still held are included: they need attention too.
        params["horizon"] = params["today"] + dt.timedelta(days=filters.expiring_within_days)
        clauses.append(" AND p.expiration_date <= %(horizon)s")
    return "".join(clauses)


def _order(keys) -> str:
    """Whitelisted keys ("-theta") as ORDER BY terms, NULLs last either way, then id."""
    terms = []
    for key in keys:
        descending = key.startswith("-")
        expression = _SORT[key.lstrip("-")]
        terms.append(f"{expression} {'DESC' if descending else 'ASC'} NULLS LAST")
    terms.append("p.id ASC")
    return ", ".join(terms)


def _count(portfolio_id: int, where: str, params: dict) -> int:
    """Count the matching legs: only for a page past the end, where no row carried it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM positions p WHERE p.portfolio_id = %(portfolio)s{where}",  # noqa: S608
            params,
        )
        return cursor.fetchone()[0]
