"""Connections: consent before connecting, live sync status, sync now, disconnect."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from brokers.models import BrokerConnection, SyncRun
from thetavue_site import rls
from thetavue_site.users.consents import PRIVACY_TEXT_VERSION

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def test_connections_page_shows_status_accounts_and_the_privacy_version(alice_client, alice_world):
    content = alice_client.get("/connections/").content.decode()
    assert "Alicebook margin" in content
    assert f"version {PRIVACY_TEXT_VERSION}" in content
    assert 'name="consent"' in content


def test_connecting_needs_the_consent_box(alice_client, alice_world):
    response = alice_client.post("/connections/connect", follow=True)
    assert response.redirect_chain == [("/connections/", HTTPStatus.FOUND)]
    assert "Tick the box to agree" in response.content.decode()


def test_connecting_with_consent_goes_to_the_brokers_consent_page(alice_client, settings):
    settings.TASTYTRADE_AUTHORIZE_URL = "http://127.0.0.1:9/auth.html"
    response = alice_client.post("/connections/connect", {"consent": "on"})
    assert response.status_code == HTTPStatus.FOUND
    location = urlsplit(response["Location"])
    assert (location.netloc, location.path) == ("127.0.0.1:9", "/auth.html")
    assert parse_qs(location.query)["state"]


def test_the_page_with_the_connect_form_lets_it_redirect_to_the_broker(alice_client, settings):
    # CSP form-action also governs where a form's redirect may go.
    settings.TASTYTRADE_AUTHORIZE_URL = "https://auth.broker.example/oauth"
    policy = alice_client.get("/connections/")["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert "https://auth.broker.example" in form_action
    assert "'self'" in form_action
    other = alice_client.get("/account/")["Content-Security-Policy"]
    assert "auth.broker.example" not in other


def test_the_callback_error_code_is_shown_in_plain_words(alice_client):
    response = alice_client.get("/connections/?error=declined")
    assert "You declined the connection at Tastytrade; nothing was stored." in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    "text",
    ["Your account is suspended, call +1 555 0100", "You declined <b>it</b>.", "declined "],
)
def test_finding_6_an_unknown_error_code_shows_a_generic_message_never_the_text(alice_client, text):
    response = alice_client.get("/connections/", {"error": text})
    content = response.content.decode()
    assert "The connection did not complete. Please start again." in content
    assert text.strip() not in content
    assert "&lt;b&gt;" not in content


def test_sync_now_with_htmx_queues_a_run_and_starts_polling(alice_client, alice_world):
    with rls.as_service():
        SyncRun.objects.filter(pk=alice_world.run.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=5)
        )
    response = alice_client.post(f"/connections/{alice_world.connection.pk}/sync", **HTMX)
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert 'data-state="queued"' in content
    assert 'hx-trigger="every 2s"' in content
    assert f'hx-get="/connections/{alice_world.connection.pk}/status?watching=1"' in content
    with rls.as_service():
        assert SyncRun.objects.filter(
            connection=alice_world.connection, trigger="manual", status="queued"
        ).exists()


def test_sync_now_within_a_minute_says_how_long_to_wait(alice_client, alice_world):
    with rls.as_service():
        SyncRun.objects.create(
            connection=alice_world.connection,
            trigger="manual",
            status="succeeded",
            started_at=timezone.now(),
            finished_at=timezone.now(),
        )
    response = alice_client.post(f"/connections/{alice_world.connection.pk}/sync", **HTMX)
    content = response.content.decode()
    assert "try again in" in content and " s." in content
    assert 'hx-trigger="every' not in content


def test_sync_now_without_htmx_redirects_back_with_a_message(alice_client, alice_world):
    with rls.as_service():
        SyncRun.objects.filter(pk=alice_world.run.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=5)
        )
    page = f"/portfolios/{alice_world.portfolio.pk}/"
    response = alice_client.post(
        f"/connections/{alice_world.connection.pk}/sync", {"next": page}, follow=True
    )
    assert response.redirect_chain == [(page, HTTPStatus.FOUND)]
    assert "Sync queued." in response.content.decode()


def test_sync_now_never_redirects_off_site(alice_client, alice_world):
    response = alice_client.post(
        f"/connections/{alice_world.connection.pk}/sync", {"next": "https://evil.example/"}
    )
    assert response["Location"] == "/connections/"


def test_status_polls_while_running_and_stops_with_an_event_when_done(alice_client, alice_world):
    url = f"/connections/{alice_world.connection.pk}/status?watching=1"
    with rls.as_service():
        SyncRun.objects.filter(pk=alice_world.run.pk).update(
            status="running", finished_at=None, progress="fetching quotes"
        )
    running = alice_client.get(url, **HTMX)
    assert "fetching quotes" in running.content.decode()
    assert 'hx-trigger="every 2s"' in running.content.decode()
    assert "HX-Trigger" not in running

    with rls.as_service():
        SyncRun.objects.filter(pk=alice_world.run.pk).update(
            status="succeeded", finished_at=timezone.now(), progress="done"
        )
    done = alice_client.get(url, **HTMX)
    assert 'hx-trigger="every' not in done.content.decode()
    assert 'data-state="ok"' in done.content.decode()
    assert done["HX-Trigger"] == "tv-sync-finished"


def test_a_failed_sync_shows_the_error_in_plain_words(alice_client, alice_world):
    with rls.as_service():
        SyncRun.objects.filter(pk=alice_world.run.pk).update(
            status="failed", error="Tastytrade did not answer in time; the last positions are kept."
        )
        BrokerConnection.objects.filter(pk=alice_world.connection.pk).update(status="error")
    content = alice_client.get(f"/portfolios/{alice_world.portfolio.pk}/").content.decode()
    assert 'data-state="failed"' in content
    assert "Tastytrade did not answer in time" in content


def test_needs_reauth_offers_reconnect_and_no_sync_button(alice_client, alice_world):
    with rls.as_service():
        BrokerConnection.objects.filter(pk=alice_world.connection.pk).update(
            status="needs_reauth", last_error="Tastytrade revoked ThetaVue's access."
        )
    page = alice_client.get("/connections/").content.decode()
    assert "Reconnect Tastytrade" in page
    assert "Tastytrade revoked ThetaVue&#x27;s access." in page
    assert ">Sync now<" not in page


def test_disconnect_deletes_tokens_and_keeps_the_portfolio(alice_client, alice_world):
    response = alice_client.post(
        f"/connections/{alice_world.connection.pk}/disconnect", follow=True
    )
    assert "Disconnected" in response.content.decode()
    with rls.as_service():
        connection = BrokerConnection.objects.get(pk=alice_world.connection.pk)
        assert connection.status == "disabled"
        assert connection.access_token_encrypted == ""
        assert alice_world.portfolio.__class__.objects.filter(pk=alice_world.portfolio.pk).exists()
