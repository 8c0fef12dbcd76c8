"""Small factories with an explicit owner; call them inside rls.as_service() or as_user()."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portfolios.models import Portfolio, Position
from tradeplans.models import TradePlan, TradePlanStrategy

EXPIRY = dt.date(2026, 5, 15)


def make_portfolio(*, owner, name: str = "Main", account_type: str = "margin", **fields):
    if account_type != "manual":
        fields.setdefault("broker_account_id", f"5WT{Portfolio.objects.count():05d}")
    fields.setdefault("net_liquidation_value", Decimal("100000.00"))
    return Portfolio.objects.create(user=owner, name=name, account_type=account_type, **fields)


def make_option(
    *,
    portfolio: Portfolio,
    underlying: str,
    option_type: str,
    strike: str,
    quantity: int,
    open_price: str,
    mark: str,
    underlying_price: str,
    delta: str | None = None,
    beta: float | None = None,
    expiration: dt.date = EXPIRY,
    group_id: str = "",
    strategy_type: str = "other",
    **fields,
) -> Position:
    """Create one option leg; ``delta`` is the option's own Δ per contract (puts < 0).

    Stored figures follow DESIGN.md §5: premium_received = −open × q × 100,
    current_value = mark × q × 100, delta = Δ × q × 100 (gamma, theta and vega
    0 unless given, so the leg counts as priced).
    """
    units = Decimal(quantity) * 100
    if delta is not None:
        # A priced leg stores all four greeks (the sync prices them together).
        fields = {"gamma": 0.0, "theta": 0.0, "vega": 0.0, **fields}
    symbol = f"{underlying:<6}{expiration:%y%m%d}{option_type}{int(Decimal(strike) * 1000):08d}"
    return Position.objects.create(
        portfolio=portfolio,
        symbol=symbol,
        underlying_symbol=underlying,
        instrument_type="Equity Option",
        option_type=option_type,
        strike_price=Decimal(strike),
        expiration_date=expiration,
        quantity=Decimal(quantity),
        multiplier=100,
        average_open_price=Decimal(open_price),
        premium_received=-Decimal(open_price) * units,
        mark=Decimal(mark),
        current_value=Decimal(mark) * units,
        underlying_price=Decimal(underlying_price),
        delta=None if delta is None else float(Decimal(delta) * units),
        beta=beta,
        greeks_source="implied" if delta is not None else "none",
        strategy_group_id=group_id,
        strategy_type=strategy_type,
        **fields,
    )


def make_plan(*, owner, name: str = "Income plan", strategies=(), **fields) -> TradePlan:
    plan = TradePlan.objects.create(user=owner, name=name, **fields)
    for rule in strategies:
        TradePlanStrategy.objects.create(trade_plan=plan, **rule)
    return plan
