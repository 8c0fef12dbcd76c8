"""Payloads built from the public SDK's model instances, read by our client and book builder.

For every instrument type (long and short) and every transaction type and
sub-type the product reads, the same bytes are read twice: by the SDK's
models (the oracle) and by our client, book builder and sync mapping. Each
leg's signed quantity, multiplier, value, expiry, strike and underlying, and
each transaction's signed value, net value and fees, must agree.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from tastytrade.account import CurrentPosition, Transaction
from tastytrade.instruments import FutureOption, Option
from tastytrade.market_data import MarketData
from tastytrade.order import InstrumentType

from brokers import book_builder
from brokers.account_fields import transaction_fields
from brokers.tastytrade.client import TastytradeClient
from brokers.tests.contract.wire import list_body, stub_api, to_wire

NEW_YORK = ZoneInfo("America/New_York")
NOW = dt.datetime(2026, 6, 1, 15, 0, tzinfo=dt.UTC)
OPENED = dt.datetime(2026, 5, 1, 14, 0, tzinfo=dt.UTC)
ACCOUNT = "5WT00001"
D = Decimal


@dataclass(frozen=True)
class Case:
    """One leg as the real API would send it, and what the SDK's instrument says it is."""

    name: str
    symbol: str
    instrument_type: InstrumentType
    underlying: str
    quantity: Decimal  # signed
    multiplier: Decimal
    mark: Decimal
    underlying_mark: Decimal | None
    strike: Decimal | None = None
    expiry: dt.date | None = None  # the instrument's expiration date
    expires_at: dt.datetime | None = None


def option_expiry(day: dt.date, hour: int = 16) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), NEW_YORK).astimezone(dt.UTC)


SEP = dt.date(2026, 9, 18)
CASES = [
    Case("equity long", "AAPL", InstrumentType.EQUITY, "AAPL", D(100), D(1), D("201.50"), None),
    Case("equity short", "AMD", InstrumentType.EQUITY, "AMD", D(-50), D(1), D("150.25"), None),
    Case(
        "equity option short put",
        "AAPL  260918P00172500",
        InstrumentType.EQUITY_OPTION,
        "AAPL",
        D(-2),
        D(100),
        D("3.45"),
        D("201.50"),
        D("172.5"),
        SEP,
        option_expiry(SEP),
    ),
    Case(
        "equity option long call on a class share",
        "BRK/B 260918C00500000",
        InstrumentType.EQUITY_OPTION,
        "BRK/B",
        D(1),
        D(100),
        D("12.10"),
        D("480.00"),
        D(500),
        SEP,
        option_expiry(SEP),
    ),
    Case(
        "index option short SPXW",
        "SPXW  260918P05500000",
        InstrumentType.EQUITY_OPTION,
        "SPX",
        D(-1),
        D(100),
        D("31.20"),
        D("6000.00"),
        D(5500),
        SEP,
        option_expiry(SEP),
    ),
    Case(
        "future long",
        "/ESU6",
        InstrumentType.FUTURE,
        "/ESU6",
        D(1),
        D(50),
        D("6010.25"),
        None,
        expires_at=option_expiry(SEP, 9),
    ),
    Case(
        "micro future short, fractional multiplier",
        "/MYMU6",
        InstrumentType.FUTURE,
        "/MYMU6",
        D(-2),
        D("0.5"),
        D(44010),
        None,
        expires_at=option_expiry(SEP, 9),
    ),
    Case(
        "future option short, one space",
        "./ESU6 EW3U6 260918P5650",
        InstrumentType.FUTURE_OPTION,
        "/ESU6",
        D(-1),
        D(50),
        D("22.75"),
        D("6010.25"),
        D(5650),
        SEP,
        option_expiry(SEP),
    ),
    Case(
        "micro future option long, no space",
        "./MESU6EX3U6 260918C6450",
        InstrumentType.FUTURE_OPTION,
        "/MESU6",
        D(2),
        D(5),
        D("18.50"),
        D("6010.25"),
        D(6450),
        SEP,
        option_expiry(SEP),
    ),
    Case(
        "micro future option short, no space at all, decimal strike",
        "./MNQU6MN5CU6260918P21612.5",
        InstrumentType.FUTURE_OPTION,
        "/MNQU6",
        D(-1),
        D(2),
        D("95.25"),
        D("22000.00"),
        D("21612.5"),
        SEP,
        option_expiry(SEP),
    ),
    Case(
        "cryptocurrency long",
        "BTC/USD",
        InstrumentType.CRYPTOCURRENCY,
        "BTC/USD",
        D("0.01234567"),
        D(1),
        D("97000.00"),
        None,
    ),
]


