"""The demo trader's margin account: every strategy ThetaVue detects.

Short puts, a strangle, an SPXW iron condor, credit and debit spreads, a
covered call, long, short and fractional stock, a short /ES option and /MES,
an assigned put with its rows, an option expired worthless (Zero) and one
past its expiry; months of closed trades, rolls, dividends and interest.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.book import HUNDRED, ONE, DemoAccount, Holding, Opener
from tastytrade_sandbox.history import HistoryMaker
from tastytrade_sandbox.ledger import Ledger
from tastytrade_sandbox.market import round_strike
from tastytrade_sandbox.symbols import build_future, build_future_option, build_occ
from tastytrade_sandbox.underlyings import FUTURES, UNDERLYINGS


def income_account(maker: HistoryMaker) -> DemoAccount:
    """The demo trader's margin account: every strategy the product detects."""
    market = maker.market
    today = market.market_date
    account = DemoAccount(
        number="5WT00001",
        owner="demo",
        nickname="Income",
        type_name="Individual",
        margin_or_cash="Margin",
        opened_at=cal.at_new_york(date(2021, 3, 4), 10, 2),
        futures_approved=True,
    )
    ledger = Ledger(account.number)
    rng = market.seeded("book", account.number)
    maker.deposit(ledger, Decimal(150_000), sessions_ago=135)
    maker.churn(ledger, rng, first_session=130, last_session=3, probability=0.7)
    opener = Opener(maker, account, ledger)
    spot = {symbol: market.spot(symbol, 0) for symbol in UNDERLYINGS}

    # Short puts on SPY, 2 contracts, about 45 days out.
    spy_expiry = cal.monthly_expiration(today, 30)
    opener.option(
        "SPY",
        expiry=spy_expiry,
        option_type="P",
        direction="Short",
        strike=round_strike(spot["SPY"] * 0.95, 5),
        quantity=2,
        sessions_ago=9,
    )
    # Short strangle on AAPL.
    aapl_expiry = cal.monthly_expiration(today, 28)
    for option_type, factor in (("P", 0.90), ("C", 1.10)):
        opener.option(
            "AAPL",
            expiry=aapl_expiry,
            option_type=option_type,
            strike=round_strike(spot["AAPL"] * factor, 5),
            quantity=1,
            direction="Short",
            sessions_ago=6,
        )
    # SPX iron condor on PM-settled SPXW symbols, 50-point wings.
    spx_expiry = cal.monthly_expiration(today, 35)
    short_put = round_strike(spot["SPX"] * 0.94, 25)
    short_call = round_strike(spot["SPX"] * 1.045, 25)
    for option_type, strike, direction in (
        ("P", short_put - 50, "Long"),
        ("P", short_put, "Short"),
        ("C", short_call, "Short"),
        ("C", short_call + 50, "Long"),
    ):
        opener.option(
            "SPX",
            root="SPXW",
            expiry=spx_expiry,
            option_type=option_type,
            strike=strike,
            quantity=1,
            direction=direction,
            sessions_ago=4,
        )
    # QQQ put credit spread on a weekly.
    qqq_expiry = cal.weekly_expiration(today, 12)
    qqq_short = round_strike(spot["QQQ"] * 0.96, 5)
    opener.option(
        "QQQ",
        expiry=qqq_expiry,
        option_type="P",
        strike=qqq_short,
        quantity=2,
        direction="Short",
        sessions_ago=3,
    )
    opener.option(
        "QQQ",
        expiry=qqq_expiry,
        option_type="P",
        strike=qqq_short - 5,
        quantity=2,
        direction="Long",
        sessions_ago=3,
    )
    # MSFT call debit spread.
    msft_expiry = cal.monthly_expiration(today, 21)
    msft_long = round_strike(spot["MSFT"], 5)
    opener.option(
        "MSFT",
        expiry=msft_expiry,
        option_type="C",
        strike=msft_long,
        quantity=1,
        direction="Long",
        sessions_ago=5,
    )
    opener.option(
        "MSFT",
        expiry=msft_expiry,
        option_type="C",
        strike=msft_long + 20,
        quantity=1,
        direction="Short",
        sessions_ago=5,
    )
    # Covered call: 200 KO, 2 short calls.
    opener.stock("KO", quantity=Decimal(200), direction="Long", sessions_ago=110)
    opener.option(
        "KO",
        expiry=cal.monthly_expiration(today, 20),
        option_type="C",
        strike=round_strike(spot["KO"] * 1.05, 1),
        quantity=2,
        direction="Short",
        sessions_ago=7,
        quantity_as_text=False,
    )
    # Long stock, short stock and a fractional lot.
    opener.stock("JPM", quantity=Decimal(100), direction="Long", sessions_ago=95)
    opener.stock("TSLA", quantity=Decimal(50), direction="Short", sessions_ago=15)
    opener.stock(
        "AMZN", quantity=Decimal("2.5"), direction="Long", sessions_ago=40, quantity_as_text=True
    )
    _futures(maker, account, ledger)
    _micro_futures(maker, account, ledger)
    _crypto(maker, account, ledger)
    _assigned_put(maker, account, ledger)
    _expired_options(maker, account, ledger)
    maker.dividends(ledger, "KO", shares=Decimal(200), held_since=110, per_share=Decimal("0.485"))
    maker.dividends(ledger, "JPM", shares=Decimal(100), held_since=95, per_share=Decimal("1.15"))
    maker.monthly_interest(ledger, rng, first_session=130, low=90, high=320)
    maker.borrow_fees(ledger, "TSLA", held_since=15)
    account.transactions = ledger.rows
    return account


