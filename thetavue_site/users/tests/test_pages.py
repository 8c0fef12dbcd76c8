"""Account pages: a token shown once, export, erase with confirmation, notifications, privacy."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

from thetavue_site import rls
from thetavue_site.users.models import ApiToken, Notification, User
from thetavue_site.users.tokens import token_hash

pytestmark = pytest.mark.django_db


def test_a_new_token_is_shown_once_and_never_cached(alice_client, alice):
    response = alice_client.post("/account/tokens", {"name": "sheet", "scope": "read"})
    content = response.content.decode()
    raw = content.split('<code id="new-token">')[1].split("<")[0]
    assert raw.startswith("tv_")
    assert "no-store" in response["Cache-Control"]
    with rls.as_service():
        assert ApiToken.objects.get(user=alice, name="sheet").token_hash == token_hash(raw)
    assert raw not in alice_client.get("/account/").content.decode()


def test_a_token_without_a_name_is_refused_next_to_the_field(alice_client):
    content = alice_client.post("/account/tokens", {"name": "", "scope": "read"}).content.decode()
    assert 'id="id_name_error1"' in content
    assert 'id="new-token"' not in content


def test_revoking_a_token(alice_client, alice_world):
    response = alice_client.post(f"/account/tokens/{alice_world.token.pk}/revoke", follow=True)
    assert "revoked" in response.content.decode()
    with rls.as_service():
        assert ApiToken.objects.get(pk=alice_world.token.pk).revoked_at is not None


def test_export_downloads_everything_as_json(alice_client, alice_world):
    response = alice_client.get("/account/export")
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="thetavue-export-')
    document = json.loads(response.content)
    assert document["user_id"] == "user_alice"
    names = [row["name"] for row in document["tables"]["portfolios"]]
    assert names == ["Alicebook margin"]
    assert "token_hash" not in document["tables"]["api_tokens"][0]


def test_erasing_needs_the_email_typed(alice_client, alice):
    response = alice_client.post("/account/erase", {"confirm": "someone@else"})
    assert response.status_code == HTTPStatus.OK
    assert "Type the account" in response.content.decode()
    with rls.as_service():
        assert User.objects.filter(pk=alice.pk).exists()


def test_erasing_deletes_the_account_and_signs_out(alice_client, alice, alice_world):
    response = alice_client.post("/account/erase", {"confirm": "Alice@Example.com"}, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")
    assert "erased" in response.content.decode()
    with rls.as_service():
        assert not User.objects.filter(pk=alice.pk).exists()
    assert alice_client.get("/").status_code == HTTPStatus.FOUND


def test_notifications_count_in_the_navigation_and_mark_read(alice_client, alice_world):
    page = alice_client.get("/").content.decode()
    assert 'aria-label="Notifications: 1 unread"' in page
    alice_client.post(f"/notifications/{alice_world.notification.pk}/read")
    with rls.as_service():
        assert Notification.objects.get(pk=alice_world.notification.pk).read_at is not None
    assert 'aria-label="Notifications: 0 unread"' in alice_client.get("/").content.decode()


def test_mark_all_read(alice_client, alice, alice_world):
    with rls.as_service():
        Notification.objects.create(user=alice, kind="plan_breach", title="Second")
    response = alice_client.post("/notifications/read-all", follow=True)
    assert "2 notifications marked read." in response.content.decode()


def test_privacy_page_lists_what_is_stored_retention_and_rights(client, settings):
    content = client.get("/privacy/").content.decode()
    for phrase in ("What ThetaVue stores", "How long it is kept", "GDPR and CCPA", "Erasure"):
        assert phrase in content
    assert f"Sync records: {settings.SYNC_RUN_RETENTION_DAYS} days" in content


def test_privacy_page_shows_the_signed_in_traders_consents(alice_client, alice):
    from thetavue_site.users.models import Consent

    with rls.as_service():
        Consent.objects.create(user=alice, purpose="broker_connection", text_version="2026-11")
    assert "broker_connection: version 2026-11" in alice_client.get("/privacy/").content.decode()
