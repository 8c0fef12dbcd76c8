"""Reads about portfolios and their legs, always starting from the user's scope.

Units and signs follow DESIGN.md §5: money in $ as Decimal (premium_received
> 0 is a credit), greeks per position (delta in share-equivalents, theta in $
per calendar day, vega in $ per +1 vol point).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    F,
    Func,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from portfolios.book import portfolio_book
from portfolios.models import MONEY, Portfolio, Position
from portfolios.pnl import pnl_annotations

# Legs as the API and CSV show them, in DESIGN.md §11 order; `dte` and
# `unrealized_pnl` are computed by the database (see position_rows).
POSITION_COLUMNS: tuple[str, ...] = (
    "id",
    "portfolio_id",
    "symbol",
    "underlying_symbol",
    "instrument_type",
    "option_type",
    "strike_price",
    "expiration_date",
    "dte",
    "open_date",
    "quantity",
    "multiplier",
    "strategy_type",
    "strategy_group_id",
    "average_open_price",
    "mark",
    "previous_close",
    "underlying_price",
    "implied_volatility",
    "iv_status",
    "greeks_source",
    "beta",
    "premium_received",
    "current_value",
    "unrealized_pnl",
    "fees_since_open",
    "pnl_open",
    "pnl_day",
    "delta",
    "gamma",
    "theta",
    "vega",
    "rho",
    "exercise_style",
    "exercise_style_source",
    "iv_rank",
    "iv_percentile",
    "updated_at",
)

# Sort keys clients may use, mapped to the column each one sorts by.
POSITION_ORDERING_FIELDS: dict[str, str] = {
    "symbol": "symbol",
    "underlying_symbol": "underlying_symbol",
    "instrument_type": "instrument_type",
    "option_type": "option_type",
    "strike_price": "strike_price",
    "expiration_date": "expiration_date",
    "dte": "expiration_date",
    "open_date": "open_date",
    "quantity": "quantity",
    "strategy_type": "strategy_type",
    "strategy_group_id": "strategy_group_id",
    "mark": "mark",
    "implied_volatility": "implied_volatility",
    "premium_received": "premium_received",
    "current_value": "current_value",
    "unrealized_pnl": "unrealized_pnl",
    "pnl_open": "pnl_open",
    "pnl_day": "pnl_day",
    "delta": "delta",
    "gamma": "gamma",
    "theta": "theta",
    "vega": "vega",
    "beta": "beta",
    "updated_at": "updated_at",
}
DEFAULT_POSITION_ORDERING: tuple[str, ...] = (
    "underlying_symbol",
    "expiration_date",
    "strike_price",
    "symbol",
)


@dataclass(frozen=True)
class PositionFilters:
    """Which legs to list; empty tuples and None mean "no filter"."""

    underlyings: tuple[str, ...] = ()
    strategy_types: tuple[str, ...] = ()
    instrument_types: tuple[str, ...] = ()
    expiring_within_days: int | None = None
    ordering: tuple[str, ...] = field(default=())


def market_today() -> dt.date:
    """Return today's date in the exchange's time zone (America/New_York)."""
    return timezone.localdate(timezone=ZoneInfo(settings.MARKET_TIME_ZONE))


# Portfolios ------------------------------------------------------------------


def portfolio_list_for_user(*, user) -> QuerySet[Portfolio]:
    """Return the user's portfolios (the scope every portfolio read starts from)."""
    return Portfolio.objects.filter(user=user)


def portfolio_get_for_user(*, user, portfolio_id: int) -> Portfolio:
    """Return one of the user's portfolios; another user's (or none) is Http404."""
    portfolio = portfolio_list_for_user(user=user).filter(pk=portfolio_id).first()
    if portfolio is None:
        raise Http404("No such portfolio.")
    return portfolio


def portfolio_summaries_for_user(*, user) -> QuerySet[Portfolio]:
    """Return the user's portfolios annotated with headline figures from their legs.

    One aggregate query over the stored per-position greeks: `total_delta`
    (share-equivalents), `total_gamma`, `total_theta` ($ per day), `total_vega`
    ($ per vol point), `total_rho` ($ per rate percentage point) over the legs
    that have greeks (0.0 when none do),
    `legs_count`, `legs_unpriced` (legs without greeks, left out of the
    totals), and the money sums `total_premium_received` and
    `total_current_value` in $ (None when no leg carries the figure).
    """
    money = DecimalField(**MONEY)
    return (
        portfolio_list_for_user(user=user)
        .annotate(
            legs_count=Count("positions"),
            legs_unpriced=Count("positions", filter=Q(positions__delta__isnull=True)),
            total_delta=Coalesce(Sum("positions__delta"), Value(0.0)),
            total_gamma=Coalesce(Sum("positions__gamma"), Value(0.0)),
            total_theta=Coalesce(Sum("positions__theta"), Value(0.0)),
            total_vega=Coalesce(Sum("positions__vega"), Value(0.0)),
            total_rho=Coalesce(Sum("positions__rho"), Value(0.0)),
            total_premium_received=Sum("positions__premium_received", output_field=money),
            total_current_value=Sum("positions__current_value", output_field=money),
            total_unrealized_pnl=Sum(
                F("positions__premium_received") + F("positions__current_value"),
                output_field=money,
            ),
        )
        .order_by("name", "id")
    )  # Django drops Meta.ordering from a GROUP BY query


