"""The sandbox's OAuth2 server: consent page, codes, grants and tokens.

Codes live 5 minutes, are single use and bound to client and redirect URI,
and to a PKCE challenge (RFC 7636, S256 only) whenever the authorize request
carried one: the exchange must then bring the matching ``code_verifier``;
access tokens live 900 s on the sandbox clock; refresh tokens live until
their grant is revoked. Errors imitate production: HTTP 400 with
``{"error_code": "invalid_grant", "error_description": ...}``.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from tastytrade_sandbox.book import DemoCustomer
from tastytrade_sandbox.clock import SandboxClock
from tastytrade_sandbox.config import (
    ACCESS_TOKEN_SECONDS,
    AUTHORIZATION_CODE_SECONDS,
    SandboxConfig,
)


class AuthorizeError(Exception):
    """The authorize request cannot be trusted: show an error, do not redirect."""


@dataclass
class Grant:
    customer: str
    client_id: str
    scopes: tuple[str, ...]
    refresh_token: str
    created_at: datetime
    revoked: bool = False


@dataclass
class AccessToken:
    token: str
    grant: Grant
    expires_at: datetime

    @property
    def customer(self) -> str:
        return self.grant.customer


@dataclass
class AuthorizationCode:
    customer: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    expires_at: datetime
    used: bool = False
    code_challenge: str | None = None


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    scope: str
    state: str | None
    code_challenge: str | None = None


# RFC 7636 §4.1-4.2: 43-128 unreserved characters; an S256 challenge is 43.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    """Return base64url(sha256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class _Store:
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)  # by refresh token
    tokens: dict[str, AccessToken] = field(default_factory=dict)


