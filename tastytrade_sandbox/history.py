"""Past activity for the demo books: months of trades, rolls, expirations, income.

Prices come from the market's seeded daily history, so a given seed and
market date always produce the same rows.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.ledger import Ledger
from tastytrade_sandbox.market import (
    PENNY,
    RISK_FREE_RATE,
    SECONDS_PER_YEAR,
    Market,
    round_strike,
    to_tick,
)
from tastytrade_sandbox.pricing import black76
from tastytrade_sandbox.symbols import build_occ, parse_future, parse_future_option
from tastytrade_sandbox.underlyings import FUTURES, UNDERLYINGS, Underlying

HUNDRED = Decimal(100)
CHURN_SYMBOLS = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "AMD", "NVDA", "XLE", "JPM")
STRUCTURES = ("put", "strangle", "put_spread")
STRUCTURE_WEIGHTS = (6.0, 2.5, 1.5)
SESSIONS_PER_QUARTER = 63
MAX_SESSIONS = 400


class HistoryMaker:
    """Prices and rows for days in the past, counted in sessions before today."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.today = market.market_date
        self._days = [cal.trading_day_on_or_before(self.today)]
        while len(self._days) < MAX_SESSIONS:
            self._days.append(cal.trading_day_on_or_before(self._days[-1] - timedelta(1)))
        self._index = {day: n for n, day in enumerate(self._days)}

    # --- Calendar and prices ----------------------------------------------------

    def day(self, sessions_ago: int) -> date:
        return self._days[sessions_ago]

    def sessions_ago(self, day: date) -> int:
        return self._index[cal.trading_day_on_or_before(day)]

    def fill_time(self, sessions_ago: int, key: str) -> datetime:
        """Return a seeded time of day between 09:45 and 15:45 New York."""
        minutes = self.market.seeded("fill", key, sessions_ago).randrange(360)
        return cal.at_new_york(self.day(sessions_ago), 9, 45) + timedelta(minutes=minutes)

    def stock_spot(self, symbol: str, sessions_ago: int) -> float:
        return self.market.historical_spot(symbol, sessions_ago)

    def stock_price(self, symbol: str, sessions_ago: int) -> Decimal:
        return to_tick(self.stock_spot(symbol, sessions_ago), PENNY)

    def option_price(
        self,
        underlying: Underlying,
        strike: Decimal,
        expiry: date,
        option_type: str,
        sessions_ago: int,
    ) -> Decimal:
        """Return the model premium per share on that day, at least one tick."""
        priced = self.market.option_model(
            underlying,
            strike=float(strike),
            expiry=expiry,
            is_call=option_type == "C",
            spot=self.stock_spot(underlying.symbol, sessions_ago),
            at=cal.at_new_york(self.day(sessions_ago), 11),
        )
        return max(to_tick(priced.value.price, priced.tick_size), priced.tick_size)

    def future_expiry(self, symbol: str) -> date:
        return self.market.future_expiry(parse_future(symbol))

    def future_price(self, symbol: str, sessions_ago: int) -> Decimal:
        """Return the future's price that day: index with carry, to 0.25."""
        product = FUTURES[parse_future(symbol).product]
        index = UNDERLYINGS[product.index]
        at = cal.at_new_york(self.day(sessions_ago), 11)
        expires = cal.session_close(self.future_expiry(symbol))
        years = max((expires - at).total_seconds() / SECONDS_PER_YEAR, 0.0)
        carry = math.exp((RISK_FREE_RATE - index.dividend_yield) * years)
        forward = self.stock_spot(product.index, sessions_ago) * carry
        return to_tick(forward, Decimal(repr(product.tick_size)))

    def future_option_price(self, symbol: str, *, sessions_ago: int) -> Decimal:
        option = parse_future_option(symbol)
        product = FUTURES[option.future.product]
        forward = float(self.future_price(option.future.symbol, sessions_ago))
        index = UNDERLYINGS[product.index]
        at = cal.at_new_york(self.day(sessions_ago), 11)
        years = (cal.session_close(option.expiration) - at).total_seconds() / (SECONDS_PER_YEAR)
        volatility = self.market.implied_vol(index, float(option.strike), forward, years)
        value = black76(
            forward=forward,
            strike=float(option.strike),
            years=years,
            rate=RISK_FREE_RATE,
            volatility=volatility,
            is_call=option.option_type == "C",
        )
        increment = Decimal("0.25") if value.price >= 5 else Decimal("0.05")
        return max(to_tick(value.price, increment), increment)

    # --- Cash rows --------------------------------------------------------------

    def deposit(self, ledger: Ledger, amount: Decimal, *, sessions_ago: int) -> None:
        ledger.money_movement(
            self.fill_time(sessions_ago, "deposit"),
            sub_type="Deposit",
            amount=amount,
            description="ACH DEPOSIT",
        )

    def dividends(
        self,
        ledger: Ledger,
        symbol: str,
        *,
        shares: Decimal,
        held_since: int,
        per_share: Decimal,
    ) -> None:
        """Pay a quarterly dividend on each pay date while the shares were held."""
        offset = self.market.seeded("dividend", symbol).randrange(SESSIONS_PER_QUARTER)
        for sessions_ago in range(offset + 1, held_since, SESSIONS_PER_QUARTER):
            ledger.money_movement(
                cal.at_new_york(self.day(sessions_ago), 7),
                sub_type="Dividend",
                amount=shares * per_share,
                description=f"{symbol} CASH DIVIDEND ${per_share}/SH",
                symbol=symbol,
            )

    def monthly_interest(
        self,
        ledger: Ledger,
        rng: random.Random,
        *,
        first_session: int,
        low: float,
        high: float,
    ) -> None:
        """Credit interest on the first session of each month in the window."""
        for sessions_ago in range(first_session, 0, -1):
            day = self.day(sessions_ago)
            if self.day(sessions_ago + 1).month == day.month:
                continue
            amount = Decimal(repr(round(rng.uniform(low, high), 2)))
            ledger.money_movement(
                cal.at_new_york(day, 6),
                sub_type="Credit Interest",
                amount=amount,
                description="INTEREST ON CREDIT BALANCE",
            )

    def borrow_fees(self, ledger: Ledger, symbol: str, *, held_since: int) -> None:
        """Charge a stock-borrow fee each week a short is held."""
        for sessions_ago in range(held_since - 1, 0, -5):
            ledger.money_movement(
                cal.at_new_york(self.day(sessions_ago), 18),
                sub_type="Fee",
                amount=Decimal("-3.17"),
                description=f"Stock borrow fee {symbol}",
                symbol=symbol,
            )

    # --- Closed trades ----------------------------------------------------------

    def churn(
        self,
        ledger: Ledger,
        rng: random.Random,
        *,
        first_session: int,
        last_session: int,
        probability: float,
        structures: Sequence[str] = STRUCTURES,
    ) -> None:
        """Open and close option trades between two sessions; none stay open."""
        weights = [STRUCTURE_WEIGHTS[STRUCTURES.index(s)] for s in structures]
        for opened in range(first_session, last_session + 1, -1):
            if rng.random() >= probability:
                continue
            symbol = rng.choice(CHURN_SYMBOLS)
            structure = rng.choices(list(structures), weights=weights)[0]
            self._trade(ledger, rng, symbol, structure, opened, last_session, roll=True)

    def _trade(
        self,
        ledger: Ledger,
        rng: random.Random,
        symbol: str,
        structure: str,
        opened: int,
        last_session: int,
        *,
        roll: bool,
    ) -> None:
        underlying = UNDERLYINGS[symbol]
        open_day = self.day(opened)
        if rng.random() < 0.6:
            expiry = cal.monthly_expiration(open_day, rng.randint(25, 45))
        else:
            expiry = cal.weekly_expiration(open_day, rng.randint(7, 21))
        legs = _legs(underlying, structure, self.stock_spot(symbol, opened), rng)
        quantity = Decimal(rng.randint(1, 3))
        expiry_ago = self._index.get(expiry)  # None while it is still in the future
        closed = opened - rng.randint(4, 18)
        if expiry_ago is not None and closed <= expiry_ago:
            closed = expiry_ago + 1  # close the session before expiration
        lets_expire = (
            expiry_ago is not None
            and expiry_ago >= last_session
            and rng.random() < 0.3
            and all(
                _out_of_money(option_type, strike, self.stock_spot(symbol, expiry_ago))
                for option_type, strike, _side in legs
            )
        )
        closed = max(closed, last_session)
        if closed >= opened:
            return
        for option_type, strike, side in legs:
            occ = build_occ(symbol, expiry, option_type, strike)
            price = self.option_price(underlying, strike, expiry, option_type, opened)
            ledger.trade(
                self.fill_time(opened, occ),
                action="Sell to Open" if side == "Short" else "Buy to Open",
                symbol=occ,
                instrument_type="Equity Option",
                underlying=symbol,
                quantity=quantity,
                price=price,
                multiplier=HUNDRED,
            )
            closing = "Buy to Close" if side == "Short" else "Sell to Close"
            if lets_expire:
                ledger.receive_deliver(
                    cal.at_new_york(expiry, 17, 5),
                    sub_type="Expiration",
                    action=closing,
                    symbol=occ,
                    instrument_type="Equity Option",
                    underlying=symbol,
                    quantity=quantity,
                    description=f"Removal of {occ} due to expiration",
                )
                continue
            price = self.option_price(underlying, strike, expiry, option_type, closed)
            ledger.trade(
                self.fill_time(closed, occ),
                action=closing,
                symbol=occ,
                instrument_type="Equity Option",
                underlying=symbol,
                quantity=quantity,
                price=price,
                multiplier=HUNDRED,
            )
        if roll and not lets_expire and closed - last_session > 3 and rng.random() < 0.25:
            self._trade(ledger, rng, symbol, structure, closed, last_session, roll=False)


def _legs(
    underlying: Underlying, structure: str, spot: float, rng: random.Random
) -> list[tuple[str, Decimal, str]]:
    step = max(underlying.strike_step, 1.0)
    distance = 0.04 + 0.05 * rng.random()
    put = round_strike(spot * (1 - distance), step)
    if structure == "strangle":
        return [("P", put, "Short"), ("C", round_strike(spot * (1 + distance), step), "Short")]
    if structure == "put_spread":
        return [("P", put, "Short"), ("P", put - Decimal(repr(step * 5)), "Long")]
    return [("P", put, "Short")]


def _out_of_money(option_type: str, strike: Decimal, spot: float) -> bool:
    return spot < float(strike) if option_type == "C" else spot > float(strike)
