"""A time zone per trader: the browser's first, the account page's choice; the API stays UTC."""

from __future__ import annotations

from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest

from thetavue_site import rls
from thetavue_site.users.models import User
from thetavue_site.users.notifications import notification_create

pytestmark = pytest.mark.django_db

URL = "/account/time-zone"


def stored_zone(user) -> str:
    with rls.as_service():
        return User.objects.get(pk=user.pk).time_zone


def test_the_browsers_first_report_sets_the_zone_once(alice, alice_client):
    # given: a trader without a zone sees the page ask the browser for one
    page = alice_client.get("/account/").content.decode()
    assert f'data-tz-report="{URL}"' in page
    # when: the browser reports Berlin, then (another device) Tokyo
    first = alice_client.post(URL, {"time_zone": "Europe/Berlin", "only_if_unset": "1"})
    second = alice_client.post(URL, {"time_zone": "Asia/Tokyo", "only_if_unset": "1"})
    # then: the first report wins and pages stop asking
    assert (first.status_code, second.status_code) == (204, 204)
    assert stored_zone(alice) == "Europe/Berlin"
    assert "data-tz-report" not in alice_client.get("/account/").content.decode()


def test_the_account_page_changes_the_zone_and_refuses_a_made_up_one(alice, alice_client):
    alice_client.post(URL, {"time_zone": "Europe/Berlin", "only_if_unset": "1"})
    chosen = alice_client.post(URL, {"time_zone": "America/Chicago"}, follow=True)
    assert chosen.status_code == HTTPStatus.OK
    assert stored_zone(alice) == "America/Chicago"
    assert "Times are now shown in America/Chicago." in chosen.content.decode()
    bad = alice_client.post(URL, {"time_zone": "Mars/Olympus"}, follow=True)
    assert bad.status_code == HTTPStatus.OK
    assert "is not a time zone name" in bad.content.decode()
    assert stored_zone(alice) == "America/Chicago"
    assert alice_client.post(URL, {"time_zone": "nope", "only_if_unset": "1"}).status_code == 400


def test_pages_show_local_times_with_the_zone_and_the_api_stays_utc(alice, alice_client, alice_api):
    notification = notification_create(user_id=alice.pk, kind="sync_failed", title="Sync failed")
    alice_client.post(URL, {"time_zone": "Asia/Tokyo", "only_if_unset": "1"})
    # Tokyo is UTC+9 all year, without daylight saving.
    local = notification.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    page = alice_client.get("/notifications/").content.decode()
    assert f'title="{local:%Y-%m-%d %H:%M} JST"' in page
    body = alice_api.get("/api/notifications/").json()
    assert body["results"][0]["created_at"].endswith("Z")
