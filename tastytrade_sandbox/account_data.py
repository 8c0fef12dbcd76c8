"""Wire payloads for accounts, positions and balances, valued at a tick.

Requirements and buying power are rough approximations of Tastytrade's
rules, good enough for a demo; net liquidating value is exact: cash plus long
values minus short values at the tick's marks, plus futures' open P/L.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.book import DemoAccount, Holding
from tastytrade_sandbox.ledger import row_date, signed_net_value
from tastytrade_sandbox.market import PENNY, Market, to_tick
from tastytrade_sandbox.symbols import parse_future, parse_future_option, parse_occ
from tastytrade_sandbox.underlyings import UNDERLYINGS
from tastytrade_sandbox.wire import count_text, decimal_text, iso, money

ZERO = Decimal(0)
STOCK_MAINTENANCE = Decimal("0.30")
NAKED_OPTION_RATE = Decimal("0.20")
NAKED_OPTION_FLOOR = Decimal("0.10")
FUTURES_OPTION_RATE = Decimal("0.06")
FUTURE_MARGIN_PER_POINT = Decimal("0.055")


def account_item(account: DemoAccount) -> dict[str, Any]:
    """Return one /customers/me/accounts item."""
    return {
        "authority-level": "owner",
        "account": {
            "account-number": account.number,
            "external-id": f"A{account.number[3:]}{account.number[:3]}",
            "opened-at": iso(account.opened_at, zulu=False),
            "nickname": account.nickname,
            "account-type-name": account.type_name,
            "day-trader-status": False,
            "is-closed": account.is_closed,
            "is-firm-error": False,
            "is-firm-proprietary": False,
            "is-futures-approved": account.futures_approved,
            "is-test-drive": False,
            "margin-or-cash": account.margin_or_cash,
            "is-foreign": False,
            "funding-date": account.opened_at.date().isoformat(),
            "investment-objective": "SPECULATION",
            "suitable-options-level": "No Restrictions",
            "created-at": iso(account.opened_at, zulu=False),
        },
    }


def unit_mark(market: Market, holding: Holding, tick: int) -> Decimal:
    """Return the holding's price per share/unit at the tick (intrinsic if expired)."""
    price = market.unit_price(holding.symbol, holding.instrument_type, tick)
    return price if price is not None else holding.average_open_price


def previous_close(market: Market, holding: Holding) -> Decimal:
    """Return the previous session's close per share/unit (fixed for the market date)."""
    key = (holding.symbol, holding.instrument_type, holding.underlying_symbol)
    return market.remembered("previous_close", key, lambda: _previous_close(market, holding))


def _previous_close(market: Market, holding: Holding) -> Decimal:
    try:
        return _modelled_close(market, holding)
    except (ValueError, KeyError):  # a symbol or underlying this market does not list
        return holding.average_open_price


def _modelled_close(market: Market, holding: Holding) -> Decimal:
    kind = holding.instrument_type
    if kind in ("Equity", "Cryptocurrency"):
        return to_tick(market.prev_close(holding.symbol), PENNY)
    day_before = cal.trading_days_back(market.market_date, 1)
    at = cal.session_close(day_before)
    if kind == "Equity Option":
        option = parse_occ(holding.symbol)
        underlying = UNDERLYINGS[holding.underlying_symbol]
        priced = market.option_model(
            underlying,
            strike=float(option.strike),
            expiry=option.expiration,
            is_call=option.option_type == "C",
            spot=market.prev_close(underlying.symbol),
            at=at,
        )
        return to_tick(priced.value.price, priced.tick_size)
    if kind == "Future":
        price = market.future_price(parse_future(holding.symbol), 0) or 0.0
        return to_tick(price * 0.998, Decimal("0.25"))
    option = parse_future_option(holding.symbol)
    priced = market.future_option(option, 0)
    price = priced.value.price * 1.01 if priced else 0.0
    return to_tick(price, Decimal("0.05"))