def portfolio_summary_get_for_user(*, user, portfolio_id: int) -> Portfolio:
    """Return one portfolio with the headline figures of portfolio_summaries_for_user."""
    portfolio = portfolio_summaries_for_user(user=user).filter(pk=portfolio_id).first()
    if portfolio is None:
        raise Http404("No such portfolio.")
    return portfolio


# Positions -------------------------------------------------------------------


def position_list_for_user(*, user) -> QuerySet[Position]:
    """Return every leg of the user's portfolios."""
    return Position.objects.filter(portfolio__user=user)


class _DaysUntil(Func):
    """`date - date` in PostgreSQL: whole days, as an integer."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


def position_rows(
    *,
    portfolio: Portfolio,
    filters: PositionFilters | None = None,
    today: dt.date | None = None,
) -> QuerySet:
    """Return the portfolio's legs as dicts with POSITION_COLUMNS, filtered and ordered.

    One query whatever the number of legs. `unrealized_pnl` = premium_received
    + current_value in $ (None when either is unknown); `dte` = calendar days
    from `today` (New York) to expiration (negative once past, None for stock).
    The order always ends with `id`, so pages are stable.
    """
    filters = filters or PositionFilters()
    today = today or market_today()
    rows = Position.objects.filter(portfolio=portfolio)
    if filters.underlyings:
        rows = rows.filter(underlying_symbol__in=filters.underlyings)
    if filters.strategy_types:
        rows = rows.filter(strategy_type__in=filters.strategy_types)
    if filters.instrument_types:
        rows = rows.filter(instrument_type__in=filters.instrument_types)
    if filters.expiring_within_days is not None:
        # Legs past their expiry but still held are included: they need attention too.
        rows = rows.filter(
            expiration_date__lte=today + dt.timedelta(days=filters.expiring_within_days)
        )
    rows = rows.annotate(
        unrealized_pnl=F("premium_received") + F("current_value"),
        dte=_DaysUntil(F("expiration_date"), Value(today)),
        **pnl_annotations(today=today),
    )
    return rows.order_by(*_order_by(filters.ordering or DEFAULT_POSITION_ORDERING)).values(
        *POSITION_COLUMNS
    )


def _order_by(keys: Sequence[str]) -> list:
    """Turn whitelisted keys ("-theta") into expressions with NULLs last, then id."""
    expressions = []
    for key in keys:
        descending = key.startswith("-")
        column = POSITION_ORDERING_FIELDS[key.lstrip("-")]
        expression = F(column)
        expressions.append(
            expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
        )
    expressions.append(F("id").asc())
    return expressions


def position_row_get(*, portfolio: Portfolio, position_id: int, today: dt.date | None = None):
    """Return one leg of the portfolio as a POSITION_COLUMNS dict, or raise Http404."""
    row = position_rows(portfolio=portfolio, today=today).filter(pk=position_id).first()
    if row is None:
        raise Http404("No such position.")
    return row


# Strategies ------------------------------------------------------------------


def strategy_groups(*, portfolio: Portfolio, today: dt.date | None = None) -> list[dict]:
    """Return the portfolio's strategy groups as detection splits the whole book.

    A leg's quantity may be split across groups (3 short puts: 2 in a
    strangle, 1 short put): each group lists the legs it holds part or all of
    and ``leg_quantities``, the signed quantity of each it holds. Money in $
    for the group's share of its legs: `net_credit` = Σ premium at open
    (credit > 0; None when a leg's premium is unknown), `current_value` and
    `unrealized_pnl` pro rata, likewise greeks (summed over the legs that have
    them). `max_profit` / `max_loss` (> 0 is a loss) and `undefined_risk` from
    detection; buying power (requirement and reduction, $) from the one
    buying-power function. `dte` is days to the nearest expiry.
    """
    today = today or market_today()
    book = portfolio_book(portfolio=portfolio, today=today)
    # The book's one read gives the legs too: the positions endpoint's columns
    # are computed here, in its default order (underlying, expiry, strike).
    rows = {row["id"]: _position_row(row, today) for row in book.rows}
    ordered = sorted(
        rows.values(),
        key=lambda row: (
            row["underlying_symbol"],
            row["expiration_date"] or dt.date.max,
            row["strike_price"] if row["strike_price"] is not None else Decimal("Infinity"),
            row["symbol"],
            row["id"],
        ),
    )
    order = {row["id"]: index for index, row in enumerate(ordered)}
    groups = []
    for group in book.groups:
        # Legs in the positions endpoint's order (underlying, expiry, strike).
        parts = sorted(group.parts, key=lambda part: order[part.position_id])
        legs = [rows[part.position_id] for part in parts]
        shares = [part.quantity / rows[part.position_id]["quantity"] for part in parts]
        expirations = [leg["expiration_date"] for leg in legs if leg["expiration_date"]]
        nearest = min(expirations) if expirations else None
        detected = group.detected
        premium_known = all(
            leg["premium_received"] is not None or leg["average_open_price"] is not None
            for leg in legs
        )
        net_credit = detected.net_credit if premium_known else None
        current_value = _sum_money(
            None if leg["current_value"] is None else leg["current_value"] * share
            for leg, share in zip(legs, shares, strict=True)
        )
        unrealized = (
            None
            if net_credit is None or current_value is None
            else _cents(net_credit + current_value)
        )
        futures = all(leg["instrument_type"] == "Future" for leg in legs)
        for leg in legs:
            # Past expiry but still listed by the broker: out of the risk totals.
            leg["expired"] = leg["id"] in book.expired
        groups.append(
            {
                "group_id": group.group_id,
                "strategy_type": group.strategy_type,
                "underlying_symbol": group.underlying_symbol,
                "legs_count": len(legs),
                "leg_quantities": [
                    {"position_id": part.position_id, "quantity": part.quantity} for part in parts
                ],
                "net_credit": _cents(net_credit),
                "current_value": _cents(current_value),
                "unrealized_pnl": unrealized,
                "fees_since_open": _sum_pro_rata(legs, shares, "fees_since_open"),
                "pnl_open": _sum_pro_rata(legs, shares, "pnl_open"),
                "pnl_day": _sum_pro_rata(legs, shares, "pnl_day"),
                "percent_of_max_profit": percent_of_max_profit(
                    unrealized_pnl=unrealized,
                    max_profit=detected.max_profit,
                    net_credit=net_credit,
                    undefined_risk=detected.undefined_risk,
                ),
                "max_profit": detected.max_profit,
                "max_loss": detected.max_loss,
                "undefined_risk": detected.undefined_risk,
                "buying_power_requirement": group.requirement,
                "buying_power_reduction": group.buying_power_reduction,
                "expiration_date": nearest,
                "dte": (nearest - today).days if nearest else None,
                **{
                    greek: _sum_floats(
                        None if leg[greek] is None else leg[greek] * float(share)
                        for leg, share in zip(legs, shares, strict=True)
                    )
                    for greek in ("delta", "gamma", "theta", "vega", "rho")
                },
                # The broker's figures for the underlying: any leg's (they share it).
                "iv_rank": next(
                    (leg["iv_rank"] for leg in legs if leg["iv_rank"] is not None), None
                ),
                "iv_percentile": next(
                    (leg["iv_percentile"] for leg in legs if leg["iv_percentile"] is not None), None
                ),
                "expired": group.expired,
                "is_future": futures,
                # What a collapsed row shows: the strikes and the underlying's price.
                "strikes": sorted({leg["strike_price"] for leg in legs if leg["strike_price"]}),
                "underlying_price": next(
                    (leg["underlying_price"] for leg in legs if leg["underlying_price"]), None
                ),
                "contracts": sum(abs(part.quantity) for part in parts) if futures else None,
                "notional": _sum_money(
                    None if leg["current_value"] is None else abs(leg["current_value"] * share)
                    for leg, share in zip(legs, shares, strict=True)
                )
                if futures
                else None,
                "legs": legs,
            }
        )
    groups.sort(
        key=lambda g: (
            g["underlying_symbol"],
            g["expiration_date"] or dt.date.max,
            g["strategy_type"],
            g["group_id"],
        )
    )
    return groups


def _position_row(row: dict, today: dt.date) -> dict:
    """Return a book row with the positions endpoint's computed columns."""
    known = row["premium_received"] is not None and row["current_value"] is not None
    expiry = row["expiration_date"]
    return {
        **row,
        "dte": (expiry - today).days if expiry is not None else None,
        "unrealized_pnl": row["premium_received"] + row["current_value"] if known else None,
    }


def _cents(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"), ROUND_HALF_UP)


def _sum_pro_rata(legs, shares, column: str) -> Decimal | None:
    """Sum the group's share of each leg's ``column`` ($), to the cent; None if any is unknown."""
    return _cents(
        _sum_money(
            None if leg[column] is None else leg[column] * share
            for leg, share in zip(legs, shares, strict=True)
        )
    )


def percent_of_max_profit(
    *,
    unrealized_pnl: Decimal | None,
    max_profit: Decimal | None,
    net_credit: Decimal | None,
    undefined_risk: bool | None,
) -> Decimal | None:
    """Return the share of the group's max profit captured, in % to 0.1 (100 = all of it).

    Only for credit groups and defined-risk groups with a bounded, positive
    max profit; measured on premium_received + current_value (before fees),
    as the broker shows it. None otherwise.
    """
    if unrealized_pnl is None or max_profit is None or max_profit <= 0:
        return None
    is_credit = net_credit is not None and net_credit > 0
    if not is_credit and undefined_risk is not False:
        return None
    return (unrealized_pnl / max_profit * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _sum_money(values) -> Decimal | None:
    total = Decimal("0.00")
    for value in values:
        if value is None:
            return None
        total += value
    return total


def _sum_floats(values) -> float | None:
    known = [value for value in values if value is not None]
    return sum(known) if known else None
