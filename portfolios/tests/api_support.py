"""Helpers for the portfolio API tests: seeding, database snapshots, expected JSON."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from brokers.models import BrokerConnection
from portfolios.models import Portfolio, Position, Transaction
from portfolios.selectors import market_today
from portfolios.tests.factories import make_portfolio
from thetavue_site import rls

POSITION_FIELDS_DESIGN = [
    # DESIGN.md §11 "a position", in its order.
    "id",
    "portfolio_id",
    "symbol",
    "underlying_symbol",
    "instrument_type",
    "option_type",
    "strike_price",
    "expiration_date",
    "open_date",
    "quantity",
    "multiplier",
    "strategy_type",
    "strategy_group_id",
    "mark",
    "underlying_price",
    "implied_volatility",
    "greeks_source",
    "beta",
    "premium_received",
    "current_value",
    "unrealized_pnl",
    "delta",
    "gamma",
    "theta",
    "vega",
    "updated_at",
]
POSITION_EXTRAS = [
    "dte",
    "average_open_price",
    "iv_status",
    "rho",
    "exercise_style",
    "exercise_style_source",
    "iv_rank",
    "iv_percentile",
    "previous_close",
    "fees_since_open",
    "pnl_open",
    "pnl_day",
]


def db_state() -> dict:
    """Everything the portfolio API can write, as plain values (for before/after checks)."""
    with rls.as_service():
        return {
            "portfolios": list(Portfolio.objects.order_by("id").values()),
            "positions": list(Position.objects.order_by("id").values()),
            "connections": list(
                BrokerConnection.objects.order_by("id").values("id", "excluded_account_ids")
            ),
        }


def make_connection(*, owner, excluded: list[str] | None = None) -> BrokerConnection:
    return BrokerConnection.objects.create(
        user=owner, environment="sandbox", excluded_account_ids=excluded or []
    )


def make_synced(*, owner, connection=None, name="Tasty margin", account_id="5WT00001"):
    return make_portfolio(
        owner=owner,
        name=name,
        account_type="margin",
        broker_account_id=account_id,
        broker_connection=connection,
        synced_at=dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC),
    )


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _money(value: Decimal | None, places: int) -> str | None:
    if value is None:
        return None
    return f"{value:.{places}f}"


def _number(value) -> float | None:
    return None if value is None else float(value)


def position_json(position: Position, *, today: dt.date | None = None) -> dict:
    """Return the JSON the API should give for a stored leg, built from the row itself."""
    position.refresh_from_db()
    today = today or market_today()
    premium, value = position.premium_received, position.current_value
    quantity = position.quantity
    # Fees and P/L per DESIGN.md §5, worked out here from the rows themselves.
    fees = sum(
        (
            t.fees
            for t in Transaction.objects.filter(
                portfolio_id=position.portfolio_id, symbol=position.symbol
            )
            if position.open_date is None or t.transaction_date >= position.open_date
        ),
        Decimal("0.00"),
    )
    known = premium is not None and value is not None
    pnl_day = None
    if position.open_date == today:
        pnl_day = premium + value if known else None
    elif position.previous_close is not None and value is not None:
        base = (position.previous_close * quantity * position.multiplier).quantize(Decimal("0.01"))
        pnl_day = value - base
    return {
        "id": position.pk,
        "portfolio_id": position.portfolio_id,
        "symbol": position.symbol,
        "underlying_symbol": position.underlying_symbol,
        "instrument_type": position.instrument_type,
        "option_type": position.option_type,
        "strike_price": _money(position.strike_price, 6),
        "expiration_date": position.expiration_date and position.expiration_date.isoformat(),
        "dte": (position.expiration_date - today).days if position.expiration_date else None,
        "open_date": position.open_date and position.open_date.isoformat(),
        "quantity": int(quantity) if quantity == quantity.to_integral_value() else float(quantity),
        # A decimal string without trailing zeros: "100", "0.5".
        "multiplier": format(position.multiplier.normalize(), "f"),
        "strategy_type": position.strategy_type,
        "strategy_group_id": position.strategy_group_id,
        "average_open_price": _money(position.average_open_price, 6),
        "mark": _money(position.mark, 6),
        "previous_close": _money(position.previous_close, 6),
        "underlying_price": _money(position.underlying_price, 6),
        "implied_volatility": _number(position.implied_volatility),
        "iv_status": position.iv_status,
        "greeks_source": position.greeks_source,
        "beta": _number(position.beta),
        "premium_received": _money(premium, 2),
        "current_value": _money(value, 2),
        "unrealized_pnl": _money(premium + value, 2)
        if premium is not None and value is not None
        else None,
        "fees_since_open": _money(fees, 2),
        "pnl_open": _money(premium + value - fees, 2) if known else None,
        "pnl_day": _money(pnl_day, 2),
        "delta": _number(position.delta),
        "gamma": _number(position.gamma),
        "theta": _number(position.theta),
        "vega": _number(position.vega),
        "rho": _number(position.rho),
        "exercise_style": position.exercise_style,
        "exercise_style_source": position.exercise_style_source,
        "iv_rank": _number(position.iv_rank),
        "iv_percentile": _number(position.iv_percentile),
        "updated_at": iso(position.updated_at),
    }
