from rest_framework.permissions import SAFE_METHODS, IsAuthenticated

from thetavue_site.users.identity import AuthIdentity


class IsAuthenticatedWithScope(IsAuthenticated):
    """Authenticated; read-only API tokens may only use safe methods.

    The what-if endpoint, a POST that stores nothing, opts out of this class
    (IsAuthenticated) so read-only tokens may use it; the API docs say so.
    """

    message = "This token is read-only."
    code = "insufficient_scope"

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        identity = request.auth
        if isinstance(identity, AuthIdentity) and identity.read_only:
            return request.method in SAFE_METHODS
        return True


class IsSignedInSession(IsAuthenticatedWithScope):
    """A signed-in person, not a personal API token: for account-level actions."""

    message = "Personal API tokens cannot do this; sign in."
    code = "session_required"

    def has_permission(self, request, view) -> bool:
        if not super().has_permission(request, view):
            return False
        identity = request.auth
        return not (isinstance(identity, AuthIdentity) and identity.method == "api_token")