def sdk_position(case: Case) -> CurrentPosition:
    return CurrentPosition(
        account_number=ACCOUNT,
        symbol=case.symbol,
        instrument_type=case.instrument_type,
        underlying_symbol=case.underlying,
        quantity=abs(case.quantity),
        quantity_direction="Long" if case.quantity > 0 else "Short",
        close_price=case.mark,
        average_open_price=case.mark * D("0.9"),
        multiplier=case.multiplier,
        # Real captures: a short costs to close (Debit), a long pays (Credit).
        cost_effect="Debit" if case.quantity < 0 else "Credit",
        is_suppressed=False,
        is_frozen=False,
        realized_day_gain=D("-12.50"),
        realized_today=D("7.25"),
        created_at=OPENED,
        updated_at=NOW,
        mark=case.mark * abs(case.quantity) * case.multiplier,
        mark_price=case.mark,
        expires_at=case.expires_at,
    )


def sdk_quote(symbol: str, instrument_type: InstrumentType, mark: Decimal) -> MarketData:
    return MarketData(
        symbol=symbol,
        instrument_type=instrument_type,
        updated_at=NOW,
        bid_size=D("12.0"),
        ask_size=D("9.0"),
        close_price_type="Regular",
        summary_date=dt.date(2026, 5, 29),
        prev_close_date=dt.date(2026, 5, 29),
        prev_close_price_type="Regular",
        halt_start_time=-1,
        halt_end_time=-1,
        mark=mark,
        bid=mark - D("0.05"),
        ask=mark + D("0.05"),
        close=mark * D("0.99"),
        prev_close=mark * D("0.99"),
    )


UNDERLYING_TYPES = {"SPX": InstrumentType.INDEX}


def quotes_for(cases: list[Case]) -> list[MarketData]:
    quotes = {"SPY": sdk_quote("SPY", InstrumentType.EQUITY, D("600.00"))}
    for case in cases:
        quotes[case.symbol] = sdk_quote(case.symbol, case.instrument_type, case.mark)
        if case.underlying_mark is not None:
            kind = (
                InstrumentType.FUTURE
                if case.underlying.startswith("/")
                else UNDERLYING_TYPES.get(case.underlying, InstrumentType.EQUITY)
            )
            quotes[case.underlying] = sdk_quote(case.underlying, kind, case.underlying_mark)
    return list(quotes.values())


def read_through_our_client(positions, quotes):
    routes = {
        f"/accounts/{ACCOUNT}/positions": list_body(positions),
        "/market-data/by-type": list_body(quotes),
        "/market-metrics": list_body([]),
    }
    with stub_api(routes) as base_url:
        with TastytradeClient(base_url, access_token_provider=lambda: "token") as client:
            ours = client.positions(ACCOUNT)
            legs_wanted = book_builder.read_legs(ours)[0]
            market = book_builder.MarketData(
                quotes=client.quotes(book_builder.quote_request(legs_wanted)),
                metrics=client.market_metrics(book_builder.metric_symbols(legs_wanted)),
            )
    aside: list = []
    legs = book_builder.build_legs(
        ours,
        market=market,
        account=ACCOUNT,
        account_is_cash=False,
        now=NOW,
        rate=0.04,
        set_aside=aside,
    )
    return ours, {leg.symbol: leg for leg in legs}, aside


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_leg_reads_as_the_sdk_reads_it(case):
    position = sdk_position(case)
    wire = to_wire(position)
    oracle = CurrentPosition.model_validate(wire)  # the SDK reading the same bytes

    ours, legs, aside = read_through_our_client([position], quotes_for([case]))

    assert aside == []
    [mine] = ours
    sign = -1 if oracle.quantity_direction == "Short" else 1
    assert mine.quantity == oracle.quantity * sign
    assert mine.multiplier == oracle.multiplier
    assert (mine.realized_day_gain, mine.realized_today) == (
        oracle.realized_day_gain,
        oracle.realized_today,
    )
    assert mine.expires_at == oracle.expires_at
    leg = legs[case.symbol]
    assert leg.quantity == oracle.quantity * sign
    assert leg.multiplier == oracle.multiplier
    value = oracle.mark_price * oracle.quantity * sign * oracle.multiplier
    assert leg.current_value == value.quantize(D("0.01"))
    assert leg.underlying_symbol == oracle.underlying_symbol
    if case.strike is not None:
        assert (leg.strike_price, leg.expiration_date) == (case.strike, case.expiry)
    elif oracle.expires_at is not None:
        assert leg.expiration_date == oracle.expires_at.astimezone(NEW_YORK).date()


