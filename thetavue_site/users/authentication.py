"""DRF authentication from what `ClerkAuthenticationMiddleware` verified."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck

from thetavue_site.users.identity import REASON_MISSING, bearer_challenge

REASON_DISABLED = "account disabled"


class BearerAuthentication(BaseAuthentication):
    """Authenticate by the verified Bearer token or `__session` cookie of the request.

    Verification happens once, in the middleware; this class only hands its
    result to DRF. `authenticate_header` makes DRF answer 401, not 403.
    """

    def authenticate(self, request):
        identity = getattr(request._request, "auth_identity", None)
        if identity is None:
            return None
        user = request._request.user
        if not user.is_authenticated:
            # Deactivated, or erased since the token was minted.
            raise exceptions.AuthenticationFailed(REASON_DISABLED)
        if identity.from_cookie:
            # A cookie rides along on cross-site requests: writes need the CSRF token,
            # as with Django sessions. A Bearer header cannot be forged that way.
            self._enforce_csrf(request)
        return user, identity

    @staticmethod
    def _enforce_csrf(request) -> None:
        check = CSRFCheck(lambda req: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF Failed: {reason}")

    def authenticate_header(self, request):
        reason = getattr(request._request, "auth_failure", None) or REASON_MISSING
        return bearer_challenge(reason)
