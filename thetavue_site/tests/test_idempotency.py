"""POSTs with an Idempotency-Key: a repeat replays the stored response and creates one row."""

import pytest

from brokers.models import BrokerConnection, SyncRun
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice_connection(alice):
    with rls.as_service():
        return BrokerConnection.objects.create(user=alice, environment="sandbox")


def run_count(connection) -> int:
    with rls.as_service():
        return SyncRun.objects.filter(connection=connection).count()


def test_repeat_with_the_same_key_replays_and_creates_one_row(alice_api, alice_connection):
    body = {"connection_id": alice_connection.pk}
    first = alice_api.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = alice_api.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 202
    assert second.status_code == 202
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert run_count(alice_connection) == 1


def test_same_key_with_another_body_is_422(alice_api, alice_connection):
    alice_api.post(
        "/api/tastytrade/sync",
        {"connection_id": alice_connection.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )
    response = alice_api.post("/api/tastytrade/sync", {}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert run_count(alice_connection) == 1


def test_keys_are_per_user(alice_api, bob_api, alice_connection, bob):
    with rls.as_service():
        bob_connection = BrokerConnection.objects.create(user=bob, environment="sandbox")
    alice_api.post(
        "/api/tastytrade/sync",
        {"connection_id": alice_connection.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    response = bob_api.post(
        "/api/tastytrade/sync",
        {"connection_id": bob_connection.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert response.status_code == 202
    assert "Idempotent-Replayed" not in response
    assert run_count(bob_connection) == 1


def test_failed_request_is_not_stored(alice_api, alice_connection):
    bad = alice_api.post(
        "/api/tastytrade/sync", {"connection_id": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert bad.status_code == 400
    good = alice_api.post(
        "/api/tastytrade/sync", {"connection_id": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    assert good.status_code == 400
    assert "Idempotent-Replayed" not in good
