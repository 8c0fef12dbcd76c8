"""Sandbox prices: seeded random walks, an IV surface per underlying, option marks.

Every price depends only on (seed, market date, symbol, tick), never on the
order requests arrive in. One tick is one minute of market time.
"""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.pricing import OptionValue, black76, black_scholes
from tastytrade_sandbox.symbols import (
    FutureOptionSymbol,
    FutureSymbol,
    OptionSymbol,
    parse_future,
    parse_future_option,
    parse_occ,
)
from tastytrade_sandbox.underlyings import (
    FUTURES,
    UNDERLYINGS,
    FutureProduct,
    Underlying,
    underlying_for_root,
)

RISK_FREE_RATE = 0.04  # annual, continuous
MARKET_SECONDS_PER_TICK = 60
# Intraday variance is concentrated in trading hours: scale by them, not by 24 h.
TRADING_SECONDS_PER_YEAR = 252 * 6.5 * 3600
TRADING_DAYS_PER_YEAR = 252
SECONDS_PER_YEAR = 365 * 24 * 3600
IV_REFERENCE_YEARS = 30 / 365
NORMALS_PER_BLOCK = 512
PENNY = Decimal("0.01")
NICKEL = Decimal("0.05")


@dataclass(frozen=True)
class OptionPrice:
    """A model price for one option at one tick; per share/unit."""

    value: OptionValue
    volatility: float
    underlying_price: float
    years: float
    tick_size: Decimal


def seeded_rng(*parts: object) -> random.Random:
    """Return a PRNG seeded by a string: stable across runs and Python versions."""
    # A simulation's reproducible randomness, never used for secrets.
    return random.Random(":".join(map(str, parts)))  # noqa: S311 - seeded, not security


def to_tick(value: float, increment: Decimal, rounding: str = ROUND_HALF_UP) -> Decimal:
    """Round a model float to the exchange increment, as a Decimal."""
    steps = (Decimal(repr(value)) / increment).to_integral_value(rounding=rounding)
    return (steps * increment).quantize(increment)


