"""The Tastytrade API reads its query strings and bodies strictly: a key it does not
read is a 400 naming it, and nothing is queued, connected or deleted on that path."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from brokers.models import BrokerConnection, SyncRun
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def invalid(fields: dict[str, list[str]]) -> dict:
    name, reasons = next(iter(fields.items()))
    return {"error": {"code": "invalid", "message": f"{name}: {reasons[0]}", "fields": fields}}


UNKNOWN = ["Unknown field."]


@pytest.fixture
def connection(alice):
    with rls.as_service():
        return BrokerConnection.objects.create(user=alice, environment="sandbox")


def test_sync_refuses_an_unknown_body_key_and_queues_nothing(alice_api, connection):
    response = alice_api.post(
        "/api/tastytrade/sync", {"connection_id": connection.pk, "force": True}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == invalid({"force": UNKNOWN})
    with rls.as_service():
        assert not SyncRun.objects.exists()


@pytest.mark.parametrize("query", ["flag=maybe", "connection_id=1", "dry_run=false"])
def test_sync_refuses_query_keys_it_does_not_read(alice_api, connection, query):
    response = alice_api.post(f"/api/tastytrade/sync?{query}", {}, format="json")

    name = query.split("=")[0]
    assert response.status_code == 400
    assert response.json() == invalid({name: UNKNOWN})
    with rls.as_service():
        assert not SyncRun.objects.exists()


def test_connect_refuses_a_body_key(alice_api):
    response = alice_api.post("/api/tastytrade/connect", {"redirect_uri": "x"}, format="json")

    assert response.status_code == 400
    assert response.json() == invalid({"redirect_uri": UNKNOWN})


def test_connect_without_a_body_still_answers(alice_api, tastytrade_sandbox, settings):
    settings.TASTYTRADE_AUTHORIZE_URL = tastytrade_sandbox.authorize_url

    response = alice_api.post("/api/tastytrade/connect")

    assert response.status_code == 200
    assert response.json()["authorize_url"].startswith(tastytrade_sandbox.authorize_url)


@pytest.mark.parametrize(
    "path",
    ["/api/tastytrade/status", "/api/tastytrade/connections/", "/api/tastytrade/connections/{pk}"],
)
def test_reads_refuse_unknown_query_keys_and_keep_the_format_override(alice_api, connection, path):
    url = path.format(pk=connection.pk)

    refused = alice_api.get(url, {"verbose": "maybe"})
    kept = alice_api.get(url, {"format": "json"})

    assert refused.status_code == 400
    assert refused.json() == invalid({"verbose": UNKNOWN})
    assert kept.status_code == 200


def test_disconnect_refuses_a_body_key_and_keeps_the_connection(alice_api, connection):
    response = alice_api.delete(
        f"/api/tastytrade/connections/{connection.pk}", {"keep_data": False}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == invalid({"keep_data": UNKNOWN})
    with rls.as_service():
        assert BrokerConnection.objects.filter(pk=connection.pk).exists()


def test_callback_names_what_is_missing_or_repeated(alice_api):
    missing = alice_api.get("/api/tastytrade/callback", {"code": "abc"})
    repeated = alice_api.get("/api/tastytrade/callback?code=a&code=b&state=s")

    assert missing.status_code == repeated.status_code == 400
    assert missing.json() == invalid({"state": ["This field is required."]})
    assert repeated.json() == invalid({"code": ["Given more than once; give it once."]})


def test_callback_ignores_parameters_it_does_not_use(alice_api):
    # The broker's redirect, not a client's request: an extra parameter (OIDC's
    # session_state) does not stop the exchange, which here fails on the state.
    response = alice_api.get(
        "/api/tastytrade/callback", {"code": "a", "state": "s", "session_state": "x"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_state"


def test_a_browser_with_an_incomplete_callback_lands_on_the_connections_page(alice_api):
    response = alice_api.get(
        "/api/tastytrade/callback", {"code": "abc"}, HTTP_ACCEPT="text/html,*/*;q=0.8"
    )

    assert response.status_code == 302
    assert response["Location"] == "/connections/?error=invalid_request"
    assert response["Referrer-Policy"] == "no-referrer"


def test_callback_accepts_the_oauth_parameters_a_broker_may_add(alice_api):
    # A refusal with every standard parameter goes back to the connections page.
    response = alice_api.get(
        "/api/tastytrade/callback",
        {
            "error": "access_denied",
            "error_description": "The user declined.",
            "error_uri": "https://example.invalid/",
            "state": "s",
            "iss": "https://example.invalid",
            "scope": "read",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/connections/?error=declined"


def test_authentication_is_checked_before_the_query():
    response = APIClient().get("/api/tastytrade/status", {"verbose": "1"})

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_a_second_sync_within_the_minute_is_429_in_the_one_envelope(alice_api, connection):
    alice_api.post("/api/tastytrade/sync", {"connection_id": connection.pk}, format="json")

    response = alice_api.post(
        "/api/tastytrade/sync", {"connection_id": connection.pk}, format="json"
    )

    wait = int(response["Retry-After"])
    assert response.status_code == 429 and 1 <= wait <= 60
    assert response.json() == {
        "error": {
            "code": "throttled",
            "message": f"Connection {connection.pk}: a sync was started less than 60 s ago; "
            f"retry in {wait} s.",
            "fields": {},
        }
    }