def test_a_whole_book_of_every_kind_reads_together():
    positions = [sdk_position(case) for case in CASES]
    ours, legs, aside = read_through_our_client(positions, quotes_for(CASES))
    assert aside == [] and sorted(legs) == sorted(case.symbol for case in CASES)


def test_the_sdk_reads_our_equity_option_strikes_and_expiries_the_same():
    for case in CASES:
        if case.instrument_type != InstrumentType.EQUITY_OPTION:
            continue
        # The SDK's own OCC reading (its streamer symbol carries expiry and strike).
        streamer = Option.occ_to_streamer_symbol(case.symbol)
        assert streamer.endswith(f"{case.expiry:%y%m%d}P{case.strike.normalize():f}") or (
            streamer.endswith(f"{case.expiry:%y%m%d}C{case.strike.normalize():f}")
        ), (case.symbol, streamer)


def test_the_sdk_future_option_instrument_agrees_with_our_symbol_reading():
    for case in CASES:
        if case.instrument_type != InstrumentType.FUTURE_OPTION:
            continue
        instrument = FutureOption.model_validate(future_option_instrument(case))
        legs = read_through_our_client([sdk_position(case)], quotes_for([case]))[1]
        leg = legs[case.symbol]
        assert leg.strike_price == instrument.strike_price
        assert leg.expiration_date == instrument.expiration_date
        assert leg.underlying_symbol == instrument.underlying_symbol
        assert leg.option_type == instrument.option_type.value


def future_option_instrument(case: Case) -> dict:
    """The /instruments/future-options answer for the case, in wire form."""
    return {
        "symbol": case.symbol,
        "underlying-symbol": case.underlying,
        "product-code": case.underlying[1:-2],
        "expiration-date": case.expiry.isoformat(),
        "root-symbol": case.underlying[:-2],
        "option-root-symbol": case.symbol[len(case.underlying) + 1 :][:3],
        "strike-price": str(case.strike),
        "exchange": "CME",
        "streamer-symbol": "",
        "option-type": re.search(r"\d{6}([CP])[\d.]+$", case.symbol).group(1),
        "exercise-style": "American",
        "is-vanilla": True,
        "is-primary-deliverable": True,
        "future-price-ratio": "1.0",
        "multiplier": str(case.multiplier),
        "underlying-count": "1.0",
        "is-confirmed": True,
        "notional-value": "1.0",
        "display-factor": "0.01",
        "settlement-type": "Future",
        "strike-factor": "1.0",
        "maturity-date": case.expiry.isoformat(),
        "is-exercisable-weekly": True,
        "last-trade-time": "0",
        "days-to-expiration": 109,
        "is-closing-only": False,
        "active": True,
        "stops-trading-at": case.expires_at.isoformat(),
        "expires-at": case.expires_at.isoformat(),
        "exchange-symbol": case.symbol,
        "security-exchange": "XCME",
        "sx-id": "0",
    }


# The styles the exchanges list: Cboe's SPXW European, equity options American,
# CME's weekly E-mini and Micro E-mini options (EW3, EX3) European.
LISTED_STYLES = {"SPX": "European", "/ESU6": "European", "/MESU6": "European"}


def equity_option_instrument(case: Case) -> Option:
    return Option.model_validate(
        {
            "symbol": case.symbol,
            "instrument-type": "Equity Option",
            "active": True,
            "strike-price": str(case.strike),
            "root-symbol": case.symbol.split(" ", 1)[0],
            "underlying-symbol": case.underlying,
            "expiration-date": case.expiry.isoformat(),
            "exercise-style": LISTED_STYLES.get(case.underlying, "American"),
            "shares-per-contract": 100,
            "option-type": re.search(r"\d{6}([CP])\d{8}$", case.symbol).group(1),
            "option-chain-type": "Standard",
            "expiration-type": "Regular",
            "settlement-type": "PM",
            "stops-trading-at": case.expires_at.isoformat(),
            "expires-at": case.expires_at.isoformat(),
            "market-time-instrument-collection": "Equity Option",
            "days-to-expiration": 109,
            "is-closing-only": False,
        }
    )


