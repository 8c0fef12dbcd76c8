"""Turn one account's broker data into priced, grouped legs (pure: no ORM, no I/O).

Units and signs follow DESIGN.md §5: quantity signed (short < 0),
premium_received = −average_open_price × quantity × multiplier (credit > 0),
current_value = mark × quantity × multiplier, greeks per position.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from brokers.tastytrade import client as tt
from brokers.tastytrade.symbols import parse_future_option, parse_occ
from metrics.pricing import LegInputs, price_legs
from portfolios.strategies import LegView, detect_strategies, leg_assignments

NEW_YORK = ZoneInfo("America/New_York")
CENTS = Decimal("0.01")
PRICE_PLACES = Decimal("0.000001")
SPY = "SPY"
# Index underlyings are quoted under the `index` key, not `equity`.
INDEX_UNDERLYINGS = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "XEO", "OEX"})
# Futures have no market-metrics beta (tastytrade-api.md §3.8): configured betas.
FUTURES_BETA = {"ES": 1.0, "MES": 1.0, "NQ": 1.2, "MNQ": 1.2, "RTY": 1.15, "M2K": 1.15}
OPTIONS = frozenset({"Equity Option", "Future Option"})
SUPPORTED = frozenset({"Equity", "Equity Option", "Future", "Future Option"})


@dataclass
class LegRow:
    """One position row as it will be stored (field names of the positions table)."""

    symbol: str
    underlying_symbol: str
    instrument_type: str
    quantity: Decimal
    multiplier: int
    option_type: str | None = None
    strike_price: Decimal | None = None
    expiration_date: dt.date | None = None
    settlement_type: str = "PM"
    open_date: dt.date | None = None
    average_open_price: Decimal | None = None
    premium_received: Decimal | None = None
    current_value: Decimal | None = None
    mark: Decimal | None = None
    previous_close: Decimal | None = None
    underlying_price: Decimal | None = None
    implied_volatility: float | None = None
    iv_status: str = ""
    delta: float | None = None
    gamma: float | None = None
    theta: float | None = None
    vega: float | None = None
    greeks_source: str = "none"
    beta: float | None = None
    dividend_yield: float | None = None
    strategy_type: str = "other"
    strategy_group_id: str = ""
    opening_order_id: str = ""
    broker_iv: float | None = field(default=None, repr=False)

    def as_fields(self) -> dict:
        values = dict(self.__dict__)
        values.pop("broker_iv")
        return values


@dataclass(frozen=True)
class MarketData:
    quotes: Mapping[str, tt.Quote]
    metrics: Mapping[str, tt.MarketMetric]

    def price(self, symbol: str) -> Decimal | None:
        quote = self.quotes.get(symbol)
        return quote.price if quote else None


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(CENTS)


def _price(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(PRICE_PLACES)


def _float(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _settlement(expires_at: dt.datetime | None) -> str:
    """AM-settled contracts expire at the open (09:30 New York)."""
    if expires_at is None:
        return "PM"
    return "AM" if expires_at.astimezone(NEW_YORK).hour < 12 else "PM"


def _future_product(underlying: str) -> str:
    return underlying.lstrip("/")[:-2] if underlying.startswith("/") else underlying


def leg_from_position(position: tt.Position) -> LegRow | None:
    """Map a broker position to a leg row; None for closed (Zero) or unsupported legs."""
    if position.quantity == 0 or position.instrument_type not in SUPPORTED:
        return None
    multiplier = int(position.multiplier)
    row = LegRow(
        symbol=position.symbol,
        underlying_symbol=position.underlying_symbol or position.symbol,
        instrument_type=position.instrument_type,
        quantity=position.quantity,
        multiplier=max(multiplier, 1),
        average_open_price=_price(position.average_open_price),
        previous_close=_price(position.close_price),
        open_date=position.created_at.astimezone(NEW_YORK).date() if position.created_at else None,
        settlement_type=_settlement(position.expires_at),
    )
    if position.instrument_type == "Equity Option":
        option = parse_occ(position.symbol)
        row.option_type, row.strike_price, row.expiration_date = (
            option.option_type,
            option.strike,
            option.expiration,
        )
    elif position.instrument_type == "Future Option":
        option = parse_future_option(position.symbol)
        row.option_type, row.strike_price, row.expiration_date = (
            option.option_type,
            option.strike,
            option.expiration,
        )
        if not position.underlying_symbol:
            row.underlying_symbol = option.future.symbol
    elif position.instrument_type == "Future" and position.expires_at:
        row.expiration_date = position.expires_at.astimezone(NEW_YORK).date()
    if row.average_open_price is not None:
        row.premium_received = _money(-row.average_open_price * row.quantity * row.multiplier)
    return row


def quote_request(legs: Sequence[LegRow]) -> dict[str, list[str]]:
    """Return the symbols to quote by instrument key: every leg, underlying, and SPY."""
    wanted: dict[str, dict[str, None]] = {}

    def add(kind: str, symbol: str) -> None:
        wanted.setdefault(kind, {})[symbol] = None

    add("equity", SPY)
    for leg in legs:
        add(tt.quote_key(leg.instrument_type), leg.symbol)
        underlying = leg.underlying_symbol
        if underlying.startswith("/"):
            add("future", underlying)
        elif underlying in INDEX_UNDERLYINGS:
            add("index", underlying)
        else:
            add("equity", underlying)
    return {kind: list(symbols) for kind, symbols in wanted.items()}


def metric_symbols(legs: Iterable[LegRow]) -> list[str]:
    names = {leg.underlying_symbol for leg in legs if not leg.underlying_symbol.startswith("/")}
    return sorted(names | {SPY})


def _broker_iv(leg: LegRow, metric: tt.MarketMetric | None) -> float | None:
    if metric is None or leg.expiration_date is None:
        return None
    for expiry in metric.expiration_ivs:
        if expiry.expiration_date == leg.expiration_date and expiry.implied_volatility:
            return _float(expiry.implied_volatility)
    return _float(metric.iv_index)


def apply_market_data(legs: Sequence[LegRow], market: MarketData) -> None:
    """Fill marks, values, underlying prices, beta, dividend yield and broker IV."""
    for leg in legs:
        leg.mark = _price(market.price(leg.symbol))
        # The quote's previous close is the market's; the position's close-price
        # (also yesterday's) stands in when the quote has none.
        quote_close = _price(getattr(market.quotes.get(leg.symbol), "prev_close", None))
        if quote_close is not None:
            leg.previous_close = quote_close
        if leg.mark is not None:
            leg.current_value = _money(leg.mark * leg.quantity * leg.multiplier)
        leg.underlying_price = _price(market.price(leg.underlying_symbol))
        if leg.instrument_type in ("Equity", "Future") and leg.underlying_price is None:
            leg.underlying_price = leg.mark
        metric = market.metrics.get(leg.underlying_symbol)
        if leg.underlying_symbol.startswith("/"):
            leg.beta = FUTURES_BETA.get(_future_product(leg.underlying_symbol))
        elif metric is not None:
            leg.beta = _float(metric.beta)
            leg.dividend_yield = _float(metric.dividend_yield)
        if leg.underlying_symbol == SPY and leg.beta is None:
            leg.beta = 1.0
        leg.broker_iv = _broker_iv(leg, metric)


def price_book(legs: Sequence[LegRow], *, now: dt.datetime, rate: float) -> None:
    """Price every leg of the book in one vectorised call and store the results."""
    if not legs:
        return
    inputs = LegInputs.from_rows(
        {
            "instrument_type": leg.instrument_type,
            "option_type": leg.option_type or "",
            "strike": leg.strike_price,
            "expiration": leg.expiration_date,
            "settlement": leg.settlement_type,
            "mark": leg.mark,
            "underlying_price": leg.underlying_price,
            "quantity": leg.quantity,
            "multiplier": leg.multiplier,
            "dividend_yield": leg.dividend_yield,
            "broker_iv": leg.broker_iv,
            "beta": leg.beta,
        }
        for leg in legs
    )
    priced = price_legs(inputs, now=now, rate=rate)
    for index, leg in enumerate(legs):
        ok = bool(priced.priced[index])
        leg.greeks_source = str(priced.greeks_source[index])
        leg.iv_status = str(priced.iv_status[index])
        leg.implied_volatility = _float(priced.iv[index]) if leg.option_type else None
        leg.delta = _float(priced.position_delta[index]) if ok else None
        leg.gamma = _float(priced.position_gamma[index]) if ok else None
        leg.theta = _float(priced.position_theta[index]) if ok else None
        leg.vega = _float(priced.position_vega[index]) if ok else None


def group_book(
    legs: Sequence[LegRow], *, account: str, account_is_cash: bool, today: dt.date
) -> None:
    """Detect strategies and store each leg's strategy type and group id."""
    views = [
        LegView(
            id=leg.symbol,
            account=account,
            underlying=leg.underlying_symbol,
            instrument_type=leg.instrument_type,
            quantity=leg.quantity,
            multiplier=leg.multiplier,
            option_type=leg.option_type,
            strike=leg.strike_price,
            expiration=leg.expiration_date,
            average_open_price=leg.average_open_price,
            premium_received=leg.premium_received,
            opening_order_id=leg.opening_order_id or None,
            account_is_cash=account_is_cash,
        )
        for leg in legs
    ]
    assignments = leg_assignments(groups=detect_strategies(views, today=today))
    for leg in legs:
        group = assignments.get(leg.symbol)
        if group is not None:
            leg.strategy_type = group.strategy_type.value
            leg.strategy_group_id = group.group_id


