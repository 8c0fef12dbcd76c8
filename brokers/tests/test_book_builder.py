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


def _position(symbol, instrument_type, underlying, quantity=-1, multiplier=100):
    from brokers.tastytrade import client as tt

    return tt.Position(
        account_number="5WT1",
        symbol=symbol,
        instrument_type=instrument_type,
        underlying_symbol=underlying,
        quantity=Decimal(quantity),
        quantity_direction="Short" if quantity < 0 else "Long",
        multiplier=Decimal(multiplier),
        average_open_price=Decimal("3.00"),
        close_price=None,
        mark_price=None,
        mark=None,
        cost_effect=None,
        expires_at=dt.datetime(2026, 4, 17, 20, 0, tzinfo=dt.UTC),
        realized_day_gain=None,
        realized_today=None,
        streamer_symbol=None,
        created_at=T0,
        updated_at=T0,
    )


def _quote(symbol, price):
    from brokers.tastytrade import client as tt

    names = [f.name for f in tt.Quote.__dataclass_fields__.values()]
    values = dict.fromkeys(names)
    return tt.Quote(**(values | {"symbol": symbol, "mark": Decimal(price)}))


def _metric(symbol, iv_rank, iv_percentile):
    from brokers.tastytrade import client as tt

    return tt.MarketMetric(
        symbol=symbol,
        beta=Decimal("1.1"),
        dividend_yield=Decimal("0.005"),
        iv_index=Decimal("0.25"),
        iv_index_rank=Decimal(iv_rank),
        iv_percentile=Decimal(iv_percentile),
        iv_30_day=None,
        hv_30_day=None,
        earnings_date=None,
        expiration_ivs=(),
    )


def test_built_legs_carry_exercise_style_iv_rank_percentile_and_rho():
    from brokers.book_builder import MarketData, build_legs

    # given: an American equity put and a European SPXW put
    aapl = "AAPL  260417P00170000"
    spxw = "SPXW  260417P05000000"
    market = MarketData(
        quotes={
            aapl: _quote(aapl, "4.10"),
            "AAPL": _quote("AAPL", "175.00"),
            spxw: _quote(spxw, "60.00"),
            "SPX": _quote("SPX", "5200.00"),
        },
        metrics={"AAPL": _metric("AAPL", "0.35", "0.62"), "SPX": _metric("SPX", "0.12", "0.30")},
    )
    # when
    legs = build_legs(
        [_position(aapl, "Equity Option", "AAPL"), _position(spxw, "Equity Option", "SPX")],
        market=market,
        account="5WT1",
        account_is_cash=False,
        now=T0,
        rate=0.04,
    )
    # then
    by_symbol = {leg.symbol: leg for leg in legs}
    assert by_symbol[aapl].exercise_style == "American"
    assert by_symbol[spxw].exercise_style == "European"
    assert (by_symbol[aapl].iv_rank, by_symbol[aapl].iv_percentile) == (0.35, 0.62)
    assert (by_symbol[spxw].iv_rank, by_symbol[spxw].iv_percentile) == (0.12, 0.30)
    # A short put gains as rates rise: rho > 0 per position, in $ per rate point.
    assert all(leg.greeks_source == "implied" and leg.rho > 0 for leg in legs)
    assert "rho" in by_symbol[aapl].as_fields()


def test_the_brokers_stated_style_wins_and_the_leg_says_where_its_style_came_from():
    from brokers.book_builder import read_legs

    # given: an index option the table knows (OEX, American), a root it does
    # not know (the table's default: American) that the broker states, a stock
    oex = "OEX   260417P00800000"
    unknown = "NEWX  260417P00050000"
    positions = [
        _position(oex, "Equity Option", "OEX"),
        _position(unknown, "Equity Option", "NEWX"),
        _position("AAPL", "Equity", "AAPL"),
    ]
    # when
    stated, _ = read_legs(positions, stated_styles={unknown: "European"})
    unstated, _ = read_legs(positions)
    # then
    assert [(leg.exercise_style, leg.exercise_style_source) for leg in stated] == [
        ("American", "table"),
        ("European", "broker"),
        ("", ""),
    ]
    assert [(leg.exercise_style, leg.exercise_style_source) for leg in unstated] == [
        ("American", "table"),
        ("American", "table"),
        ("", ""),
    ]