def position_item(
    market: Market,
    account: DemoAccount,
    holding: Holding,
    tick: int,
    now: datetime,
    *,
    include_marks: bool,
) -> dict[str, Any]:
    """Return one /accounts/{acct}/positions item."""
    quantity = _number(holding.quantity, as_text=holding.quantity_as_text)
    multiplier = _number(holding.multiplier, as_text=holding.multiplier_as_text)
    streamer = _streamer_symbol(holding)
    item: dict[str, Any] = {
        "account-number": account.number,
        "symbol": holding.symbol,
        "instrument-type": holding.instrument_type,
        "underlying-symbol": holding.underlying_symbol,
        "quantity": quantity,
        "quantity-direction": holding.direction,
        "close-price": decimal_text(previous_close(market, holding)),
        "average-open-price": decimal_text(holding.average_open_price),
        "average-yearly-market-close-price": decimal_text(holding.average_open_price),
        "average-daily-market-close-price": decimal_text(previous_close(market, holding)),
        "multiplier": multiplier,
        # Undocumented; real captures show Debit on shorts (closing costs) and
        # Credit on longs. Never a direction: the product ignores it.
        "cost-effect": "Debit" if holding.direction == "Short" else "Credit",
        "is-suppressed": False,
        "is-frozen": False,
        "restricted-quantity": 0 if not holding.quantity_as_text else "0",
        "realized-day-gain": "0.0",
        "realized-day-gain-effect": "None",
        "realized-day-gain-date": market.market_date.isoformat(),
        "realized-today": "0.0",
        "realized-today-effect": "None",
        "realized-today-date": market.market_date.isoformat(),
        "created-at": iso(holding.opened_at, zulu=False),
        "updated-at": iso(now, zulu=False),
    }
    if holding.expires_at is not None:
        item["expires-at"] = iso(holding.expires_at, zulu=False)
    if streamer:
        item["streamer-symbol"] = streamer
    if include_marks:
        mark_price = unit_mark(market, holding, tick)
        item["mark-price"] = decimal_text(mark_price)
        item["mark"] = money(mark_price * holding.quantity * holding.multiplier)
    return item


def _number(value: Decimal, *, as_text: bool) -> Any:
    """Production writes counts as strings ("0.5") or JSON numbers; a fraction stays exact."""
    if as_text or value != value.to_integral_value():
        return count_text(value)
    return int(value)


def _streamer_symbol(holding: Holding) -> str | None:
    if holding.instrument_type == "Equity Option":
        return parse_occ(holding.symbol).streamer_symbol
    if holding.instrument_type in ("Equity", "Cryptocurrency"):
        return holding.symbol
    return None