@dataclass(frozen=True)
class TradeFill:
    """One option or stock fill, as stored or as fetched (oldest first when sorted)."""

    symbol: str
    action: str  # "Sell to Open", "Buy to Close", ...
    order_id: str
    executed_at: dt.datetime | None
    broker_id: int


def opening_orders(fills: Iterable[TradeFill]) -> dict[str, str]:
    """Return each symbol's campaign key: the order that opened it, carried through rolls.

    An order that closes some legs and opens others is a roll: the legs it
    opens join the campaign of the legs it closed, so a rolled strangle or
    condor keeps one group and its credits and debits add up. Adding to a
    position keeps the position's first campaign.
    """
    orders: dict[str, list[TradeFill]] = {}
    for fill in sorted(
        fills, key=lambda f: (f.executed_at or dt.datetime.min.replace(tzinfo=dt.UTC), f.broker_id)
    ):
        if fill.order_id:
            orders.setdefault(fill.order_id, []).append(fill)
    campaign: dict[str, str] = {}
    for order_id, order_fills in orders.items():  # dicts keep first-fill order
        closed = [f.symbol for f in order_fills if f.action.endswith("to Close")]
        opened = [f.symbol for f in order_fills if f.action.endswith("to Open")]
        rolled_from = next((campaign[s] for s in closed if s in campaign), None)
        for symbol in opened:
            if rolled_from is not None:
                campaign[symbol] = rolled_from
            else:
                campaign.setdefault(symbol, order_id)
    return campaign


def build_legs(
    positions: Iterable[tt.Position],
    *,
    market: MarketData,
    account: str,
    account_is_cash: bool,
    now: dt.datetime,
    rate: float,
    campaigns: Mapping[str, str] | None = None,
) -> list[LegRow]:
    """Map, price and group one account's open legs (campaigns: symbol → opening order)."""
    legs = [leg for leg in map(leg_from_position, positions) if leg is not None]
    for leg in legs:
        leg.opening_order_id = (campaigns or {}).get(leg.symbol, "")
    apply_market_data(legs, market)
    price_book(legs, now=now, rate=rate)
    group_book(
        legs,
        account=account,
        account_is_cash=account_is_cash,
        today=now.astimezone(NEW_YORK).date(),
    )
    return legs
