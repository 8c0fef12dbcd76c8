"""Errors of the Tastytrade client, its retry policy and the OAuth TokenSet.

These are shared by the API client and the OAuth helpers; keeping them here
means neither of those two modules imports the other's internals.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol


class BrokerError(Exception):
    """A Tastytrade call failed; the message never carries a token."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        attempts: int = 1,
    ) -> None:
        super().__init__(message)
        self.status = status  # HTTP status, None when no response arrived
        self.code = code  # the API's error.code / error_code, or our own reason
        self.attempts = attempts  # requests sent for this call


class BrokerUnavailable(BrokerError):
    """Transient failure (timeouts, resets, 429, 5xx) that outlived its retries."""


class BrokerAuthError(BrokerError):
    """Authentication failed (a second 401, or the token endpoint refused)."""


class BrokerGrantInvalid(BrokerAuthError):
    """The refresh token or code is dead (``invalid_grant``): reconnect required."""


class BrokerProtocolError(BrokerError):
    """The answer was not what the protocol promises (not JSON, wrong shape)."""


class BrokerRequestError(BrokerError):
    """The API refused the request (400, 403, 404, 406, 422): not retried."""


def shape_error(message: str) -> BrokerProtocolError:
    return BrokerProtocolError(message, code="unexpected_shape")


# --- Retry policy -------------------------------------------------------------


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with full jitter: random(0, min(cap, base * 2**n))."""

    base_seconds: float
    cap_seconds: float

    def ceiling(self, retry_index: int) -> float:
        """Return the upper bound in seconds of the delay before retry ``n`` (0-based)."""
        return min(self.cap_seconds, self.base_seconds * 2**retry_index)

    def delay(self, retry_index: int, rng: random.Random) -> float:
        return rng.uniform(0.0, self.ceiling(retry_index))


SERVER_BACKOFF = Backoff(base_seconds=0.5, cap_seconds=8.0)  # 5xx, timeouts, resets
THROTTLE_BACKOFF = Backoff(base_seconds=2.0, cap_seconds=30.0)  # 429


# --- Tokens -------------------------------------------------------------------


@dataclass(frozen=True)
class TokenSet:
    """Tokens from the token endpoint; ``repr`` never shows the secrets."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime  # aware, UTC
    scopes: tuple[str, ...] = ()
    token_type: str = "Bearer"  # noqa: S105 - the scheme name, not a secret

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """Return True when fewer than ``seconds`` of validity remain."""
        now = now or datetime.now(UTC)
        return self.expires_at - now < timedelta(seconds=seconds)


# --- Error bodies -------------------------------------------------------------


class HasContent(Protocol):
    content: bytes


def error_fields(response: HasContent) -> tuple[str | None, str | None]:
    """Return (code, message) from an API or OAuth error body, if it has one.

    API errors are ``{"error": {"code", "message", "errors": [...]}}``; each
    entry of ``errors`` (a field-level reason, e.g. a validation failure) is
    appended to the message so it reaches whoever reads the error. The token
    endpoint sends ``error_code``/``error_description`` or the RFC's ``error``.
    """
    try:
        body = json.loads(response.content)
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    error = body.get("error")
    if isinstance(error, dict):
        message = _text_or_none(error.get("message"))
        details = _error_details(error.get("errors"))
        if details:
            message = "; ".join(part for part in (message, *details) if part)
        return _text_or_none(error.get("code")), message
    code = body.get("error_code") or error
    return _text_or_none(code), _text_or_none(body.get("error_description"))


def _error_details(errors: Any) -> list[str]:
    if not isinstance(errors, list):
        return []
    details = []
    for entry in errors:
        if isinstance(entry, dict):
            parts = (_text_or_none(entry.get(key)) for key in ("domain", "code", "reason"))
            text = " ".join(part for part in parts if part)
            message = _text_or_none(entry.get("message"))
            detail = f"{text}: {message}" if text and message else (text or message)
        else:
            detail = _text_or_none(entry)
        if detail:
            details.append(detail)
    return details


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)
