"""Broker connections: connect through OAuth, disconnect."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from brokers.models import BrokerConnection, SyncRun
from brokers.oauth_state import state_consume, state_issue
from brokers.sync_queue import sync_enqueue
from brokers.tastytrade.oauth_client import build_authorize_url, exchange_code
from brokers.tokens import connection_tokens_store
from thetavue_site.users.consents import PRIVACY_TEXT_VERSION, consent_record

logger = logging.getLogger(__name__)

BROKER_CONSENT_PURPOSE = "broker_connection"


def authorize_url_for(*, user_id: str) -> str:
    """Return the broker's consent page URL with a fresh state and PKCE challenge for the user.

    PKCE is sent whether or not the broker documents it: a server that does
    not support it ignores the parameters.
    """
    issued = state_issue(user_id=user_id)
    return build_authorize_url(
        settings.TASTYTRADE_AUTHORIZE_URL,
        settings.TASTYTRADE_CLIENT_ID,
        settings.TASTYTRADE_REDIRECT_URI,
        issued.state,
        scope="read",
        code_challenge=issued.code_challenge,
        code_challenge_method=issued.code_challenge_method,
    )


@transaction.atomic
def connection_create_from_code(*, user, code: str, state: str) -> tuple[BrokerConnection, SyncRun]:
    """Check the state, exchange the code, store the tokens; queue the first sync.

    The state is consumed before the code exchange: a replayed callback is
    refused without spending the broker's single-use code twice. The code is
    exchanged with the verifier of the flow this user started, so a code
    obtained by someone else (against another challenge) is refused.
    """
    verifier = state_consume(state=state, user_id=user.pk)
    tokens = exchange_code(
        settings.TASTYTRADE_API_BASE_URL,
        client_id=settings.TASTYTRADE_CLIENT_ID,
        client_secret=settings.TASTYTRADE_CLIENT_SECRET,
        code=code,
        redirect_uri=settings.TASTYTRADE_REDIRECT_URI,
        code_verifier=verifier,
    )
    environment = settings.TASTYTRADE_API_BASE_URL
    # Reconnecting replaces the tokens of the same environment's connection
    # and clears the list of deleted accounts: the trader asked for them again.
    connection = (
        BrokerConnection.objects.filter(user=user, environment=environment)
        .select_for_update()
        .first()
    )
    if connection is None:
        connection = BrokerConnection.objects.create(user=user, environment=environment)
    connection.status = BrokerConnection.Status.ACTIVE
    connection.last_error = ""
    connection.consecutive_failures = 0
    connection.excluded_account_ids = []
    connection.save()
    connection_tokens_store(connection=connection, tokens=tokens)
    consent_record(user=user, purpose=BROKER_CONSENT_PURPOSE, text_version=PRIVACY_TEXT_VERSION)
    run = sync_enqueue(connection=connection, trigger="connect")
    return connection, run


@transaction.atomic
def connection_disconnect(*, connection: BrokerConnection) -> None:
    """Delete the tokens and stop syncing; the synced portfolios stay.

    Tastytrade documents no revocation endpoint: the trader removes the grant
    on their side (the dashboard says so).
    """
    connection.access_token_encrypted = ""
    connection.refresh_token_encrypted = ""
    connection.access_token_expires_at = None
    connection.status = BrokerConnection.Status.DISABLED
    connection.save()


@transaction.atomic
def connection_account_exclude(*, connection_id: int, broker_account_id: str) -> None:
    """Skip `broker_account_id` in the connection's future syncs, until a reconnect."""
    # Lock the connection so a sync writing the same list does not lose this id.
    connection = BrokerConnection.objects.select_for_update().filter(pk=connection_id).first()
    if connection is None:
        return  # Deleted meanwhile: nothing syncs that account any more.
    excluded = list(connection.excluded_account_ids or [])
    if broker_account_id not in excluded:
        excluded.append(broker_account_id)
        connection.excluded_account_ids = excluded
        connection.save(update_fields=["excluded_account_ids", "updated_at"])
