"""Clerk webhooks through Svix: verified on the raw body, each message id processed once."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from svix.webhooks import Webhook

from thetavue_site import rls
from thetavue_site.users.models import ProcessedWebhook, User
from thetavue_site.users.webhooks import WebhookRejected, webhook_verify

pytestmark = pytest.mark.django_db

URL = "/api/auth/webhooks/clerk"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.CLERK_WEBHOOK_SECRET = SECRET


def headers_for(message_id: str, body: bytes, when: dt.datetime | None = None) -> dict:
    when = when or dt.datetime.now(tz=dt.UTC)
    signature = Webhook(SECRET).sign(message_id, when, body.decode())
    return {
        "HTTP_SVIX_ID": message_id,
        "HTTP_SVIX_TIMESTAMP": str(int(when.timestamp())),
        "HTTP_SVIX_SIGNATURE": signature,
    }


def deliver(client, event: dict, message_id: str = "msg_1", when=None, **overrides):
    body = json.dumps(event).encode()
    headers = {**headers_for(message_id, body, when), **overrides}
    return client.post(URL, data=body, content_type="application/json", **headers)


def user_event(kind: str, clerk_id: str = "user_2clerk", *, updated_at: int = 1_700_000_000_000):
    return {
        "object": "event",
        "type": kind,
        "timestamp": updated_at,
        "instance_id": "ins_test",
        "data": {
            "id": clerk_id,
            "object": "user",
            "primary_email_address_id": "idn_2",
            "email_addresses": [
                {"id": "idn_1", "email_address": "old@example.com"},
                {"id": "idn_2", "email_address": "Carol@Example.COM"},
            ],
            "first_name": "Carol",
            "last_name": "Trader",
            "username": None,
            "updated_at": updated_at,
        },
    }


def stored(clerk_id: str = "user_2clerk"):
    with rls.as_service():
        return User.objects.filter(pk=clerk_id).first()


def test_reference_vector_verifies():
    body = b'{"test": 2432232314}'
    headers = {
        "svix-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "svix-timestamp": "1614265330",
        "svix-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    with time_machine.travel(1614265330, tick=False), pytest.raises(WebhookRejected) as refused:
        # Verified, then refused for not being a Clerk event: the signature passed.
        webhook_verify(body=body, headers=headers)
    assert str(refused.value) == "not a Clerk event"


def test_user_created_is_applied(client):
    response = deliver(client, user_event("user.created"))
    assert response.status_code == 200
    assert response.json() == {"status": "processed"}
    user = stored()
    assert (user.email, user.display_name, user.clerk_updated_at) == (
        "Carol@example.com",
        "Carol Trader",
        1_700_000_000_000,
    )
    assert not user.has_usable_password()


def test_wrong_signature_is_400_and_changes_nothing(client):
    body = json.dumps(user_event("user.created")).encode()
    headers = headers_for("msg_1", body)
    headers["HTTP_SVIX_SIGNATURE"] = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
    response = client.post(URL, data=body, content_type="application/json", **headers)
    assert response.status_code == 400
    assert response.json() == {
        "error": {"code": "invalid_webhook", "message": "invalid signature", "fields": {}}
    }
    assert stored() is None
    assert not ProcessedWebhook.objects.exists()


def test_body_changed_after_signing_is_400(client):
    body = json.dumps(user_event("user.created")).encode()
    headers = headers_for("msg_1", body)
    tampered = body.replace(b"Carol", b"Mallory")
    response = client.post(URL, data=tampered, content_type="application/json", **headers)
    assert response.status_code == 400


@pytest.mark.parametrize(
    "signature", ["garbage-without-comma", "v1,not base64!!", "", "v2,abc"], ids=str
)
def test_malformed_signature_header_is_400_not_500(client, signature):
    response = deliver(client, user_event("user.created"), HTTP_SVIX_SIGNATURE=signature)
    assert response.status_code == 400


def test_any_matching_signature_of_several_is_enough(client):
    body = json.dumps(user_event("user.created")).encode()
    headers = headers_for("msg_1", body)
    headers["HTTP_SVIX_SIGNATURE"] = "v1,b2xkIHNlY3JldA== " + headers["HTTP_SVIX_SIGNATURE"]
    response = client.post(URL, data=body, content_type="application/json", **headers)
    assert response.status_code == 200


@pytest.mark.parametrize(("minutes", "accepted"), [(-4, True), (-6, False), (6, False)])
def test_timestamp_must_be_within_5_minutes(client, minutes, accepted):
    when = dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=minutes)
    response = deliver(client, user_event("user.created"), when=when)
    assert response.status_code == (200 if accepted else 400)


def test_missing_headers_are_400(client):
    body = json.dumps(user_event("user.created")).encode()
    assert client.post(URL, data=body, content_type="application/json").status_code == 400


def test_unconfigured_secret_refuses_everything(client, settings):
    settings.CLERK_WEBHOOK_SECRET = ""
    assert deliver(client, user_event("user.created")).status_code == 400


def test_replayed_message_is_processed_once(client):
    # given: a first delivery applied
    assert deliver(client, user_event("user.created"), "msg_replay").json()["status"] == "processed"
    with rls.as_service():
        User.objects.filter(pk="user_2clerk").update(display_name="Changed by Carol")

    # when: Svix retries the same message id
    response = deliver(client, user_event("user.created"), "msg_replay")

    # then: 200 and nothing re-applied
    assert response.status_code == 200
    assert response.json() == {"status": "duplicate"}
    assert stored().display_name == "Changed by Carol"
    with rls.as_service():  # the ids are the service context's rows only
        assert ProcessedWebhook.objects.filter(message_id="msg_replay").count() == 1


def test_a_failed_handling_leaves_the_id_unclaimed_so_the_retry_works(client, monkeypatch):
    from django.test import Client

    from thetavue_site.users import webhooks

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(webhooks, "user_sync_from_clerk", broken)
    failing = Client(raise_request_exception=False)
    assert deliver(failing, user_event("user.created"), "msg_retry").status_code == 500
    assert not ProcessedWebhook.objects.filter(message_id="msg_retry").exists()

    monkeypatch.undo()
    assert deliver(client, user_event("user.created"), "msg_retry").json()["status"] == "processed"
    assert stored() is not None


def test_older_update_is_skipped(client):
    deliver(client, user_event("user.updated", updated_at=2_000), "msg_new")
    older = user_event("user.updated", updated_at=1_000)
    older["data"]["first_name"] = "Stale"
    response = deliver(client, older, "msg_old")
    assert response.status_code == 200
    assert stored().display_name == "Carol Trader"
    assert stored().clerk_updated_at == 2_000


def test_update_with_username_only(client):
    event = user_event("user.updated")
    event["data"].update(first_name=None, last_name=None, username="carol_t")
    deliver(client, event)
    assert stored().display_name == "carol_t"


def test_email_taken_by_another_account_is_not_stolen(client, alice):
    event = user_event("user.created")
    event["data"]["email_addresses"][1]["email_address"] = "ALICE@example.com"
    assert deliver(client, event).status_code == 200
    assert stored().email == ""
    with rls.as_service():
        assert User.objects.get(pk="user_alice").email == "alice@example.com"


def test_user_deleted_erases_the_user(client, alice):
    from thetavue_site.tests.test_rls_isolation import seed_tenant

    seed_tenant(alice)
    event = {
        "object": "event",
        "type": "user.deleted",
        "data": {"id": "user_alice", "deleted": True},
    }
    assert deliver(client, event, "msg_del").json() == {"status": "processed"}
    assert stored("user_alice") is None
    # A replay of the deletion, and a deletion of an unknown user, are harmless.
    assert deliver(client, event, "msg_del").json() == {"status": "duplicate"}
    assert deliver(client, event, "msg_del_2").json() == {"status": "processed"}


@pytest.mark.parametrize("kind", ["user.deleted", "user.updated", "user.created"])
def test_finding_8_a_signed_event_cannot_touch_a_local_account(client, kind):
    from conftest import make_user

    local = make_user("local@example.com", display_name="Local")
    assert local.pk.startswith("local_")
    event = {
        "object": "event",
        "type": kind,
        "data": {
            "id": local.pk,
            "deleted": True,
            "email_addresses": [{"id": "e1", "email_address": "evil@example.com"}],
            "primary_email_address_id": "e1",
            "updated_at": 1_900_000_000_000,
        },
    }
    assert deliver(client, event, f"msg_{kind}").json() == {"status": "ignored"}
    kept = stored(local.pk)
    assert kept is not None
    assert kept.email == "local@example.com"


def test_unknown_event_types_get_200_and_are_ignored(client):
    event = {"object": "event", "type": "session.created", "data": {"id": "sess_1"}}
    response = deliver(client, event)
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}


def test_non_json_body_with_valid_signature_is_400(client):
    body = b"not json"
    response = client.post(URL, data=body, content_type="text/plain", **headers_for("m", body))
    assert response.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_user_deleted_leaves_no_row_of_the_user_in_any_tenant_table(client, alice, bob):
    from thetavue_site.users.tests.tenants import ids_by_table, protected_tables, seed

    seed(alice)
    seed(bob)
    bobs = ids_by_table("user_bob")
    event = {"object": "event", "type": "user.deleted", "data": {"id": "user_alice"}}
    assert deliver(client, event, "msg_erase").status_code == 200
    assert ids_by_table("user_alice") == {table: set() for table in protected_tables()}
    assert ids_by_table("user_bob") == bobs
