"""The demo trader's manual book: a realistic options portfolio for `make run`.

Expirations are derived from today (third-Friday monthlies), so DTE stays
realistic whenever the demo is created. ``demo_portfolio_create`` writes it;
pricing the legs is the caller's next step (metrics re-prices stored books).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from portfolios.models import Portfolio, Position
from portfolios.services import positions_regroup

DEMO_PORTFOLIO_NAME = "Demo: held elsewhere"


def third_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 14)


def monthly_expiry(today: dt.date, months_ahead: int) -> dt.date:
    month_index = today.month - 1 + months_ahead
    expiry = third_friday(today.year + month_index // 12, month_index % 12 + 1)
    if expiry <= today:
        return monthly_expiry(today, months_ahead + 1)
    return expiry


@dataclass(frozen=True)
class DemoLeg:
    underlying: str
    instrument_type: str
    quantity: int | Decimal
    average_open_price: Decimal
    mark: Decimal
    underlying_price: Decimal
    option_type: str | None = None
    strike: Decimal | None = None
    months_ahead: int = 1
    multiplier: Decimal = Decimal(100)
    beta: float | None = None
    opening_order_id: str = ""


def demo_legs() -> list[DemoLeg]:
    D = Decimal
    return [
        DemoLeg(
            "SPY",
            "Equity Option",
            -2,
            D("4.35"),
            D("3.10"),
            D("561.21"),
            "P",
            D("540"),
            1,
            beta=1.0,
            opening_order_id="d1",
        ),
        DemoLeg(
            "AAPL",
            "Equity Option",
            -1,
            D("2.10"),
            D("1.55"),
            D("228.40"),
            "P",
            D("210"),
            1,
            beta=1.2,
            opening_order_id="d2",
        ),
        DemoLeg(
            "AAPL",
            "Equity Option",
            -1,
            D("1.90"),
            D("2.35"),
            D("228.40"),
            "C",
            D("245"),
            1,
            beta=1.2,
            opening_order_id="d2",
        ),
        DemoLeg(
            "QQQ",
            "Equity Option",
            -3,
            D("3.20"),
            D("2.05"),
            D("482.10"),
            "P",
            D("460"),
            2,
            beta=1.1,
            opening_order_id="d3",
        ),
        DemoLeg(
            "QQQ",
            "Equity Option",
            3,
            D("1.80"),
            D("1.05"),
            D("482.10"),
            "P",
            D("450"),
            2,
            beta=1.1,
            opening_order_id="d3",
        ),
        DemoLeg(
            "IWM",
            "Equity Option",
            -2,
            D("1.40"),
            D("0.95"),
            D("221.30"),
            "P",
            D("205"),
            1,
            beta=1.15,
            opening_order_id="d4",
        ),
        DemoLeg(
            "IWM",
            "Equity Option",
            2,
            D("0.70"),
            D("0.40"),
            D("221.30"),
            "P",
            D("200"),
            1,
            beta=1.15,
            opening_order_id="d4",
        ),
        DemoLeg(
            "IWM",
            "Equity Option",
            -2,
            D("1.20"),
            D("0.85"),
            D("221.30"),
            "C",
            D("235"),
            1,
            beta=1.15,
            opening_order_id="d4",
        ),
        DemoLeg(
            "IWM",
            "Equity Option",
            2,
            D("0.55"),
            D("0.35"),
            D("221.30"),
            "C",
            D("240"),
            1,
            beta=1.15,
            opening_order_id="d4",
        ),
        DemoLeg(
            "KO",
            "Equity",
            200,
            D("61.20"),
            D("63.45"),
            D("63.45"),
            multiplier=1,
            beta=0.6,
            opening_order_id="d5",
        ),
        DemoLeg(
            "KO",
            "Equity Option",
            -2,
            D("0.85"),
            D("0.60"),
            D("63.45"),
            "C",
            D("66"),
            1,
            beta=0.6,
            opening_order_id="d5",
        ),
        DemoLeg(
            "MSFT", "Equity", 50, D("402.10"), D("415.80"), D("415.80"), multiplier=1, beta=0.9
        ),
        # What real books hold besides options: a micro future with a fractional
        # multiplier (symbol from the front quarter, see front_future) and a coin.
        DemoLeg(
            "/MYM", "Future", -2, D("44100"), D("44010"), D("44010"), multiplier=D("0.5"), beta=0.9
        ),
        DemoLeg(
            "BTC/USD",
            "Cryptocurrency",
            D("0.01234567"),
            D("95000.00"),
            D("97000.00"),
            D("97000.00"),
            multiplier=D(1),
            beta=1.8,
        ),
    ]


def front_future(product: str, today: dt.date) -> str:
    """Return the front quarterly contract of a futures product, e.g. /MYMH7."""
    month = next(m for m in (3, 6, 9, 12, 15) if m > today.month or (m == today.month))
    year = today.year + (month > 12)
    month = (month - 1) % 12 + 1
    return f"{product}{'FGHJKMNQUVXZ'[month - 1]}{year % 10}"


def occ_symbol(underlying: str, expiry: dt.date, option_type: str, strike: Decimal) -> str:
    return f"{underlying:<6}{expiry:%y%m%d}{option_type}{int(strike * 1000):08d}"


# Cash beside the legs, so the demo's net liquidation value looks like an account's.
DEMO_CASH = Decimal(50_000)


@transaction.atomic
def demo_portfolio_create(*, user, today: dt.date) -> Portfolio | None:
    """Create the demo manual portfolio with its legs, grouped; None if it exists already.

    Money as DESIGN.md §5: premium_received = −open price × quantity ×
    multiplier, current_value = mark × quantity × multiplier, in $.
    """
    portfolio, created = Portfolio.objects.get_or_create(
        user=user,
        name=DEMO_PORTFOLIO_NAME,
        defaults={"account_type": Portfolio.AccountType.MANUAL},
    )
    if not created:
        return None
    legs = [_position(portfolio, leg, today) for leg in demo_legs()]
    Position.objects.bulk_create(legs)
    portfolio.net_liquidation_value = sum((leg.current_value for leg in legs), start=DEMO_CASH)
    portfolio.save(update_fields=["net_liquidation_value", "updated_at"])
    positions_regroup(portfolio=portfolio)
    return portfolio


def _position(portfolio: Portfolio, leg: DemoLeg, today: dt.date) -> Position:
    expiry = monthly_expiry(today, leg.months_ahead) if leg.option_type else None
    if leg.instrument_type == "Future":
        symbol = front_future(leg.underlying, today)
    elif leg.option_type:
        symbol = occ_symbol(leg.underlying, expiry, leg.option_type, leg.strike)
    else:
        symbol = leg.underlying
    return Position(
        portfolio=portfolio,
        symbol=symbol,
        underlying_symbol=symbol if leg.instrument_type == "Future" else leg.underlying,
        instrument_type=leg.instrument_type,
        option_type=leg.option_type,
        strike_price=leg.strike,
        expiration_date=expiry,
        quantity=leg.quantity,
        multiplier=leg.multiplier,
        open_date=today - dt.timedelta(days=14),
        average_open_price=leg.average_open_price,
        premium_received=-leg.average_open_price * leg.quantity * leg.multiplier,
        mark=leg.mark,
        current_value=leg.mark * leg.quantity * leg.multiplier,
        underlying_price=leg.underlying_price,
        beta=leg.beta,
        opening_order_id=leg.opening_order_id,
        strategy_type="stock" if leg.option_type is None else "other",
    )
