"""/api/auth/me: the caller's profile, whatever the credential."""

from __future__ import annotations

import pytest

from thetavue_site import rls
from thetavue_site.users.models import User

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


def test_profile_by_session(alice_api):
    response = alice_api.get(ME)
    assert response.status_code == 200
    assert response.json() == {
        "id": "user_alice",
        "email": "alice@example.com",
        "display_name": "Alice",
        "notify_by_email": True,
        "created_at": response.json()["created_at"],
        "auth_method": "session",
    }


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
def test_the_profile_body_is_the_serializers(alice, bearer_for, zone):
    from zoneinfo import ZoneInfo

    from django.utils import timezone
    from rest_framework.test import APIClient

    from thetavue_site.users.api import MeOutput
    from thetavue_site.users.identity import AuthIdentity

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(alice))
    with timezone.override(ZoneInfo(zone)):
        body = client.get(ME).json()

        class Request:  # what MeOutput reads from the request
            auth = AuthIdentity(user_id=alice.pk, method="clerk", scope="read_write")

        expected = MeOutput(alice, context={"request": Request()}).data
    assert body == expected
    assert body["created_at"].endswith("Z" if zone == "UTC" else "-05:00")


def test_profile_by_api_token(alice, api_token_for):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice, scope='read')}")
    assert client.get(ME).json()["auth_method"] == "api_token"


def test_update_name_and_email_preference(alice_token_client):
    response = alice_token_client.patch(
        ME, {"display_name": "Alice T.", "notify_by_email": False}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["display_name"], response.json()["notify_by_email"]) == (
        "Alice T.",
        False,
    )
    with rls.as_service():
        user = User.objects.get(pk="user_alice")
    assert (user.display_name, user.notify_by_email) == ("Alice T.", False)


def test_bad_input_names_the_field_and_changes_nothing(alice_token_client):
    response = alice_token_client.patch(ME, {"notify_by_email": "maybe"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "error": {
            "code": "invalid",
            "message": "notify_by_email: Must be a valid boolean.",
            "fields": {"notify_by_email": ["Must be a valid boolean."]},
        }
    }


def test_email_and_id_cannot_be_changed_here(alice_token_client):
    alice_token_client.patch(ME, {"email": "x@example.com", "id": "user_x"}, format="json")
    body = alice_token_client.get(ME).json()
    assert (body["id"], body["email"]) == ("user_alice", "alice@example.com")


def test_malformed_json_is_a_400_envelope(alice_token_client):
    response = alice_token_client.patch(ME, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_unsupported_method_is_a_405_envelope(alice_token_client):
    response = alice_token_client.put(ME, {}, format="json")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_anonymous_is_401(client, db):
    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"


def test_profile_query_count(alice_token_client, django_assert_num_queries):
    alice_token_client.get(ME)  # warm process-wide caches (e.g. /metrics gauges)
    # savepoint, RLS context with the user (one round trip), release
    with django_assert_num_queries(3):
        assert alice_token_client.get(ME).status_code == 200


def test_api_token_lookup_costs_one_short_service_transaction(
    alice, api_token_for, django_assert_num_queries
):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice, scope='read')}")
    client.get(ME)  # first use writes last_used_at; warm caches
    # token lookup: savepoint, read context, service, select, restore, release;
    # request: savepoint, RLS context with the user (one round trip), release
    with django_assert_num_queries(9):
        assert client.get(ME).status_code == 200