def balance_item(market: Market, account: DemoAccount, tick: int, now: datetime) -> dict[str, Any]:
    """Return /accounts/{acct}/balances/USD data valued at the tick."""
    totals = {
        "long-equity-value": ZERO,
        "short-equity-value": ZERO,
        "long-derivative-value": ZERO,
        "short-derivative-value": ZERO,
        "long-futures-value": ZERO,
        "short-futures-value": ZERO,
        "long-futures-derivative-value": ZERO,
        "short-futures-derivative-value": ZERO,
        "long-cryptocurrency-value": ZERO,
        "short-cryptocurrency-value": ZERO,
    }
    futures_pnl = ZERO
    futures_requirement = ZERO
    requirement = ZERO
    cash_secured = ZERO
    for holding in account.holdings:
        if holding.direction == "Zero":
            continue
        mark = unit_mark(market, holding, tick)
        value = mark * holding.quantity * holding.multiplier
        side = "long" if holding.direction == "Long" else "short"
        if holding.instrument_type == "Equity":
            totals[f"{side}-equity-value"] += value
            if account.margin_or_cash == "Margin":
                requirement += value * STOCK_MAINTENANCE
        elif holding.instrument_type == "Future":
            totals[f"{side}-futures-value"] += value
            futures_pnl += (
                (mark - holding.average_open_price) * holding.signed_quantity * (holding.multiplier)
            )
            requirement += value * FUTURE_MARGIN_PER_POINT
            futures_requirement += value * FUTURE_MARGIN_PER_POINT
        elif holding.instrument_type == "Cryptocurrency":
            # Coins are held in cash: no margin, their whole value counts.
            totals[f"{side}-cryptocurrency-value"] += value
        else:
            totals[f"{side}-derivative-value"] += value
            if holding.instrument_type == "Future Option":
                totals[f"{side}-futures-derivative-value"] += value
            if side == "short":
                extra, secured = _short_option_requirement(market, account, holding, tick)
                requirement += extra + value
                cash_secured += secured
    cash = account.cash
    net_liq = (
        cash
        + totals["long-equity-value"]
        - totals["short-equity-value"]
        + totals["long-derivative-value"]
        - totals["short-derivative-value"]
        + totals["long-cryptocurrency-value"]
        - totals["short-cryptocurrency-value"]
        + futures_pnl
    )
    if account.margin_or_cash == "Cash":
        derivative_bp = max(ZERO, cash - cash_secured)
        equity_bp = derivative_bp
    else:
        derivative_bp = max(ZERO, net_liq - requirement)
        equity_bp = derivative_bp * 2
    data = {
        "account-number": account.number,
        "currency": "USD",
        "cash-balance": money(cash),
        **{key: money(amount) for key, amount in totals.items()},
        "net-liquidating-value": money(net_liq),
        "equity-buying-power": money(equity_bp),
        "derivative-buying-power": money(derivative_bp),
        "day-trading-buying-power": money(
            equity_bp * 2 if account.margin_or_cash == "Margin" else ZERO
        ),
        "used-derivative-buying-power": money(requirement + cash_secured),
        "maintenance-requirement": money(requirement + cash_secured),
        "maintenance-excess": money(net_liq - requirement - cash_secured),
        "margin-equity": money(net_liq),
        "available-trading-funds": money(derivative_bp),
        "cash-available-to-withdraw": money(max(ZERO, min(cash, derivative_bp))),
        "pending-cash": "0.0",
        "pending-cash-effect": "None",
        # The rest of what the real endpoint sends (the SDK's AccountBalance
        # requires them): figures this sandbox does not model are zero.
        "long-margineable-value": money(totals["long-equity-value"]),
        "short-margineable-value": money(totals["short-equity-value"]),
        "futures-margin-requirement": money(futures_requirement),
        "futures-overnight-margin-requirement": money(futures_requirement),
        "futures-intraday-margin-requirement": money(futures_requirement / 4),
        "reg-t-margin-requirement": money(requirement + cash_secured),
        "maintenance-call-value": "0.0",
        "reg-t-call-value": "0.0",
        "day-trading-call-value": "0.0",
        "day-equity-call-value": "0.0",
        "day-trade-excess": money(net_liq - requirement - cash_secured),
        "cryptocurrency-margin-requirement": "0.0",
        "effective-cryptocurrency-buying-power": money(max(ZERO, cash)),
        "unsettled-cryptocurrency-fiat-amount": "0.0",
        "closed-loop-available-balance": money(max(ZERO, cash)),
        "equity-offering-margin-requirement": "0.0",
        "long-bond-value": "0.0",
        "bond-margin-requirement": "0.0",
        "pending-margin-interest": "0.0",
        "snapshot-date": market.market_date.isoformat(),
        "updated-at": iso(now),
    }
    return data


def _short_option_requirement(
    market: Market, account: DemoAccount, holding: Holding, tick: int
) -> tuple[Decimal, Decimal]:
    """Return (margin beyond premium, cash securing it) for one short option."""
    multiplier_quantity = holding.quantity * holding.multiplier
    if holding.instrument_type == "Future Option":
        option = parse_future_option(holding.symbol)
        forward = Decimal(repr(market.future_price(option.future, tick) or 0.0))
        return forward * FUTURES_OPTION_RATE * multiplier_quantity, ZERO
    option = parse_occ(holding.symbol)
    spot = Decimal(repr(market.spot(holding.underlying_symbol, tick)))
    if account.margin_or_cash == "Cash":
        secured = option.strike * multiplier_quantity if option.option_type == "P" else ZERO
        return ZERO, secured
    hedge = _covering_long(account, holding, option.option_type, option.expiration)
    if hedge is not None:
        width = abs(parse_occ(hedge.symbol).strike - option.strike)
        return width * multiplier_quantity, ZERO
    if option.option_type == "C" and _covered_by_stock(account, holding):
        return ZERO, ZERO
    out_of_money = max(
        ZERO, spot - option.strike if option.option_type == "P" else option.strike - spot
    )
    naked = max(
        NAKED_OPTION_RATE * spot - out_of_money,
        NAKED_OPTION_FLOOR * (option.strike if option.option_type == "P" else spot),
    )
    return naked * multiplier_quantity, ZERO