class Market:
    """Prices for one seed and market date; thread-safe, cached walks."""

    def __init__(self, seed: int, market_date: date) -> None:
        self.seed = seed
        self.market_date = market_date
        # Tick 0 is 10:00 New York on the market date.
        self.anchor = cal.at_new_york(market_date, 10)
        self._walks: dict[str, list[float]] = {}
        self._normals: dict[tuple[str, str, int], list[float]] = {}
        self._lock = threading.Lock()
        # Prices at the latest tick asked for, by (method, symbol): a sync wave
        # asks the same few hundred symbols at one tick over and over. Older
        # ticks are dropped, so the memo stays the size of one tick's book.
        self._memo: tuple[int, dict[tuple[str, object], object]] = (-1, {})
        # Values fixed for the market date (previous closes, listed expiries).
        self._fixed: dict[tuple[str, object], object] = {}

    def remembered(self, name: str, key: object, compute):
        """Return compute() for (name, key), computed once for this market date."""
        try:
            return self._fixed[(name, key)]
        except KeyError:
            value = self._fixed[(name, key)] = compute()
            return value

    def _memoised(self, method: str, key: object, tick: int, compute):
        """Return compute() for (method, key) at ``tick``, computed once per tick."""
        memo_tick, memo = self._memo
        if memo_tick != tick:
            memo = {}
            self._memo = (tick, memo)  # one assignment: readers see old or new
        try:
            return memo[(method, key)]
        except KeyError:
            value = memo[(method, key)] = compute()
            return value

    # --- Underlyings ------------------------------------------------------------

    def market_time(self, tick: int) -> datetime:
        return self.anchor + timedelta(seconds=tick * MARKET_SECONDS_PER_TICK)

    def spot(self, symbol: str, tick: int) -> float:
        """Return the underlying's price at ``tick``."""
        underlying = UNDERLYINGS[symbol]
        if underlying.tracks:
            index, ratio = underlying.tracks
            return self.spot(index, tick) * ratio
        return underlying.base_price * math.exp(self._walk(symbol, tick))

    def prev_close(self, symbol: str) -> float:
        """Return the previous session's close, the day before tick 0."""
        underlying = UNDERLYINGS[symbol]
        if underlying.tracks:
            index, ratio = underlying.tracks
            return self.prev_close(index) * ratio
        return self.historical_spot(symbol, 1)

    def historical_spot(self, symbol: str, sessions_ago: int) -> float:
        """Return the close ``sessions_ago`` trading days before the market date."""
        underlying = UNDERLYINGS[symbol]
        if underlying.tracks:
            index, ratio = underlying.tracks
            return self.historical_spot(index, sessions_ago) * ratio
        daily = underlying.volatility / math.sqrt(TRADING_DAYS_PER_YEAR)
        total = sum(daily * self._normal(symbol, "history", i) for i in range(sessions_ago))
        return underlying.base_price * math.exp(-total)

    def _walk(self, symbol: str, tick: int) -> float:
        if tick < 0:
            raise ValueError("ticks start at 0")
        path = self._walks.get(symbol)
        if path is None or len(path) <= tick:
            with self._lock:
                path = self._walks.setdefault(symbol, [0.0])
                step = UNDERLYINGS[symbol].volatility * math.sqrt(
                    MARKET_SECONDS_PER_TICK / TRADING_SECONDS_PER_YEAR
                )
                while len(path) <= tick:
                    shock = self._normal(symbol, "walk", len(path))
                    path.append(path[-1] - 0.5 * step * step + step * shock)
        return path[tick]

    def _normal(self, symbol: str, stream: str, index: int) -> float:
        """Return standard normal number ``index`` of a (seed, symbol, stream)."""
        key = (symbol, stream, index // NORMALS_PER_BLOCK)
        block = self._normals.get(key)
        if block is None:
            rng = seeded_rng(self.seed, symbol, stream, key[2])
            block = [rng.gauss(0.0, 1.0) for _ in range(NORMALS_PER_BLOCK)]
            self._normals[key] = block
        return block[index % NORMALS_PER_BLOCK]

    def seeded(self, *parts: object) -> random.Random:
        """Return a PRNG for one named decision (volumes, ranks, the book)."""
        return seeded_rng(self.seed, *parts)

    # --- Volatility surface -----------------------------------------------------

    def atm_iv(self, underlying: Underlying, years: float) -> float:
        """Return at-the-money implied volatility for a maturity, fraction."""
        years = max(years, 1 / 365)
        return max(0.05, underlying.iv_atm + underlying.term * math.log(years / IV_REFERENCE_YEARS))

    def implied_vol(
        self, underlying: Underlying, strike: float, forward: float, years: float
    ) -> float:
        """Return the surface IV: ATM term structure, put skew and a smile."""
        atm = self.atm_iv(underlying, years)
        deviations = math.log(strike / forward) / (atm * math.sqrt(max(years, 1 / 365)))
        deviations = max(-4.0, min(4.0, deviations))
        factor = 1.0 - underlying.skew * deviations + underlying.smile * deviations**2
        return min(3.0, max(0.05, atm * factor))

    # --- Options and futures ----------------------------------------------------

    def years_to(self, expires_at: datetime, tick: int) -> float:
        return (expires_at - self.market_time(tick)).total_seconds() / SECONDS_PER_YEAR

    def equity_option(self, option: OptionSymbol, tick: int) -> OptionPrice | None:
        """Price an equity/index option at a tick; None for an unknown root."""
        return self._memoised(
            "equity_option", option, tick, lambda: self._equity_option(option, tick)
        )

    def _equity_option(self, option: OptionSymbol, tick: int) -> OptionPrice | None:
        underlying = underlying_for_root(option.root)
        if underlying is None:
            return None
        return self.option_model(
            underlying,
            strike=float(option.strike),
            expiry=option.expiration,
            is_call=option.option_type == "C",
            spot=self.spot(underlying.symbol, tick),
            at=self.market_time(tick),
        )

    def option_model(
        self,
        underlying: Underlying,
        *,
        strike: float,
        expiry: date,
        is_call: bool,
        spot: float,
        at: datetime,
    ) -> OptionPrice:
        """Price an option with BSM on the surface, for any spot and instant."""
        years = (cal.session_close(expiry) - at).total_seconds() / SECONDS_PER_YEAR
        carry = RISK_FREE_RATE - underlying.dividend_yield
        forward = spot * math.exp(carry * max(years, 0.0))
        volatility = self.implied_vol(underlying, strike, forward, years)
        value = black_scholes(
            spot=spot,
            strike=strike,
            years=years,
            rate=RISK_FREE_RATE,
            dividend_yield=underlying.dividend_yield,
            volatility=volatility,
            is_call=is_call,
        )
        index_premium = underlying.instrument_type == "Index" and value.price >= 3
        tick_size = NICKEL if index_premium else PENNY
        return OptionPrice(value, volatility, spot, years, tick_size)

    def future_product(self, future: FutureSymbol) -> FutureProduct | None:
        return FUTURES.get(future.product)

    def future_expiry(self, future: FutureSymbol) -> date:
        year = future.year(self.market_date)
        return cal.expiration_on(cal.third_friday(year, future.month))

    def future_price(self, future: FutureSymbol, tick: int) -> float | None:
        """Return the future's fair price: index with carry to its expiry."""
        product = self.future_product(future)
        if product is None:
            return None
        index = UNDERLYINGS[product.index]
        years = max(self.years_to(cal.session_close(self.future_expiry(future)), tick), 0.0)
        carry = math.exp((RISK_FREE_RATE - index.dividend_yield) * years)
        return self.spot(product.index, tick) * carry

    def future_option(self, option: FutureOptionSymbol, tick: int) -> OptionPrice | None:
        """Price a futures option with Black-76 on its future."""
        return self._memoised(
            "future_option", option, tick, lambda: self._future_option(option, tick)
        )

    def _future_option(self, option: FutureOptionSymbol, tick: int) -> OptionPrice | None:
        product = self.future_product(option.future)
        forward = self.future_price(option.future, tick)
        if product is None or forward is None:
            return None
        index = UNDERLYINGS[product.index]
        years = self.years_to(cal.session_close(option.expiration), tick)
        volatility = self.implied_vol(index, float(option.strike), forward, years)
        value = black76(
            forward=forward,
            strike=float(option.strike),
            years=years,
            rate=RISK_FREE_RATE,
            volatility=volatility,
            is_call=option.option_type == "C",
        )
        tick_size = Decimal("0.25") if value.price >= 5 else NICKEL
        return OptionPrice(value, volatility, forward, years, tick_size)

    def unit_price(self, symbol: str, instrument_type: str, tick: int) -> Decimal | None:
        """Return a mark per share/unit for valuing positions (intrinsic if expired).

        None for a symbol this market does not list or cannot read (a test's
        deliberately broken leg): the caller values it at its open price.
        """
        try:
            return self._unit_price(symbol, instrument_type, tick)
        except ValueError:
            return None

    def _unit_price(self, symbol: str, instrument_type: str, tick: int) -> Decimal | None:
        if instrument_type in ("Equity", "Cryptocurrency"):
            return to_tick(self.spot(symbol, tick), PENNY) if symbol in UNDERLYINGS else None
        if instrument_type == "Future":
            future = parse_future(symbol)
            price, product = self.future_price(future, tick), self.future_product(future)
            if price is None or product is None:
                return None
            return to_tick(price, Decimal(repr(product.tick_size)))  # as its quote is
        if instrument_type == "Equity Option":
            priced = self.equity_option(parse_occ(symbol), tick)
        elif instrument_type == "Future Option":
            priced = self.future_option(parse_future_option(symbol), tick)
        else:
            return None
        if priced is None:
            return None
        return to_tick(priced.value.price, priced.tick_size)


def round_strike(value: float, step: float) -> Decimal:
    """Round a price to the nearest listed strike of a given increment."""
    return to_tick(value, Decimal(repr(step)))


def spread_around(theo: float, tick_size: Decimal) -> tuple[Decimal, Decimal]:
    """Return (bid, ask) about a model price: ~3 % wide, at least one tick each side."""
    half = max(float(tick_size), theo * 0.015)
    bid = max(Decimal(0), to_tick(theo - half, tick_size, ROUND_FLOOR))
    ask = to_tick(theo + half, tick_size, ROUND_CEILING)
    if ask <= bid:
        ask = bid + tick_size
    return bid, ask
