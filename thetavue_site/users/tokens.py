"""Personal API tokens: `tv_…`, random, shown once, stored as a SHA-256 hash (DESIGN §7)."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from thetavue_site import rls
from thetavue_site.users.models import ApiToken, User

PREFIX = "tv_"
TOKEN_BYTES = 32  # 256 bits: a hash lookup needs no rate limit or pepper.
DISPLAY_PREFIX_LENGTH = 12
# last_used_at is written at most this often per token, not on every request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)

REASON_UNKNOWN = "unknown token"
REASON_REVOKED = "token revoked"
REASON_EXPIRED = "token expired"


class ApiTokenRejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AuthenticatedToken:
    token_id: int
    user_id: str
    scope: str


def is_api_token(value: str) -> bool:
    return value.startswith(PREFIX)


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def api_token_create(
    *, user: User, name: str, scope: str, expires_at: dt.datetime | None = None
) -> tuple[ApiToken, str]:
    """Create a token for `user`; return it and its raw value, which is never stored."""
    raw = PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        scope=scope,
        expires_at=expires_at,
        token_hash=token_hash(raw),
        prefix=raw[:DISPLAY_PREFIX_LENGTH],
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke `token` from now on; revoking twice keeps the first time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


@transaction.atomic
def api_token_rename(*, token: ApiToken, name: str) -> ApiToken:
    token.name = name
    token.save(update_fields=["name", "updated_at"])
    return token


def api_token_authenticate(*, raw: str) -> AuthenticatedToken:
    """Return the live token whose value is `raw`, and note its use (at most once a minute).

    The owner is unknown until the hash is found, so the lookup runs as service,
    in its own short transaction before the request's.
    """
    now = timezone.now()
    with rls.as_service():
        token = (
            ApiToken.objects.filter(token_hash=token_hash(raw))
            .only("id", "user_id", "scope", "revoked_at", "expires_at", "last_used_at")
            .first()
        )
        if token is None:
            raise ApiTokenRejected(REASON_UNKNOWN)
        if token.revoked_at is not None:
            raise ApiTokenRejected(REASON_REVOKED)
        if token.expires_at is not None and token.expires_at <= now:
            raise ApiTokenRejected(REASON_EXPIRED)
        if token.last_used_at is None or token.last_used_at <= now - LAST_USED_RESOLUTION:
            # Conditional, so concurrent requests write it once.
            ApiToken.objects.filter(pk=token.pk).filter(
                Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
            ).update(last_used_at=now)
    return AuthenticatedToken(token_id=token.pk, user_id=token.user_id, scope=token.scope)
