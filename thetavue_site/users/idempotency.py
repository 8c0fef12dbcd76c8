"""Idempotency-Key for API POSTs: a repeat returns the stored response, creates nothing.

A POST under /api/ carrying `Idempotency-Key` is answered once; a repeat with
the same key, by the same principal, on the same route and with the same body
gets the stored response (marked `Idempotent-Replayed: true`); the same key
with a different body gets 422.

The replay happens in the view layer (`IdempotentMixin.initial`), after DRF
has authenticated the request, checked its permissions and throttles and,
for session cookies, CSRF: a stored response is never handed to a request
that could not have made it itself. Keys are scoped to the principal (one
API token, a Clerk session, a signed-in browser session), so a read-only
token cannot reach what a session or another token stored, and a session
whose password changed is signed out by Django before any replay.

Responses that carry a secret shown once (a new API token, an OAuth state)
are never stored: the key keeps the request's hash and a marker, and a
replay is answered 409. Keys live 24 hours; the daily prune deletes them.

Runs inside the RLS middleware's transaction, so the stored response and the
rows the request created commit (or roll back) together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from rest_framework import exceptions, status

from thetavue_site.api.errors import error_body
from thetavue_site.users.identity import AuthIdentity
from thetavue_site.users.models import IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"
HEADER_NAME = "Idempotency-Key"
MAX_KEY_LENGTH = 200
KEY_LIFETIME = dt.timedelta(hours=24)


def key_problem(key: str) -> str | None:
    """Return why an Idempotency-Key value is refused, or None when it is usable."""
    if len(key) > MAX_KEY_LENGTH:
        return f"At most {MAX_KEY_LENGTH} characters."
    # Printable ASCII only: PostgreSQL refuses NUL in text, and control
    # characters have no business in a header value.
    if not key.isascii() or not key.isprintable():
        return "Printable ASCII characters only."
    return None


def invalid_key_body(reason: str) -> dict:
    return error_body("invalid", f"{HEADER_NAME}: {reason}", {HEADER_NAME: [reason]})


class IdempotencyKeyHeaderMiddleware:
    """Refuse a malformed Idempotency-Key on any /api/ request with a 400.

    Cheap and early, before authentication: the value is only checked, never
    looked up, so answering it reveals nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.META.get(HEADER)
        if key is not None and request.path.startswith("/api/"):
            reason = key_problem(key)
            if reason is not None:
                return JsonResponse(invalid_key_body(reason), status=status.HTTP_400_BAD_REQUEST)
        return self.get_response(request)


def principal_of(request) -> str:
    """Name the credential a DRF request authenticated with (keys are scoped to it)."""
    identity = request.auth
    if isinstance(identity, AuthIdentity):
        if identity.token_id is not None:
            return f"{identity.method}:{identity.token_id}"
        return identity.method
    return "session"


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.path.encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


class _Replay(Exception):  # noqa: N818 - a control-flow signal, not an error
    def __init__(self, response):
        self.response = response


class _Pending:
    """The key a fresh request will be stored under once it succeeds."""

    def __init__(self, *, user_id: str, principal: str, route: str, key: str, fingerprint: str):
        self.user_id = user_id
        self.principal = principal
        self.route = route
        self.key = key
        self.fingerprint = fingerprint


def _conflict(code: str, message: str, status_code: int, reason: str) -> JsonResponse:
    return JsonResponse(error_body(code, message, {HEADER_NAME: [reason]}), status=status_code)


def idempotency_begin(*, request, sensitive: bool) -> _Pending | None:
    """Look the request's key up; raise _Replay with the answer when it was seen.

    Call only after authentication and permissions passed. Returns what to
    store once the view answers, or None when the request carries no key.
    """
    key = request.META.get(HEADER, "")
    if request.method != "POST" or not key or not request.user.is_authenticated:
        return None
    reason = key_problem(key)
    if reason is not None:  # also checked by the middleware, for every /api/ route
        raise exceptions.ValidationError({HEADER_NAME: [reason]})
    user_id = str(request.user.pk)
    principal = principal_of(request)
    route = request.path
    # Serialise requests with the same key: the second waits, then replays.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"idem:{user_id}:{principal}:{route}:{key}"],
        )
    fingerprint = _fingerprint(request)
    stored = IdempotencyKey.objects.filter(
        user_id=user_id, principal=principal, route=route, key=key
    ).first()
    if stored is not None and stored.created_at <= timezone.now() - KEY_LIFETIME:
        stored.delete()  # expired: the key is free again
        stored = None
    if stored is None:
        return _Pending(
            user_id=user_id, principal=principal, route=route, key=key, fingerprint=fingerprint
        )
    if stored.request_fingerprint != fingerprint:
        raise _Replay(
            _conflict(
                "idempotency_key_reused",
                "This Idempotency-Key was used with a different request.",
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                "Already used with another body.",
            )
        )
    if stored.sensitive:
        raise _Replay(
            _conflict(
                "idempotency_not_replayable",
                "This request already succeeded, and its response carried a secret that is "
                "shown only once, so it is not replayed. Look the result up instead (for "
                "a token: GET /api/auth/tokens) or retry with a new Idempotency-Key.",
                status.HTTP_409_CONFLICT,
                "Already used; the response is not stored.",
            )
        )
    response = JsonResponse(stored.response_body, status=stored.response_status, safe=False)
    response["Idempotent-Replayed"] = "true"
    raise _Replay(response)


def idempotency_finish(*, pending: _Pending, response, sensitive: bool) -> None:
    """Store a fresh request's successful JSON answer (only a marker when sensitive)."""
    if not 200 <= response.status_code < 300:
        return
    body = None
    if not sensitive:
        if hasattr(response, "render") and not response.is_rendered:
            response.render()  # DRF sets Content-Type while rendering
        if not response.get("Content-Type", "").startswith("application/json"):
            return
        body = json.loads(response.content or b"null")
    IdempotencyKey.objects.create(
        user_id=pending.user_id,
        principal=pending.principal,
        route=pending.route,
        key=pending.key,
        request_fingerprint=pending.fingerprint,
        response_status=response.status_code,
        response_body=body,
        sensitive=sensitive,
    )


def idempotency_keys_prune(*, now: dt.datetime | None = None) -> int:
    """Delete keys older than their 24-hour lifetime; return how many (run as service)."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted


class IdempotentMixin:
    """Give a DRF view Idempotency-Key replay, checked after auth and permissions.

    Set `idempotency_sensitive = True` on a view whose successful answer holds
    a secret shown once: its keys store a marker, never the body.
    """

    idempotency_sensitive = False

    def initial(self, request, *args, **kwargs):
        self._idempotency_pending = None
        if request.method == "POST" and request.META.get(HEADER):
            # Read (and cache) the raw body before anything parses the stream:
            # the fingerprint hashes the bytes as sent.
            request._request.body  # noqa: B018 - read for its caching side effect
        super().initial(request, *args, **kwargs)  # authentication, permissions, throttles
        self._idempotency_pending = idempotency_begin(
            request=request, sensitive=self.idempotency_sensitive
        )

    def handle_exception(self, exc):
        if isinstance(exc, _Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        pending = getattr(self, "_idempotency_pending", None)
        if pending is not None:
            self._idempotency_pending = None
            idempotency_finish(
                pending=pending, response=response, sensitive=self.idempotency_sensitive
            )
        return response