def test_the_instrument_lists_read_as_the_sdk_reads_them_and_set_the_legs_styles():
    options = [c for c in CASES if c.instrument_type == InstrumentType.EQUITY_OPTION]
    futures = [c for c in CASES if c.instrument_type == InstrumentType.FUTURE_OPTION]
    oracle = [equity_option_instrument(case) for case in options] + [
        FutureOption.model_validate(
            future_option_instrument(case)
            | {"exercise-style": LISTED_STYLES.get(case.underlying, "American")}
        )
        for case in futures
    ]
    routes = {
        "/instruments/equity-options": list_body(oracle[: len(options)]),
        "/instruments/future-options": list_body(oracle[len(options) :]),
    }

    with stub_api(routes) as base_url:
        with TastytradeClient(base_url, access_token_provider=lambda: "token") as client:
            ours = client.option_instruments(
                {
                    "Equity Option": [case.symbol for case in options],
                    "Future Option": [case.symbol for case in futures],
                }
            )

    assert {s: (i.exercise_style, i.underlying_symbol) for s, i in ours.items()} == {
        sdk.symbol: (sdk.exercise_style, sdk.underlying_symbol) for sdk in oracle
    }
    assert {ours["SPXW  260918P05500000"].exercise_style} == {"European"}
    # Every leg takes the stated style, marked as the broker's.
    positions, table_only, _ = read_through_our_client(
        [sdk_position(case) for case in options + futures], quotes_for(options + futures)
    )
    stated = {symbol: instrument.exercise_style for symbol, instrument in ours.items()}
    with_broker = {
        leg.symbol: (leg.exercise_style, leg.exercise_style_source)
        for leg in book_builder.read_legs(positions, stated_styles=stated)[0]
    }
    assert with_broker == {symbol: (style, "broker") for symbol, style in stated.items()}
    # The micro weekly: the broker and the table (CME's listing) agree.
    micro = "./MESU6EX3U6 260918C6450"
    assert (table_only[micro].exercise_style, with_broker[micro]) == (
        "European",
        ("European", "broker"),
    )


# --- Transactions -------------------------------------------------------------

# (type, sub-type, action, instrument type, symbol, quantity, price, value, fees)
# value is signed (credit > 0); fees are (commission, clearing, regulatory,
# proprietary index option, other charge), each signed as the SDK holds them.
NO_FEES = (None, None, None, None, None)
TRANSACTION_KINDS = [
    ("Trade", "Sell to Open", "Sell to Open", InstrumentType.EQUITY_OPTION,
     "AAPL  260918P00172500", D(2), D("3.45"), D("690.00"),
     (D("-2.00"), D("-0.20"), D("-0.08"), None, None)),
    ("Trade", "Buy to Close", "Buy to Close", InstrumentType.EQUITY_OPTION,
     "SPXW  260918P05500000", D(1), D("12.10"), D("-1210.00"),
     (None, D("-0.10"), D("-0.04"), D("-0.65"), None)),
    ("Trade", "Buy to Open", "Buy to Open", InstrumentType.EQUITY, "AAPL", D(100),
     D("201.50"), D("-20150.00"), (None, D("-0.08"), None, None, None)),
    ("Trade", "Sell to Close", "Sell to Close", InstrumentType.CRYPTOCURRENCY, "BTC/USD",
     D("0.01234567"), D("97000.00"), D("1197.53"), (D("-11.98"), None, None, None, None)),
    ("Trade", "Sell to Open", "Sell to Open", InstrumentType.FUTURE_OPTION,
     "./MESU6EX3U6 260918C6450", D(1), D("18.50"), D("92.50"),
     (D("-1.25"), D("-0.30"), D("-0.02"), D("-0.70"), D("-1.70"))),
    ("Trade", "Buy", "Buy", InstrumentType.FUTURE, "/MYMU6", D(2), D("44010"), D("0.00"),
     (D("-1.25"), D("-0.30"), D("-0.02"), None, D("-0.85"))),
    ("Receive Deliver", "Assignment", "Buy to Close", InstrumentType.EQUITY_OPTION,
     "AMD   260515P00150000", D(1), D(0), D("0.00"), (None, None, None, None, None)),
    ("Receive Deliver", "Exercise", "Sell to Close", InstrumentType.EQUITY_OPTION,
     "AAPL  260515C00190000", D(1), D(0), D("0.00"), NO_FEES),
    ("Receive Deliver", "Expiration", "Buy to Close", InstrumentType.EQUITY_OPTION,
     "AAPL  260515P00170000", D(1), D(0), D("0.00"), NO_FEES),
    ("Receive Deliver", "Cash Settled Assignment", "Buy to Close",
     InstrumentType.EQUITY_OPTION, "SPXW  260515P05600000", D(1), D(0), D("-2350.00"),
     NO_FEES),
    ("Money Movement", "Dividend", None, InstrumentType.EQUITY, "AAPL", None, None,
     D("26.00"), NO_FEES),
    ("Money Movement", "Fee", None, None, None, None, None, D("-1.50"), NO_FEES),
    ("Money Movement", "Deposit", None, None, None, None, None, D("10000.00"), NO_FEES),
    ("Money Movement", "Credit Interest", None, None, None, None, None, D("3.12"), NO_FEES),
    ("Money Movement", "Mark to Market", None, InstrumentType.FUTURE, "/MYMU6", None, None,
     D("-45.00"), NO_FEES),
]  # fmt: skip


