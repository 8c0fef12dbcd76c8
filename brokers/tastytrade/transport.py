"""HTTP for the Tastytrade API: GETs on one urllib3 pool, with the retry policy.

Why the retry loop is ours and not urllib3's ``Retry``: the policy has three
things ``Retry`` cannot express. A 429 backs off on its own, longer schedule
(THROTTLE_BACKOFF) while 5xx and transport failures use SERVER_BACKOFF, and
``Retry`` has one ``backoff_factor`` for both; a ``Retry-After`` is honoured
but bounded to a minute, where ``Retry`` sleeps whatever the server asks; and
a 401 refreshes the token once and re-sends without spending an attempt,
which needs a new Authorization header between two sends. The sleep and the
jitter source are injected so tests see every delay without waiting
(brokers/tests/test_client.py pins each of these behaviours).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from requests.utils import DEFAULT_CA_BUNDLE_PATH

from brokers.tastytrade.errors import (
    SERVER_BACKOFF,
    THROTTLE_BACKOFF,
    BrokerAuthError,
    BrokerError,
    BrokerProtocolError,
    BrokerRequestError,
    BrokerUnavailable,
    error_fields,
)

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "thetavue/0.1.0"
DEFAULT_TIMEOUT_SECONDS = (3.05, 10.0)  # (connect, read)
MAX_ATTEMPTS = 4
RETRY_AFTER_MAX_SECONDS = 60.0
# The API version the client's decoding (and the contract suite under
# brokers/tests/contract/) is checked against; Tastytrade serves the latest
# version to a request without this header, so a breaking release would
# otherwise reach the sync unannounced.
ACCEPT_VERSION = "20251101"

# Errors raised before a complete response arrived (connect, TLS, reset,
# truncated body, timeouts); all are safe to retry on a GET.
_TRANSPORT_ERRORS = urllib3.exceptions.HTTPError
_TIMEOUT_ERRORS = urllib3.exceptions.TimeoutError


@dataclass(frozen=True)
class Reply:
    """A complete HTTP answer: what the error and decode helpers read."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes


class Transport:
    """Sends the client's GETs; the token comes from the caller on each attempt."""

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str,
        timeout: tuple[float, float] | float,
        max_attempts: int,
        sleep: Callable[[float], None],
        rng: random.Random,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._rng = rng
        self._timeout = pool_timeout(timeout)
        self._pool: urllib3.HTTPConnectionPool | None = None
        self.headers = {
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Accept-Version": ACCEPT_VERSION,
        }

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def get(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        access_token: Callable[[], str],
        refresh: Callable[[], None] | None,
    ) -> Any:
        """GET ``path`` and return its JSON (decimals as Decimal, keys as sent).

        Transient failures are retried with backoff up to ``max_attempts``; a
        401 calls ``refresh`` once and re-sends.
        """
        what = f"GET {path}"
        pool, prefix = self._connection_pool()
        url = prefix + path + encode_query(params)
        headers = dict(self.headers)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            headers["Authorization"] = f"Bearer {access_token()}"
            try:
                response = _request(pool, url, headers, self._timeout)
            except urllib3.exceptions.LocationValueError:
                raise  # a malformed URL is a bug, not a transient failure
            except _TRANSPORT_ERRORS as exc:
                status, retry_after = None, None
                reason = _transport_reason(exc)
                backoff = SERVER_BACKOFF
            else:
                status = response.status_code
                if status == 401:
                    if refreshed or refresh is None:
                        raise status_error(BrokerAuthError, response, what)
                    refreshed = True
                    attempt -= 1  # a retry after a refresh is not a transient retry
                    logger.info("%s: HTTP 401, refreshing the token", what)
                    refresh()
                    continue
                if status < 400:
                    return parse_json(response, what)
                if status != 429 and status < 500:
                    raise status_error(BrokerRequestError, response, what)
                reason = "throttled" if status == 429 else "server_error"
                backoff = THROTTLE_BACKOFF if status == 429 else SERVER_BACKOFF
                retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            if attempt >= self.max_attempts:
                raise BrokerUnavailable(
                    f"{what}: {reason} (HTTP {status or 'none'}) after {attempt} attempt(s)",
                    status=status,
                    code=reason,
                    attempts=attempt,
                )
            delay = backoff.delay(attempt - 1, self._rng) if retry_after is None else retry_after
            logger.warning(
                "%s: %s (HTTP %s); retry %d in %.2f s", what, reason, status, attempt, delay
            )
            self._sleep(delay)

    def _connection_pool(self) -> tuple[urllib3.HTTPConnectionPool, str]:
        """Return the broker's connection pool (made on first use) and the base path."""
        parts = urlsplit(self.base_url)
        if self._pool is None:
            tls = {"cert_reqs": "CERT_REQUIRED", "ca_certs": DEFAULT_CA_BUNDLE_PATH}
            self._pool = urllib3.connection_from_url(
                self.base_url,
                maxsize=1,  # one sync sends one request at a time
                retries=False,
                timeout=self._timeout,
                **(tls if parts.scheme == "https" else {}),
            )
        return self._pool, parts.path


def _request(pool, url: str, headers, timeout) -> Reply:
    """Send one GET on the pool; raise urllib3's errors for transport failures."""
    # retries=False: no retry and no redirect-following inside urllib3 (the
    # API does not redirect; Transport.get owns the retry policy).
    response = pool.urlopen(
        "GET",
        url,
        headers=headers,
        retries=False,
        redirect=False,
        timeout=timeout,
        preload_content=True,  # the whole body, or a transport error
    )
    return Reply(status_code=response.status, headers=response.headers, content=response.data)


def _transport_reason(error: Exception) -> str:
    """ "timeout" or "reset", as requests classifies them (a refused connect is a reset)."""
    refused = isinstance(error, urllib3.exceptions.NewConnectionError)
    return "timeout" if isinstance(error, _TIMEOUT_ERRORS) and not refused else "reset"


def pool_timeout(timeout: tuple[float, float] | float) -> urllib3.Timeout:
    """requests-style timeout, (connect, read) or one number for both, as urllib3's."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    return urllib3.Timeout(connect=connect, read=read)


def segment(value: str) -> str:
    """Quote one path segment (an account number) entirely."""
    return quote(value, safe="")


def encode_query(params: Sequence[tuple[str, str]]) -> str:
    """Encode spaces as %20 and slashes as %2F; keep commas and [] readable."""
    if not params:
        return ""
    return "?" + "&".join(
        f"{quote(key, safe='[]')}={quote(value, safe=',')}" for key, value in params
    )


def retry_after_seconds(header: str | None) -> float | None:
    """Parse Retry-After (seconds or an HTTP date), bounded to a minute."""
    if not header:
        return None
    try:
        seconds = float(header)
    except ValueError:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX_SECONDS)


def parse_json(response: Reply, what: str) -> Any:
    """Parse a JSON body, decimals as Decimal, keys as sent (decoding.Record reads both)."""
    # Without a hook the C parser builds each object itself: rebuilding every
    # object of a 250-row page in Python cost more than the parse.
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError:
        content_type = response.headers.get("Content-Type", "?")
        raise BrokerProtocolError(
            f"{what}: HTTP {response.status_code} body is not JSON ({content_type})",
            status=response.status_code,
            code="malformed_json",
        ) from None


def status_error(kind: type[BrokerError], response: Reply, what: str) -> BrokerError:
    code, message = error_fields(response)
    detail = " ".join(part for part in (code, message) if part)
    return kind(
        f"{what}: HTTP {response.status_code} {detail}".rstrip(),
        status=response.status_code,
        code=code,
    )
