"""The first valid token of an unknown `sub` creates its user, once, even when racing."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.test import Client

from conftest import session_claims
from thetavue_site import rls
from thetavue_site.users.models import User

ME = "/api/auth/me"


@pytest.mark.django_db
def test_first_token_creates_the_user(client, clerk_settings):
    token = clerk_settings.sign(session_claims("user_2newcomer"))
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json()["id"] == "user_2newcomer"
    with rls.as_service():
        user = User.objects.get(pk="user_2newcomer")
    # Email and name arrive with the user.created webhook; no password to guess.
    assert (user.email, user.display_name, user.has_usable_password()) == ("", "", False)


@pytest.mark.django_db
def test_deactivated_user_with_a_valid_token_is_refused(client, alice, clerk_settings):
    with rls.as_service():
        User.objects.filter(pk=alice.pk).update(is_active=False)
    token = clerk_settings.sign(session_claims(alice.pk))
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert response.json()["error"] == {
        "code": "invalid_token",
        "message": "account disabled",
        "fields": {},
    }


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_first_requests_create_one_user(clerk_settings):
    # given: two requests with fresh tokens for the same unknown sub, released together
    tokens = [clerk_settings.sign(session_claims("user_2racer")) for _ in range(2)]
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def request(token: str) -> None:
        try:
            barrier.wait(timeout=10)
            response = Client().get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
            results.append(response.status_code)
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=request, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # then: both succeed and exactly one row exists
    assert errors == []
    assert results == [200, 200]
    with rls.as_service():
        assert User.objects.filter(pk="user_2racer").count() == 1


@pytest.mark.django_db(transaction=True)
def test_creation_waits_for_a_concurrent_insert_instead_of_failing():
    """Deterministic race: the row appears, uncommitted, between our SELECT and INSERT."""
    from django.db import connection, transaction

    from thetavue_site.users.services import user_get_or_create_for_token

    outcome: dict = {}

    def second_request() -> None:
        try:
            outcome["user"] = user_get_or_create_for_token(clerk_id="user_2racer")
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            outcome["error"] = error
        finally:
            connections.close_all()

    waiter = threading.Thread(target=second_request)
    with transaction.atomic():
        # given: a first request inserted the user and has not committed yet
        with rls.as_user("user_2racer"):
            User.objects.create(clerk_id="user_2racer")
        # when: the second request tries while the first is still open
        waiter.start()
        with connection.cursor() as cursor:
            for _ in range(2000):
                cursor.execute("SELECT pg_stat_clear_snapshot()")
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    break
                waiter.join(timeout=0.005)
            else:
                pytest.fail("the second request never waited on the first")
    # then: once the first commits, the second reads its row instead of failing
    waiter.join(timeout=30)
    assert "error" not in outcome, outcome.get("error")
    assert outcome["user"].pk == "user_2racer"
