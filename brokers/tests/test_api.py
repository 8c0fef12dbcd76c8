"""The Tastytrade API: OAuth round trip, connections, manual sync, status, isolation."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.db import connection as db
from django.urls import reverse

from brokers.models import BrokerConnection, SyncRun
from brokers.sync import connection_sync
from brokers.tests.sync_helpers import fast_client_factory, granted_connection
from brokers.token_crypto import decrypt_token
from portfolios.models import Portfolio
from tastytrade_sandbox import market_data
from tastytrade_sandbox.book import Holding
from thetavue_site import rls
from thetavue_site.users.models import Consent

pytestmark = pytest.mark.django_db


def consent_at_broker(authorize_url: str, login: str = "demo") -> dict[str, str]:
    """Approve on the sandbox's consent page as a browser would; return the callback query."""
    response = requests.get(
        authorize_url,
        params={"sandbox_login": login, "decision": "allow"},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code in (302, 303), response.text
    query = parse_qs(urlparse(response.headers["Location"]).query)
    return {key: values[0] for key, values in query.items()}


def test_oauth_round_trip_stores_encrypted_tokens_and_queues_a_sync(sandbox, alice_api, alice):
    start = alice_api.post("/api/tastytrade/connect")
    assert start.status_code == 200
    authorize_url = start.json()["authorize_url"]
    assert authorize_url.startswith(sandbox.authorize_url)
    callback = consent_at_broker(authorize_url)

    response = alice_api.get("/api/tastytrade/callback", callback)

    assert response.status_code == 302
    assert response["Location"].startswith("/connections/?connected=")
    with rls.as_user(alice.pk):
        connection = BrokerConnection.objects.get()
        run = SyncRun.objects.get()
        assert Consent.objects.filter(purpose="broker_connection").count() == 1
    assert (run.status, run.trigger) == ("queued", "connect")
    with rls.as_service(), db.cursor() as cursor:
        cursor.execute(
            "SELECT access_token_encrypted, refresh_token_encrypted FROM broker_connections WHERE id = %s",
            [connection.pk],
        )
        raw_access, raw_refresh = cursor.fetchone()
    access = decrypt_token(connection_id=connection.pk, ciphertext=raw_access)
    refresh = decrypt_token(connection_id=connection.pk, ciphertext=raw_refresh)
    assert access and refresh
    assert access not in raw_access and refresh not in raw_refresh
    # The stored tokens work: a sync with them succeeds.
    outcome = connection_sync(
        connection_id=connection.pk,
        owner_id=alice.pk,
        run_id=run.pk,
        client_factory=fast_client_factory,
    )
    assert outcome.status == "succeeded"


def test_replayed_tampered_or_foreign_state_is_refused(sandbox, alice_api, bob_api):
    callback = consent_at_broker(alice_api.post("/api/tastytrade/connect").json()["authorize_url"])
    assert alice_api.get("/api/tastytrade/callback", callback).status_code == 302

    replay = alice_api.get("/api/tastytrade/callback", callback)
    assert replay.status_code == 400
    assert replay.json()["error"]["code"] == "invalid_state"
    assert "already used" in replay.json()["error"]["message"]

    fresh = consent_at_broker(alice_api.post("/api/tastytrade/connect").json()["authorize_url"])
    tampered = {**fresh, "state": fresh["state"][:-3] + "xyz"}
    assert (
        alice_api.get("/api/tastytrade/callback", tampered).json()["error"]["code"]
        == "invalid_state"
    )
    stolen = bob_api.get("/api/tastytrade/callback", fresh)
    assert stolen.status_code == 400
    assert "another user" in stolen.json()["error"]["message"]
    # A browser lands on the connections page with the reason in plain words.
    in_browser = alice_api.get("/api/tastytrade/callback", callback, HTTP_ACCEPT="text/html,*/*")
    assert in_browser.status_code == 302
    assert in_browser["Location"] == "/connections/?error=invalid_state"
    assert in_browser["Referrer-Policy"] == "no-referrer"


def test_declined_consent_stores_nothing(sandbox, alice_api, alice):
    url = alice_api.post("/api/tastytrade/connect").json()["authorize_url"]
    response = requests.get(url, params={"decision": "deny"}, allow_redirects=False, timeout=5)
    query = {k: v[0] for k, v in parse_qs(urlparse(response.headers["Location"]).query).items()}
    answer = alice_api.get("/api/tastytrade/callback", query)
    assert answer.status_code == 302 and "error=" in answer["Location"]
    with rls.as_user(alice.pk):
        assert not BrokerConnection.objects.exists()


def test_status_reports_runs_and_errors(sandbox, alice_api, alice):
    connection = granted_connection(sandbox, alice)
    connection_sync(
        connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
    )

    body = alice_api.get("/api/tastytrade/status").json()

    [entry] = body["connections"]
    assert entry["id"] == connection.pk
    assert entry["status"] == "active"
    assert entry["last_error"] == ""
    assert entry["next_sync_at"] is not None
    assert entry["last_run"]["status"] == "succeeded"
    assert entry["last_run"]["counts"]["accounts"] == 2
    assert set(entry["last_run"]) >= {
        "id",
        "status",
        "started_at",
        "finished_at",
        "counts",
        "error",
    }


def test_manual_sync_is_202_then_429_with_retry_after(alice_api, alice):
    with rls.as_service():
        connection = BrokerConnection.objects.create(user=alice, environment="sandbox")
    first = alice_api.post("/api/tastytrade/sync", {"connection_id": connection.pk}, format="json")
    assert first.status_code == 202
    assert [run["status"] for run in first.json()["runs"]] == ["queued"]
    second = alice_api.post("/api/tastytrade/sync", {"connection_id": connection.pk}, format="json")
    assert second.status_code == 429
    assert 1 <= int(second["Retry-After"]) <= 60
    assert second.json()["error"]["code"] == "throttled"


def test_disconnect_deletes_tokens_and_keeps_synced_data(sandbox, alice_api, alice):
    connection = granted_connection(sandbox, alice)
    connection_sync(
        connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
    )

    response = alice_api.delete(f"/api/tastytrade/connections/{connection.pk}")

    assert response.status_code == 204
    with rls.as_user(alice.pk):
        connection.refresh_from_db()
        from portfolios.models import Position

        assert Position.objects.exists()
    assert connection.status == "disabled"
    assert connection.access_token_encrypted == "" and connection.refresh_token_encrypted == ""


def test_bob_cannot_read_sync_or_disconnect_alices_connection(alice, bob_api):
    with rls.as_service():
        connection = BrokerConnection.objects.create(user=alice, environment="sandbox")
    assert bob_api.get(f"/api/tastytrade/connections/{connection.pk}").status_code == 404
    assert bob_api.delete(f"/api/tastytrade/connections/{connection.pk}").status_code == 404
    sync = bob_api.post("/api/tastytrade/sync", {"connection_id": connection.pk}, format="json")
    assert sync.status_code == 404
    assert bob_api.get("/api/tastytrade/connections/").json() == []
    assert bob_api.get("/api/tastytrade/status").json() == {"connections": []}
    with rls.as_service():
        connection.refresh_from_db()
        assert connection.status == "active"
        assert not SyncRun.objects.exists()


def test_anonymous_requests_are_refused(client):
    for method, path in [
        ("post", "/api/tastytrade/connect"),
        ("get", "/api/tastytrade/status"),
        ("get", "/api/tastytrade/connections/"),
        ("post", "/api/tastytrade/sync"),
    ]:
        response = getattr(client, method)(path)
        assert response.status_code in (401, 403), path


def test_a_leg_the_product_cannot_read_is_set_aside_and_shown_everywhere(
    sandbox, alice_api, alice_client, alice, monkeypatch
):

    bad_symbol = "./MESU6 EX3U6 2609C6450"  # the date is cut short: no parser reads it
    account = sandbox.book.accounts["5WT00001"]
    # monkeypatch puts the book back after the test (the sandbox outlives it).
    monkeypatch.setattr(
        account,
        "holdings",
        [
            *account.holdings,
            Holding(
                symbol=bad_symbol,
                instrument_type="Future Option",
                underlying_symbol="/MESU6",
                quantity=Decimal(1),
                direction="Long",
                multiplier=Decimal(5),
                average_open_price=Decimal("40.00"),
                opened_at=sandbox.clock.now() - timedelta(days=3),
            ),
        ],
    )
    connection = granted_connection(sandbox, alice)

    outcome = connection_sync(
        connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
    )

    assert outcome.status == "succeeded", outcome.error
    with rls.as_user(alice.pk):
        portfolio = Portfolio.objects.get(broker_account_id="5WT00001")
        assert portfolio.positions.count() > 5  # the rest of the book synced
        assert not portfolio.positions.filter(symbol=bad_symbol).exists()
    status = alice_api.get("/api/tastytrade/status").json()
    assert status["connections"][0]["last_run"]["counts"]["warnings"] == 1

    positions = alice_api.get(f"/api/portfolio/{portfolio.pk}/positions/").json()
    [aside] = positions["legs_unsupported"]
    assert aside["symbol"] == bad_symbol and aside["quantity"] == "1"
    assert aside["instrument_type"] == "Future Option"
    assert aside["reason"].startswith("unreadable symbol: not a futures option symbol")
    metrics = alice_api.get(f"/api/portfolio/{portfolio.pk}/metrics/").json()
    assert metrics["legs_unsupported"] == [aside]

    page = alice_client.get(reverse("portfolios:detail", args=[portfolio.pk])).content.decode()
    assert "Set aside by the last sync" in page and bad_symbol in page
    connections = alice_client.get(reverse("brokers:connections")).content.decode()
    assert "1 warning" in connections


def test_micro_futures_an_option_in_the_no_space_form_and_a_coin_sync_right(
    sandbox, alice_api, alice
):

    connection = granted_connection(sandbox, alice)
    outcome = connection_sync(
        connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
    )
    assert outcome.status == "succeeded", outcome.error

    with rls.as_user(alice.pk):
        portfolio = Portfolio.objects.get(broker_account_id="5WT00001")
        legs = {leg.symbol: leg for leg in portfolio.positions.all()}
    assert portfolio.unsupported_legs == []
    cents = Decimal("0.01")

    def sandbox_mark(symbol, key):
        """The mark the sandbox quotes for the symbol now (what the sync read)."""
        item = market_data.quote(
            sandbox.market, key, symbol, sandbox.current_tick, sandbox.clock.now(), True
        )
        return Decimal(item["mark"])

    [mym] = [leg for symbol, leg in legs.items() if symbol.startswith("/MYM")]
    assert (mym.quantity, mym.multiplier) == (Decimal(-2), Decimal("0.5"))
    assert mym.mark == sandbox_mark(mym.symbol, "future")
    # value = mark × −2 × 0.5: one contract's worth, negative (not −2 × mark)
    assert mym.current_value == (mym.mark * -1).quantize(cents)
    assert mym.delta == pytest.approx(-1.0)

    [mbt] = [leg for symbol, leg in legs.items() if symbol.startswith("/MBT")]
    assert (mbt.quantity, mbt.multiplier) == (Decimal(3), Decimal("0.1"))
    assert mbt.current_value == (mbt.mark * Decimal("0.3")).quantize(cents)

    [mes_option] = [leg for symbol, leg in legs.items() if symbol.startswith("./MES")]
    assert mes_option.symbol[7] != " "  # stored as the broker wrote it
    assert mes_option.underlying_symbol == "/" + mes_option.symbol[2:7]
    assert mes_option.option_type == "P" and mes_option.strike_price > 0
    assert mes_option.multiplier == Decimal(5)
    assert mes_option.mark == sandbox_mark(mes_option.symbol, "future-option")
    assert mes_option.current_value == (mes_option.mark * -5).quantize(cents)
    assert mes_option.greeks_source == "implied" and mes_option.delta > 0  # a short put

    btc = legs["BTC/USD"]
    assert (btc.instrument_type, btc.quantity) == ("Cryptocurrency", Decimal("0.01234567"))
    assert btc.mark == sandbox_mark("BTC/USD", "cryptocurrency")
    assert btc.current_value == (btc.mark * Decimal("0.01234567")).quantize(cents)
    assert btc.delta == pytest.approx(0.01234567)
    assert btc.beta == pytest.approx(1.8)  # from market metrics, not assumed

    body = alice_api.get(f"/api/portfolio/{portfolio.pk}/positions/", {"limit": 100}).json()
    shown = {row["symbol"]: row for row in body["results"]}
    assert shown[mym.symbol]["multiplier"] == "0.5"
    assert shown[mbt.symbol]["multiplier"] == "0.1"
    assert shown["BTC/USD"]["quantity"] == 0.01234567