def sdk_transaction(number: int, kind) -> Transaction:
    type_, sub_type, action, instrument, symbol, quantity, price, value, fees = kind
    commission, clearing, regulatory, proprietary, other = fees
    paid = sum((fee for fee in fees if fee is not None), D(0))
    return Transaction(
        id=1000 + number,
        account_number=ACCOUNT,
        transaction_type=type_,
        transaction_sub_type=sub_type,
        description=f"{sub_type} {symbol or ''}".strip(),
        executed_at=NOW - dt.timedelta(days=number),
        transaction_date=(NOW - dt.timedelta(days=number)).astimezone(NEW_YORK).date(),
        value=value,
        net_value=value + paid,
        is_estimated_fee=type_ == "Trade",
        symbol=symbol,
        instrument_type=instrument,
        underlying_symbol=symbol,
        action=action,
        quantity=quantity,
        price=price,
        commission=commission,
        clearing_fees=clearing,
        regulatory_fees=regulatory,
        proprietary_index_option_fees=proprietary,
        other_charge=other,
        other_charge_description="Exchange fees" if other else None,
        order_id=5000 + number if type_ == "Trade" else None,
    )


def test_every_transaction_kind_reads_as_the_sdk_reads_it():
    built = [sdk_transaction(n, kind) for n, kind in enumerate(TRANSACTION_KINDS)]
    oracle = {row.id: Transaction.model_validate(to_wire(row)) for row in built}
    routes = {f"/accounts/{ACCOUNT}/transactions": list_body(built, paginated=True)}
    with stub_api(routes) as base_url:
        with TastytradeClient(base_url, access_token_provider=lambda: "token") as client:
            ours = client.transactions(ACCOUNT)

    assert sorted(row.id for row in ours) == sorted(oracle)
    for row in ours:
        sdk = oracle[row.id]
        assert (row.transaction_type, row.transaction_sub_type) == (
            sdk.transaction_type,
            sdk.transaction_sub_type,
        )
        assert (row.value, row.net_value) == (sdk.value, sdk.net_value)
        assert (row.symbol, row.quantity, row.price) == (sdk.symbol, sdk.quantity, sdk.price)
        assert row.transaction_date == sdk.transaction_date
        assert row.order_id == (None if sdk.order_id is None else str(sdk.order_id))
        costs = (
            sdk.commission,
            sdk.clearing_fees,
            sdk.regulatory_fees,
            sdk.proprietary_index_option_fees,
            sdk.other_charge,
        )
        stored = transaction_fields(row)
        assert stored["fees"] == -sum((c for c in costs if c is not None), D(0))
        # The stored net value is the value less every fee, other charges included.
        assert stored["net_value"] == stored["value"] - stored["fees"]