def _futures(maker: HistoryMaker, account: DemoAccount, ledger: Ledger) -> None:
    """A short /ES put (multiplier 50, as a string) and 2 long /MES."""
    market = maker.market
    today = market.market_date
    option_expiry = cal.monthly_expiration(today, 24)
    year, month, _ = cal.front_quarterly(option_expiry - timedelta(days=1))
    es, mes = FUTURES["ES"], FUTURES["MES"]
    es_future = build_future(es.code, month, year)
    mes_future = build_future(mes.code, month, year)
    forward = maker.future_price(es_future, 0)
    strike = round_strike(float(forward) * 0.93, 25)
    symbol = build_future_option(es_future, es.option_product, option_expiry, "P", strike)
    price = maker.future_option_price(symbol, sessions_ago=8)
    when = maker.fill_time(8, symbol)
    multiplier = Decimal(es.option_multiplier)
    ledger.trade(
        when,
        action="Sell to Open",
        symbol=symbol,
        instrument_type="Future Option",
        underlying=es_future,
        quantity=ONE,
        price=price,
        multiplier=multiplier,
    )
    account.holdings.append(
        Holding(
            symbol=symbol,
            instrument_type="Future Option",
            underlying_symbol=es_future,
            quantity=ONE,
            direction="Short",
            multiplier=multiplier,
            average_open_price=price,
            opened_at=when,
            expires_at=cal.session_close(option_expiry),
            quantity_as_text=False,
            multiplier_as_text=True,
        )
    )
    mes_price = maker.future_price(mes_future, 12)
    when = maker.fill_time(12, mes_future)
    ledger.trade(
        when,
        action="Buy to Open",
        symbol=mes_future,
        instrument_type="Future",
        underlying=mes_future,
        quantity=Decimal(2),
        price=mes_price,
        multiplier=Decimal(mes.multiplier),
    )
    account.holdings.append(
        Holding(
            symbol=mes_future,
            instrument_type="Future",
            underlying_symbol=mes_future,
            quantity=Decimal(2),
            direction="Long",
            multiplier=Decimal(mes.multiplier),
            average_open_price=mes_price,
            opened_at=when,
            expires_at=cal.session_close(maker.future_expiry(mes_future)),
            quantity_as_text=False,
        )
    )


