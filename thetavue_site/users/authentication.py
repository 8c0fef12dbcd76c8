"""DRF authentication for `Authorization: Bearer` (foundation placeholder)."""

from rest_framework.authentication import BaseAuthentication


class BearerAuthentication(BaseAuthentication):
    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return 'Bearer error="invalid_token"'
