"""Tastytrade OAuth2: authorize URL, code exchange and refresh.

Token calls are never retried: a code is single use, and a refused refresh
must reach the caller at once. The token endpoint answers snake_case JSON
without an envelope; errors carry ``error_code`` (or the RFC's ``error``).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import requests

from brokers.tastytrade.errors import (
    BrokerAuthError,
    BrokerGrantInvalid,
    BrokerProtocolError,
    BrokerUnavailable,
    TokenSet,
    error_fields,
)
from brokers.tastytrade.transport import DEFAULT_TIMEOUT_SECONDS, DEFAULT_USER_AGENT

logger = logging.getLogger(__name__)

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a secret
DEFAULT_EXPIRES_IN_SECONDS = 900
REDACTED = "[redacted]"
SECRET_KEYS = frozenset(
    {"authorization", "client_secret", "refresh_token", "access_token", "code", "code_verifier"}
)


def build_authorize_url(
    authorize_url: str,
    client_id: str,
    redirect_uri: str,
    state: str,
    scope: str = "read",
    *,
    code_challenge: str | None = None,
    code_challenge_method: str = "S256",
) -> str:
    """Return the browser URL of the consent page; ``state`` comes back verbatim.

    ``code_challenge`` adds PKCE (RFC 7636): the code can then be exchanged
    only with the matching verifier. A server without PKCE ignores it.
    """
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": state,
    }
    if code_challenge:
        params["code_challenge"] = code_challenge
        params["code_challenge_method"] = code_challenge_method
    query = urlencode(params)
    separator = "&" if "?" in authorize_url else "?"
    return f"{authorize_url}{separator}{query}"


def exchange_code(
    base_url: str,
    *,
    client_id: str,
    client_secret: str,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    scope: str = "read",
    session: requests.Session | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT_SECONDS,
    now: datetime | None = None,
) -> TokenSet:
    """Trade an authorization code for tokens; sent once, never retried.

    ``code_verifier`` is the PKCE secret of the flow that asked for the code.
    """
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": client_id,
        "client_secret": client_secret,
        "redirect_uri": redirect_uri,
    }
    if code_verifier:
        body["code_verifier"] = code_verifier
    payload = _post_token(base_url, body, session, user_agent, timeout)
    return _token_set(payload, now=now, default_scope=scope, previous_refresh=None)


def refresh_access_token(
    base_url: str,
    *,
    client_id: str | None,
    client_secret: str,
    refresh_token: str,
    scope: str | None = None,
    session: requests.Session | None = None,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout: tuple[float, float] = DEFAULT_TIMEOUT_SECONDS,
    now: datetime | None = None,
) -> TokenSet:
    """Get a new access token; a missing refresh token in the answer keeps ours.

    ``scope`` (the grant's, space separated) fills ``scopes`` when the answer
    does not state them, so storing the result never drops what was granted.

    Raises BrokerGrantInvalid on ``invalid_grant``: the trader must reconnect.
    """
    body = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_secret": client_secret,
    }
    if client_id:
        body["client_id"] = client_id
    payload = _post_token(base_url, body, session, user_agent, timeout)
    return _token_set(payload, now=now, default_scope=scope, previous_refresh=refresh_token)


def redact(values: dict[str, Any]) -> dict[str, Any]:
    """Return a copy safe to log: secrets, tokens and codes replaced."""
    return {key: REDACTED if key.lower() in SECRET_KEYS else value for key, value in values.items()}


def _post_token(
    base_url: str,
    body: dict[str, str],
    session: requests.Session | None,
    user_agent: str,
    timeout: tuple[float, float],
) -> dict[str, Any]:
    url = base_url.rstrip("/") + TOKEN_PATH
    what = f"POST {TOKEN_PATH} ({body['grant_type']})"
    # No Authorization header here, ever: a stale Bearer breaks the refresh.
    headers = {
        "User-Agent": user_agent,
        "Accept": "application/json",
        "Authorization": None,  # drops one a shared session might carry
    }
    logger.debug("%s %s", what, redact(body))
    http = session or requests.Session()
    try:
        response = http.post(url, json=body, headers=headers, timeout=timeout)
    except (requests.ConnectionError, requests.Timeout) as exc:
        reason = "timeout" if isinstance(exc, requests.Timeout) else "reset"
        raise BrokerUnavailable(f"{what}: {reason}", code=reason) from None
    finally:
        if session is None:
            http.close()
    status = response.status_code
    if status >= 400:
        code, message = error_fields(response)
        detail = " ".join(part for part in (code, message) if part)
        text = f"{what}: HTTP {status} {detail}".rstrip()
        if status == 429 or status >= 500:
            raise BrokerUnavailable(text, status=status, code=code)
        if code == "invalid_grant":
            raise BrokerGrantInvalid(text, status=status, code=code)
        raise BrokerAuthError(text, status=status, code=code)
    try:
        payload = json.loads(response.content)
    except ValueError:
        raise BrokerProtocolError(
            f"{what}: HTTP {status} body is not JSON", status=status, code="malformed_json"
        ) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("access_token"), str):
        raise BrokerProtocolError(
            f"{what}: no access_token in the answer", status=status, code="unexpected_shape"
        )
    return payload


def _token_set(
    payload: dict[str, Any],
    *,
    now: datetime | None,
    default_scope: str | None,
    previous_refresh: str | None,
) -> TokenSet:
    received_at = now or datetime.now(UTC)
    expires_in = payload.get("expires_in") or DEFAULT_EXPIRES_IN_SECONDS
    try:
        lifetime = timedelta(seconds=float(expires_in))
    except (TypeError, ValueError):
        raise BrokerProtocolError(
            "token answer: expires_in is not a number", code="unexpected_shape"
        ) from None
    scope = payload.get("scope") or default_scope or ""
    refresh_token = payload.get("refresh_token") or previous_refresh
    return TokenSet(
        access_token=payload["access_token"],
        refresh_token=refresh_token if isinstance(refresh_token, str) else None,
        expires_at=received_at + lifetime,
        scopes=tuple(str(scope).split()),
        token_type=str(payload.get("token_type") or "Bearer"),
    )
