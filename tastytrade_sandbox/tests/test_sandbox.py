"""The local Tastytrade sandbox: protocol, OAuth, demo books, prices and faults."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests

from tastytrade_sandbox import Sandbox, SandboxConfig
from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.__main__ import parse_args
from tastytrade_sandbox.account_data import balance_item, position_item
from tastytrade_sandbox.demo_accounts import build_book
from tastytrade_sandbox.faults import FaultInjector
from tastytrade_sandbox.market import Market
from tastytrade_sandbox.market_data import market_metric
from tastytrade_sandbox.market_data import quote as quote_item
from tastytrade_sandbox.pricing import black_scholes
from tastytrade_sandbox.symbols import build_future_option, build_occ, parse_occ
from tastytrade_sandbox.underlyings import UNDERLYINGS

UA = {"User-Agent": "thetavue/0.1.0"}
REPO_ROOT = Path(__file__).resolve().parents[2]
MARKET_DATE = date(2026, 3, 2)  # a Monday; fixed so these checks never drift


class Api:
    """A bare HTTP client for protocol checks, with the demo trader's token."""

    def __init__(self, sandbox, customer: str = "demo") -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.token = sandbox.create_grant(customer)["access_token"]

    def get(self, path: str, **headers: str) -> requests.Response:
        merged = {**UA, "Authorization": f"Bearer {self.token}", **headers}
        return self.session.get(self.sandbox.base_url + path, headers=merged, timeout=5)

    def data(self, path: str):
        response = self.get(path)
        assert response.status_code == 200, response.text
        return response.json()["data"]


def control(sandbox, method: str, name: str, body: dict | None = None) -> requests.Response:
    url = f"{sandbox.base_url}/__sandbox__/{name}"
    return requests.request(method, url, json=body, timeout=5)


def token_post(sandbox, **kwargs) -> requests.Response:
    kwargs.setdefault("headers", UA)
    return requests.post(sandbox.token_url, timeout=5, **kwargs)


def code_exchange(sandbox, code: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": sandbox.config.client_id,
        "client_secret": sandbox.config.client_secret,
        "redirect_uri": sandbox.config.redirect_uris[0],
    }


def without_time(item: dict) -> dict:
    return {key: value for key, value in item.items() if key != "updated-at"}


# --- Prices ---------------------------------------------------------------------


def test_same_seed_and_tick_give_the_same_prices_in_any_order():
    first, second = Market(11, MARKET_DATE), Market(11, MARKET_DATE)
    option = build_occ("SPY", date(2026, 4, 17), "P", Decimal(540))
    now = cal.at_new_york(MARKET_DATE, 12)
    second.spot("SPX", 500)  # walk far ahead first: must not change tick 7
    for key, symbol in [("equity", "AAPL"), ("equity-option", option), ("future", "/ESM6")]:
        a = quote_item(first, key, symbol, 7, now, True)
        b = quote_item(second, key, symbol, 7, now, True)
        assert a is not None and without_time(a) == without_time(b)


def test_ticks_and_seeds_move_prices():
    market = Market(11, MARKET_DATE)
    assert market.spot("AAPL", 0) == UNDERLYINGS["AAPL"].base_price
    assert market.spot("AAPL", 1) != market.spot("AAPL", 0)
    assert Market(12, MARKET_DATE).spot("AAPL", 5) != market.spot("AAPL", 5)
    assert market.spot("SPY", 42) == pytest.approx(market.spot("SPX", 42) / 10)


