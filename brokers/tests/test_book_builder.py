"""Opening orders and roll campaigns from fills (pure)."""

import datetime as dt
from decimal import Decimal

from brokers.book_builder import TradeFill, opening_orders
from portfolios.strategies import LegView, detect_strategies

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def fill(symbol, action, order, minutes, broker_id):
    return TradeFill(symbol, action, order, T0 + dt.timedelta(minutes=minutes), broker_id)


def test_legs_opened_together_share_their_order():
    fills = [fill("P1", "Sell to Open", "A", 0, 1), fill("C1", "Sell to Open", "A", 0, 2)]
    assert opening_orders(fills) == {"P1": "A", "C1": "A"}


def test_a_roll_keeps_the_campaign_of_what_it_closed():
    fills = [
        fill("P1", "Sell to Open", "A", 0, 1),
        fill("C1", "Sell to Open", "A", 0, 2),
        # Roll the put down and out in one order.
        fill("P1", "Buy to Close", "B", 60, 3),
        fill("P2", "Sell to Open", "B", 60, 4),
        # A separate, later trade on the same underlying is its own campaign.
        fill("P3", "Sell to Open", "C", 90, 5),
    ]
    assert opening_orders(reversed(fills)) == {"P1": "A", "C1": "A", "P2": "A", "P3": "C"}


def test_adding_to_a_position_keeps_its_first_campaign():
    fills = [fill("P1", "Sell to Open", "A", 0, 1), fill("P1", "Sell to Open", "B", 30, 2)]
    assert opening_orders(fills) == {"P1": "A"}


def test_a_rolled_strangle_is_detected_as_one_group():
    campaigns = opening_orders(
        [
            fill("P_old", "Sell to Open", "A", 0, 1),
            fill("C", "Sell to Open", "A", 0, 2),
            fill("P_old", "Buy to Close", "B", 60, 3),
            fill("P_z_rolled", "Sell to Open", "B", 60, 4),
            fill("P_other", "Sell to Open", "X", 70, 5),
        ]
    )
    expiry = dt.date(2026, 4, 17)

    def leg(symbol, option_type, strike):
        return LegView(
            id=symbol,
            account="5WT1",
            underlying="XYZ",
            instrument_type="Equity Option",
            quantity=-1,
            multiplier=100,
            option_type=option_type,
            strike=Decimal(strike),
            expiration=expiry,
            premium_received=Decimal(100),
            opening_order_id=campaigns[symbol],
        )

    groups = detect_strategies(
        [leg("P_z_rolled", "P", 90), leg("C", "C", 110), leg("P_other", "P", 90)]
    )
    by_legs = {tuple(sorted(g.leg_ids)): g.strategy_type.value for g in groups}
    assert by_legs == {("C", "P_z_rolled"): "short_strangle", ("P_other",): "short_put"}
