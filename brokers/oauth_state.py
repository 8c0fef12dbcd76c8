"""The OAuth `state` and its PKCE verifier: signed, bound to the user, single use, 10 minutes.

The state is what the browser carries to the broker and back; the PKCE
verifier (RFC 7636) never leaves the server. Both are remembered in Redis
under the state's nonce with the user who started the flow, so a callback
must bring back a state issued to the signed-in user, and the code it brings
can only be exchanged with that flow's verifier: another trader's code,
issued against another challenge, is refused by the broker.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass

from django.core import signing
from redis.exceptions import RedisError

from thetavue_site.redis_client import redis_client, redis_key

STATE_MAX_AGE_SECONDS = 600
PKCE_METHOD = "S256"
# 32 random bytes give a 43-character verifier, RFC 7636's minimum length.
PKCE_VERIFIER_BYTES = 32
_SALT = "thetavue.brokers.oauth-state"
_UNAVAILABLE = "connections are unavailable for a moment; try again shortly"


class InvalidState(Exception):
    """The state is tampered, expired, reused, or another user's; the message says which."""


@dataclass(frozen=True)
class IssuedState:
    """What the authorize URL carries: the signed state and the PKCE challenge."""

    state: str
    code_challenge: str
    code_challenge_method: str = PKCE_METHOD


def pkce_challenge(verifier: str) -> str:
    """Return the S256 challenge of a verifier: base64url(sha256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _nonce_key(nonce: str) -> str:
    return redis_key(f"oauth-state:{nonce}")


def state_issue(*, user_id: str) -> IssuedState:
    """Return a fresh state for `user_id` and its PKCE challenge; the verifier stays here."""
    nonce = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(PKCE_VERIFIER_BYTES)
    remembered = json.dumps({"u": user_id, "v": verifier})
    try:
        redis_client().set(_nonce_key(nonce), remembered, ex=STATE_MAX_AGE_SECONDS)
    except RedisError:
        raise InvalidState(_UNAVAILABLE) from None
    state = signing.dumps({"u": user_id, "n": nonce}, salt=_SALT, compress=False)
    return IssuedState(state=state, code_challenge=pkce_challenge(verifier))


def state_consume(*, state: str, user_id: str) -> str:
    """Accept `state` once for `user_id` and return its PKCE verifier, or raise InvalidState."""
    try:
        payload = signing.loads(state, salt=_SALT, max_age=STATE_MAX_AGE_SECONDS)
    except signing.SignatureExpired:
        raise InvalidState("the connection request expired; start again") from None
    except signing.BadSignature:
        raise InvalidState("the connection request was tampered with") from None
    if not secrets.compare_digest(str(payload.get("u", "")), str(user_id)):
        raise InvalidState("the connection request belongs to another user")
    # GET and DELETE in one MULTI: the first caller takes the verifier, a
    # replay (or a concurrent second callback) finds nothing.
    try:
        with redis_client().pipeline(transaction=True) as pipe:
            key = _nonce_key(str(payload.get("n", "")))
            remembered, _ = pipe.get(key).delete(key).execute()
    except RedisError:
        raise InvalidState(_UNAVAILABLE) from None
    if remembered is None:
        raise InvalidState("the connection request was already used")
    try:
        stored = json.loads(remembered)
    except ValueError:
        raise InvalidState("the connection request was tampered with") from None
    # The signature already binds the state to the user; the server-side
    # record must agree, so a verifier is only ever handed to its own flow.
    if not secrets.compare_digest(str(stored.get("u", "")), str(user_id)):
        raise InvalidState("the connection request belongs to another user")
    return str(stored["v"])
