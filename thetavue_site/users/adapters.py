"""allauth adapter: email + password sign-in for the dashboards, rate limits on.

Local users get a generated `local_…` clerk_id (the model's default). The
lookups allauth makes before anyone is signed in run as service: see
`thetavue_site.rls.ACCOUNT_LOOKUP_VIEWS`.
"""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.forms import UserTokenForm
from allauth.core import ratelimit
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.internal.ratelimit import get_ip, get_rates  # pinned allauth; no public twin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

TOO_MANY_ATTEMPTS = "too_many_login_attempts"


def encode_uid(clerk_id: str) -> str:
    """Return `clerk_id` as allauth's reset URL accepts it: `[0-9A-Za-z]+`.

    allauth puts a non-integer primary key in the URL as is, and `user_…` /
    `local_…` ids hold an underscore, which its URL pattern refuses (a 404).
    """
    return clerk_id.encode().hex()


def decode_uid(value: str) -> str:
    return bytes.fromhex(value).decode()


def _retry_after_seconds() -> int:
    rates = get_rates(app="allauth.account", action="login_failed")
    return int(max((rate.duration for rate in rates), default=60))


class AccountAdapter(DefaultAccountAdapter):
    def get_reset_password_from_key_url(self, key: str) -> str:
        # key is "<uid>-<token>"; ids never hold "-", tokens do.
        uid, _, token = key.partition("-")
        return super().get_reset_password_from_key_url(f"{encode_uid(uid)}-{token}")

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        """Count failed sign-ins per (account, client IP), not per account.

        allauth's "key" rate of `login_failed` is per account by default, so
        anyone could lock an owner out with five wrong passwords. With the IP
        in the key, the guesser's own address is what gets blocked; the per-IP
        rate still bounds one address across accounts.
        """
        account = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{account}:{get_ip(request)}"

    def pre_authenticate(self, request, **credentials) -> None:
        """Answer 429 (with Retry-After) once failed sign-ins exceed the limit.

        allauth would re-show the form with an error and a 200; a 429 tells
        scripts and people alike to stop, and is what DESIGN §11 promises.
        """
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError as error:
            if error.code != TOO_MANY_ATTEMPTS:
                raise
            response = ratelimit.respond_429(request)
            response["Retry-After"] = str(_retry_after_seconds())
            raise ImmediateHttpResponse(response) from error


class HexUidUserTokenForm(UserTokenForm):
    """Read the reset link's user id as `encode_uid` wrote it (ACCOUNT_FORMS["user_token"])."""

    def _get_user(self, uidb36):
        user_model = get_user_model()
        try:
            return user_model.objects.get(pk=decode_uid(uidb36))
        except (ValueError, user_model.DoesNotExist):
            return None