def _covering_long(
    account: DemoAccount, short: Holding, option_type: str, expiry: Any
) -> Holding | None:
    for holding in account.holdings:
        if (
            holding.direction == "Long"
            and holding.instrument_type == "Equity Option"
            and holding.underlying_symbol == short.underlying_symbol
            and holding.quantity >= short.quantity
        ):
            option = parse_occ(holding.symbol)
            if option.option_type == option_type and option.expiration == expiry:
                return holding
    return None


def _covered_by_stock(account: DemoAccount, short: Holding) -> bool:
    shares = sum(
        (
            h.quantity
            for h in account.holdings
            if h.instrument_type == "Equity"
            and h.symbol == short.underlying_symbol
            and h.direction == "Long"
        ),
        ZERO,
    )
    return shares >= short.quantity * short.multiplier


SNAPSHOT_HISTORY_DAYS = 366  # the broker keeps a year of daily snapshots here
SNAPSHOTS_WITHOUT_START = 5  # sessions sent when no start-date is given


def balance_snapshots(
    market: Market,
    account: DemoAccount,
    tick: int,
    now: datetime,
    *,
    start: date | None,
    end: date | None,
    time_of_day: str,
) -> list[dict[str, Any]]:
    """Return one end-of-day balance per trading day, newest first.

    Cash is the ledger's as of each day; what the positions were worth
    follows a seeded walk that ends at today's value, so net liq moves as a
    real book's does and the newest snapshot equals today's balance.
    """
    today = cal.trading_day_on_or_before(market.market_date)
    end = min(end or today, today)
    days = [end]
    while len(days) < SNAPSHOT_HISTORY_DAYS:
        previous = cal.trading_day_on_or_before(days[-1] - timedelta(days=1))
        if start is None and len(days) >= SNAPSHOTS_WITHOUT_START:
            break
        if start is not None and previous < start:
            break
        if (today - previous).days > SNAPSHOT_HISTORY_DAYS:
            break
        if previous < account.opened_at.date():
            break  # no snapshot before the account existed
        days.append(previous)
    current = balance_item(market, account, tick, now)
    holdings_value = Decimal(current["net-liquidating-value"]) - Decimal(current["cash-balance"])
    rng = market.seeded("balance-snapshots", account.number)
    walk = {today: Decimal(1)}
    factor = 1.0
    day = today
    while day > days[-1]:
        factor *= 1 + rng.gauss(0.0, 0.008)
        day = cal.trading_day_on_or_before(day - timedelta(days=1))
        walk[day] = Decimal(repr(round(factor, 6)))
    # Cash at each day's close: one sweep over the dated ledger, not a sum of
    # the whole ledger per day (a year of days × hundreds of rows per request).
    rows = sorted(account.transactions, key=row_date)
    cash_on: dict[date, Decimal] = {}
    cash, index = Decimal(0), 0
    for day in sorted(days):
        while index < len(rows) and row_date(rows[index]) <= day:
            cash += signed_net_value(rows[index])
            index += 1
        cash_on[day] = cash
    snapshots = []
    for day in days:
        cash = cash_on[day]
        net_liq = cash + holdings_value * walk.get(day, Decimal(1))
        snapshot = {key: value for key, value in current.items() if key != "updated-at"}
        snapshot.update(
            {
                "cash-balance": money(cash),
                "net-liquidating-value": money(net_liq),
                "margin-equity": money(net_liq),
                "snapshot-date": day.isoformat(),
                "time-of-day": time_of_day,
            }
        )
        snapshots.append(snapshot)
    return snapshots