def _future_holding(
    maker: HistoryMaker,
    account: DemoAccount,
    ledger: Ledger,
    symbol: str,
    *,
    quantity: Decimal,
    direction: str,
    sessions_ago: int,
) -> None:
    product = FUTURES[symbol[1:-2]]
    price = maker.future_price(symbol, sessions_ago)
    when = maker.fill_time(sessions_ago, symbol)
    ledger.trade(
        when,
        action="Buy to Open" if direction == "Long" else "Sell to Open",
        symbol=symbol,
        instrument_type="Future",
        underlying=symbol,
        quantity=quantity,
        price=price,
        multiplier=product.multiplier,
    )
    account.holdings.append(
        Holding(
            symbol=symbol,
            instrument_type="Future",
            underlying_symbol=symbol,
            quantity=quantity,
            direction=direction,
            multiplier=product.multiplier,
            average_open_price=price,
            opened_at=when,
            expires_at=cal.session_close(maker.future_expiry(symbol)),
            quantity_as_text=False,  # the multiplier still goes out as "0.5": a fraction
        )
    )


def _micro_futures(maker: HistoryMaker, account: DemoAccount, ledger: Ledger) -> None:
    """What real micro books hold: −2 /MYM (multiplier 0.5), 3 /MBT (0.1) and a short
    /MES put whose symbol has no space after the six-character future."""
    today = maker.market.market_date
    option_expiry = cal.monthly_expiration(today, 30)
    year, month, _ = cal.front_quarterly(option_expiry - timedelta(days=1))
    for code, quantity, direction, sessions_ago in (
        ("MYM", Decimal(2), "Short", 6),
        ("MBT", Decimal(3), "Long", 9),
    ):
        symbol = build_future(code, month, year)
        _future_holding(
            maker,
            account,
            ledger,
            symbol,
            quantity=quantity,
            direction=direction,
            sessions_ago=sessions_ago,
        )
    mes = FUTURES["MES"]
    mes_future = build_future(mes.code, month, year)
    strike = round_strike(float(maker.future_price(mes_future, 0)) * 0.94, 25)
    symbol = build_future_option(mes_future, mes.option_product, option_expiry, "P", strike)
    price = maker.future_option_price(symbol, sessions_ago=5)
    when = maker.fill_time(5, symbol)
    ledger.trade(
        when,
        action="Sell to Open",
        symbol=symbol,
        instrument_type="Future Option",
        underlying=mes_future,
        quantity=ONE,
        price=price,
        multiplier=mes.option_multiplier,
    )
    account.holdings.append(
        Holding(
            symbol=symbol,
            instrument_type="Future Option",
            underlying_symbol=mes_future,
            quantity=ONE,
            direction="Short",
            multiplier=mes.option_multiplier,
            average_open_price=price,
            opened_at=when,
            expires_at=cal.session_close(option_expiry),
        )
    )


CRYPTO_HOLDING = Decimal("0.01234567")  # BTC: quantities go to 8 places


def _crypto(maker: HistoryMaker, account: DemoAccount, ledger: Ledger) -> None:
    """A small bitcoin holding, bought three weeks ago."""
    symbol = "BTC/USD"
    price = maker.stock_price(symbol, 15)
    when = maker.fill_time(15, symbol)
    ledger.trade(
        when,
        action="Buy to Open",
        symbol=symbol,
        instrument_type="Cryptocurrency",
        underlying=symbol,
        quantity=CRYPTO_HOLDING,
        price=price,
        multiplier=ONE,
    )
    account.holdings.append(
        Holding(
            symbol=symbol,
            instrument_type="Cryptocurrency",
            underlying_symbol=symbol,
            quantity=CRYPTO_HOLDING,
            direction="Long",
            multiplier=ONE,
            average_open_price=price,
            opened_at=when,
        )
    )


