"""Tastytrade symbology: OCC, collapsed OCC, futures and futures options."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from portfolios.symbols import (
    FutureOptionSymbol,
    FutureSymbol,
    OptionSymbol,
    build_future,
    build_future_option,
    build_occ,
    parse_future,
    parse_future_option,
    parse_occ,
)


def test_padded_occ_symbol_is_sliced_into_its_parts():
    assert parse_occ("AAPL  260116P00172500") == OptionSymbol(
        root="AAPL", expiration=date(2026, 1, 16), option_type="P", strike=Decimal("172.5")
    )


def test_collapsed_occ_symbol_parses_like_the_padded_one():
    assert parse_occ("AAPL 260116P00172500") == parse_occ("AAPL  260116P00172500")
    assert parse_occ("SPY260417P00540000").root == "SPY"


def test_six_character_root_and_spxw_root_keep_their_text():
    assert parse_occ("ABCDEF260116C00001000").root == "ABCDEF"
    spxw = parse_occ("SPXW  260320P05800000")
    assert (spxw.root, spxw.strike, spxw.option_type) == ("SPXW", Decimal("5800"), "P")


def test_build_occ_pads_the_root_to_six_and_scales_the_strike():
    symbol = build_occ("SPY", date(2026, 4, 17), "P", Decimal("540"))
    assert symbol == "SPY   260417P00540000"
    assert len(symbol) == 21
    assert build_occ("AAPL", date(2026, 1, 16), "P", Decimal("172.5")) == "AAPL  260116P00172500"


def test_option_symbol_gives_occ_and_streamer_forms():
    option = parse_occ("AAPL  260116P00172500")
    assert option.occ == str(option) == "AAPL  260116P00172500"
    assert option.streamer_symbol == ".AAPL260116P172.5"
    assert parse_occ("SPXW  260320P05800000").streamer_symbol == ".SPXW260320P5800"


@pytest.mark.parametrize(
    ("symbol", "reason"),
    [
        ("AAPL  261332P00172500", "invalid expiration"),
        ("AAPL  260116X00172500", "not an OCC option symbol"),
        ("AAPL 2260116P00172500", "not an OCC option symbol"),
        ("aapl  260116P00172500", "not an OCC option symbol"),
        ("TOOLONGX260116P00172500", "not an OCC option symbol"),
        ("", "not an OCC option symbol"),
    ],
)
def test_bad_occ_symbols_raise_value_error_naming_the_symbol(symbol, reason):
    with pytest.raises(ValueError, match=reason):
        parse_occ(symbol)


def test_build_occ_refuses_bad_parts():
    with pytest.raises(ValueError, match="root"):
        build_occ("spy", date(2026, 1, 16), "P", Decimal(1))
    with pytest.raises(ValueError, match="'C' or 'P'"):
        build_occ("SPY", date(2026, 1, 16), "X", Decimal(1))
    with pytest.raises(ValueError, match="at most 3 decimals"):
        build_occ("SPY", date(2026, 1, 16), "P", Decimal("1.2345"))
    with pytest.raises(ValueError, match="too large"):
        build_occ("SPY", date(2026, 1, 16), "P", Decimal("100000"))


@given(
    root=st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True),
    expiration=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    option_type=st.sampled_from(["C", "P"]),
    strike_thousandths=st.integers(min_value=1, max_value=99_999_999),
)
def test_occ_round_trips(root, expiration, option_type, strike_thousandths):
    strike = Decimal(strike_thousandths) / 1000
    symbol = build_occ(root, expiration, option_type, strike)
    parsed = parse_occ(symbol)
    assert parsed == OptionSymbol(root, expiration, option_type, strike)
    assert parse_occ(symbol.replace(" ", "")) == parsed
    assert parsed.occ == symbol


@pytest.mark.parametrize(
    ("symbol", "product", "month_code", "month"),
    [
        ("/ESZ5", "ES", "Z", 12),
        ("/MESH6", "MES", "H", 3),
        ("/ZNZ5", "ZN", "Z", 12),  # "N" is a month code too: the product wins
        ("/6EM25", "6E", "M", 6),
    ],
)
def test_futures_symbols_parse_product_and_month(symbol, product, month_code, month):
    future = parse_future(symbol)
    assert (future.product, future.month_code, future.month) == (product, month_code, month)
    assert future.symbol == symbol


def test_future_year_digit_resolves_near_a_reference_date():
    assert parse_future("/ESZ5").year(date(2025, 11, 1)) == 2025
    assert parse_future("/ESH6").year(date(2025, 11, 1)) == 2026
    assert parse_future("/ESZ25").year(date(2025, 11, 1)) == 2025


def test_build_future_uses_a_one_digit_year():
    assert build_future("ES", 12, 2025) == "/ESZ5"
    with pytest.raises(ValueError, match="month must be 1-12"):
        build_future("ES", 13, 2025)


@pytest.mark.parametrize("symbol", ["ESZ5", "/ESA5", "/ES", "/ESZ", "./ESZ5"])
def test_bad_futures_symbols_raise(symbol):
    with pytest.raises(ValueError, match="not a futures symbol"):
        parse_future(symbol)


def test_futures_option_symbol_parses_future_product_expiry_type_and_strike():
    option = parse_future_option("./ESZ4 EW3U4 240920P5650")
    assert option == FutureOptionSymbol(
        future=FutureSymbol(product="ES", month_code="Z", year_digits="4"),
        option_product="EW3",
        option_month_code="U",
        option_year_digits="4",
        expiration=date(2024, 9, 20),
        option_type="P",
        strike=Decimal("5650"),
    )
    assert option.future.symbol == "/ESZ4"
    assert str(option) == "./ESZ4 EW3U4 240920P5650"


def test_futures_option_with_a_fractional_strike_round_trips():
    symbol = "./ZNH6 OZNG6 260123C112.5"
    option = parse_future_option(symbol)
    assert (option.future.product, option.option_product, option.strike) == (
        "ZN",
        "OZN",
        Decimal("112.5"),
    )
    assert option.symbol == symbol


def test_build_future_option_matches_the_documented_example():
    built = build_future_option("/ESZ4", "EW3", date(2024, 9, 20), "P", Decimal(5650))
    assert built == "./ESZ4 EW3U4 240920P5650"
    assert parse_future_option(built).strike == Decimal(5650)


@pytest.mark.parametrize(
    "symbol",
    ["/ESZ4 EW3U4 240920P5650", "./ESZ4 EW3U4 240920X5650", "./ESZ4 240920P5650", "SPY"],
)
def test_bad_futures_option_symbols_raise(symbol):
    with pytest.raises(ValueError, match="not a futures option symbol"):
        parse_future_option(symbol)


@pytest.mark.parametrize(
    ("symbol", "future", "option_code", "expiration", "option_type", "strike"),
    [
        # A six-character future leaves no room for the space before the option code.
        ("./MESU5EX3M5 250620C6450", "/MESU5", "EX3M5", date(2025, 6, 20), "C", "6450"),
        ("./MESM6EX3H6 260320P6450", "/MESM6", "EX3H6", date(2026, 3, 20), "P", "6450"),
        # No space at all when the option code is long too.
        ("./MNQZ6MN5CU6260930P30675", "/MNQZ6", "MN5CU6", date(2026, 9, 30), "P", "30675"),
        # One space each, and two before the date after a short option code.
        ("./ESZ4 EW3U4 240920P5650", "/ESZ4", "EW3U4", date(2024, 9, 20), "P", "5650"),
        ("./ZNZ5 OZNF6  251226C112.5", "/ZNZ5", "OZNF6", date(2025, 12, 26), "C", "112.5"),
        ("./MYMH7 OYMH7  270319P44010.5", "/MYMH7", "OYMH7", date(2027, 3, 19), "P", "44010.5"),
        ("./MCLZ6LO1Z6 261119C65.25", "/MCLZ6", "LO1Z6", date(2026, 11, 19), "C", "65.25"),
    ],
)
def test_futures_options_parse_in_every_real_spacing(
    symbol, future, option_code, expiration, option_type, strike
):
    parsed = parse_future_option(symbol)
    assert parsed.future.symbol == future
    code = f"{parsed.option_product}{parsed.option_month_code}{parsed.option_year_digits}"
    assert code == option_code
    assert (parsed.expiration, parsed.option_type, parsed.strike) == (
        expiration,
        option_type,
        Decimal(strike),
    )


def test_a_class_share_root_keeps_its_slash():
    parsed = parse_occ("BRK/B 260116C00500000")
    assert (parsed.root, parsed.strike) == ("BRK/B", Decimal(500))
    assert build_occ("BRK/B", date(2026, 1, 16), "C", Decimal(500)) == "BRK/B 260116C00500000"
