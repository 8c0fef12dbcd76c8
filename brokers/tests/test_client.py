"""TastytradeClient and the OAuth helpers against the local sandbox (no database)."""

from __future__ import annotations

import math
import random
import socket
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from tastytrade import API_VERSION as SDK_API_VERSION

from brokers.tastytrade.client import (
    SERVER_BACKOFF,
    THROTTLE_BACKOFF,
    Account,
    BrokerAuthError,
    BrokerGrantInvalid,
    BrokerProtocolError,
    BrokerRequestError,
    BrokerUnavailable,
    OptionInstrument,
    Record,
    TastytradeClient,
    quote_key,
)
from brokers.tastytrade.decoding import decode_option_instrument
from brokers.tastytrade.oauth_client import (
    TokenSet,
    build_authorize_url,
    exchange_code,
    redact,
    refresh_access_token,
)
from metrics.marks import quote_price, select_price
from portfolios.symbols import build_future_option, build_occ

USER_AGENT = "thetavue/0.1.0"
SHORT_TIMEOUT = (0.5, 0.3)  # (connect, read) seconds: hangs fail fast in tests


class RecordingSleep:
    """Stands in for time.sleep: records each delay, waits for none."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class CeilingRng(random.Random):
    """Jitter at the top of every range, so backoff ceilings become visible."""

    def uniform(self, a: float, b: float) -> float:
        return b


def grant(sandbox, customer: str = "demo") -> TokenSet:
    """Run the code exchange for a consent given without the page."""
    code = sandbox.approve(customer)
    return exchange_code(
        sandbox.base_url,
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        code=code,
        redirect_uri=sandbox.config.redirect_uris[0],
    )


def make_client(sandbox, *, tokens: TokenSet | None = None, **options) -> TastytradeClient:
    options.setdefault("sleep", RecordingSleep())
    options.setdefault("rng", random.Random(7))
    options.setdefault("timeout", (2.0, 2.0))
    return TastytradeClient(
        sandbox.base_url,
        tokens=tokens or grant(sandbox),
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        **options,
    )


def statuses(sandbox, path: str, method: str | None = None) -> list[int | None]:
    return [entry.status for entry in sandbox.requests(path=path, method=method)]


# --- OAuth ----------------------------------------------------------------------


def test_authorize_page_code_exchange_and_refresh(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    redirect_uri = sandbox.config.redirect_uris[0]
    state = "st-9/x+y z"
    url = build_authorize_url(sandbox.authorize_url, sandbox.config.client_id, redirect_uri, state)
    # given the trader approves as "demo" (the test flag skips the HTML)
    response = requests.get(
        url + "&sandbox_login=demo&sandbox_approve=1", allow_redirects=False, timeout=5
    )
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    callback = parse_qs(location.query)
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    assert callback["state"] == [state]
    # when the code is exchanged, then refreshed
    issued_at = datetime.now(UTC)
    tokens = exchange_code(
        sandbox.base_url,
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        code=callback["code"][0],
        redirect_uri=redirect_uri,
    )
    refreshed = refresh_access_token(
        sandbox.base_url,
        client_id=sandbox.config.client_id,
        client_secret=sandbox.config.client_secret,
        refresh_token=tokens.refresh_token,
    )
    # then both answers are usable token sets with a 15-minute life
    assert tokens.scopes == ("read",)
    assert timedelta(seconds=899) <= tokens.expires_at - issued_at <= timedelta(seconds=905)
    assert refreshed.access_token != tokens.access_token
    assert refreshed.refresh_token == tokens.refresh_token
    with make_client(sandbox, tokens=refreshed) as client:
        assert [a.account_number for a in client.accounts()][:1] == ["5WT00001"]
    # and the token endpoint saw a User-Agent but never an Authorization header
    token_calls = sandbox.requests(path="/oauth/token")
    assert [entry.status for entry in token_calls] == [200, 200]
    for entry in token_calls:
        assert entry.headers["User-Agent"] == USER_AGENT
        assert "Authorization" not in entry.headers


def test_token_set_repr_hides_the_tokens(tastytrade_sandbox):
    tokens = grant(tastytrade_sandbox)
    assert tokens.access_token not in repr(tokens)
    assert tokens.refresh_token not in repr(tokens)
    assert redact({"code": "c", "client_secret": "s", "grant_type": "x"}) == {
        "code": "[redacted]",
        "client_secret": "[redacted]",
        "grant_type": "x",
    }


def test_a_code_works_once_and_the_second_exchange_is_not_retried(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    code = sandbox.approve("demo")
    exchange = {
        "client_id": sandbox.config.client_id,
        "client_secret": sandbox.config.client_secret,
        "code": code,
        "redirect_uri": sandbox.config.redirect_uris[0],
    }
    exchange_code(sandbox.base_url, **exchange)
    with pytest.raises(BrokerGrantInvalid) as raised:
        exchange_code(sandbox.base_url, **exchange)
    assert raised.value.code == "invalid_grant"
    assert code not in str(raised.value)
    assert statuses(sandbox, "/oauth/token", "POST") == [200, 400]


def test_token_endpoint_outage_is_not_retried(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    tokens = grant(sandbox)
    sandbox.add_fault("unavailable", path="/oauth/token", times=None)
    with pytest.raises(BrokerUnavailable):
        refresh_access_token(
            sandbox.base_url,
            client_id=None,
            client_secret=sandbox.config.client_secret,
            refresh_token=tokens.refresh_token,
        )
    assert statuses(sandbox, "/oauth/token") == [200, 503]


# --- Reads ----------------------------------------------------------------------


def test_accounts_are_typed_and_closed_ones_listed(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        accounts = client.accounts()
    assert [(a.account_number, a.margin_or_cash, a.is_closed) for a in accounts] == [
        ("5WT00001", "Margin", False),
        ("5WT00002", "Cash", False),
        ("5WT00003", "Margin", True),
    ]
    income = accounts[0]
    assert isinstance(income, Account)
    assert (income.nickname, income.authority_level, income.is_futures_approved) == (
        "Income",
        "owner",
        True,
    )
    assert income.opened_at is not None and income.opened_at.tzinfo is not None


def test_balance_is_decimal_and_net_liq_adds_up(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        balance = client.balance("5WT00001")
        positions = client.positions("5WT00001", include_marks=True)
    assert balance.currency == "USD"
    assert isinstance(balance.net_liquidating_value, Decimal)
    futures_pnl = sum(
        (p.mark_price - p.average_open_price) * p.quantity * p.multiplier
        for p in positions
        if p.instrument_type == "Future"
    )
    books = (
        balance.cash_balance
        + balance.long_equity_value
        - balance.short_equity_value
        + balance.long_derivative_value
        - balance.short_derivative_value
        + balance.long_cryptocurrency_value
        - balance.short_cryptocurrency_value
        + futures_pnl
    )
    # Net liq is sent to the cent; a /MBT leg (multiplier 0.1) has P/L in tenths of one.
    assert abs(balance.net_liquidating_value - books) <= Decimal("0.005")
    assert balance.pending_cash == 0


def test_positions_carry_signed_decimal_quantities(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        positions = client.positions("5WT00001")
    by_underlying: dict[str, list] = {}
    for position in positions:
        by_underlying.setdefault(position.underlying_symbol, []).append(position)
        assert isinstance(position.quantity, Decimal)
        assert isinstance(position.multiplier, Decimal)
    assert [p.quantity for p in by_underlying["SPY"]] == [Decimal(-2)]
    assert sorted(p.quantity for p in by_underlying["KO"]) == [Decimal(-2), Decimal(200)]
    assert [p.quantity for p in by_underlying["TSLA"]] == [Decimal(-50)]
    assert [p.quantity for p in by_underlying["AMZN"]] == [Decimal("2.5")]
    spx = by_underlying["SPX"]
    assert {p.symbol[:4] for p in spx} == {"SPXW"}
    assert sorted(p.quantity for p in spx) == [-1, -1, 1, 1]
    future_option = next(p for p in positions if p.instrument_type == "Future Option")
    assert (future_option.quantity, future_option.multiplier) == (-1, 50)
    assert future_option.underlying_symbol.startswith("/ES")
    zero = next(p for p in positions if p.quantity_direction == "Zero")
    assert zero.quantity == 0
    now = datetime.now(UTC)
    expired = [p for p in positions if p.quantity and p.is_expired(now)]
    assert [p.underlying_symbol for p in expired] == ["XLE"]


def test_another_customers_account_is_refused_without_retry(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        with pytest.raises(BrokerRequestError) as raised:
            client.positions("5WT00101")
    assert raised.value.status == 403
    assert statuses(tastytrade_sandbox, "/accounts/5WT00101") == [403]


def test_transactions_follow_every_page_oldest_first(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    with make_client(sandbox) as client:
        rows = client.transactions("5WT00001", per_page=250)
    assert len(rows) > 250
    assert [row.id for row in rows] == sorted({row.id for row in rows})
    pages = sandbox.requests(path="/accounts/5WT00001/transactions")
    assert len(pages) == math.ceil(len(rows) / 250)
    assert [entry.query["page-offset"] for entry in pages] == [[str(n)] for n in range(len(pages))]
    assert all(entry.query["sort"] == ["Asc"] for entry in pages)


def test_transaction_amounts_are_signed_by_their_effects(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        rows = client.transactions("5WT00001", per_page=2000)
    sold = next(r for r in rows if r.action == "Sell to Open")
    bought = next(r for r in rows if r.action == "Buy to Close")
    assert sold.value > 0 and bought.value < 0
    assert sold.commission <= 0 and sold.clearing_fees < 0
    for row in (sold, bought):
        fees = row.commission + row.clearing_fees + row.regulatory_fees
        assert row.net_value == row.value + fees + row.proprietary_index_option_fees
    deposit = next(r for r in rows if r.transaction_sub_type == "Deposit")
    assert deposit.net_value == Decimal("150000.00")


def test_transactions_start_date_and_types_filter(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        every = client.transactions("5WT00001", per_page=2000)
        since = every[len(every) // 2].transaction_date
        recent = client.transactions("5WT00001", since, types=["Trade"])
    assert recent
    assert all(row.transaction_date >= since for row in recent)
    assert {row.transaction_type for row in recent} == {"Trade"}


def test_transactions_per_page_is_bounded():
    client = TastytradeClient("http://127.0.0.1:9", access_token_provider=lambda: "t")
    with pytest.raises(ValueError, match="per_page"):
        client.transactions("5WT00001", per_page=2001)


def test_quotes_go_out_in_batches_of_at_most_100_symbols(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    expiry = sandbox.market.market_date + timedelta(days=45)
    options = [build_occ("SPY", expiry, "P", Decimal(strike)) for strike in range(400, 620)]
    with make_client(sandbox) as client:
        quotes = client.quotes(
            {"Equity": ["SPY", "AAPL"], "equity-option": options, "index": ["SPX"]}
        )
    assert len(quotes) == 223
    batches = sandbox.requests(path="/market-data/by-type")
    sizes = [sum(len(v[0].split(",")) for v in entry.query.values()) for entry in batches]
    assert sizes == [100, 100, 23]
    spy = quotes["SPY"]
    assert quote_price(spy) == (spy.mark, "mark")
    option = quotes[options[0]]
    assert option.instrument_type == "Equity Option"
    assert option.bid <= quote_price(option)[0] <= option.ask
    assert option.delta is not None and -1 < option.delta < 0


def test_option_instruments_go_out_in_batches_and_carry_the_exercise_style(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    expiry = sandbox.market.market_date + timedelta(days=45)
    spy = [build_occ("SPY", expiry, "P", Decimal(strike)) for strike in range(400, 630)]
    spxw = build_occ("SPXW", expiry, "P", Decimal(5000))
    expired = build_occ("SPY", date(2020, 1, 17), "P", Decimal(300))
    es = build_future_option("/ESZ6", "EW3", expiry, "P", Decimal(5000))
    mes = build_future_option("/MESZ6", "EX3", expiry, "C", Decimal(5800))
    with make_client(sandbox) as client:
        found = client.option_instruments(
            {
                "Equity Option": [*spy, spxw, expired, "NOPE  991231P00001000", spy[0]],
                "Future Option": [es, mes],
            }
        )
    batches = sandbox.requests(path="/instruments/equity-options")
    assert [len(entry.query["symbol[]"]) for entry in batches] == [100, 100, 33]  # 233 distinct
    assert all(entry.query["with-expired"] == ["true"] for entry in batches)
    assert len(sandbox.requests(path="/instruments/future-options")) == 1
    # Unknown symbols are absent; expired contracts still held are answered.
    assert set(found) == {*spy, spxw, expired, es, mes}
    assert found[spxw] == OptionInstrument(
        symbol=spxw,
        instrument_type="Equity Option",
        underlying_symbol="SPX",
        root_symbol="SPXW",
        option_root_symbol=None,
        exercise_style="European",
        settlement_type="PM",
        expires_at=found[spxw].expires_at,
        active=True,
    )
    assert found[spxw].expires_at.tzinfo is not None
    assert {found[s].exercise_style for s in spy} == {"American"}
    assert (found[es].exercise_style, found[es].option_root_symbol) == ("European", "EW3")
    assert found[mes].exercise_style == "European"
    assert found[expired].active is False


def test_a_refused_instrument_list_falls_back_to_single_fetches_up_to_a_limit(
    tastytrade_sandbox,
):
    # given: the equity-option list refused, as cert did in 2026 (403)
    sandbox = tastytrade_sandbox
    sandbox.add_fault("status", status=403, path="/instruments/equity-options", times=None)
    expiry = sandbox.market.market_date + timedelta(days=45)
    unknown = "NOPE  991231P00001000"
    spy = [build_occ("SPY", expiry, "P", Decimal(strike)) for strike in range(500, 659)]
    es = build_future_option("/ESZ6", "EW3", expiry, "P", Decimal(5000))
    # when
    with make_client(sandbox) as client:
        found = client.option_instruments({"Equity Option": [unknown, *spy], "Future Option": [es]})
    # then: one refused list call, no retry; the first 50 symbols one by one
    # (the unknown one a 404), nothing more; the future-option list unaffected
    assert statuses(sandbox, "/instruments/equity-options") == [403] + [404] + [200] * 49
    assert set(found) == {*spy[:49], es}
    assert {instrument.exercise_style for instrument in found.values()} == {
        "American",
        "European",
    }
    assert found[spy[0]].symbol == spy[0] and client.calls == 1 + 50 + 1


def test_option_instruments_refuse_an_instrument_type_without_a_list(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client, pytest.raises(ValueError, match="Equity"):
        client.option_instruments({"Equity": ["SPY"]})
    assert tastytrade_sandbox.requests(path="/instruments") == []


@pytest.mark.parametrize(
    ("wire_style", "decoded"),
    [("American", "American"), ("European", "European"), ("Bermudan", None), (None, None)],
)
def test_an_instrument_style_outside_american_and_european_is_unstated(wire_style, decoded):
    row = {"symbol": "X", "instrument-type": "Equity Option", "unknown-key": {"a": 1}}
    if wire_style is not None:
        row["exercise-style"] = wire_style
    assert decode_option_instrument(Record(row, "t")).exercise_style == decoded


@pytest.mark.parametrize(
    "row",
    [
        {"instrument-type": "Equity Option", "exercise-style": "American"},
        {"symbol": "X", "instrument-type": "Equity Option", "exercise-style": ["American"]},
        {"symbol": "X", "instrument-type": "Equity Option", "expires-at": "soon"},
        {"symbol": "X", "instrument-type": "Equity Option", "active": "perhaps"},
    ],
    ids=["no-symbol", "style-not-text", "bad-time", "bad-flag"],
)
def test_a_malformed_instrument_is_a_protocol_error(row):
    with pytest.raises(BrokerProtocolError):
        decode_option_instrument(Record(row, "t"))


def test_quote_greeks_are_absent_when_switched_off(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.set_greeks(False)
    symbol = build_occ("SPY", sandbox.market.market_date + timedelta(days=30), "C", 560)
    with make_client(sandbox) as client:
        quote = client.quotes({"equity-option": [symbol]})[symbol]
    assert (quote.delta, quote.volatility, quote.theo_price) == (None, None, None)
    assert quote_price(quote)[0] is not None


def test_price_selection_order_is_mark_mid_bid_ask_last_close():
    prices = dict(mark=None, mid=None, bid=None, ask=None, last=None, close=None)
    assert select_price(**prices) == (None, None)
    assert select_price(**{**prices, "close": Decimal(5)}) == (Decimal(5), "close")
    assert select_price(**{**prices, "last": Decimal(4), "close": Decimal(5)}) == (
        Decimal(4),
        "last",
    )
    both = {**prices, "bid": Decimal(1), "ask": Decimal(2), "last": Decimal(4)}
    assert select_price(**both) == (Decimal("1.5"), "bid_ask")
    assert select_price(**{**both, "bid": Decimal(0)}) == (Decimal(4), "last")
    assert select_price(**{**both, "mid": Decimal("1.4")}) == (Decimal("1.4"), "mid")
    assert select_price(**{**both, "mid": Decimal("1.4"), "mark": Decimal(1)}) == (
        Decimal(1),
        "mark",
    )
    assert quote_key("Future Option") == "future-option"


def test_market_metrics_give_iv_beta_and_dividend_yield(tastytrade_sandbox):
    with make_client(tastytrade_sandbox) as client:
        metrics = client.market_metrics(["SPY", "KO", "NOPE"])
    assert set(metrics) == {"SPY", "KO"}
    ko = metrics["KO"]
    assert ko.beta == Decimal("0.58")
    assert ko.dividend_yield == Decimal("0.0290")
    assert 0 < ko.iv_index < 1
    assert ko.iv_30_day == pytest.approx(ko.iv_index * 100, abs=Decimal("0.01"))
    assert ko.expiration_ivs and all(0 < row.implied_volatility < 1 for row in ko.expiration_ivs)
    assert ko.earnings_date is not None


# --- Retries ----------------------------------------------------------------------


def test_server_errors_are_retried_with_growing_jittered_delays(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("server_error", path="/customers/me/accounts", times=3)
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep, rng=CeilingRng()) as client:
        assert len(client.accounts()) == 3
    assert statuses(sandbox, "/customers/me/accounts") == [500, 500, 500, 200]
    assert sleep.calls == [0.5, 1.0, 2.0]


def test_jitter_stays_below_each_ceiling(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("bad_gateway", path="/customers/me/accounts", times=3)
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep, rng=random.Random(3)) as client:
        client.accounts()
    assert statuses(sandbox, "/customers/me/accounts") == [502, 502, 502, 200]
    assert len(sleep.calls) == 3
    for retry, delay in enumerate(sleep.calls):
        assert 0 <= delay <= SERVER_BACKOFF.ceiling(retry)


def test_throttling_backs_off_on_its_own_longer_schedule(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("throttle", path="/accounts/*/balances/USD", times=2)
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep, rng=CeilingRng()) as client:
        client.balance("5WT00001")
    assert statuses(sandbox, "/accounts/5WT00001/balances") == [429, 429, 200]
    assert (
        sleep.calls
        == [THROTTLE_BACKOFF.ceiling(0), THROTTLE_BACKOFF.ceiling(1)]
        == [
            2.0,
            4.0,
        ]
    )
    assert THROTTLE_BACKOFF.ceiling(10) == 30.0 and SERVER_BACKOFF.ceiling(10) == 8.0


def test_retry_after_is_honoured_when_sent(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("throttle", path="/customers/me/accounts", retry_after=7)
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep) as client:
        client.accounts()
    assert sleep.calls == [7.0]


def test_retries_stop_after_four_attempts(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("unavailable", path="/customers/me/accounts", times=None)
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep) as client:
        with pytest.raises(BrokerUnavailable) as raised:
            client.accounts()
    assert (raised.value.status, raised.value.attempts) == (503, 4)
    assert statuses(sandbox, "/customers/me/accounts") == [503] * 4
    assert len(sleep.calls) == 3


def test_expired_access_token_is_refreshed_once_and_the_call_retried(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    stored: list[TokenSet] = []
    tokens = grant(sandbox)
    sandbox.clear_log()
    sandbox.add_fault("expired_token", path="/customers/me/accounts")
    with make_client(sandbox, tokens=tokens, on_tokens=stored.append) as client:
        assert len(client.accounts()) == 3
        assert client.tokens == stored[0]
    assert [(e.method, e.path, e.status) for e in sandbox.requests()] == [
        ("GET", "/customers/me/accounts", 401),
        ("POST", "/oauth/token", 200),
        ("GET", "/customers/me/accounts", 200),
    ]
    assert stored[0].refresh_token == tokens.refresh_token
    assert stored[0].access_token != tokens.access_token
    assert stored[0].scopes == tokens.scopes == ("read",)


def test_sandbox_clock_expires_the_token_without_sleeping(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    with make_client(sandbox) as client:
        client.accounts()
        sandbox.advance_clock(901)
        client.accounts()
    assert statuses(sandbox, "/customers/me/accounts") == [200, 401, 200]
    assert statuses(sandbox, "/oauth/token", "POST") == [200, 200]


def test_a_token_about_to_expire_is_refreshed_before_the_call(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    soon = lambda: datetime.now(UTC) + timedelta(seconds=850)  # noqa: E731
    with make_client(sandbox, now=soon) as client:
        sandbox.clear_log()
        client.accounts()
    assert [(e.method, e.status) for e in sandbox.requests()] == [
        ("POST", 200),
        ("GET", 200),
    ]


def test_a_second_401_raises_auth_error_after_one_refresh(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    refreshes: list[str] = []

    def refresh() -> str:
        refreshes.append("refresh")
        return "still-not-a-valid-token"

    client = TastytradeClient(
        sandbox.base_url,
        access_token_provider=lambda: "not-a-valid-token",
        refresh=refresh,
        sleep=RecordingSleep(),
    )
    with client, pytest.raises(BrokerAuthError) as raised:
        client.accounts()
    assert refreshes == ["refresh"]
    assert (raised.value.status, raised.value.code) == (401, "token_invalid")
    assert "valid-token" not in str(raised.value)
    assert statuses(sandbox, "/customers/me/accounts") == [401, 401]


def test_revoked_grant_raises_grant_invalid_without_a_retry_loop(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    tokens = grant(sandbox)
    sandbox.clear_log()
    sandbox.revoke(customer="demo")
    sleep = RecordingSleep()
    with make_client(sandbox, tokens=tokens, sleep=sleep) as client:
        with pytest.raises(BrokerGrantInvalid) as raised:
            client.accounts()
    assert raised.value.code == "invalid_grant"
    assert tokens.refresh_token not in str(raised.value)
    assert [(e.method, e.status) for e in sandbox.requests()] == [
        ("GET", 401),
        ("POST", 400),
    ]
    assert sleep.calls == []


def test_wrong_environment_refresh_token_is_grant_invalid(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    tokens = grant(sandbox)
    sandbox.add_fault("invalid_grant", path="/oauth/token")
    with pytest.raises(BrokerGrantInvalid):
        refresh_access_token(
            sandbox.base_url,
            client_id=sandbox.config.client_id,
            client_secret=sandbox.config.client_secret,
            refresh_token=tokens.refresh_token,
        )


def test_malformed_json_is_a_protocol_error_not_retried(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("malformed_json", path="/accounts/*/positions")
    with make_client(sandbox) as client:
        with pytest.raises(BrokerProtocolError) as raised:
            client.positions("5WT00001")
    assert raised.value.code == "malformed_json"
    assert statuses(sandbox, "/accounts/5WT00001/positions") == [200]


def test_an_unexpected_shape_is_a_protocol_error(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("schema_drift", path="/accounts/*/positions", mode="shape")
    with make_client(sandbox) as client:
        with pytest.raises(BrokerProtocolError, match="no 'data' object") as raised:
            client.positions("5WT00001")
    assert raised.value.code == "unexpected_shape"


def test_a_hanging_server_times_out_into_unavailable(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("hang", path="/customers/me/accounts", times=None, seconds=5)
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep, timeout=SHORT_TIMEOUT) as client:
        with pytest.raises(BrokerUnavailable) as raised:
            client.accounts()
    assert (raised.value.code, raised.value.attempts, raised.value.status) == (
        "timeout",
        4,
        None,
    )
    assert statuses(sandbox, "/customers/me/accounts") == [None] * 4
    assert len(sleep.calls) == 3


def test_a_dropped_connection_is_retried(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("drop", path="/accounts/*/positions")
    sleep = RecordingSleep()
    with make_client(sandbox, sleep=sleep) as client:
        positions = client.positions("5WT00001")
    assert positions
    assert len(sandbox.requests(path="/accounts/5WT00001/positions")) == 2
    assert len(sleep.calls) == 1


def test_schema_drift_is_tolerated(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    with make_client(sandbox) as client:
        before = client.positions("5WT00001")
        sandbox.add_fault("schema_drift", path="/accounts/*/positions")
        drifted = client.positions("5WT00001")
        sandbox.add_fault("schema_drift", path="/accounts/*/positions", mode="empty")
        emptied = client.positions("5WT00001")
    assert [(p.symbol, p.quantity) for p in drifted] == [(p.symbol, p.quantity) for p in before]
    assert emptied == []


def test_every_request_carries_the_user_agent(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    with make_client(sandbox) as client:
        client.accounts()
        client.balance("5WT00001")
    entries = sandbox.requests()
    assert entries and all(e.headers["User-Agent"] == USER_AGENT for e in entries)
    # Pinned to the version the public SDK (the contract suite's oracle) is built for.
    assert all(
        e.headers["Accept-Version"] == SDK_API_VERSION for e in entries if e.path != "/oauth/token"
    )
    api_calls = [e for e in entries if e.path != "/oauth/token"]
    assert all(e.headers["Authorization"] == "Bearer [redacted]" for e in api_calls)


# --- Transport and wire reading -------------------------------------------------


def test_calls_count_api_calls_not_their_retries(tastytrade_sandbox):
    sandbox = tastytrade_sandbox
    sandbox.add_fault("server_error", path="/customers/me/accounts", times=2)
    with make_client(sandbox) as client:
        client.accounts()
        client.balance("5WT00001")
        client.transactions("5WT00001")  # two pages
    assert client.calls == 4
    assert len(sandbox.requests(path="/customers/me/accounts")) == 3


def test_a_refused_connection_is_a_reset_not_a_timeout(tastytrade_sandbox):
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = RecordingSleep()
    client = TastytradeClient(
        f"http://127.0.0.1:{port}",
        access_token_provider=lambda: "token",
        sleep=sleep,
        timeout=SHORT_TIMEOUT,
    )
    with client, pytest.raises(BrokerUnavailable) as raised:
        client.accounts()
    assert (raised.value.code, raised.value.attempts) == ("reset", 4)
    assert len(sleep.calls) == 3


def test_records_read_kebab_and_snake_case_keys():
    kebab = Record({"net-value": "5.10", "net-value-effect": "Debit", "order-id": 7}, "t")
    snake = Record({"net_value": "5.10", "net_value_effect": "Debit", "order_id": 7}, "t")
    for record in (kebab, snake):
        assert record.signed("net_value") == Decimal("-5.10")
        assert record.text("order_id") == "7"
        assert record.integer("order_id") == 7


@pytest.mark.parametrize("amount", ["0.0", "-0.0", "2.50", "-2.50", "1E+3"])
@pytest.mark.parametrize("effect", ["Credit", "Debit", "None"])
def test_signed_amounts_are_the_decimal_times_the_effect_sign(amount, effect):
    signed = Record({"value": amount, "value-effect": effect}, "t").signed("value")
    expected = abs(Decimal(amount)) * {"Credit": 1, "Debit": -1, "None": 0}[effect]
    # Same value and same representation (exponent, sign of zero).
    assert str(signed) == str(expected)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "abc", True, [1]])
def test_non_numbers_are_protocol_errors(value):
    with pytest.raises(BrokerProtocolError):
        Record({"price": value}, "t").decimal("price")
