"""One page of a portfolio's legs, written as the API's JSON by PostgreSQL, in one statement.

The positions list is the API's busiest read and a book can hold hundreds of
legs. The ORM path (`selectors.position_rows` + `PositionOutput`) reads the
portfolio, counts the legs, fetches them as Decimals and datetimes, and the
serializer turns each value back into text: three round trips and ~30 Python
conversions per leg. Here one statement checks that the portfolio is the
caller's, counts the matching legs (a window function) and returns the page
as one JSON array, every value already in the API's form:

- money and prices: `numeric::text`, a JSON string — the columns' scale is
  the API's decimal places, so the text is exactly DRF's quantized output;
- quantity: a JSON number, an integer when whole (as QuantityField writes it);
- greeks, IV and beta: JSON numbers, null when unknown or not finite (orjson,
  the API's encoder, writes NaN as null too);
- dates: "YYYY-MM-DD"; updated_at: DRF's ISO 8601 in UTC ("…Z", no fraction
  when it is zero).

The JSON renderer embeds the array as it is (orjson.Fragment); other
renderers (CSV, the browsable API) parse it. Row Level Security applies as
to any query. `test_position_pages` checks the result equals the ORM path's
for every filter and ordering.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

import orjson
from django.db import connection
from django.http import Http404

from portfolios.selectors import (
    DEFAULT_POSITION_ORDERING,
    POSITION_COLUMNS,
    POSITION_ORDERING_FIELDS,
    PositionFilters,
    market_today,
)

_FLOATS = (
    "implied_volatility",
    "beta",
    "delta",
    "gamma",
    "theta",
    "vega",
    "rho",
    "iv_rank",
    "iv_percentile",
)
_DECIMAL_TEXT = (
    "strike_price",
    "average_open_price",
    "mark",
    "previous_close",
    "underlying_price",
    "premium_received",
    "current_value",
)
# Fees of the leg's symbol since it opened, $ (≥ 0); numeric(…, 2) like the ORM's.
_FEES = (
    "coalesce((SELECT sum(t.fees) FROM transactions t WHERE t.portfolio_id = p.portfolio_id "
    "AND t.symbol = p.symbol AND t.transaction_date >= coalesce(p.open_date, '1900-01-01'::date)"
    "), 0.00)"
)
_EXPRESSIONS = {
    **{name: f"p.{name}::text" for name in _DECIMAL_TEXT},
    **{
        # NaN and ±Infinity are never a greek a trader can use: null, as orjson writes them.
        name: f"CASE WHEN p.{name} IN ('NaN', 'Infinity', '-Infinity') THEN NULL ELSE p.{name} END"
        for name in _FLOATS
    },
    "unrealized_pnl": "(p.premium_received + p.current_value)::text",
    # P/L as selectors.pnl_annotations computes it (the equality test holds them together).
    "fees_since_open": f"{_FEES}::text",
    "pnl_open": f"(p.premium_received + p.current_value - {_FEES})::text",
    "pnl_day": (
        "(CASE WHEN p.open_date = %(today)s::date THEN p.premium_received + p.current_value "
        "WHEN p.previous_close IS NOT NULL THEN "
        "p.current_value - round(p.previous_close * p.quantity * p.multiplier, 2) END)::text"
    ),
    "dte": "p.expiration_date - %(today)s::date",
    "quantity": (
        # to_json, not to_jsonb: jsonb keeps 15 significant digits of a float8.
        "CASE WHEN p.quantity = trunc(p.quantity) THEN to_json(trunc(p.quantity)) "
        "ELSE to_json(p.quantity::float8) END"
    ),
    # A decimal string without trailing zeros: "100", "0.5" (numeric(14, 6) at rest).
    "multiplier": "to_json(rtrim(rtrim(p.multiplier::text, '0'), '.'))",
    # Dates as DRF writes them, whatever the server's DateStyle.
    "expiration_date": "to_char(p.expiration_date, 'YYYY-MM-DD')",
    "open_date": "to_char(p.open_date, 'YYYY-MM-DD')",
    "updated_at": (
        "to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        "|| CASE WHEN extract(microseconds FROM p.updated_at)::bigint %% 1000000 = 0 "
        "THEN '' ELSE to_char(p.updated_at, '.US') END || 'Z'"
    ),
}
# One leg as a row whose column names are the API's keys, in POSITION_COLUMNS order.
_LEG_SQL = ", ".join(
    f"{_EXPRESSIONS.get(name, f'p.{name}')} AS {name}" for name in POSITION_COLUMNS
)
# Sort on the stored values, never on the text written above.
_SORT = {key: f"p.{column}" for key, column in POSITION_ORDERING_FIELDS.items()}
_SORT["unrealized_pnl"] = "(p.premium_received + p.current_value)"
_SORT["pnl_open"] = f"(p.premium_received + p.current_value - {_FEES})"
_SORT["pnl_day"] = _EXPRESSIONS["pnl_day"].removesuffix("::text")


UPDATED_AT_UTC = "utc"  # PositionPage.rows_with(updated_at=…): keep the database's UTC text


@dataclass(frozen=True)
class PositionPage:
    results_json: str  # the page's legs: a JSON array in the API's form (module doc)
    count: int  # legs matching the filters, all pages together
    # The broker legs the last sync set aside: {symbol, instrument_type, quantity, reason}.
    unsupported: list = field(default_factory=list)

    @cached_property
    def rows(self) -> list[dict]:
        """The legs as dicts (for the CSV), updated_at in UTC."""
        return orjson.loads(self.results_json)

    def rows_with(self, *, updated_at) -> list[dict]:
        """The legs with updated_at rewritten by `updated_at(datetime)` (another time zone)."""
        if updated_at == UPDATED_AT_UTC:
            return self.rows
        return [
            {**row, "updated_at": updated_at(dt.datetime.fromisoformat(row["updated_at"]))}
            for row in self.rows
        ]


def position_page(
    *,
    user_id: str,
    portfolio_id: int,
    filters: PositionFilters | None = None,
    limit: int | None = None,
    offset: int = 0,
    today: dt.date | None = None,
) -> PositionPage:
    """Return `limit` legs from `offset` (all when limit is None) and the total count.

    Raises Http404 when the portfolio is not the user's. `dte` counts from
    `today` (New York's date by default).
    """
    filters = filters or PositionFilters()
    params = {
        "user": user_id,
        "portfolio": portfolio_id,
        "today": today or market_today(),
        "limit": limit,
        "offset": offset,
    }
    where = _where(filters, params)
    order = _order(filters.ordering or DEFAULT_POSITION_ORDERING)
    # The aggregate gives one row even for an empty page; no row at all means
    # the portfolio is not the caller's (or is gone): 404.
    statement = (
        "SELECT page.total, page.results, pf.unsupported_legs FROM portfolios pf "  # noqa: S608 - whitelisted names only
        "CROSS JOIN LATERAL ("
        "SELECT max(ordered.total) AS total, "
        "'[' || string_agg(row_to_json(ordered.leg)::text, ',' ORDER BY ordered.rank) || ']' "
        "AS results FROM ("
        f"SELECT leg, count(*) OVER () AS total, row_number() OVER (ORDER BY {order}) AS rank "
        f"FROM positions p CROSS JOIN LATERAL (SELECT {_LEG_SQL}) leg "
        f"WHERE p.portfolio_id = pf.id{where} ORDER BY {order} "
        "LIMIT %(limit)s OFFSET %(offset)s"
        ") ordered"
        ") page "
        "WHERE pf.id = %(portfolio)s AND pf.user_id = %(user)s"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        found = cursor.fetchone()
    if found is None:
        raise Http404("No such portfolio.")
    total, results, unsupported = found
    if isinstance(unsupported, str):  # Django leaves jsonb undecoded on a raw cursor
        unsupported = orjson.loads(unsupported)
    if results is None:  # the portfolio, without a leg on this page
        count = _count(portfolio_id, where, params) if offset else 0
        return PositionPage(results_json="[]", count=count, unsupported=unsupported)
    return PositionPage(results_json=results, count=total, unsupported=unsupported)


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
