"""The OAuth `state`: signed, bound to the user, single use, valid 10 minutes."""

from __future__ import annotations

import secrets

from django.core import signing
from django.core.cache import cache

STATE_MAX_AGE_SECONDS = 600
_SALT = "thetavue.brokers.oauth-state"


class InvalidState(Exception):
    """The state is tampered, expired, reused, or another user's; the message says which."""


def _nonce_key(nonce: str) -> str:
    return f"oauth-state:{nonce}"


def state_issue(*, user_id: str) -> str:
    """Return a fresh state for `user_id`, remembered server-side until used or expired."""
    nonce = secrets.token_urlsafe(24)
    cache.set(_nonce_key(nonce), user_id, timeout=STATE_MAX_AGE_SECONDS)
    return signing.dumps({"u": user_id, "n": nonce}, salt=_SALT, compress=False)


def state_consume(*, state: str, user_id: str) -> None:
    """Accept `state` once for `user_id`, or raise InvalidState saying why."""
    try:
        payload = signing.loads(state, salt=_SALT, max_age=STATE_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise InvalidState("the connection request expired; start again") from None
    except signing.BadSignature:
        raise InvalidState("the connection request was tampered with") from None
    if not secrets.compare_digest(str(payload.get("u", "")), str(user_id)):
        raise InvalidState("the connection request belongs to another user")
    # delete() answers whether the key existed: the first caller wins, a replay loses.
    if not cache.delete(_nonce_key(payload.get("n", ""))):
        raise InvalidState("the connection request was already used")
