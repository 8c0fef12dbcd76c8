"""Who is calling: Clerk session JWTs, dev tokens and personal API tokens (DESIGN §7).

Runs after Django's session authentication and before
`thetavue_site.rls.RowLevelSecurityMiddleware`. It sets `request.auth_identity`,
which the RLS middleware reads to scope the request's transaction, and makes
`request.user` the token's user, loaded lazily inside that transaction.

Order: `Authorization: Bearer` first, then the cookie named exactly `__session`
(Clerk's SDK takes any cookie *starting* with it, which can be another Clerk
app's on the same domain). Under /api/ a rejected Bearer token is a 401 at
once, before any database work. A rejected cookie is "not signed in": Clerk's
cookie lives 60 s, so a dashboard opened after a pause arrives with an expired
one and clerk-js renews it; the API's 401 then names the reason.
"""

from __future__ import annotations

from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from asgiref.sync import sync_to_async
from django.contrib.auth.models import AnonymousUser
from django.http import JsonResponse
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from thetavue_site import rls
from thetavue_site.api.errors import error_body
from thetavue_site.users import clerk, tokens
from thetavue_site.users.identity import REASON_MISSING, AuthIdentity, bearer_challenge
from thetavue_site.users.models import ApiToken, User
from thetavue_site.users.selectors import user_by_pk_query, user_from_rows
from thetavue_site.users.services import user_get_or_create_for_token

SESSION_COOKIE = "__session"
API_PATH_PREFIX = "/api/"
ADMIN_PATH_PREFIX = "/admin/"


def unauthorized_response(reason: str) -> JsonResponse:
    response = JsonResponse(error_body("invalid_token", reason), status=401)
    response["WWW-Authenticate"] = bearer_challenge(reason)
    return response


def _bearer_value(request) -> str | None:
    """Return the Bearer credential ("" when empty), or None without a Bearer header."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


def identify(raw: str, *, from_cookie: bool) -> AuthIdentity:
    """Verify a credential; raise clerk.TokenRejected or tokens.ApiTokenRejected."""
    if tokens.is_api_token(raw):
        if from_cookie:
            raise clerk.TokenRejected(clerk.MALFORMED)
        token = tokens.api_token_authenticate(raw=raw)
        return AuthIdentity(
            user_id=token.user_id, method="api_token", scope=token.scope, token_id=token.token_id
        )
    if not clerk.is_jwt_shaped(raw):
        # Clerk machine tokens (ak_, oat_, m2m_, mt_) and anything else.
        raise clerk.TokenRejected(clerk.MALFORMED)
    claims, method = clerk.verify_session_token(raw)
    return AuthIdentity(
        user_id=claims["sub"],
        method=method,
        scope=ApiToken.Scope.READ_WRITE,
        from_cookie=from_cookie,
    )


def _load_user(identity: AuthIdentity):
    if identity.method == "api_token":
        user = User.objects.filter(pk=identity.user_id).first()
    else:
        user = user_get_or_create_for_token(clerk_id=identity.user_id)
    if user is None or not user.is_active:
        return AnonymousUser()
    return user


def _receive_user(request, rows: list[tuple]) -> None:
    user = user_from_rows(rows)
    if user is not None:
        request.user = user if user.is_active else AnonymousUser()


class ClerkAuthenticationMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.auth_failure = None
        bearer = _bearer_value(request)
        identity = None
        if bearer is not None:
            try:
                if not bearer:
                    raise clerk.TokenRejected(REASON_MISSING)
                identity = identify(bearer, from_cookie=False)
            except (clerk.TokenRejected, tokens.ApiTokenRejected) as rejected:
                if request.path_info.startswith(API_PATH_PREFIX):
                    return unauthorized_response(rejected.reason)
                # Elsewhere a Bearer header may be another scheme's secret
                # (/metrics has its own token): not signed in, nothing more.
                request.auth_failure = rejected.reason
        else:
            cookie = request.COOKIES.get(SESSION_COOKIE, "")
            if cookie:
                try:
                    identity = identify(cookie, from_cookie=True)
                except (clerk.TokenRejected, tokens.ApiTokenRejected) as rejected:
                    # Not signed in by Clerk; a Django session may still apply.
                    request.auth_failure = rejected.reason
        if identity is not None and identity.method == "api_token":
            if request.path_info.startswith(ADMIN_PATH_PREFIX):
                # The admin shows every trader's rows to staff: a script's token
                # (even a staff member's, even read-only) never opens it.
                identity = None
                request.auth_failure = "API tokens cannot open the admin"
        if identity is None:
            return self.get_response(request)

        request.auth_identity = identity
        # Read by the RLS middleware in the round trip that sets the context.
        # When it finds no row (a first token, an erased user) the lazy loader
        # below creates or refuses the user on first use, in that transaction.
        request.rls_preload = rls.Preload(
            query=user_by_pk_query(identity.user_id),
            receive=partial(_receive_user, request),
        )
        request.user = SimpleLazyObject(lambda: _load_user(identity))
        request.auser = partial(_auser, request)
        # Log lines get the user id from the RLS middleware, which reads this identity.
        return self.get_response(request)


async def _auser(request):
    await sync_to_async(lambda: request.user.is_authenticated)()
    return request.user


class UserTimeZoneMiddleware:
    """Show the pages in the signed-in trader's time zone; the API is left as it is (UTC).

    After authentication: the user row is already loaded, so no query. An
    unknown or unset zone leaves the server's default.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = ""
        if not request.path.startswith("/api/"):
            user = getattr(request, "user", None)
            name = getattr(user, "time_zone", "") if user is not None else ""
        try:
            zone = ZoneInfo(name) if name else None
        except (ValueError, ZoneInfoNotFoundError):
            zone = None
        if zone is None:
            return self.get_response(request)
        with timezone.override(zone):
            return self.get_response(request)
