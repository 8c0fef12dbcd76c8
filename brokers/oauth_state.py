"""The OAuth `state`: signed, bound to the user, single use, valid 10 minutes."""

from __future__ import annotations

import secrets

from django.core import signing
from redis.exceptions import RedisError

from thetavue_site.redis_client import redis_client, redis_key

STATE_MAX_AGE_SECONDS = 600
_SALT = "thetavue.brokers.oauth-state"


class InvalidState(Exception):
    """The state is tampered, expired, reused, or another user's; the message says which."""


def _nonce_key(nonce: str) -> str:
    return redis_key(f"oauth-state:{nonce}")


def state_issue(*, user_id: str) -> str:
    """Return a fresh state for `user_id`, remembered server-side until used or expired."""
    nonce = secrets.token_urlsafe(24)
    try:
        redis_client().set(_nonce_key(nonce), user_id, ex=STATE_MAX_AGE_SECONDS)
    except RedisError:
        raise InvalidState("connections are unavailable for a moment; try again shortly") from None
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
    # The client, not the cache API: the cache degrades to a miss when Redis
    # is down, and a state must never be taken as used or unused then.
    # delete() answers whether the key existed: the first caller wins, a replay loses.
    try:
        deleted = redis_client().delete(_nonce_key(payload.get("n", "")))
    except RedisError:
        raise InvalidState("connections are unavailable for a moment; try again shortly") from None
    if not deleted:
        raise InvalidState("the connection request was already used")
