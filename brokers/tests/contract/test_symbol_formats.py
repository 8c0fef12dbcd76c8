"""Symbols in every real format, generated: OCC-padded equity and index options
(SPXW, BRK/B roots), futures, futures options with zero, one and two spaces,
decimal strikes, micro futures, and crypto pairs.

For equity options the SDK is the oracle (its OCC → streamer conversion must
give the strike and expiry we read); for the rest the generated parts are.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tastytrade.instruments import Option

from brokers import book_builder
from brokers.tastytrade import client as tt
from portfolios.symbols import parse_future, parse_future_option, parse_occ

EXAMPLES = 200  # per strategy: 4 strategies, 800 generated symbols a run
MONTH_CODES = "FGHJKMNQUVXZ"
# Standard and micro futures (micro codes fill the six-character column).
FUTURE_PRODUCTS = (
    "ES", "MES", "NQ", "MNQ", "RTY", "M2K", "YM", "MYM", "CL", "MCL", "GC", "MGC",
    "ZN", "ZB", "6E", "BTC", "MBT", "MET", "NG", "SI",
)  # fmt: skip
ROOTS = st.one_of(
    st.sampled_from(["SPXW", "SPX", "BRK/B", "BF/B", "AAPL", "NDXP", "RUTW", "XSP", "QQQ"]),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=6),
)
EXPIRIES = st.dates(min_value=dt.date(2024, 1, 1), max_value=dt.date(2030, 12, 31))
FUTURES = st.tuples(
    st.sampled_from(FUTURE_PRODUCTS),
    st.sampled_from(MONTH_CODES),
    st.integers(0, 9).map(str),
)


@settings(max_examples=EXAMPLES)
@given(
    root=ROOTS,
    expiry=EXPIRIES,
    option_type=st.sampled_from("CP"),
    thousandths=st.integers(1, 99_999_999),
    padded=st.booleans(),
)
def test_occ_equity_and_index_options_read_as_the_sdk_reads_them(
    root, expiry, option_type, thousandths, padded
):
    strike = Decimal(thousandths) / 1000
    body = f"{expiry:%y%m%d}{option_type}{thousandths:08d}"
    symbol = f"{root:<6}{body}" if padded else f"{root} {body}"

    parsed = parse_occ(symbol)

    assert (parsed.root, parsed.expiration, parsed.option_type, parsed.strike) == (
        root,
        expiry,
        option_type,
        strike,
    )
    if padded:
        assert parsed.streamer_symbol == Option.occ_to_streamer_symbol(symbol)


@settings(max_examples=EXAMPLES)
@given(future=FUTURES, two_digit_year=st.booleans())
def test_futures_read_product_month_and_year(future, two_digit_year):
    product, month, year = future
    year = f"2{year}" if two_digit_year else year
    parsed = parse_future(f"/{product}{month}{year}")
    assert (parsed.product, parsed.month_code, parsed.year_digits) == (product, month, year)


OPTION_CODES = st.tuples(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=1),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=3),
    st.sampled_from(MONTH_CODES),
    st.integers(0, 9).map(str),
)
STRIKES = st.one_of(
    st.integers(1, 99_999).map(Decimal),
    st.tuples(st.integers(1, 9_999), st.sampled_from(["25", "5", "75", "125", "05"])).map(
        lambda parts: Decimal(f"{parts[0]}.{parts[1]}")
    ),
)


@settings(max_examples=EXAMPLES)
@given(
    future=FUTURES,
    code=OPTION_CODES,
    expiry=EXPIRIES,
    option_type=st.sampled_from("CP"),
    strike=STRIKES,
    spacing=st.sampled_from(["columns", "one", "two"]),
)
def test_futures_options_read_in_every_spacing(future, code, expiry, option_type, strike, spacing):
    product, month, year = future
    future_code = f"{product}{month}{year}"
    option_code = "".join(code)
    tail = f"{expiry:%y%m%d}{option_type}{format(strike, 'f')}"
    if spacing == "columns":  # the broker's fixed columns: 0, 1 or 2 spaces fall out
        symbol = f"./{future_code:<5}{option_code:<6}{tail}"
    elif spacing == "one":
        symbol = f"./{future_code} {option_code} {tail}"
    else:
        symbol = f"./{future_code} {option_code}  {tail}"

    parsed = parse_future_option(symbol)

    assert parsed.future.symbol == f"/{future_code}"
    read_code = f"{parsed.option_product}{parsed.option_month_code}{parsed.option_year_digits}"
    assert read_code == option_code
    assert (parsed.expiration, parsed.option_type, parsed.strike) == (expiry, option_type, strike)


@settings(max_examples=EXAMPLES)
@given(
    base=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=5),
    quote=st.sampled_from(["USD", "USDC", "BTC"]),
    quantity=st.integers(1, 10**10).map(lambda n: Decimal(n) / 10**8),
)
def test_crypto_pairs_are_held_as_their_own_underlying(base, quote, quantity):
    symbol = f"{base}/{quote}"
    position = tt.Position(
        account_number="5WT00001",
        symbol=symbol,
        instrument_type="Cryptocurrency",
        underlying_symbol=None,
        quantity=quantity,
        quantity_direction="Long",
        multiplier=Decimal(1),
        average_open_price=None,
        close_price=None,
        mark_price=None,
        mark=None,
        cost_effect=None,
        expires_at=None,
        realized_day_gain=None,
        realized_today=None,
        streamer_symbol=None,
        created_at=None,
        updated_at=None,
    )
    [leg], aside = book_builder.read_legs([position])
    assert aside == []
    assert (leg.symbol, leg.underlying_symbol, leg.quantity) == (symbol, symbol, quantity)
