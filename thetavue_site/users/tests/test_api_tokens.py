"""Personal API tokens: created once, stored hashed, scoped, revocable, isolated per user."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from thetavue_site import rls
from thetavue_site.users.models import ApiToken

pytestmark = pytest.mark.django_db

TOKENS = "/api/auth/tokens"


def detail(pk) -> str:
    return f"{TOKENS}/{pk}"


def token_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_create_shows_the_token_once_and_stores_only_its_hash(alice_token_client, alice):
    # when
    response = alice_token_client.post(
        TOKENS, {"name": "laptop script", "scope": "read"}, format="json"
    )

    # then: the value is in this response only
    assert response.status_code == 201
    body = response.json()
    raw = body.pop("token")
    assert raw.startswith("tv_") and len(raw) > 40
    assert body == {
        "id": body["id"],
        "name": "laptop script",
        "prefix": raw[:12],
        "scope": "read",
        "created_at": body["created_at"],
        "last_used_at": None,
        "expires_at": None,
        "revoked_at": None,
    }
    listed = alice_token_client.get(TOKENS).json()
    assert listed["count"] == 1
    assert "token" not in listed["results"][0]
    assert raw not in str(listed)

    # and the database never holds the value, only its SHA-256
    with rls.as_service(), connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_tokens WHERE id = %s", [body["id"]])
        row = cursor.fetchone()
    assert raw not in [str(value) for value in row]
    assert hashlib.sha256(raw.encode()).hexdigest() in row


def test_new_token_authenticates_as_its_owner(alice_token_client):
    raw = alice_token_client.post(TOKENS, {"name": "t", "scope": "read"}, format="json").json()[
        "token"
    ]
    response = token_client(raw).get("/api/auth/me")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["auth_method"]) == ("user_alice", "api_token")


def test_read_only_token_gets_403_on_writes(alice, api_token_for):
    client = token_client(api_token_for(alice, scope="read"))
    assert client.get("/api/notifications/").status_code == 200
    response = client.post("/api/notifications/read-all/")
    assert response.status_code == 403
    assert response.json() == {
        "error": {"code": "insufficient_scope", "message": "This token is read-only.", "fields": {}}
    }
    assert client.patch("/api/auth/me", {"display_name": "x"}, format="json").status_code == 403


def test_read_write_token_may_write(alice, api_token_for):
    client = token_client(api_token_for(alice, scope="read_write"))
    assert client.post("/api/notifications/read-all/").status_code == 200


def test_a_token_cannot_mint_tokens_or_erase_the_account(alice, api_token_for):
    client = token_client(api_token_for(alice, scope="read_write"))
    response = client.post(TOKENS, {"name": "child", "scope": "read_write"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "session_required"
    response = client.delete("/api/auth/me", {"confirm": "alice@example.com"}, format="json")
    assert response.status_code == 403


def test_revoked_token_gets_401(alice_token_client, alice, api_token_for):
    raw = api_token_for(alice)
    client = token_client(raw)
    assert client.get("/api/auth/me").status_code == 200
    with rls.as_service():
        token_id = ApiToken.objects.get(user=alice).pk

    assert alice_token_client.delete(detail(token_id)).status_code == 204

    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_token",
        "message": "token revoked",
        "fields": {},
    }
    assert response["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="token revoked"'
    )
    # Listed as revoked; revoking again is harmless.
    assert alice_token_client.get(detail(token_id)).json()["revoked_at"] is not None
    assert alice_token_client.delete(detail(token_id)).status_code == 204


def test_expired_token_gets_401(alice_token_client):
    expires = (timezone.now() + dt.timedelta(days=1)).isoformat()
    raw = alice_token_client.post(
        TOKENS, {"name": "t", "scope": "read", "expires_at": expires}, format="json"
    ).json()["token"]
    with time_machine.travel(timezone.now() + dt.timedelta(days=2)):
        response = token_client(raw).get("/api/auth/me")
    assert response.status_code == 401
    assert 'error_description="token expired"' in response["WWW-Authenticate"]


def test_expiry_in_the_past_is_refused(alice_token_client):
    response = alice_token_client.post(
        TOKENS, {"name": "t", "expires_at": "2020-01-01T00:00:00Z"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"expires_at": ["Must be in the future."]}


def test_unknown_tv_token_gets_401(client, db):
    response = client.get("/api/auth/me", HTTP_AUTHORIZATION="Bearer tv_" + "A" * 43)
    assert response.status_code == 401
    assert 'error_description="unknown token"' in response["WWW-Authenticate"]


def test_last_used_is_written_at_most_once_a_minute(alice, api_token_for):
    raw = api_token_for(alice)
    client = token_client(raw)
    start = timezone.now().replace(microsecond=0)

    def last_used():
        with rls.as_service():
            return ApiToken.objects.get(user=alice).last_used_at

    with time_machine.travel(start, tick=False):
        client.get("/api/auth/me")
    assert last_used() == start
    with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
        client.get("/api/auth/me")
    assert last_used() == start
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        client.get("/api/auth/me")
    assert last_used() == start + dt.timedelta(seconds=61)


def test_rename(alice_token_client, alice, api_token_for):
    api_token_for(alice, name="old")
    with rls.as_service():
        token_id = ApiToken.objects.get(user=alice).pk
    response = alice_token_client.patch(detail(token_id), {"name": "new"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "new"


def test_list_shows_only_my_tokens_newest_first(alice_token_client, alice, bob, api_token_for):
    api_token_for(alice, name="first")
    api_token_for(bob, name="bob's")
    api_token_for(alice, name="second")
    body = alice_token_client.get(TOKENS).json()
    assert [t["name"] for t in body["results"]] == ["second", "first"]
    assert body["count"] == 2


@pytest.mark.parametrize(
    ("method", "payload"),
    [("get", None), ("patch", {"name": "stolen"}), ("delete", None)],
)
def test_bob_gets_404_on_alices_token_for_every_verb(
    bob_token_client, alice, api_token_for, method, payload
):
    api_token_for(alice, name="alice's")
    with rls.as_service():
        token = ApiToken.objects.get(user=alice)
    response = getattr(bob_token_client, method)(detail(token.pk), payload, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    with rls.as_service():
        token.refresh_from_db()
    assert (token.name, token.revoked_at) == ("alice's", None)


def test_anonymous_gets_401_everywhere(client, alice, api_token_for):
    api_token_for(alice)
    with rls.as_service():
        token_id = ApiToken.objects.get(user=alice).pk
    for method, url in [("get", TOKENS), ("post", TOKENS), ("get", detail(token_id))]:
        response = getattr(client, method)(url)
        assert response.status_code == 401, (method, url)
        assert response.json()["error"]["code"] == "invalid_token"


def test_a_staff_members_api_token_does_not_open_the_admin(admin_user, api_token_for):
    client = token_client(api_token_for(admin_user, scope="read"))
    response = client.get("/admin/portfolios/portfolio/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_a_staff_members_session_opens_the_admin(admin_client):
    assert admin_client.get("/admin/portfolios/portfolio/").status_code == 200


def test_list_query_count_is_flat(
    alice_token_client, alice, api_token_for, django_assert_num_queries
):
    for index in range(5):
        api_token_for(alice, name=f"t{index}")
    alice_token_client.get(TOKENS)  # warm process-wide caches (e.g. /metrics gauges)
    # savepoint, RLS context with the user (one round trip), count, page, release
    with django_assert_num_queries(5):
        response = alice_token_client.get(TOKENS)
    assert response.json()["count"] == 5
