"""POSTs with an Idempotency-Key: a repeat replays the stored response and creates one row."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from brokers.models import BrokerConnection, SyncRun
from brokers.tasks import prune_history_task
from conftest import login
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


# --- Finding 1 (issue 19): replay only to a request that could have made it ----------

TOKENS = "/api/auth/tokens"


def stored_keys(user):
    from thetavue_site.users.models import IdempotencyKey

    with rls.as_service():
        return list(IdempotencyKey.objects.filter(user=user).values())


def test_finding_1_read_only_token_replaying_token_creation_gets_no_secret(
    alice, alice_api, api_token_for
):
    # given: the signed-in session mints a read-write token with a key
    created = alice_api.post(
        TOKENS, {"name": "ci", "scope": "read_write"}, format="json", HTTP_IDEMPOTENCY_KEY="k-123"
    )
    assert created.status_code == 201
    secret = created.json()["token"]
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice, scope='read')}")
    # when: a read-only token sends the same request with the same key
    replay = reader.post(
        TOKENS, {"name": "ci", "scope": "read_write"}, format="json", HTTP_IDEMPOTENCY_KEY="k-123"
    )
    # then: refused as it would be without the key; no secret anywhere
    assert replay.status_code == 403
    assert replay.json()["error"]["code"] == "session_required"
    assert "Idempotent-Replayed" not in replay
    assert secret not in replay.content.decode()
    # and the key stored only a marker, never the body
    [row] = stored_keys(alice)
    assert row["sensitive"] is True
    assert row["response_body"] is None
    assert row["principal"] == "session"
    assert row["route"] == TOKENS


def test_finding_1_replaying_a_sensitive_request_is_409_without_the_secret(alice_api):
    body = {"name": "ci", "scope": "read_write"}
    first = alice_api.post(TOKENS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-9")
    second = alice_api.post(TOKENS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-9")
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "idempotency_not_replayable"
    assert first.json()["token"] not in second.content.decode()
    # one token was created, not two
    assert alice_api.get(TOKENS).json()["count"] == 1


def test_finding_1_keys_are_scoped_to_the_principal(
    alice, alice_api, api_token_for, alice_connection
):
    body = {"connection_id": alice_connection.pk}
    alice_api.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    writer = APIClient()
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice)}")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=2), tick=False):
        other = writer.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    # the token's request runs for itself (here: the once-a-minute cooldown
    # passed, so a second run starts) instead of receiving the session's answer
    assert "Idempotent-Replayed" not in other
    assert other.status_code == 202
    assert run_count(alice_connection) == 2


def test_finding_1_export_leaves_stored_bodies_out(
    alice, alice_api, api_token_for, alice_connection
):
    alice_api.post(
        "/api/tastytrade/sync",
        {"connection_id": alice_connection.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-5",
    )
    assert stored_keys(alice)[0]["response_body"] is not None  # replayable, so stored
    reader = APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice, scope='read')}")
    export = reader.get("/api/auth/export")
    assert export.status_code == 200
    [row] = export.json()["tables"]["idempotency_keys"]
    assert row["key"] == "k-5"
    assert "response_body" not in row
    assert "request_fingerprint" not in row


def test_finding_1_admin_shows_no_stored_body(admin_client, alice, alice_api, alice_connection):
    alice_api.post(
        "/api/tastytrade/sync",
        {"connection_id": alice_connection.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-6",
    )
    [row] = stored_keys(alice)
    run_id = str(row["response_body"]["runs"][0]["id"])
    page = admin_client.get(f"/admin/users/idempotencykey/{row['id']}/change/")
    assert page.status_code == 200
    assert "k-6" in page.content.decode()
    assert "response_body" not in page.content.decode()
    assert f'"id": {run_id}' not in page.content.decode()


def test_finding_1_password_change_stops_old_sessions_replaying(alice, alice_connection):
    # given: a session that stored a replayable answer
    old = login(APIClient(), alice)
    body = {"connection_id": alice_connection.pk}
    assert (
        old.post(
            "/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-7"
        ).status_code
        == 202
    )
    # when: the password changes in another session
    with rls.as_service():
        alice.set_password("a-new-long-password-1")
        alice.save(update_fields=["password"])
    # then: the old cookie is signed out before any replay
    replay = old.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-7")
    assert replay.status_code == 401
    assert "Idempotent-Replayed" not in replay


def test_finding_1_keys_expire_after_24_hours_and_the_daily_prune_deletes_them(
    alice, alice_api, alice_connection
):
    body = {"connection_id": alice_connection.pk}
    alice_api.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-8")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=24, minutes=1)
    with time_machine.travel(later, tick=False):
        assert prune_history_task()["idempotency_keys"] == 1
        assert stored_keys(alice) == []
        again = alice_api.post(
            "/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-8"
        )
    assert again.status_code == 202
    assert "Idempotent-Replayed" not in again
    assert run_count(alice_connection) == 2


def test_finding_1_an_expired_key_is_not_replayed_before_the_prune(alice_api, alice_connection):
    body = {"connection_id": alice_connection.pk}
    alice_api.post("/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-10")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=25)
    with time_machine.travel(later, tick=False):
        again = alice_api.post(
            "/api/tastytrade/sync", body, format="json", HTTP_IDEMPOTENCY_KEY="k-10"
        )
    assert "Idempotent-Replayed" not in again
    assert run_count(alice_connection) == 2


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("bad\x00key", "Printable ASCII characters only."),
        ("tab\tkey", "Printable ASCII characters only."),
        ("x" * 201, "At most 200 characters."),
    ],
    ids=["nul", "control", "too-long"],
)
def test_finding_1_malformed_keys_are_400(alice_api, alice_connection, key, reason):
    response = alice_api.post(
        "/api/tastytrade/sync",
        {"connection_id": alice_connection.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": f"Idempotency-Key: {reason}",
            "fields": {"Idempotency-Key": [reason]},
        }
    }
    assert run_count(alice_connection) == 0