def test_a_tick_changes_marks_and_net_liq_over_http(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    path = "/market-data/by-type?equity=SPY"
    before = api.data(path)["items"][0]["mark"]
    net_liq = api.data("/accounts/5WT00001/balances/USD")["net-liquidating-value"]
    assert api.data(path)["items"][0]["mark"] == before  # no tick, no move
    tastytrade_sandbox.tick(15)
    assert api.data(path)["items"][0]["mark"] != before
    assert api.data("/accounts/5WT00001/balances/USD")["net-liquidating-value"] != net_liq


def test_wall_clock_cadence_ticks_when_configured(tastytrade_sandbox):
    tastytrade_sandbox.advance_clock(900)
    assert tastytrade_sandbox.current_tick == 0  # in tests, ticks move by control only
    standalone = Sandbox(SandboxConfig(tick_seconds=60.0))  # built, never started
    try:
        standalone.advance_clock(900)
        assert standalone.tick(2) == 17
    finally:
        standalone.stop()


def _implied_vol(price: float, **inputs) -> float:
    low, high = 0.001, 5.0
    for _ in range(100):
        middle = (low + high) / 2
        if black_scholes(volatility=middle, **inputs).price > price:
            high = middle
        else:
            low = middle
    return (low + high) / 2


def test_option_prices_memoised_per_tick_match_a_fresh_market():
    market = Market(11, MARKET_DATE)
    option = parse_occ(build_occ("SPY", date(2026, 4, 17), "P", Decimal(540)))
    at_3 = market.equity_option(option, 3)
    at_4 = market.equity_option(option, 4)  # a new tick replaces the memo
    assert market.equity_option(option, 4) is at_4
    assert at_3 != at_4
    assert (
        market.equity_option(option, 3) == at_3 == Market(11, MARKET_DATE).equity_option(option, 3)
    )


def test_option_mids_invert_to_the_surface_and_metrics_agree():
    market = Market(11, MARKET_DATE)
    now = cal.at_new_york(MARKET_DATE, 12)
    spy = UNDERLYINGS["SPY"]
    expiry = cal.monthly_expiration(MARKET_DATE, 30)
    metrics = market_metric(market, "SPY", 0, now)
    for strike in (500, 560, 600):
        item = quote_item(
            market, "equity-option", build_occ("SPY", expiry, "P", strike), 0, now, True
        )
        solved = _implied_vol(
            float(item["mid"]),
            spot=market.spot("SPY", 0),
            strike=float(strike),
            years=market.years_to(cal.session_close(expiry), 0),
            rate=0.04,
            dividend_yield=spy.dividend_yield,
            is_call=False,
        )
        assert solved == pytest.approx(float(item["volatility"]), abs=0.01)
    assert float(metrics["implied-volatility-index"]) == pytest.approx(
        market.atm_iv(spy, 30 / 365), abs=1e-4
    )
    by_date = {
        row["expiration-date"]: row for row in metrics["option-expiration-implied-volatilities"]
    }
    years = market.years_to(cal.session_close(expiry), 0)
    assert float(by_date[expiry.isoformat()]["implied-volatility"]) == pytest.approx(
        market.atm_iv(spy, years), abs=1e-4
    )
    assert (metrics["beta"], metrics["dividend-yield"]) == ("1.00", "0.0125")


def test_surface_has_put_skew_and_term_structure():
    market = Market(11, MARKET_DATE)
    spx = UNDERLYINGS["SPX"]
    month = 30 / 365
    assert market.implied_vol(spx, 5000, 5620, month) > market.implied_vol(spx, 5620, 5620, month)
    assert market.atm_iv(spx, 1.0) > market.atm_iv(spx, 7 / 365)


def test_black_scholes_satisfies_put_call_parity():
    inputs = dict(
        spot=100.0, strike=95.0, years=0.25, rate=0.04, dividend_yield=0.01, volatility=0.3
    )
    call = black_scholes(is_call=True, **inputs)
    put = black_scholes(is_call=False, **inputs)
    parity = 100 * math.exp(-0.01 * 0.25) - 95 * math.exp(-0.04 * 0.25)
    assert call.price - put.price == pytest.approx(parity, abs=1e-9)
    assert call.delta - put.delta == pytest.approx(math.exp(-0.01 * 0.25))
    expired = black_scholes(is_call=False, **{**inputs, "years": 0.0, "spot": 90.0})
    assert (expired.price, expired.delta, expired.theta) == (5.0, -1.0, 0.0)


# --- The demo book ------------------------------------------------------------------


def test_book_is_deterministic_for_a_seed_and_date():
    first, second = build_book(Market(5, MARKET_DATE)), build_book(Market(5, MARKET_DATE))
    for number, account in first.accounts.items():
        assert account.transactions == second.accounts[number].transactions
        assert account.holdings == second.accounts[number].holdings


@pytest.mark.parametrize(
    "market_date",
    [date(2026, 4, 3), date(2026, 4, 4), date(2026, 12, 25), date(2027, 1, 4)],
    ids=["good-friday", "saturday", "christmas", "monday-after-new-year"],
)
def test_book_builds_and_values_on_awkward_dates(market_date):
    market = Market(5, market_date)
    book = build_book(market)
    now = cal.at_new_york(market_date, 12)
    income = book.accounts["5WT00001"]
    assert len(income.transactions) > 250
    balance = balance_item(market, income, 0, now)
    assert Decimal(balance["net-liquidating-value"]) > 0
    for holding in income.holdings:
        position_item(market, income, holding, 0, now, include_marks=True)


def test_demo_positions_cover_every_strategy_and_wire_form(tastytrade_sandbox):
    items = Api(tastytrade_sandbox).data("/accounts/5WT00001/positions")["items"]
    by_symbol = {item["symbol"]: item for item in items}
    kinds = {item["instrument-type"] for item in items}
    assert kinds == {"Equity", "Equity Option", "Future", "Future Option", "Cryptocurrency"}
    assert {type(item["quantity"]) for item in items} == {str, int}
    spxw = [item for item in items if item["symbol"].startswith("SPXW ")]
    assert len(spxw) == 4 and {item["underlying-symbol"] for item in spxw} == {"SPX"}
    assert [by_symbol["KO"]["quantity"], by_symbol["KO"]["quantity-direction"]] == [200, "Long"]
    assert by_symbol["TSLA"]["quantity-direction"] == "Short"
    assert by_symbol["AMZN"]["quantity"] == "2.5"
    es_option = next(item for item in items if item["instrument-type"] == "Future Option")
    assert es_option["multiplier"] == "50"
    assert es_option["underlying-symbol"].startswith("/ES")
    assert es_option["symbol"].startswith("./ES")
    mes = next(item for item in items if item["instrument-type"] == "Future")
    assert (mes["symbol"][:4], mes["multiplier"], mes["quantity"]) == ("/MES", 5, 2)
    # What real micro books hold: fractional multipliers as strings, the
    # no-space futures-option form, and a coin to 8 places.
    by_product = {item["symbol"][:4]: item for item in items if item["symbol"].startswith("/")}
    mym, mbt = by_product["/MYM"], by_product["/MBT"]
    assert (mym["multiplier"], mym["quantity"], mym["quantity-direction"]) == ("0.5", 2, "Short")
    assert (mbt["multiplier"], mbt["quantity"], mbt["quantity-direction"]) == ("0.1", 3, "Long")
    [micro_option] = [item for item in items if item["symbol"].startswith("./MES")]
    assert micro_option["symbol"][2:7] == micro_option["underlying-symbol"][1:]
    assert micro_option["symbol"][7] != " "  # no space after a six-character future
    btc = by_symbol["BTC/USD"]
    assert (btc["instrument-type"], btc["quantity"]) == ("Cryptocurrency", "0.01234567")
    zero = [item for item in items if item["quantity-direction"] == "Zero"]
    assert len(zero) == 1 and zero[0]["quantity"] == "0"
    today = tastytrade_sandbox.market.market_date
    past = [
        item
        for item in items
        if "expires-at" in item
        and item["quantity-direction"] != "Zero"
        and item["expires-at"][:10] < today.isoformat()
    ]
    assert [item["underlying-symbol"] for item in past] == ["XLE"]


def test_expirations_follow_the_market_date(tastytrade_sandbox):
    today = tastytrade_sandbox.market.market_date
    for holding in tastytrade_sandbox.book.accounts["5WT00001"].holdings:
        if holding.instrument_type != "Equity Option" or holding.direction == "Zero":
            continue
        expiry = parse_occ(holding.symbol).expiration
        assert expiry.weekday() in (3, 4)  # Friday, Thursday before a holiday
        if holding.underlying_symbol != "XLE":
            assert 7 <= (expiry - today).days <= 70
    assert cal.monthly_expiration(date(2026, 3, 2), 30) == date(2026, 4, 17)
    assert cal.weekly_expiration(date(2026, 3, 30), 0) == date(2026, 4, 2)  # Good Friday
    assert cal.third_friday(2026, 1) == date(2026, 1, 16)


def test_assignment_brings_option_and_stock_rows_and_the_shares(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    rows = api.data("/accounts/5WT00001/transactions?per-page=2000&underlying-symbol=AMD")["items"]
    delivered = [row for row in rows if row["transaction-type"] == "Receive Deliver"]
    option_row = next(row for row in delivered if row["transaction-sub-type"] == "Assignment")
    stock_row = next(row for row in delivered if row["instrument-type"] == "Equity")
    strike = parse_occ(option_row["symbol"]).strike
    assert (option_row["value"], option_row["value-effect"]) == ("0.0", "None")
    assert (stock_row["quantity"], Decimal(stock_row["price"])) == ("100", strike)
    assert stock_row["value-effect"] == "Debit"
    positions = api.data("/accounts/5WT00001/positions?underlying-symbol[]=AMD")["items"]
    assert [(p["symbol"], Decimal(p["average-open-price"])) for p in positions] == [("AMD", strike)]


def test_transactions_exceed_a_page_and_cash_is_their_sum(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    body = api.get("/accounts/5WT00001/transactions?per-page=2000").json()
    rows = body["data"]["items"]
    assert body["pagination"]["total-items"] == len(rows) > 250
    kinds = {(row["transaction-type"], row["transaction-sub-type"]) for row in rows}
    assert {
        ("Money Movement", "Deposit"),
        ("Money Movement", "Dividend"),
        ("Money Movement", "Credit Interest"),
        ("Money Movement", "Fee"),
        ("Receive Deliver", "Expiration"),
        ("Receive Deliver", "Assignment"),
        ("Trade", "Sell to Open"),
        ("Trade", "Buy to Close"),
    } <= kinds
    signs = {"Credit": 1, "Debit": -1, "None": 0}
    cash = sum(Decimal(r["net-value"]) * signs[r["net-value-effect"]] for r in rows)
    balance = api.data("/accounts/5WT00001/balances/USD")
    assert Decimal(balance["cash-balance"]) == cash


def test_ira_is_a_cash_account_with_a_secured_put_and_old_account_is_closed(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    accounts = {
        item["account"]["account-number"]: item["account"]
        for item in api.data("/customers/me/accounts")["items"]
    }
    assert accounts["5WT00002"]["margin-or-cash"] == "Cash"
    assert accounts["5WT00003"]["is-closed"] is True
    ira = api.data("/accounts/5WT00002/positions")["items"]
    put = next(item for item in ira if item["instrument-type"] == "Equity Option")
    assert put["quantity-direction"] == "Short" and parse_occ(put["symbol"]).option_type == "P"
    balance = api.data("/accounts/5WT00002/balances/USD")
    assert Decimal(balance["maintenance-requirement"]) >= parse_occ(put["symbol"]).strike * 100
    assert api.data("/accounts/5WT00003/balances/USD")["net-liquidating-value"] == "0.0"


# --- Protocol -------------------------------------------------------------------------


def test_requests_without_bearer_or_user_agent_are_401(tastytrade_sandbox):
    base = tastytrade_sandbox.base_url + "/customers/me/accounts"
    no_token = requests.get(base, headers=UA, timeout=5)
    assert (no_token.status_code, no_token.json()["error"]["code"]) == (401, "token_invalid")
    session_style = Api(tastytrade_sandbox)
    raw = session_style.get("/customers/me/accounts", Authorization=session_style.token)
    assert raw.status_code == 401  # the retired session-token form is refused
    bare_name = Api(tastytrade_sandbox).get("/customers/me/accounts", **{"User-Agent": "thetavue"})
    assert bare_name.status_code == 401
    token = token_post(tastytrade_sandbox, data={"grant_type": "x"}, headers={"User-Agent": "x"})
    assert token.status_code == 401


def test_accounts_are_visible_only_to_their_owner(tastytrade_sandbox):
    bob = Api(tastytrade_sandbox, "bob")
    numbers = [i["account"]["account-number"] for i in bob.data("/customers/me/accounts")["items"]]
    assert numbers == ["5WT00101"]
    for path in ("/accounts/5WT00001/positions", "/accounts/5WT00001/balances/USD"):
        response = bob.get(path)
        assert response.status_code == 403
        assert set(response.json()["error"]) >= {"code", "message"}
    assert bob.get("/customers/C0000001/accounts").status_code == 403
    assert bob.get("/accounts/5WT99999/positions").status_code == 404


def test_unknown_paths_are_404_in_the_error_envelope(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    for path in ("/sessions", "/accounts/5WT00001/orders", "/api-quote-tokens"):
        response = api.get(path)
        assert response.status_code == 404
        assert response.json() == {"error": {"code": "not_found", "message": "Endpoint not found"}}
    assert api.get("/accounts/5WT00001/balances/EUR").status_code == 404


def test_paging_limits_and_symbol_limits_are_validation_errors(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    too_big = api.get("/accounts/5WT00001/transactions?per-page=2001")
    assert too_big.status_code == 400
    assert too_big.json()["error"]["errors"] == [
        {"domain": "per-page", "reason": "does not have a valid value"}
    ]
    symbols = ",".join(["SPY"] * 60)
    too_many = api.get(f"/market-data/by-type?equity={symbols}&index={symbols}")
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "validation_error")


def test_transaction_pages_sort_and_filter(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    first = api.get("/accounts/5WT00001/transactions").json()
    assert first["pagination"]["per-page"] == 250
    assert first["pagination"]["total-pages"] == math.ceil(first["pagination"]["total-items"] / 250)
    newest = first["data"]["items"]
    assert [row["executed-at"] for row in newest] == sorted(
        (row["executed-at"] for row in newest), reverse=True
    )
    oldest = api.data("/accounts/5WT00001/transactions?sort=Asc&per-page=250")["items"]
    assert oldest[0]["transaction-sub-type"] == "Deposit"
    single = api.data(f"/accounts/5WT00001/transactions/{oldest[0]['id']}")
    assert single == oldest[0]
    start = oldest[100]["transaction-date"]
    query = f"?start-date={start}&types[]=Money%20Movement&per-page=2000"
    rows = api.data("/accounts/5WT00001/transactions" + query)["items"]
    assert rows and all(
        r["transaction-date"] >= start and r["transaction-type"] == "Money Movement" for r in rows
    )


def test_transaction_filters_combine(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    every = api.data("/accounts/5WT00001/transactions?sort=Asc&per-page=2000")["items"]
    trade = next(row for row in every if row["transaction-type"] == "Trade")
    end = every[len(every) // 2]["transaction-date"]
    query = (
        f"?sort=Asc&per-page=2000&symbol={quote(trade['symbol'])}&end-date={end}"
        "&sub-type[]=Sell%20to%20Open&sub-type[]=Buy%20to%20Open"
    )
    rows = api.data("/accounts/5WT00001/transactions" + query)["items"]
    expected = [
        row
        for row in every
        if row.get("symbol") == trade["symbol"]
        and row["transaction-date"] <= end
        and row["transaction-sub-type"] in ("Sell to Open", "Buy to Open")
    ]
    assert rows == expected and rows


def test_balances_without_currency_are_a_list(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    items = api.data("/accounts/5WT00001/balances")["items"]
    assert [item["currency"] for item in items] == ["USD"]
    assert items[0] == {
        **api.data("/accounts/5WT00001/balances/USD"),
        "updated-at": items[0]["updated-at"],
    }


def test_chains_and_instruments(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    roots = {item["root-symbol"]: item for item in api.data("/option-chains/SPX/nested")["items"]}
    assert set(roots) == {"SPX", "SPXW"}
    expiration = roots["SPXW"]["expirations"][0]
    strike = expiration["strikes"][0]
    assert parse_occ(strike["put"]).root == "SPXW"
    assert strike["put-streamer-symbol"].startswith(".SPXW")
    occ = strike["put"]
    instrument = api.data("/instruments/equity-options/" + quote(occ, safe=""))
    assert (instrument["symbol"], instrument["exercise-style"]) == (occ, "European")
    assert instrument["underlying-symbol"] == "SPX"
    future = api.data("/instruments/futures/ESM6")
    assert (future["symbol"], future["notional-multiplier"]) == ("/ESM6", "50.0")
    assert api.get("/instruments/equity-options/NOPE").status_code == 404


def test_instrument_lists_answer_known_symbols_with_their_exercise_style(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    today = tastytrade_sandbox.market.market_date
    expiry = cal.monthly_expiration(today, 30)
    spxw = build_occ("SPXW", expiry, "P", Decimal(5000))
    spy = build_occ("SPY", expiry, "C", Decimal(560))
    expired = build_occ("SPY", date(2020, 1, 17), "P", Decimal(300))
    query = "&".join(
        "symbol[]=" + quote(symbol, safe="") for symbol in (spxw, "NOPE", spy, expired)
    )

    listed = api.data("/instruments/equity-options?" + query)["items"]
    with_expired = api.data(f"/instruments/equity-options?{query}&with-expired=true")["items"]

    # Unknown symbols are left out; expired contracts only when asked for.
    assert [(item["symbol"], item["exercise-style"]) for item in listed] == [
        (spxw, "European"),
        (spy, "American"),
    ]
    assert [item["symbol"] for item in with_expired] == [spxw, spy, expired]
    assert listed[0] == api.data("/instruments/equity-options/" + quote(spxw, safe=""))


def test_future_option_list_states_the_exchanges_listing(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    expiry = cal.monthly_expiration(tastytrade_sandbox.market.market_date, 30)
    es = build_future_option("/ESM6", "EW3", expiry, "P", Decimal(5000))
    mes = build_future_option("/MESM6", "EX3", expiry, "C", Decimal(5800))
    mym = build_future_option("/MYMM6", "OYM", expiry, "P", Decimal(40000))
    wrong_product = build_future_option("/ESM6", "EX3", expiry, "P", Decimal(5000))
    query = "&".join(
        "symbol[]=" + quote(symbol, safe="") for symbol in (es, mes, mym, wrong_product)
    )

    items = api.data("/instruments/future-options?" + query)["items"]

    assert [(item["symbol"], item["exercise-style"]) for item in items] == [
        (es, "European"),
        (mes, "European"),
        (mym, "American"),
    ]
    assert items[0]["underlying-symbol"] == "/ESM6" and items[0]["option-root-symbol"] == "EW3"
    assert items[0] == api.data("/instruments/future-options/" + quote(es, safe=""))


@pytest.mark.parametrize("path", ["/instruments/equity-options", "/instruments/future-options"])
def test_instrument_lists_refuse_no_symbols_and_more_than_a_hundred(tastytrade_sandbox, path):
    api = Api(tastytrade_sandbox)
    too_many = "&".join(f"symbol[]=X{n}" for n in range(101))

    missing, over = api.get(path), api.get(f"{path}?{too_many}")

    assert (missing.status_code, over.status_code) == (400, 400)
    assert over.json()["error"]["errors"] == [
        {"domain": "symbol[]", "reason": "at most 100 symbols per request"}
    ]
    assert api.get(path + "?" + too_many.rsplit("&", 1)[0]).json()["data"]["items"] == []


def test_market_data_by_type_omits_unknown_and_expired_symbols(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    expired = build_occ("SPY", date(2020, 1, 17), "P", Decimal(300))
    path = "/market-data/by-type?equity=SPY,NOPE&equity-option=" + quote(expired, safe=",")
    body = api.get(path).json()
    assert [item["symbol"] for item in body["data"]["items"]] == ["SPY"]
    assert body["pagination"] is None


# --- OAuth ------------------------------------------------------------------------------


def authorize_query(sandbox, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": sandbox.config.client_id,
        "redirect_uri": sandbox.config.redirect_uris[0],
        "scope": "read",
        "state": "s-1",
        **extra,
    }


def test_authorize_page_lists_traders_with_allow_and_deny(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    page = requests.get(sandbox.authorize_url, params=authorize_query(sandbox), timeout=5)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    for text in ("Dana Demo", "Bob Builder", ">Allow<", ">Deny<", "5WT00101"):
        assert text in page.text
    form = {**authorize_query(sandbox), "sandbox_login": "bob", "decision": "allow"}
    allowed = requests.post(sandbox.authorize_url, data=form, allow_redirects=False, timeout=5)
    callback = parse_qs(urlsplit(allowed.headers["Location"]).query)
    assert callback["state"] == ["s-1"] and callback["code"]
    denied = requests.post(
        sandbox.authorize_url, data={**form, "decision": "deny"}, allow_redirects=False, timeout=5
    )
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["s-1"],
    }


def test_authorize_refuses_unregistered_redirects_without_redirecting(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    for extra in (
        {"redirect_uri": "https://evil.example/cb"},
        {"client_id": "other"},
        {"response_type": "token"},
    ):
        query = authorize_query(sandbox, sandbox_login="demo", sandbox_approve="1", **extra)
        response = requests.get(
            sandbox.authorize_url, params=query, allow_redirects=False, timeout=5
        )
        assert response.status_code == 400 and "Location" not in response.headers


def test_token_endpoint_takes_form_and_json_and_refuses_authorization(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    form = token_post(sandbox, data=code_exchange(sandbox, sandbox.approve("demo")))
    assert form.status_code == 200
    assert set(form.json()) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert form.json()["expires_in"] == 900
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": form.json()["refresh_token"],
        "client_secret": sandbox.config.client_secret,
    }
    assert token_post(sandbox, json=refresh).status_code == 200
    bearer = token_post(sandbox, json=refresh, headers={**UA, "Authorization": "Bearer x"})
    assert (bearer.status_code, bearer.json()["error_code"]) == (400, "invalid_request")
    wrong_secret = token_post(sandbox, json={**refresh, "client_secret": "nope"})
    assert wrong_secret.json() == {
        "error_code": "invalid_grant",
        "error_description": "Client mismatch",
    }


def pkce_pair() -> tuple[str, str]:
    """Return (verifier, S256 challenge) computed here, independently of the sandbox."""
    import base64
    import hashlib
    import secrets

    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def consent_code(sandbox, **extra: str) -> str:
    query = authorize_query(sandbox, sandbox_login="demo", sandbox_approve="1", **extra)
    response = requests.get(sandbox.authorize_url, params=query, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text
    return parse_qs(urlsplit(response.headers["Location"]).query)["code"][0]


def test_pkce_is_enforced_when_the_authorize_request_carried_a_challenge(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    verifier, challenge = pkce_pair()
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}
    # no verifier, or another flow's verifier: refused
    missing = token_post(sandbox, json=code_exchange(sandbox, consent_code(sandbox, **pkce)))
    other_verifier, _ = pkce_pair()
    wrong = token_post(
        sandbox,
        json={
            **code_exchange(sandbox, consent_code(sandbox, **pkce)),
            "code_verifier": other_verifier,
        },
    )
    for refused in (missing, wrong):
        assert (refused.status_code, refused.json()) == (
            400,
            {"error_code": "invalid_grant", "error_description": "PKCE verification failed"},
        )
    # the matching verifier: tokens
    right = {**code_exchange(sandbox, consent_code(sandbox, **pkce)), "code_verifier": verifier}
    assert token_post(sandbox, json=right).status_code == 200
    # a code that failed its PKCE check is spent: the right verifier comes too late
    spent = code_exchange(sandbox, consent_code(sandbox, **pkce))
    token_post(sandbox, json={**spent, "code_verifier": other_verifier})
    assert token_post(sandbox, json={**spent, "code_verifier": verifier}).status_code == 400


def test_pkce_is_optional_without_a_challenge_and_only_s256_is_accepted(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    verifier, challenge = pkce_pair()
    plain_flow = {**code_exchange(sandbox, consent_code(sandbox)), "code_verifier": verifier}
    assert token_post(sandbox, json=plain_flow).status_code == 200
    for method in ("plain", ""):
        query = authorize_query(
            sandbox,
            sandbox_login="demo",
            sandbox_approve="1",
            code_challenge=challenge,
            code_challenge_method=method,
        )
        response = requests.get(
            sandbox.authorize_url, params=query, allow_redirects=False, timeout=5
        )
        assert response.status_code == 400 and "Location" not in response.headers


def test_consent_page_carries_the_challenge_to_the_approval(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    verifier, challenge = pkce_pair()
    query = authorize_query(sandbox, code_challenge=challenge, code_challenge_method="S256")
    page = requests.get(sandbox.authorize_url, params=query, timeout=5)
    assert f'name="code_challenge" value="{challenge}"' in page.text
    form = {**query, "sandbox_login": "demo", "decision": "allow"}
    allowed = requests.post(sandbox.authorize_url, data=form, allow_redirects=False, timeout=5)
    code = parse_qs(urlsplit(allowed.headers["Location"]).query)["code"][0]
    assert token_post(sandbox, json=code_exchange(sandbox, code)).status_code == 400
    code = consent_code(sandbox, code_challenge=challenge, code_challenge_method="S256")
    exchange = {**code_exchange(sandbox, code), "code_verifier": verifier}
    assert token_post(sandbox, json=exchange).status_code == 200


def test_codes_expire_and_are_bound_to_their_redirect_uri(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    other_redirect = sandbox.config.redirect_uris[1]
    bound = code_exchange(sandbox, sandbox.approve("demo", redirect_uri=other_redirect))
    assert token_post(sandbox, json=bound).json()["error_code"] == "invalid_grant"
    late = code_exchange(sandbox, sandbox.approve("demo"))
    sandbox.advance_clock(301)
    assert token_post(sandbox, json=late).status_code == 400


def test_access_tokens_live_900_seconds_and_die_with_their_grant(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    api = Api(sandbox)
    sandbox.advance_clock(899)
    assert api.get("/customers/me").status_code == 200
    sandbox.advance_clock(2)
    assert api.get("/customers/me").status_code == 401
    other = Api(sandbox)
    assert sandbox.revoke(customer="demo") == 2
    assert other.get("/customers/me").status_code == 401
    assert Api(sandbox, "bob").get("/customers/me").status_code == 200


# --- Faults, controls, log ------------------------------------------------------------------


def test_fault_rules_fire_the_next_n_times_then_stop(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    tastytrade_sandbox.add_fault("server_error", path="/customers/me", times=2)
    assert [api.get("/customers/me").status_code for _ in range(3)] == [500, 500, 200]
    assert api.get("/customers/me/accounts").status_code == 200  # the glob is exact


def test_fault_rates_are_reproducible_for_a_seed():
    def pattern(seed: int) -> list[bool]:
        faults = FaultInjector(seed)
        faults.add("throttle", rate=0.5)
        return [bool(faults.fire("GET", "/x")) for _ in range(40)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 5 < sum(pattern(1)) < 35


def test_bad_gateway_is_html_and_malformed_json_has_a_wrong_type(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    tastytrade_sandbox.add_fault("bad_gateway", path="/customers/me")
    gateway = api.get("/customers/me")
    assert gateway.status_code == 502 and gateway.text.startswith("<html>")
    tastytrade_sandbox.add_fault("malformed_json", path="/customers/me")
    broken = api.get("/customers/me")
    assert broken.status_code == 200 and broken.headers["Content-Type"] == "text/plain"
    with pytest.raises(ValueError):
        broken.json()
    tastytrade_sandbox.add_fault("throttle", path="/customers/me")
    throttled = api.get("/customers/me")
    assert throttled.status_code == 429 and "Retry-After" not in throttled.headers


def test_latency_delays_the_answer(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    tastytrade_sandbox.add_fault("latency", path="/customers/me", seconds=0.2)
    started = time.monotonic()
    assert api.get("/customers/me").status_code == 200
    assert time.monotonic() - started >= 0.2
    assert tastytrade_sandbox.requests(path="/customers/me")[-1].fault == "latency"


def test_a_hanging_request_does_not_block_others(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    token = sandbox.create_grant("demo")["access_token"]
    headers = {**UA, "Authorization": f"Bearer {token}"}
    sandbox.add_fault("hang", path="/customers/me/accounts", seconds=10)
    outcome: list[str] = []

    def hang() -> None:
        try:
            requests.get(sandbox.base_url + "/customers/me/accounts", headers=headers, timeout=10)
            outcome.append("answered")
        except requests.RequestException as error:
            outcome.append(type(error).__name__)

    hanging = threading.Thread(target=hang)
    hanging.start()
    while not sandbox.requests(path="/customers/me/accounts"):
        time.sleep(0.01)
    assert requests.get(sandbox.base_url + "/customers/me", headers=headers, timeout=2).ok
    assert hanging.is_alive()
    sandbox.reset()  # frees the hung handler, which closes without answering
    hanging.join(timeout=5)
    assert outcome == ["ConnectionError"]


def test_expired_token_fault_ends_the_presented_token(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    tastytrade_sandbox.add_fault("expired_token", path="/customers/me")
    assert api.get("/customers/me").status_code == 401
    assert api.get("/customers/me").status_code == 401  # the token stays dead
    assert api.get("/customers/me/accounts").status_code == 401


def test_greeks_are_on_by_default_and_switchable(tastytrade_sandbox):
    api = Api(tastytrade_sandbox)
    occ = build_occ("SPY", tastytrade_sandbox.market.market_date + timedelta(days=40), "P", 540)
    path = "/market-data/by-type?equity-option=" + quote(occ, safe="")
    greeks = {"volatility", "delta", "gamma", "theta", "vega", "rho", "theo-price", "dx-mark"}
    assert greeks <= set(api.data(path)["items"][0])
    control(tastytrade_sandbox, "POST", "greeks", {"enabled": False})
    assert not greeks & set(api.data(path)["items"][0])


def test_http_controls_mirror_the_python_api(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    state = control(sandbox, "GET", "state").json()
    assert state["base_url"] == sandbox.base_url
    assert [c["login"] for c in state["customers"]] == ["demo", "bob"]
    assert control(sandbox, "POST", "tick", {"count": 3}).json() == {"tick": 3}
    control(sandbox, "POST", "clock", {"advance_seconds": 60})
    assert sandbox.clock.offset_seconds == pytest.approx(60, abs=1)
    rule = control(sandbox, "POST", "faults", {"kind": "unavailable", "path": "/customers/me"})
    assert rule.status_code == 201 and rule.json()["kind"] == "unavailable"
    assert len(control(sandbox, "GET", "faults").json()["faults"]) == 1
    tokens = control(sandbox, "POST", "grants", {"customer": "bob"}).json()
    headers = {**UA, "Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        requests.get(sandbox.base_url + "/customers/me", headers=headers, timeout=5).status_code
        == 503
    )
    assert control(sandbox, "DELETE", "faults").json() == {"faults": []}
    approved = control(sandbox, "POST", "approve", {"customer": "demo", "state": "abc"}).json()
    assert parse_qs(urlsplit(approved["redirect_url"]).query)["state"] == ["abc"]
    log = control(sandbox, "GET", "log", None).json()["requests"]
    assert [entry["path"] for entry in log] == ["/customers/me"]
    assert log[0]["headers"]["Authorization"] == "Bearer [redacted]"
    assert control(sandbox, "POST", "revoke", {"customer": "bob"}).json() == {"revoked": 1}
    assert control(sandbox, "POST", "faults", {"kind": "nonsense"}).status_code == 400
    reset = control(sandbox, "POST", "reset").json()
    assert (reset["tick"], sandbox.requests()) == (0, [])


def test_request_log_redacts_secrets_in_query_and_headers(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    requests.get(
        sandbox.base_url + "/oauth/token?code=abc&refresh_token=def&grant_type=x",
        headers={**UA, "Authorization": "Bearer secret-token", "Cookie": "a=b"},
        timeout=5,
    )
    entry = sandbox.requests(path="/oauth/token")[0]
    assert entry.query == {
        "code": ["[redacted]"],
        "refresh_token": ["[redacted]"],
        "grant_type": ["x"],
    }
    assert entry.headers["Authorization"] == "Bearer [redacted]"
    assert "secret-token" not in json.dumps(entry.as_json())


# --- Running it ------------------------------------------------------------------------------


def test_cli_flags_fall_back_to_environment_then_defaults(monkeypatch):
    monkeypatch.delenv("TASTYTRADE_REDIRECT_URI", raising=False)
    monkeypatch.setenv("TASTYTRADE_CLIENT_ID", "from-env")
    args = parse_args(["--port", "9999", "--date", "2026-03-02", "--tick-seconds", "0"])
    assert (args.port, args.client_id, args.date, args.tick_seconds) == (
        9999,
        "from-env",
        date(2026, 3, 2),
        0.0,
    )
    assert args.redirect_uri == [
        "http://127.0.0.1:8000/api/tastytrade/callback",
        "http://localhost:8000/api/tastytrade/callback",
    ]


def test_standalone_process_prints_its_urls_and_stops_cleanly():
    process = subprocess.Popen(  # noqa: S603 - fixed argv, our own module
        [sys.executable, "-m", "tastytrade_sandbox", "--port", "0"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first_lines = [process.stdout.readline() for _ in range(3)]
        base_url = first_lines[1].split()[-1]
        state = requests.get(base_url + "/__sandbox__/state", timeout=5).json()
        assert state["customers"][0]["accounts"] == ["5WT00001", "5WT00002", "5WT00003"]
        assert "auth.html" in first_lines[2]
    finally:
        process.send_signal(signal.SIGINT)
        remaining, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "stopped" in remaining
