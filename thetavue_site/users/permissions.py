from rest_framework.permissions import IsAuthenticated


class IsAuthenticatedWithScope(IsAuthenticated):
    """Authenticated; read-only API tokens may only use safe methods."""
