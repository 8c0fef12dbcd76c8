"""Token storage: a connection's OAuth tokens, encrypted at rest per connection."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from brokers.models import BrokerConnection
from brokers.tastytrade.oauth_client import TokenSet
from brokers.token_crypto import decrypt_token, encrypt_token


def connection_tokens_store(*, connection: BrokerConnection, tokens: TokenSet) -> None:
    """Encrypt and save a token set on the connection (refresh token kept if absent)."""
    connection.access_token_encrypted = encrypt_token(
        connection_id=connection.pk, token=tokens.access_token
    )
    if tokens.refresh_token:
        connection.refresh_token_encrypted = encrypt_token(
            connection_id=connection.pk, token=tokens.refresh_token
        )
    connection.access_token_expires_at = tokens.expires_at
    if tokens.scopes:
        connection.scopes = " ".join(tokens.scopes)
    connection.save(
        update_fields=[
            "access_token_encrypted",
            "refresh_token_encrypted",
            "access_token_expires_at",
            "scopes",
            "updated_at",
        ]
    )


def connection_tokens(*, connection: BrokerConnection) -> TokenSet:
    """Return the connection's decrypted tokens (raises TokenDecryptionError)."""
    return TokenSet(
        access_token=decrypt_token(
            connection_id=connection.pk, ciphertext=connection.access_token_encrypted
        ),
        refresh_token=decrypt_token(
            connection_id=connection.pk, ciphertext=connection.refresh_token_encrypted
        ),
        expires_at=connection.access_token_expires_at or timezone.now() - dt.timedelta(seconds=1),
        scopes=tuple(connection.scopes.split()),
    )
