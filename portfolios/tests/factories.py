"""Small factories with an explicit owner; call them inside rls.as_service() or as_user()."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import timezone

from portfolios.models import AccountBalance, Portfolio, Position, Transaction


def make_portfolio(
    *, owner, name: str = "Main", account_type: str = "manual", **fields
) -> Portfolio:
    if account_type != "manual":
        fields.setdefault("broker_account_id", f"5WT{Portfolio.objects.count():05d}{owner.pk[-3:]}")
    fields.setdefault("net_liquidation_value", Decimal("100000.00"))
    return Portfolio.objects.create(user=owner, name=name, account_type=account_type, **fields)


def make_short_put(
    *,
    portfolio: Portfolio,
    underlying: str = "SPY",
    strike: Decimal = Decimal("540"),
    expiration: dt.date | None = None,
    quantity: int = -1,
    **fields,
) -> Position:
    expiration = expiration or (timezone.localdate() + dt.timedelta(days=30))
    symbol = f"{underlying:<6}{expiration:%y%m%d}P{int(strike * 1000):08d}"
    defaults = {
        "underlying_symbol": underlying,
        "instrument_type": "Equity Option",
        "option_type": "P",
        "strike_price": strike,
        "expiration_date": expiration,
        "quantity": Decimal(quantity),
        "multiplier": 100,
        "average_open_price": Decimal("4.35"),
        "premium_received": Decimal("-4.35") * quantity * 100,
        "mark": Decimal("3.10"),
        "current_value": Decimal("3.10") * quantity * 100,
        "underlying_price": Decimal("560.00"),
        "strategy_type": "short_put",
    }
    defaults.update(fields)
    return Position.objects.create(portfolio=portfolio, symbol=symbol, **defaults)


def priced_short_put(
    *, portfolio: Portfolio, underlying: str, strike: Decimal, expiration: dt.date, group_id: str
) -> Position:
    """Return an unsaved short put, priced as a sync leaves it (Δ +30, Θ +5, ν −10 per leg)."""
    return Position(
        portfolio=portfolio,
        symbol=f"{underlying:<6}{expiration:%y%m%d}P{int(strike * 1000):08d}",
        underlying_symbol=underlying,
        instrument_type="Equity Option",
        option_type="P",
        strike_price=strike,
        expiration_date=expiration,
        quantity=Decimal(-1),
        multiplier=100,
        average_open_price=Decimal("2.00"),
        premium_received=Decimal("200.00"),
        mark=Decimal("1.50"),
        current_value=Decimal("-150.00"),
        underlying_price=Decimal("150.00"),
        strategy_type="short_put",
        strategy_group_id=group_id,
        delta=30.0,
        gamma=-1.0,
        theta=5.0,
        vega=-10.0,
        implied_volatility=0.25,
        greeks_source="implied",
        beta=1.1,
    )


def make_book(*, portfolio: Portfolio, n_positions: int) -> list[Position]:
    """Create `n_positions` distinct short puts (strikes 1 apart) in one statement."""
    expiration = timezone.localdate() + dt.timedelta(days=30)
    legs = [
        priced_short_put(
            portfolio=portfolio,
            underlying="XYZ",
            strike=Decimal(100 + index),
            expiration=expiration,
            group_id=f"g{index}",
        )
        for index in range(n_positions)
    ]
    return Position.objects.bulk_create(legs)


def make_balance(
    *, portfolio: Portfolio, net_liq: Decimal = Decimal("100000.00")
) -> AccountBalance:
    return AccountBalance.objects.create(portfolio=portfolio, net_liquidating_value=net_liq)


def make_transaction(
    *, portfolio: Portfolio, broker_id: int, net_value: Decimal = Decimal("100.00"), **fields
) -> Transaction:
    defaults = {
        "transaction_type": "Trade",
        "action": "Sell to Open",
        "instrument_type": "Equity Option",
        "value": net_value,
        "net_value": net_value,
        "transaction_date": timezone.localdate(),
    }
    defaults.update(fields)
    return Transaction.objects.create(
        portfolio=portfolio, broker_transaction_id=broker_id, **defaults
    )
