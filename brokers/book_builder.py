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
from metrics.exercise import ExerciseStyle, ExerciseStyleSource, exercise_style
from metrics.marks import quote_price
from metrics.pricing import price_legs
from portfolios.book import detection_leg, group_owners, leg_inputs
from portfolios.instruments import CRYPTOCURRENCY, LINEAR_INSTRUMENTS, OPTION_INSTRUMENTS
from portfolios.symbols import parse_future_option, parse_occ

NEW_YORK = ZoneInfo("America/New_York")
CENTS = Decimal("0.01")
PRICE_PLACES = Decimal("0.000001")
SPY = "SPY"
# Index underlyings are quoted under the `index` key, not `equity`.
INDEX_UNDERLYINGS = frozenset({"SPX", "NDX", "RUT", "VIX", "XSP", "DJX", "XEO", "OEX"})
# Futures have no market-metrics beta (tastytrade-api.md §3.8): configured betas.
FUTURES_BETA = {
    "ES": 1.0,
    "MES": 1.0,
    "NQ": 1.2,
    "MNQ": 1.2,
    "RTY": 1.15,
    "M2K": 1.15,
    "YM": 0.9,
    "MYM": 0.9,
}
OPTIONS = OPTION_INSTRUMENTS
SUPPORTED = OPTION_INSTRUMENTS | LINEAR_INSTRUMENTS
LINEAR = LINEAR_INSTRUMENTS


class UnsupportedLeg(ValueError):
    """A broker position the product cannot read or price; its reason is shown to the trader."""


@dataclass(frozen=True)
class SetAside:
    """A leg kept out of the book and its totals, with why (stored and shown, never dropped)."""

    symbol: str
    instrument_type: str
    quantity: Decimal
    reason: str

    def as_json(self) -> dict[str, str]:
        return {
            "symbol": self.symbol,
            "instrument_type": self.instrument_type,
            "quantity": format(self.quantity.normalize(), "f"),
            "reason": self.reason,
        }


@dataclass
class LegRow:
    """One position row as it will be stored (field names of the positions table)."""

    symbol: str
    underlying_symbol: str
    instrument_type: str
    quantity: Decimal
    multiplier: Decimal
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
    rho: float | None = None
    exercise_style: str = ""
    exercise_style_source: str = ""  # "broker" or "table" for options
    iv_rank: float | None = None
    iv_percentile: float | None = None
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
        return quote_price(quote)[0] if quote else None


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


def leg_from_position(position: tt.Position, *, stated_style: str | None = None) -> LegRow | None:
    """Map a broker position to a leg row; None for a closed (Zero) leg.

    ``stated_style`` is the exercise style the broker's instrument data
    gives for the symbol; without one the table in metrics.exercise decides.
    Raises UnsupportedLeg, naming the reason, for an instrument type the
    product does not model, a symbol it cannot parse or a multiplier <= 0.
    """
    if position.quantity == 0:
        return None
    if position.instrument_type not in SUPPORTED:
        raise UnsupportedLeg(f"instrument type {position.instrument_type!r} is not supported")
    if position.multiplier <= 0:
        raise UnsupportedLeg(f"the broker sent a multiplier of {position.multiplier}")
    try:
        return _leg_row(position, stated_style)
    except ValueError as error:
        raise UnsupportedLeg(f"unreadable symbol: {error}") from None


