"""The request's RLS transaction: rendering inside it, rollback on 5xx, no context left behind.

These run with real commits (transaction=True): inside a test-wide transaction a
released savepoint keeps the previous request's settings and hides the leaks.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client

from conftest import login
from thetavue_site import rls
from thetavue_site.users.models import Notification

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("thetavue_site.users.tests.request_urls"),
]


@pytest.fixture
def seeded(alice, bob):
    with rls.as_service():
        Notification.objects.create(user=alice, kind="k", title="alice-1")
        Notification.objects.create(user=alice, kind="k", title="alice-2")
        Notification.objects.create(user=bob, kind="k", title="bob-1")


def test_template_response_renders_inside_the_users_transaction(alice_client, seeded):
    response = alice_client.get("/test/notifications-page")
    assert response.status_code == 200
    assert response.content == b"[alice-1][alice-2]"


def test_template_response_under_a_bearer_token_sees_the_users_rows(
    client, alice, seeded, bearer_for
):
    response = client.get("/test/notifications-page", HTTP_AUTHORIZATION=bearer_for(alice))
    assert response.content == b"[alice-1][alice-2]"


def test_persistent_connection_carries_nothing_from_alice_to_bob(
    monkeypatch, alice, bob, seeded, bearer_for
):
    # Kept open across requests (request_finished closes it only when expired).
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 600)
    client = Client()

    alice_view = client.get("/test/visible-titles", HTTP_AUTHORIZATION=bearer_for(alice)).json()
    bob_view = client.get("/test/visible-titles", HTTP_AUTHORIZATION=bearer_for(bob)).json()
    anonymous_view = client.get("/test/visible-titles").json()

    # One server connection served all three requests...
    assert alice_view["pid"] == bob_view["pid"] == anonymous_view["pid"]
    # ...and each saw only its own rows.
    assert alice_view["titles"] == ["alice-1", "alice-2"]
    assert bob_view["titles"] == ["bob-1"]
    assert anonymous_view["titles"] == []
    # Outside a request the connection holds no tenant.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting('app.user_id', true), ''), "
            "coalesce(current_setting('app.service', true), '')"
        )
        assert cursor.fetchone() in {("", ""), ("", "off")}
    assert Notification.objects.count() == 0


def test_a_5xx_rolls_back_half_a_write(alice, seeded):
    client = login(Client(raise_request_exception=False), alice)
    response = client.get("/test/write-then-fail")
    assert response.status_code == 500
    with rls.as_service():
        assert not Notification.objects.filter(title="half a write").exists()


def test_a_5xx_under_api_is_the_json_envelope_and_rolls_back(alice, seeded, bearer_for):
    client = Client(raise_request_exception=False)
    response = client.get("/api/test/write-then-fail", HTTP_AUTHORIZATION=bearer_for(alice))
    assert response.status_code == 500
    assert response.json() == {
        "error": {
            "code": "server_error",
            "message": "Internal error; it has been logged.",
            "fields": {},
        }
    }
    with rls.as_service():
        assert not Notification.objects.filter(title="half a write").exists()


def test_unknown_api_path_is_the_json_404(client):
    response = client.get("/api/nowhere")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }
