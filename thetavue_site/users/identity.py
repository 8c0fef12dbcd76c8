"""The verified caller of a request, as the middleware, DRF and RLS see it.

Kept free of DRF imports: DRF imports the authentication and permission
classes, which import this, while its own modules are still loading.
"""

from __future__ import annotations

from dataclasses import dataclass

from thetavue_site.users.models import ApiToken

REASON_MISSING = "missing token"


@dataclass(frozen=True)
class AuthIdentity:
    """A verified caller. `rls.request_identity()` reads `user_id`."""

    user_id: str
    method: str  # "clerk", "dev" or "api_token"
    scope: str  # ApiToken.Scope; Clerk and dev sessions are read_write
    token_id: int | None = None
    from_cookie: bool = False  # cookie-borne credentials need CSRF checks on writes

    @property
    def read_only(self) -> bool:
        return self.scope == ApiToken.Scope.READ


def bearer_challenge(reason: str) -> str:
    """Return the WWW-Authenticate value for a refused request (RFC 6750 §3)."""
    return f'Bearer error="invalid_token", error_description="{reason}"'
