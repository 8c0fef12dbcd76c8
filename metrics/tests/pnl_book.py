"""A hand-computed P/L book: a short put, an iron condor, stock, a future, with fees.

Every figure is worked out by hand from DESIGN.md §5:
pnl_open = premium_received + current_value − fees since open;
pnl_day = current_value − previous close × quantity × multiplier, or for a leg
opened today, premium_received + current_value.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from portfolios.models import Position, Transaction
from portfolios.selectors import market_today
from portfolios.tests.factories import make_portfolio
from thetavue_site import rls


def leg(portfolio, symbol, **fields) -> Position:
    quantity = Decimal(fields.pop("quantity"))
    multiplier = fields.pop("multiplier", 100)
    average, mark = Decimal(fields.pop("average")), Decimal(fields.pop("mark"))
    return Position.objects.create(
        portfolio=portfolio,
        symbol=symbol,
        quantity=quantity,
        multiplier=multiplier,
        average_open_price=average,
        premium_received=(-average * quantity * multiplier).quantize(Decimal("0.01")),
        mark=mark,
        current_value=(mark * quantity * multiplier).quantize(Decimal("0.01")),
        **fields,
    )


def fee(portfolio, symbol, amount: str, date: dt.date, broker_id: int) -> None:
    Transaction.objects.create(
        portfolio=portfolio,
        broker_transaction_id=broker_id,
        transaction_type="Trade",
        action="Sell to Open",
        symbol=symbol,
        value=Decimal("0"),
        net_value=-Decimal(amount),
        fees=Decimal(amount),
        transaction_date=date,
    )


def make_pnl_book(owner, *, name: str = "Hand P/L"):
    """Create the hand-computed book of this module's docstring for `owner`."""
    today = market_today()
    opened = today - dt.timedelta(days=10)
    expiry = today + dt.timedelta(days=30)
    exp = f"{expiry:%y%m%d}"
    option = {"instrument_type": "Equity Option", "expiration_date": expiry, "open_date": opened}
    with rls.as_service():
        portfolio = make_portfolio(owner=owner, name=name)
        # Short put: +150.00 credit, now −100.00; closed yesterday at 1.20; 1.14 of fees.
        leg(
            portfolio,
            f"XYZ   {exp}P00045000",
            underlying_symbol="XYZ",
            option_type="P",
            strike_price=Decimal("45"),
            quantity=-1,
            average="1.50",
            mark="1.00",
            previous_close=Decimal("1.20"),
            strategy_type="short_put",
            strategy_group_id="put",
            **option,
        )
        fee(portfolio, f"XYZ   {exp}P00045000", "1.14", opened, 1)
        # Iron condor 490/500/560/570: credit 200 − 80 + 220 − 100 = 240; 1.15 of fees a leg.
        condor = [
            ("C", "560", -1, "2.00", "1.50", "1.60"),
            ("C", "570", 1, "0.80", "0.50", "0.55"),
            ("P", "500", -1, "2.20", "1.80", "2.00"),
            ("P", "490", 1, "1.00", "0.70", "0.90"),
        ]
        for index, (kind, strike, quantity, average, mark, close) in enumerate(condor):
            symbol = f"SPY   {exp}{kind}{int(strike) * 1000:08d}"
            leg(
                portfolio,
                symbol,
                underlying_symbol="SPY",
                option_type=kind,
                strike_price=Decimal(strike),
                quantity=quantity,
                average=average,
                mark=mark,
                previous_close=Decimal(close),
                strategy_type="iron_condor",
                strategy_group_id="condor",
                underlying_price=Decimal("530"),
                **option,
            )
            fee(portfolio, symbol, "1.15", opened, 10 + index)
        # 100 KO: −6,000 debit, now 6,250, closed at 62.00. A fee of an earlier
        # campaign in KO, before this open date, is not this position's.
        leg(
            portfolio,
            "KO",
            underlying_symbol="KO",
            instrument_type="Equity",
            quantity=100,
            multiplier=1,
            average="60",
            mark="62.50",
            previous_close=Decimal("62.00"),
            open_date=opened,
            strategy_type="stock",
        )
        fee(portfolio, "KO", "5.00", opened - dt.timedelta(days=30), 20)
        # 2 /MES bought today at 6,000.00 (×5): now 6,010.25; 3.74 of fees. Opened
        # today, so its day P/L is against the open price, not yesterday's 6,020.
        leg(
            portfolio,
            "/MESZ6",
            underlying_symbol="/MESZ6",
            instrument_type="Future",
            quantity=2,
            multiplier=5,
            average="6000.00",
            mark="6010.25",
            previous_close=Decimal("6020.00"),
            open_date=today,
            expiration_date=today + dt.timedelta(days=60),
            strategy_type="other",
        )
        fee(portfolio, "/MESZ6", "3.74", today, 30)
    return portfolio


# put: 150 − 100 − 1.14 = 48.86; day −100 + 120 = +20.00
# condor: 240 − 210 − 4.60 = 25.40; day (−150 + 160) + (50 − 55) + (−180 + 200) + (70 − 90) = 5.00
# KO: −6000 + 6250 − 0 = 250.00; day 6250 − 6200 = 50.00
# /MES: −60000 + 60102.50 − 3.74 = 98.76; day (opened today) +102.50
EXPECTED_OPEN = Decimal("48.86") + Decimal("25.40") + Decimal("250.00") + Decimal("98.76")
EXPECTED_DAY = Decimal("20.00") + Decimal("5.00") + Decimal("50.00") + Decimal("102.50")
