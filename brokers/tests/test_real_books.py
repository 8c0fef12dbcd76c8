"""Real books through the book builder (pure): micro futures and their options in
the broker's real symbol formats, fractional multipliers, a crypto holding, and
legs that cannot be read or priced set aside with their reason.

Values are computed by hand in the comments: value = mark × quantity × multiplier.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from brokers import book_builder
from brokers.book_builder import MarketData, build_legs
from brokers.tastytrade import client as tt

NOW = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)
D = Decimal


def position(symbol, instrument_type, quantity, multiplier, *, underlying=None, **extra):
    signed = D(quantity)
    return tt.Position(
        account_number="5WT00001",
        symbol=symbol,
        instrument_type=instrument_type,
        underlying_symbol=underlying,
        quantity=signed,
        quantity_direction="Long" if signed > 0 else "Short",
        multiplier=D(multiplier),
        average_open_price=extra.get("average_open_price"),
        close_price=None,
        mark_price=None,
        mark=None,
        cost_effect=None,
        expires_at=extra.get("expires_at"),
        realized_day_gain=None,
        realized_today=None,
        streamer_symbol=None,
        created_at=None,
        updated_at=None,
    )


def quote(symbol, mark):
    return tt.Quote(
        symbol=symbol,
        instrument_type=None,
        bid=None,
        ask=None,
        mid=None,
        mark=D(mark),
        last=None,
        close=None,
        prev_close=None,
        volume=None,
        open_interest=None,
        updated_at=None,
        volatility=None,
        delta=None,
        gamma=None,
        theta=None,
        vega=None,
        rho=None,
        theo_price=None,
    )


def metric(symbol, beta):
    return tt.MarketMetric(
        symbol=symbol,
        beta=D(beta),
        dividend_yield=None,
        iv_index=None,
        iv_index_rank=None,
        iv_percentile=None,
        iv_30_day=None,
        hv_30_day=None,
        earnings_date=None,
        expiration_ivs=(),
    )


def book(positions, quotes, metrics=()):
    aside: list[book_builder.SetAside] = []
    legs = build_legs(
        positions,
        market=MarketData(
            quotes={q.symbol: q for q in quotes}, metrics={m.symbol: m for m in metrics}
        ),
        account="5WT00001",
        account_is_cash=False,
        now=NOW,
        rate=0.04,
        set_aside=aside,
    )
    return {leg.symbol: leg for leg in legs}, aside


MES_OPTION = "./MESU6EX3U6 260918C6450"  # no space: the six-character future fills the column
MYM = "/MYMU6"
MBT = "/MBTM6"
BTC = "BTC/USD"


def real_book():
    return [
        position(
            MES_OPTION, "Future Option", 1, 5, underlying="/MESU6", average_open_price=D("40.00")
        ),
        position(MYM, "Future", -2, "0.5", underlying=MYM, average_open_price=D("44100")),
        position(MBT, "Future", 3, "0.1", underlying=MBT),
        position(BTC, "Cryptocurrency", "0.01234567", 1, average_open_price=D("95000.00")),
    ]


def real_quotes():
    return [
        quote(MES_OPTION, "42.25"),
        quote("/MESU6", "6400.00"),
        quote(MYM, "44010"),
        quote(MBT, "102500"),
        quote(BTC, "97000.00"),
        quote("SPY", "600.00"),
    ]


def test_a_micro_future_option_in_the_no_space_form_is_read_and_valued():
    legs, aside = book(real_book(), real_quotes())
    leg = legs[MES_OPTION]
    assert aside == []
    assert (leg.underlying_symbol, leg.option_type, leg.strike_price) == ("/MESU6", "C", D(6450))
    assert leg.expiration_date == dt.date(2026, 9, 18)
    assert leg.multiplier == D(5)
    # 42.25 × 1 × 5 = 211.25; premium −40.00 × 1 × 5 = −200.00
    assert leg.current_value == D("211.25")
    assert leg.premium_received == D("-200.00")
    assert leg.greeks_source == "implied" and 0 < leg.delta < 5


def test_fractional_multipliers_are_kept_not_rounded_to_one():
    legs, _ = book(real_book(), real_quotes())
    mym, mbt = legs[MYM], legs[MBT]
    # −2 /MYM at 44,010 × 0.5 = −44,010.00 (rounding 0.5 to 1 gave −88,020)
    assert (mym.multiplier, mym.current_value) == (D("0.5"), D("-44010.00"))
    # premium: −44,100 × −2 × 0.5 = +44,100.00
    assert mym.premium_received == D("44100.00")
    # delta of a future is quantity × multiplier: −2 × 0.5 = −1 index-point unit
    assert mym.delta == pytest.approx(-1.0)
    # 3 /MBT at 102,500 × 0.1 = 30,750.00 (not 307,500)
    assert (mbt.multiplier, mbt.current_value) == (D("0.1"), D("30750.00"))
    assert mbt.delta == pytest.approx(0.3)


def test_a_crypto_holding_is_held_priced_at_its_mark_with_delta_one_per_unit():
    legs, _ = book(real_book(), real_quotes(), [metric(BTC, "1.8")])
    btc = legs[BTC]
    assert (btc.instrument_type, btc.underlying_symbol) == ("Cryptocurrency", BTC)
    assert btc.quantity == D("0.01234567")
    # 97,000 × 0.01234567 = 1,197.52999 → 1,197.53; premium −95,000 × 0.01234567 = −1,172.84
    assert btc.current_value == D("1197.53")
    assert btc.premium_received == D("-1172.84")
    assert btc.delta == pytest.approx(0.01234567)
    assert btc.greeks_source == "linear" and btc.beta == 1.8


def test_a_crypto_holding_without_a_metric_has_no_beta_to_assume():
    legs, _ = book(real_book(), real_quotes())
    assert legs[BTC].beta is None  # the exposure counts it in legs_beta_missing


def test_crypto_is_quoted_under_its_own_key():
    legs, _ = book(real_book(), real_quotes())
    request = book_builder.quote_request(list(legs.values()))
    assert request["cryptocurrency"] == [BTC]
    assert BTC not in request["equity"]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (position("912828ZT0", "Bond", 10, 1), "instrument type 'Bond' is not supported"),
        (
            position("./MESU6 EX3U6 26091C6450", "Future Option", 1, 5, underlying="/MESU6"),
            "unreadable symbol: not a futures option symbol",
        ),
        (position("/MNQU6", "Future", 1, 2, underlying="/MNQU6"), "no mark in the market data"),
        (position("/MYMZ6", "Future", 1, 0, underlying="/MYMZ6"), "multiplier of 0"),
    ],
    ids=["unknown-instrument-type", "unparseable-symbol", "missing-mark", "zero-multiplier"],
)
def test_one_bad_leg_is_set_aside_with_its_reason_and_the_rest_is_built(bad, reason):
    quotes = [*real_quotes(), quote("/MYMZ6", "44500")]
    legs, aside = book([*real_book(), bad], quotes)
    assert sorted(legs) == sorted([MES_OPTION, MYM, MBT, BTC])
    [kept_aside] = aside
    assert (kept_aside.symbol, kept_aside.instrument_type) == (bad.symbol, bad.instrument_type)
    assert reason in kept_aside.reason
    assert kept_aside.as_json()["quantity"] == format(bad.quantity.normalize(), "f")


def test_an_expired_leg_without_a_quote_stays_in_the_book():
    expired = position("SPY   260515P00500000", "Equity Option", -1, 100, underlying="SPY")
    legs, aside = book([expired], [quote("SPY", "600.00")])
    assert aside == [] and list(legs) == ["SPY   260515P00500000"]