def _leg_row(position: tt.Position, stated_style: str | None) -> LegRow:
    row = LegRow(
        symbol=position.symbol,
        underlying_symbol=position.underlying_symbol or position.symbol,
        instrument_type=position.instrument_type,
        quantity=position.quantity,
        multiplier=position.multiplier,
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
        _set_exercise_style(row, root=position.symbol.split(" ", 1)[0], stated=stated_style)
    elif position.instrument_type == "Future Option":
        option = parse_future_option(position.symbol)
        row.option_type, row.strike_price, row.expiration_date = (
            option.option_type,
            option.strike,
            option.expiration,
        )
        if not position.underlying_symbol:
            row.underlying_symbol = option.future.symbol
        _set_exercise_style(row, root=option.option_product, stated=stated_style)
    elif position.instrument_type == "Future" and position.expires_at:
        row.expiration_date = position.expires_at.astimezone(NEW_YORK).date()
    if position.instrument_type == CRYPTOCURRENCY:
        row.underlying_symbol = position.symbol  # a coin is its own underlying
    if row.average_open_price is not None:
        row.premium_received = _money(-row.average_open_price * row.quantity * row.multiplier)
    return row


def _set_exercise_style(row: LegRow, *, root: str, stated: str | None) -> None:
    row.exercise_style = exercise_style(
        instrument_type=row.instrument_type,
        underlying_symbol=row.underlying_symbol,
        root=root,
        stated=stated,
    )
    broker_said = stated in (ExerciseStyle.AMERICAN, ExerciseStyle.EUROPEAN)
    row.exercise_style_source = (
        ExerciseStyleSource.BROKER if broker_said else ExerciseStyleSource.TABLE
    ).value


def read_legs(
    positions: Iterable[tt.Position], *, stated_styles: Mapping[str, str] | None = None
) -> tuple[list[LegRow], list[SetAside]]:
    """Return the legs the product can read and, set aside, the ones it cannot.

    ``stated_styles``: symbol → the exercise style the broker states for it.
    """
    legs: list[LegRow] = []
    aside: list[SetAside] = []
    styles = stated_styles or {}
    for position in positions:
        try:
            leg = leg_from_position(position, stated_style=styles.get(position.symbol))
        except UnsupportedLeg as error:
            aside.append(
                SetAside(position.symbol, position.instrument_type, position.quantity, str(error))
            )
            continue
        if leg is not None:
            legs.append(leg)
    return legs, aside


def quote_request(legs: Sequence[LegRow]) -> dict[str, list[str]]:
    """Return the symbols to quote by instrument key: every leg, underlying, and SPY."""
    wanted: dict[str, dict[str, None]] = {}

    def add(kind: str, symbol: str) -> None:
        wanted.setdefault(kind, {})[symbol] = None

    add("equity", SPY)
    for leg in legs:
        add(tt.quote_key(leg.instrument_type), leg.symbol)
        underlying = leg.underlying_symbol
        if leg.instrument_type == CRYPTOCURRENCY:
            continue  # its own quote is its underlying's
        if underlying.startswith("/"):
            add("future", underlying)
        elif underlying in INDEX_UNDERLYINGS:
            add("index", underlying)
        else:
            add("equity", underlying)
    return {kind: list(symbols) for kind, symbols in wanted.items()}


def metric_symbols(legs: Iterable[LegRow]) -> list[str]:
    # Crypto pairs are asked too: market metrics may carry a beta for them.
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
        if leg.instrument_type in LINEAR and leg.underlying_price is None:
            leg.underlying_price = leg.mark
        metric = market.metrics.get(leg.underlying_symbol)
        if leg.underlying_symbol.startswith("/"):
            leg.beta = FUTURES_BETA.get(_future_product(leg.underlying_symbol))
        elif metric is not None:
            leg.beta = _float(metric.beta)
            leg.dividend_yield = _float(metric.dividend_yield)
        if metric is not None:
            leg.iv_rank = _float(metric.iv_index_rank)
            leg.iv_percentile = _float(metric.iv_percentile)
        if leg.underlying_symbol == SPY and leg.beta is None:
            leg.beta = 1.0
        leg.broker_iv = _broker_iv(leg, metric)


def price_book(legs: Sequence[LegRow], *, now: dt.datetime, rate: float) -> None:
    """Price every leg of the book in one vectorised call and store the results."""
    if not legs:
        return
    # The broker's IV is the fallback the stored implied_volatility is for a stored leg.
    inputs = leg_inputs([{**leg.__dict__, "implied_volatility": leg.broker_iv} for leg in legs])
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
        leg.rho = _float(priced.position_rho[index]) if ok else None


def group_book(
    legs: Sequence[LegRow], *, account: str, account_is_cash: bool, today: dt.date
) -> None:
    """Detect strategies and store each leg's strategy type and group id."""
    views = [
        detection_leg(
            leg.__dict__, leg_id=leg.symbol, account=account, account_is_cash=account_is_cash
        )
        for leg in legs
    ]
    owners = group_owners(views, today=today)
    for leg in legs:
        owner = owners.get(leg.symbol)
        if owner is not None:
            leg.strategy_type, leg.strategy_group_id = owner


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
    set_aside: list[SetAside] | None = None,
    stated_styles: Mapping[str, str] | None = None,
) -> list[LegRow]:
    """Map, price and group one account's open legs (campaigns: symbol → opening order).

    Legs that cannot be read, or that have no mark before their expiry, are
    appended to ``set_aside`` (when given) instead of joining the book.
    ``stated_styles`` (symbol → American/European) is the broker's word on
    exercise styles; the table in metrics.exercise covers the rest.
    """
    legs, aside = read_legs(positions, stated_styles=stated_styles)
    for leg in legs:
        leg.opening_order_id = (campaigns or {}).get(leg.symbol, "")
    apply_market_data(legs, market)
    today = now.astimezone(NEW_YORK).date()
    unmarked = [
        leg
        for leg in legs
        if leg.mark is None and (leg.expiration_date is None or leg.expiration_date >= today)
    ]
    if unmarked:
        aside += [
            SetAside(leg.symbol, leg.instrument_type, leg.quantity, "no mark in the market data")
            for leg in unmarked
        ]
        legs = [leg for leg in legs if leg not in unmarked]
    if set_aside is not None:
        set_aside.extend(aside)
    price_book(legs, now=now, rate=rate)
    group_book(
        legs,
        account=account,
        account_is_cash=account_is_cash,
        today=today,
    )
    return legs