def _assigned_put(maker: HistoryMaker, account: DemoAccount, ledger: Ledger) -> None:
    """An AMD short put assigned at expiry: option row, stock row, 100 shares."""
    today = maker.market.market_date
    expiry = cal.last_weekly_before(today - timedelta(days=7))
    expiry_ago = maker.sessions_ago(expiry)
    strike = round_strike(maker.stock_spot("AMD", expiry_ago) * 1.04, 2.5)
    occ = build_occ("AMD", expiry, "P", strike)
    price = maker.option_price(UNDERLYINGS["AMD"], strike, expiry, "P", expiry_ago + 8)
    ledger.trade(
        maker.fill_time(expiry_ago + 8, occ),
        action="Sell to Open",
        symbol=occ,
        instrument_type="Equity Option",
        underlying="AMD",
        quantity=ONE,
        price=price,
        multiplier=HUNDRED,
    )
    assigned_at = cal.at_new_york(maker.day(expiry_ago - 1), 7, 30)
    ledger.receive_deliver(
        assigned_at,
        sub_type="Assignment",
        action="Buy to Close",
        symbol=occ,
        instrument_type="Equity Option",
        underlying="AMD",
        quantity=ONE,
        description=f"Removal of option due to assignment {occ}",
    )
    ledger.receive_deliver(
        assigned_at,
        sub_type="Buy to Open",
        action="Buy to Open",
        symbol="AMD",
        instrument_type="Equity",
        underlying="AMD",
        quantity=HUNDRED,
        price=strike,
        description=f"Bought 100 AMD @ {strike} (assignment)",
    )
    account.holdings.append(
        Holding(
            symbol="AMD",
            instrument_type="Equity",
            underlying_symbol="AMD",
            quantity=HUNDRED,
            direction="Long",
            multiplier=ONE,
            average_open_price=strike,
            opened_at=assigned_at,
            quantity_as_text=False,
        )
    )


def _expired_options(maker: HistoryMaker, account: DemoAccount, ledger: Ledger) -> None:
    """An IWM put expired worthless (listed as Zero) and an XLE call past expiry."""
    today = maker.market.market_date
    expiry = cal.last_weekly_before(today)
    expiry_ago = maker.sessions_ago(expiry)
    iwm_strike = round_strike(maker.stock_spot("IWM", expiry_ago) * 0.96, 1)
    iwm = build_occ("IWM", expiry, "P", iwm_strike)
    iwm_price = maker.option_price(UNDERLYINGS["IWM"], iwm_strike, expiry, "P", expiry_ago + 12)
    opened = maker.fill_time(expiry_ago + 12, iwm)
    ledger.trade(
        opened,
        action="Sell to Open",
        symbol=iwm,
        instrument_type="Equity Option",
        underlying="IWM",
        quantity=ONE,
        price=iwm_price,
        multiplier=HUNDRED,
    )
    ledger.receive_deliver(
        cal.at_new_york(expiry, 17, 5),
        sub_type="Expiration",
        action="Buy to Close",
        symbol=iwm,
        instrument_type="Equity Option",
        underlying="IWM",
        quantity=ONE,
        description=f"Removal of {iwm} due to expiration",
    )
    account.holdings.append(
        Holding(
            symbol=iwm,
            instrument_type="Equity Option",
            underlying_symbol="IWM",
            quantity=Decimal(0),
            direction="Zero",
            multiplier=HUNDRED,
            average_open_price=iwm_price,
            opened_at=opened,
            expires_at=cal.session_close(expiry),
        )
    )
    xle_strike = round_strike(maker.stock_spot("XLE", expiry_ago) * 1.03, 1)
    xle = build_occ("XLE", expiry, "C", xle_strike)
    xle_price = maker.option_price(UNDERLYINGS["XLE"], xle_strike, expiry, "C", expiry_ago + 10)
    opened = maker.fill_time(expiry_ago + 10, xle)
    ledger.trade(
        opened,
        action="Sell to Open",
        symbol=xle,
        instrument_type="Equity Option",
        underlying="XLE",
        quantity=ONE,
        price=xle_price,
        multiplier=HUNDRED,
    )
    account.holdings.append(
        Holding(
            symbol=xle,
            instrument_type="Equity Option",
            underlying_symbol="XLE",
            quantity=ONE,
            direction="Short",
            multiplier=HUNDRED,
            average_open_price=xle_price,
            opened_at=opened,
            expires_at=cal.session_close(expiry),
            quantity_as_text=False,
        )
    )