class OAuthServer:
    def __init__(
        self,
        config: SandboxConfig,
        clock: SandboxClock,
        customers: Mapping[str, DemoCustomer],
    ) -> None:
        self.config = config
        self.clock = clock
        self.customers = customers
        self._store = _Store()
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self._store = _Store()

    # --- Authorize --------------------------------------------------------------

    def check_authorize(self, params: Mapping[str, str]) -> AuthorizeRequest:
        """Validate the authorize query; raise AuthorizeError when untrusted."""
        if params.get("client_id") != self.config.client_id:
            raise AuthorizeError("Unknown client_id.")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in self.config.redirect_uris:
            raise AuthorizeError("redirect_uri is not registered for this client.")
        if params.get("response_type") != "code":
            raise AuthorizeError("response_type must be 'code'.")
        challenge = params.get("code_challenge") or None
        if challenge is not None:
            if params.get("code_challenge_method") != "S256":
                raise AuthorizeError("code_challenge_method must be 'S256'.")
            if not _S256_CHALLENGE.fullmatch(challenge):
                raise AuthorizeError("code_challenge is not an S256 challenge.")
        return AuthorizeRequest(
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            scope=params.get("scope") or "read",
            state=params.get("state"),
            code_challenge=challenge,
        )

    def approve(
        self,
        customer: str,
        client_id: str,
        redirect_uri: str,
        scope: str = "read",
        code_challenge: str | None = None,
    ) -> str:
        """Record consent and return a single-use authorization code (PKCE-bound if challenged)."""
        if customer not in self.customers:
            raise AuthorizeError(f"Unknown sandbox customer {customer!r}.")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._store.codes[code] = AuthorizationCode(
                customer=customer,
                client_id=client_id,
                redirect_uri=redirect_uri,
                scopes=tuple(scope.split()),
                expires_at=self.clock.now() + timedelta(seconds=AUTHORIZATION_CODE_SECONDS),
                code_challenge=code_challenge,
            )
        return code

    @staticmethod
    def redirect(request: AuthorizeRequest, **params: str | None) -> str:
        """Return the redirect URI with params and the state echoed verbatim."""
        query = {key: value for key, value in params.items() if value is not None}
        if request.state is not None:
            query["state"] = request.state
        separator = "&" if "?" in request.redirect_uri else "?"
        return f"{request.redirect_uri}{separator}{urlencode(query)}"

    def consent_page(self, request: AuthorizeRequest) -> str:
        """Return the HTML page listing demo traders with Allow and Deny."""
        hidden = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(value)}">'
            for name, value in (
                ("response_type", "code"),
                ("client_id", request.client_id),
                ("redirect_uri", request.redirect_uri),
                ("scope", request.scope),
                ("state", request.state or ""),
                *(
                    (("code_challenge", request.code_challenge), ("code_challenge_method", "S256"))
                    if request.code_challenge
                    else ()
                ),
            )
        )
        choices = "".join(
            f'<label><input type="radio" name="sandbox_login" value="{html.escape(c.login)}"'
            f"{' checked' if n == 0 else ''}> {html.escape(c.display_name)} "
            f"({html.escape(c.login)}: {', '.join(c.account_numbers)})</label><br>"
            for n, c in enumerate(self.customers.values())
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<title>Tastytrade sandbox: authorize</title></head><body>"
            "<h1>Tastytrade sandbox</h1>"
            f"<p><b>{html.escape(request.client_id)}</b> asks for "
            f"<b>{html.escape(request.scope)}</b> access. Sign in as:</p>"
            f'<form method="post" action="/auth.html">{hidden}{choices}'
            '<button name="decision" value="allow">Allow</button> '
            '<button name="decision" value="deny">Deny</button>'
            "</form></body></html>"
        )

    # --- Token endpoint ---------------------------------------------------------

    def token(
        self, body: Mapping[str, str], *, has_authorization: bool
    ) -> tuple[int, dict[str, Any]]:
        """Answer POST /oauth/token: (status, snake_case body without envelope)."""
        if has_authorization:
            return _error(
                "invalid_request",
                "Authorization header is not accepted on the token endpoint",
            )
        grant_type = body.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange(body)
        if grant_type == "refresh_token":
            return self._refresh(body)
        return _error("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")

    def _exchange(self, body: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        now = self.clock.now()
        with self._lock:
            code = self._store.codes.get(body.get("code", ""))
            if code is None or code.used or code.expires_at <= now:
                return _error("invalid_grant", "Invalid or expired authorization code")
            if (
                body.get("client_id") != code.client_id
                or body.get("client_secret") != self.config.client_secret
                or body.get("redirect_uri") != code.redirect_uri
            ):
                return _error("invalid_grant", "Client or redirect_uri mismatch")
            if code.code_challenge is not None:
                verifier = body.get("code_verifier") or ""
                if not _VERIFIER.fullmatch(verifier) or not secrets.compare_digest(
                    s256(verifier), code.code_challenge
                ):
                    # Spent anyway, as RFC 6749 §10.5 asks of a code seen in a
                    # failed exchange: whoever holds it may not try again.
                    code.used = True
                    return _error("invalid_grant", "PKCE verification failed")
            code.used = True
            grant = Grant(
                customer=code.customer,
                client_id=code.client_id,
                scopes=code.scopes,
                refresh_token=secrets.token_urlsafe(32),
                created_at=now,
            )
            self._store.grants[grant.refresh_token] = grant
            return 200, self._issue(grant, now, include_refresh=True)

    def _refresh(self, body: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        now = self.clock.now()
        with self._lock:
            grant = self._store.grants.get(body.get("refresh_token", ""))
            if grant is None or grant.revoked:
                return _error("invalid_grant", "Invalid JWT")
            if (
                body.get("client_secret") != self.config.client_secret
                or body.get("client_id", grant.client_id) != grant.client_id
            ):
                return _error("invalid_grant", "Client mismatch")
            return 200, self._issue(grant, now, include_refresh=True)

    def _issue(self, grant: Grant, now: datetime, *, include_refresh: bool) -> dict[str, Any]:
        access = AccessToken(
            token=secrets.token_urlsafe(32),
            grant=grant,
            expires_at=now + timedelta(seconds=ACCESS_TOKEN_SECONDS),
        )
        self._store.tokens[access.token] = access
        answer: dict[str, Any] = {
            "access_token": access.token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
        }
        if include_refresh:
            answer["refresh_token"] = grant.refresh_token
        return answer

    def create_grant(self, customer: str, scope: str = "read") -> dict[str, Any]:
        """Issue tokens directly, like the owner's "Create Grant" button."""
        if customer not in self.customers:
            raise KeyError(f"unknown sandbox customer {customer!r}")
        now = self.clock.now()
        with self._lock:
            grant = Grant(
                customer=customer,
                client_id=self.config.client_id,
                scopes=tuple(scope.split()),
                refresh_token=secrets.token_urlsafe(32),
                created_at=now,
            )
            self._store.grants[grant.refresh_token] = grant
            return self._issue(grant, now, include_refresh=True)

    # --- API authentication -----------------------------------------------------

    def authenticate(self, token: str) -> AccessToken | None:
        """Return the live access token, or None (unknown, expired, revoked)."""
        with self._lock:
            access = self._store.tokens.get(token)
        if access is None or access.grant.revoked:
            return None
        if access.expires_at <= self.clock.now():
            return None
        return access

    def expire(self, token: str) -> None:
        """End an access token now, whatever time it had left."""
        with self._lock:
            access = self._store.tokens.get(token)
            if access is not None:
                access.expires_at = self.clock.now() - timedelta(seconds=1)

    def revoke(self, *, customer: str | None = None, refresh_token: str | None = None) -> int:
        """Revoke grants as if the trader deleted them; return how many."""
        with self._lock:
            grants = [
                grant
                for grant in self._store.grants.values()
                if not grant.revoked
                and (customer is None or grant.customer == customer)
                and (refresh_token is None or grant.refresh_token == refresh_token)
            ]
            for grant in grants:
                grant.revoked = True
        return len(grants)


def _error(code: str, description: str) -> tuple[int, dict[str, Any]]:
    return 400, {"error_code": code, "error_description": description}
