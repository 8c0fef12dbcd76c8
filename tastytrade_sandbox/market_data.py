"""Wire payloads for quotes, market metrics, option chains and instruments."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.market import (
    PENNY,
    Market,
    OptionPrice,
    spread_around,
    to_tick,
)
from tastytrade_sandbox.symbols import (
    FUTURES_MONTH_CODES,
    build_future_option,
    build_occ,
    parse_future,
    parse_future_option,
    parse_occ,
)
from tastytrade_sandbox.underlyings import (
    FUTURES,
    UNDERLYINGS,
    Underlying,
    underlying_for_root,
)
from tastytrade_sandbox.wire import decimal_text, iso

QUOTE_KEYS = ("equity", "equity-option", "index", "future", "future-option", "cryptocurrency")
WEEKLIES_LISTED = 8
MONTHLIES_LISTED = 9
CHAIN_STRIKES_EACH_SIDE = 30


def quote(
    market: Market, key: str, symbol: str, tick: int, now: datetime, greeks: bool
) -> dict[str, Any] | None:
    """Return one /market-data/by-type item, or None for an unknown symbol."""
    try:
        if key == "equity":
            return _equity_quote(market, symbol, tick, now, "Equity")
        if key == "index":
            return _equity_quote(market, symbol, tick, now, "Index")
        if key == "cryptocurrency":
            return _equity_quote(market, symbol, tick, now, "Cryptocurrency")
        if key == "future":
            return _future_quote(market, symbol, tick, now)
        if key == "equity-option":
            priced = market.equity_option(parse_occ(symbol), tick)
            return _option_quote(market, symbol, "Equity Option", priced, now, greeks)
        if key == "future-option":
            priced = market.future_option(parse_future_option(symbol), tick)
            return _option_quote(market, symbol, "Future Option", priced, now, greeks)
    except ValueError:
        return None  # not a symbol of that kind: production simply omits it
    return None


def _summary(
    market: Market, item: dict[str, Any], rng_key: str, *, volume: int | None
) -> dict[str, Any]:
    """Add the fields every real quote carries besides the prices (the SDK requires them).

    ``close`` is the last completed session's close, the one ``prev-close``
    also names during the session; volumes and sizes are decimal strings
    such as "76.0", as production writes them; -1 halt times mean no halt.
    """
    rng = market.seeded("sizes", rng_key)
    last_session = cal.trading_days_back(market.market_date, 1)
    item.update(
        {
            "bid-size": f"{1 + rng.randrange(400)}.0",
            "ask-size": f"{1 + rng.randrange(400)}.0",
            "close": item["prev-close"],
            "close-price-type": "Regular",
            "summary-date": last_session.isoformat(),
            "prev-close-date": last_session.isoformat(),
            "prev-close-price-type": "Regular",
            "halt-start-time": -1,
            "halt-end-time": -1,
        }
    )
    if volume is not None:
        item["volume"] = f"{volume}.0"
    return item


def _equity_quote(
    market: Market, symbol: str, tick: int, now: datetime, kind: str
) -> dict[str, Any] | None:
    underlying = UNDERLYINGS.get(symbol)
    if underlying is None or underlying.instrument_type != kind:
        return None
    price = market.spot(symbol, tick)
    half = 0.01 if kind == "Equity" else 0.05
    bid, ask = to_tick(price - half, PENNY), to_tick(price + half, PENNY)
    mid = (bid + ask) / 2
    rng = market.seeded("quote", symbol, tick)
    last = bid if rng.random() < 0.5 else ask
    highs = [market.spot(symbol, t) for t in range(max(0, tick - 390), tick + 1)]
    item: dict[str, Any] = {
        "symbol": symbol,
        "instrument-type": kind,
        "updated-at": iso(now),
        "bid": decimal_text(bid),
        "ask": decimal_text(ask),
        "mid": decimal_text(mid),
        "mark": decimal_text(mid),
        "last": decimal_text(last),
        "prev-close": decimal_text(to_tick(market.prev_close(symbol), PENNY)),
        "day-high-price": decimal_text(to_tick(max(highs), PENNY)),
        "day-low-price": decimal_text(to_tick(min(highs), PENNY)),
        "beta": decimal_text(Decimal(repr(underlying.beta))),
        "is-trading-halted": False,
    }
    volume = None if kind == "Index" else 1_000_000 + rng.randrange(40_000_000)
    return _summary(market, item, symbol, volume=volume)


def _future_quote(market: Market, symbol: str, tick: int, now: datetime) -> dict[str, Any] | None:
    future = parse_future(symbol)
    price = market.future_price(future, tick)
    product = market.future_product(future)
    if price is None or product is None:
        return None
    increment = Decimal(repr(product.tick_size))
    mid = to_tick(price, increment)
    bid, ask = mid - increment, mid + increment
    item = {
        "symbol": symbol,
        "instrument-type": "Future",
        "updated-at": iso(now),
        "bid": decimal_text(bid),
        "ask": decimal_text(ask),
        "mid": decimal_text(mid),
        "mark": decimal_text(mid),
        "last": decimal_text(mid),
        "prev-close": decimal_text(to_tick(price * 0.997, increment)),
    }
    volume = 1_000_000 + market.seeded("volume", symbol, tick).randrange(900_000)
    return _summary(market, item, symbol, volume=volume)


def _option_quote(
    market: Market,
    symbol: str,
    kind: str,
    priced: OptionPrice | None,
    now: datetime,
    greeks: bool,
) -> dict[str, Any] | None:
    if priced is None or priced.years <= 0:
        return None  # unknown underlying, or expired: no quote exists any more
    bid, ask = spread_around(priced.value.price, priced.tick_size)
    mid = (bid + ask) / 2
    rng = market.seeded("option", symbol)
    item: dict[str, Any] = {
        "symbol": symbol,
        "instrument-type": kind,
        "updated-at": iso(now),
        "bid": decimal_text(bid),
        "ask": decimal_text(ask),
        "mid": decimal_text(mid),
        "mark": decimal_text(mid),
        "last": decimal_text(bid if rng.random() < 0.5 else ask),
        "prev-close": decimal_text(to_tick(priced.value.price * 1.02, priced.tick_size)),
        "open-interest": f"{rng.randrange(50, 25_000)}.0",
    }
    _summary(market, item, symbol, volume=rng.randrange(0, 5_000))
    if greeks:
        value = priced.value
        item.update(
            {
                "volatility": _fixed(priced.volatility),
                "delta": _fixed(value.delta),
                "gamma": _fixed(value.gamma),
                "theta": _fixed(value.theta),
                "vega": _fixed(value.vega),
                "rho": _fixed(value.rho),
                "theo-price": _fixed(value.price),
                "dx-mark": decimal_text(mid),
            }
        )
    return item


def _fixed(value: float) -> str:
    return f"{value:.6f}"


# --- Market metrics -----------------------------------------------------------


def market_metric(market: Market, symbol: str, tick: int, now: datetime) -> dict[str, Any] | None:
    """Return one /market-metrics item, consistent with the pricing surface."""
    underlying = UNDERLYINGS.get(symbol)
    if underlying is None:
        return None
    rng = market.seeded("metrics", symbol)
    iv_index = market.atm_iv(underlying, 30 / 365)
    hv_30_day = underlying.volatility * 100 * rng.uniform(0.8, 1.1)  # percent
    expirations = [
        {
            "expiration-date": expiry.isoformat(),
            "option-chain-type": "Standard",
            "settlement-type": settlement,
            "implied-volatility": f"{market.atm_iv(underlying, _years(market, expiry, tick)):.4f}",
        }
        for expiry, _root, settlement, _kind in listed_expirations(market, underlying)
        if underlying.instrument_type != "Cryptocurrency"  # coins list no options
    ]
    earnings = market.market_date + timedelta(days=20 + rng.randrange(60))
    item: dict[str, Any] = {
        "symbol": symbol,
        "implied-volatility-index": f"{iv_index:.4f}",
        "implied-volatility-index-5-day-change": f"{rng.uniform(-0.01, 0.01):.4f}",
        "implied-volatility-index-rank": f"{rng.uniform(0.05, 0.6):.4f}",
        "implied-volatility-percentile": f"{rng.uniform(0.1, 0.7):.4f}",
        "implied-volatility-30-day": f"{iv_index * 100:.2f}",
        "historical-volatility-30-day": f"{hv_30_day:.2f}",
        "implied-volatility-updated-at": iso(now),
        "option-expiration-implied-volatilities": expirations,
        "beta": f"{underlying.beta:.2f}",
        "beta-updated-at": iso(now - timedelta(hours=15)),
        "corr-spy-3month": f"{min(0.99, 0.45 + 0.4 * min(underlying.beta, 1.0)):.2f}",
        "dividend-yield": f"{underlying.dividend_yield:.4f}",
        "liquidity-rating": 1 + rng.randrange(5),
        "lendability": "Easy To Borrow",
        # Price x a plausible share count; indexes send 0, as production does.
        "market-cap": "0.0"
        if underlying.instrument_type != "Equity"
        else f"{underlying.base_price * 1e9 * (1 + rng.randrange(30)):.1f}",
        "updated-at": iso(now),
    }
    if underlying.instrument_type == "Equity":
        item["earnings"] = {
            "expected-report-date": earnings.isoformat(),
            "estimated": True,
            "late-flag": 0,
            "visible": True,
        }
    return item


def _years(market: Market, expiry: date, tick: int) -> float:
    return market.years_to(cal.session_close(expiry), tick)


def listed_expirations(market: Market, underlying: Underlying) -> list[tuple[date, str, str, str]]:
    """Return (expiry, root, settlement, expiration-type) rows, soonest first."""
    rows = market.remembered(
        "listed_expirations", underlying.symbol, lambda: _listed_expirations(market, underlying)
    )
    return list(rows)  # a copy: callers may not change the remembered rows


def _listed_expirations(
    market: Market, underlying: Underlying
) -> tuple[tuple[date, str, str, str], ...]:
    today = market.market_date
    weeklies = {cal.weekly_expiration(today, 7 * n) for n in range(WEEKLIES_LISTED)}
    monthlies = {cal.monthly_expiration(today, 30 * n) for n in range(MONTHLIES_LISTED)}
    rows = []
    for expiry in sorted(weeklies | monthlies):
        if expiry < today:
            continue
        kind = "Regular" if cal.is_monthly(expiry) else "Weekly"
        if underlying.symbol == "SPX":
            if kind == "Regular":
                rows.append((expiry, "SPX", "AM", kind))
            rows.append((expiry, "SPXW", "PM", "Weekly" if kind == "Weekly" else "End-Of-Month"))
        else:
            rows.append((expiry, underlying.symbol, "PM", kind))
    return tuple(rows)


# --- Chains and instruments -----------------------------------------------------


def option_chain(market: Market, symbol: str, tick: int) -> list[dict[str, Any]] | None:
    """Return /option-chains/{symbol}/nested items: one per root."""
    underlying = UNDERLYINGS.get(symbol)
    if underlying is None:
        return None
    spot = market.spot(symbol, tick)
    step = Decimal(repr(underlying.strike_step))
    center = to_tick(spot, step)
    strikes = [
        center + step * offset
        for offset in range(-CHAIN_STRIKES_EACH_SIDE, CHAIN_STRIKES_EACH_SIDE + 1)
        if center + step * offset > 0
    ]
    items: dict[str, dict[str, Any]] = {}
    for expiry, root, settlement, kind in listed_expirations(market, underlying):
        chain = items.setdefault(
            root,
            {
                "underlying-symbol": symbol,
                "root-symbol": root,
                "option-chain-type": "Standard",
                "shares-per-contract": 100,
                "tick-sizes": [{"value": "0.01"}],
                "deliverables": [],
                "expirations": [],
            },
        )
        chain["expirations"].append(
            {
                "expiration-type": kind,
                "expiration-date": expiry.isoformat(),
                "days-to-expiration": (expiry - market.market_date).days,
                "settlement-type": settlement,
                "strikes": [_strike_row(root, expiry, strike) for strike in strikes],
            }
        )
    return list(items.values())


def _strike_row(root: str, expiry: date, strike: Decimal) -> dict[str, Any]:
    call = build_occ(root, expiry, "C", strike)
    put = build_occ(root, expiry, "P", strike)
    return {
        "strike-price": decimal_text(strike),
        "call": call,
        "call-streamer-symbol": parse_occ(call).streamer_symbol,
        "put": put,
        "put-streamer-symbol": parse_occ(put).streamer_symbol,
    }


def equity_option_instrument(market: Market, occ: str) -> dict[str, Any] | None:
    """Return /instruments/equity-options/{occ} data (a batch item too), or None if unknown."""
    try:
        option = parse_occ(occ)
    except ValueError:
        return None
    underlying = underlying_for_root(option.root)
    if underlying is None:
        return None
    european = underlying.instrument_type == "Index"
    am_settled = option.root == "SPX"
    expires_at = cal.session_close(option.expiration)
    return {
        "symbol": option.occ,
        "instrument-type": "Equity Option",
        "active": option.expiration >= market.market_date,
        "strike-price": decimal_text(option.strike),
        "root-symbol": option.root,
        "underlying-symbol": underlying.symbol,
        "expiration-date": option.expiration.isoformat(),
        "exercise-style": "European" if european else "American",
        "shares-per-contract": 100,
        "option-type": option.option_type,
        "option-chain-type": "Standard",
        "market-time-instrument-collection": "Equity Option",
        "expiration-type": "Regular" if cal.is_monthly(option.expiration) else "Weekly",
        "settlement-type": "AM" if am_settled else "PM",
        "stops-trading-at": iso(expires_at),
        "expires-at": iso(expires_at),
        "days-to-expiration": (option.expiration - market.market_date).days,
        "is-closing-only": False,
        "streamer-symbol": option.streamer_symbol,
    }


def future_instrument(market: Market, symbol: str) -> dict[str, Any] | None:
    """Return /instruments/futures/{symbol} data (with or without the slash)."""
    try:
        future = parse_future("/" + symbol.lstrip("/"))
    except ValueError:
        return None
    product = FUTURES.get(future.product)
    if product is None:
        return None
    expiry = market.future_expiry(future)
    year = future.year(market.market_date)
    return {
        "symbol": future.symbol,
        "product-code": product.code,
        "product-group": "CME_ES",
        "description": f"{product.description} {expiry:%B %Y}",
        "contract-size": "1.0",
        "notional-multiplier": decimal_text(Decimal(product.multiplier)),
        "tick-size": decimal_text(Decimal(repr(product.tick_size))),
        "expiration-date": expiry.isoformat(),
        "expires-at": iso(cal.session_close(expiry)),
        "last-trade-date": expiry.isoformat(),
        "active": expiry >= market.market_date,
        "active-month": True,
        "is-tradeable": True,
        "streamer-symbol": f"/{product.code}{future.month_code}{year % 100:02d}:XCME",
        "exchange": "CME",
        # The rest of what the real endpoint sends (the SDK's Future requires them).
        "display-factor": "0.01",
        "stops-trading-at": iso(cal.session_close(expiry)),
        "next-active-month": False,
        "is-closing-only": False,
        "streamer-exchange-code": "XCME",
        "back-month-first-calendar-symbol": False,
    }


def future_option_instrument(market: Market, symbol: str) -> dict[str, Any] | None:
    """Return /instruments/future-options/{symbol} data (a batch item too), or None if unknown.

    ``exercise-style`` is the exchange's listing of the option product
    (``FutureProduct.option_exercise_style``).
    """
    try:
        option = parse_future_option(symbol)
    except ValueError:
        return None
    product = market.future_product(option.future)
    if product is None or option.option_product != product.option_product:
        return None
    expires_at = cal.session_close(option.expiration)
    strike = decimal_text(option.strike)
    year = option.expiration.year % 100
    # The broker's own spelling (padded columns), as positions carry it.
    canonical = build_future_option(
        option.future.symbol,
        option.option_product,
        option.expiration,
        option.option_type,
        option.strike,
        option_month=FUTURES_MONTH_CODES.index(option.option_month_code) + 1,
    )
    return {
        "symbol": canonical,
        "instrument-type": "Future Option",
        "underlying-symbol": option.future.symbol,
        "product-code": product.code,
        "expiration-date": option.expiration.isoformat(),
        "root-symbol": f"/{product.code}",
        "option-root-symbol": option.option_product,
        "strike-price": strike,
        "exchange": "CME",
        "exchange-symbol": f"{option.option_product}{option.option_month_code}"
        f"{option.option_year_digits} {option.option_type}{strike}",
        "streamer-symbol": f"./{option.option_product}{option.option_month_code}{year:02d}"
        f"{option.option_type}{strike}:XCME",
        "option-type": option.option_type,
        "exercise-style": product.option_exercise_style,
        "is-vanilla": True,
        "is-primary-deliverable": True,
        "future-price-ratio": "1.0",
        "multiplier": decimal_text(product.option_multiplier),
        "underlying-count": "1.0",
        "is-confirmed": True,
        "notional-value": "1.0",
        "display-factor": "0.01",
        "security-exchange": "2",
        "sx-id": "0",
        "settlement-type": "Future",
        "strike-factor": "1.0",
        "maturity-date": option.expiration.isoformat(),
        "is-exercisable-weekly": True,
        "last-trade-time": "0",
        "days-to-expiration": (option.expiration - market.market_date).days,
        "is-closing-only": False,
        "active": option.expiration >= market.market_date,
        "stops-trading-at": iso(expires_at),
        "expires-at": iso(expires_at),
    }
