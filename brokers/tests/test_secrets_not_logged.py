"""Tokens and secrets never reach the logs, even at DEBUG, through a full sync and a failure."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.test import override_settings

from brokers.sync import connection_sync
from brokers.tests.sync_helpers import fast_client_factory, granted_connection
from brokers.tokens import connection_tokens
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def test_no_token_or_secret_in_any_log_line(tastytrade_sandbox, alice, caplog):
    with override_settings(TASTYTRADE_API_BASE_URL=tastytrade_sandbox.base_url):
        connection = granted_connection(
            tastytrade_sandbox, alice, expires_in=10
        )  # forces a refresh
        with rls.as_user(alice.pk):
            old = connection_tokens(connection=connection)
        caplog.set_level(logging.DEBUG)  # every logger, urllib3 included
        ok = connection_sync(
            connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
        )
        tastytrade_sandbox.add_fault("server_error", path="/accounts/*/positions", times=None)
        failed = connection_sync(
            connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
        )
        with rls.as_user(alice.pk):
            connection.refresh_from_db()
            new = connection_tokens(connection=connection)
    assert (ok.status, failed.status) == ("succeeded", "failed")
    secrets = {
        old.access_token,
        old.refresh_token,
        new.access_token,
        settings.TASTYTRADE_CLIENT_SECRET,
    }
    lines = [record.getMessage() for record in caplog.records] + [caplog.text]
    assert len(caplog.records) > 5, "the sync should have logged something to scan"
    leaked = [secret for secret in secrets if any(secret in line for line in lines)]
    assert leaked == []
