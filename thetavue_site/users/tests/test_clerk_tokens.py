"""Clerk session tokens through the middleware: one valid token, then one broken rule each."""

from __future__ import annotations

import base64
import functools
import json
import time

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from django.urls import reverse

from conftest import CLERK_TEST_ISSUER, rsa_key_pems, session_claims
from thetavue_site.users import clerk

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


@functools.cache
def attacker_pems() -> tuple[str, str]:
    return rsa_key_pems()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    return ".".join(
        [b64(json.dumps(header).encode()), b64(json.dumps(claims).encode()), b64(signature)]
    )


def get_me(client, token: str | None = None, header: str | None = None):
    extra = {}
    if header is not None:
        extra["HTTP_AUTHORIZATION"] = header
    elif token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client.get(ME, **extra)


def assert_refused(response, reason: str) -> None:
    assert response.status_code == 401
    assert response.json() == {"error": {"code": "invalid_token", "message": reason, "fields": {}}}
    assert response["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{reason}"'
    )


def test_valid_token_is_accepted_as_its_user(client, alice, clerk_settings):
    token = clerk_settings.sign(session_claims(alice.pk))
    response = get_me(client, token)
    assert response.status_code == 200
    assert response.json() == {
        "id": "user_alice",
        "email": "alice@example.com",
        "display_name": "Alice",
        "notify_by_email": True,
        "created_at": response.json()["created_at"],
        "auth_method": "clerk",
    }


def test_unknown_header_fields_are_ignored(client, alice, clerk_settings):
    token = clerk_settings.sign(session_claims(alice.pk), headers={"oiat": 1, "cat": "x"})
    assert get_me(client, token).status_code == 200


def forged(kind: str, clerk_key, alice) -> tuple[str, str]:
    """Return (token, expected reason) for one broken rule."""
    claims = session_claims(alice.pk)
    attacker_private, attacker_public = attacker_pems()
    if kind == "alg_none":
        return unsigned({"alg": "none", "typ": "JWT"}, claims), clerk.UNSUPPORTED_ALGORITHM
    if kind == "hs256_with_public_pem":
        # Algorithm confusion: the public key as an HMAC secret. PyJWT itself
        # refuses to sign with a PEM, so the HMAC is computed by hand.
        import hashlib
        import hmac

        head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": clerk_key.kid}).encode())
        body = b64(json.dumps(claims).encode())
        mac = hmac.new(
            clerk_key.public_pem.encode(), f"{head}.{body}".encode(), hashlib.sha256
        ).digest()
        return f"{head}.{body}.{b64(mac)}", clerk.UNSUPPORTED_ALGORITHM
    if kind == "rs512":
        token = jwt.encode(claims, clerk_key.private_pem, "RS512", headers={"kid": clerk_key.kid})
        return token, clerk.UNSUPPORTED_ALGORITHM
    if kind == "expired":
        now = int(time.time())
        return clerk_key.sign({**claims, "iat": now - 120, "nbf": now - 130, "exp": now - 60}), (
            clerk.EXPIRED
        )
    if kind == "future_nbf":
        return clerk_key.sign({**claims, "nbf": int(time.time()) + 60}), clerk.NOT_YET_VALID
    if kind == "future_iat":
        return clerk_key.sign({**claims, "iat": int(time.time()) + 60}), clerk.NOT_YET_VALID
    if kind == "wrong_iss":
        return clerk_key.sign({**claims, "iss": "https://evil.clerk.accounts.dev"}), (
            clerk.WRONG_ISSUER
        )
    if kind == "iss_prefix":
        return clerk_key.sign({**claims, "iss": CLERK_TEST_ISSUER + ".evil"}), clerk.WRONG_ISSUER
    if kind == "missing_iss":
        return clerk_key.sign({k: v for k, v in claims.items() if k != "iss"}), clerk.MISSING_CLAIM
    if kind == "missing_sub":
        return clerk_key.sign({k: v for k, v in claims.items() if k != "sub"}), clerk.MISSING_CLAIM
    if kind == "non_string_sub":
        return clerk_key.sign({**claims, "sub": 42}), clerk.MISSING_CLAIM
    if kind == "missing_exp":
        return clerk_key.sign({k: v for k, v in claims.items() if k != "exp"}), clerk.MISSING_CLAIM
    if kind == "missing_sid":
        return clerk_key.sign({k: v for k, v in claims.items() if k != "sid"}), clerk.MISSING_CLAIM
    if kind == "aud":
        return clerk_key.sign({**claims, "aud": "thetavue"}), clerk.AUDIENCE
    if kind == "empty_aud":
        return clerk_key.sign({**claims, "aud": []}), clerk.AUDIENCE
    if kind == "foreign_key_known_kid":
        token = jwt.encode(claims, attacker_private, "RS256", headers={"kid": clerk_key.kid})
        return token, clerk.INVALID_SIGNATURE
    if kind == "foreign_key_unknown_kid":
        token = jwt.encode(claims, attacker_private, "RS256", headers={"kid": "ins_attacker"})
        return token, clerk.INVALID_SIGNATURE
    if kind in ("jwk_header", "jku_header", "x5u_header"):
        attacker_jwk = json.loads(
            jwt.algorithms.RSAAlgorithm.to_jwk(load_pem_public_key(attacker_public.encode()))
        )
        extra = {
            "jwk_header": {"jwk": attacker_jwk},
            "jku_header": {"jku": "http://127.0.0.1:9/jwks.json"},
            "x5u_header": {"x5u": "http://127.0.0.1:9/cert.pem"},
        }[kind]
        token = jwt.encode(claims, attacker_private, "RS256", headers={"kid": "evil", **extra})
        return token, clerk.INVALID_SIGNATURE
    if kind == "tampered":
        token = clerk_key.sign(claims)
        head, _, signature = token.split(".")
        body = b64(json.dumps({**claims, "sub": "user_bob"}).encode())
        return f"{head}.{body}.{signature}", clerk.INVALID_SIGNATURE
    if kind == "garbage":
        return "not-a-token", clerk.MALFORMED
    if kind == "garbage_segments":
        return "aaa.bbb.ccc", clerk.MALFORMED
    if kind == "machine_token":
        return "ak_" + "x" * 32, clerk.MALFORMED
    if kind == "crit_header":
        token = clerk_key.sign(claims, headers={"crit": ["exp-ext"], "exp-ext": 1})
        return token, clerk.MALFORMED
    raise AssertionError(kind)


ATTACKS = [
    "alg_none",
    "hs256_with_public_pem",
    "rs512",
    "expired",
    "future_nbf",
    "future_iat",
    "wrong_iss",
    "iss_prefix",
    "missing_iss",
    "missing_sub",
    "non_string_sub",
    "missing_exp",
    "missing_sid",
    "aud",
    "empty_aud",
    "foreign_key_known_kid",
    "foreign_key_unknown_kid",
    "jwk_header",
    "jku_header",
    "x5u_header",
    "tampered",
    "garbage",
    "garbage_segments",
    "machine_token",
    "crit_header",
]


@pytest.mark.parametrize("kind", ATTACKS)
def test_broken_token_is_refused_with_its_reason(client, alice, clerk_settings, kind):
    token, reason = forged(kind, clerk_settings, alice)
    assert_refused(get_me(client, token), reason)


@pytest.mark.parametrize("kind", ATTACKS)
def test_reason_never_echoes_the_token(client, alice, clerk_settings, kind):
    token, _ = forged(kind, clerk_settings, alice)
    response = get_me(client, token)
    body = response.content.decode() + response["WWW-Authenticate"]
    for part in token.split("."):
        assert len(part) < 4 or part not in body


@pytest.mark.parametrize(
    ("header", "reason"),
    [("Bearer", "missing token"), ("Bearer ", "missing token"), ("Bearer    ", "missing token")],
)
def test_bearer_without_a_token_is_refused(client, alice, clerk_settings, header, reason):
    assert_refused(get_me(client, header=header), reason)


def test_missing_header_is_401_with_the_bearer_challenge(client, alice, clerk_settings):
    response = get_me(client)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_token"
    assert response["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="missing token"'
    )


def test_other_authorization_schemes_are_not_bearer(client, alice, clerk_settings):
    response = get_me(client, header="Basic YWxpY2U6cGFzc3dvcmQ=")
    assert response.status_code == 401
    assert "missing token" in response["WWW-Authenticate"]


class TestAuthorizedParties:
    @pytest.fixture(autouse=True)
    def parties(self, settings, clerk_settings):
        settings.CLERK_AUTHORIZED_PARTIES = ["https://app.thetavue.test"]

    def test_listed_azp_is_accepted(self, client, alice, clerk_settings):
        token = clerk_settings.sign(session_claims(alice.pk, azp="https://app.thetavue.test"))
        assert get_me(client, token).status_code == 200

    def test_unlisted_azp_is_refused(self, client, alice, clerk_settings):
        token = clerk_settings.sign(session_claims(alice.pk, azp="https://evil.test"))
        assert_refused(get_me(client, token), clerk.UNAUTHORIZED_PARTY)

    def test_missing_azp_is_refused_once_parties_are_set(self, client, alice, clerk_settings):
        token = clerk_settings.sign(session_claims(alice.pk))
        assert_refused(get_me(client, token), clerk.UNAUTHORIZED_PARTY)


def test_missing_azp_is_fine_without_parties(client, alice, clerk_settings):
    token = clerk_settings.sign(session_claims(alice.pk))
    assert get_me(client, token).status_code == 200


class TestClockEdges:
    """exp, nbf and iat with the 5-second leeway, the clock frozen."""

    T0 = 1_780_000_000

    def token(self, key, alice, **claims):
        base = {"iat": self.T0, "nbf": self.T0 - 10, "exp": self.T0 + 60}
        return key.sign(session_claims(alice.pk, **{**base, **claims}))

    @pytest.mark.parametrize(
        ("offset", "accepted"), [(60 + 4, True), (60 + 5, False), (60 + 6, False)]
    )
    def test_exp_leeway(self, client, alice, clerk_settings, offset, accepted):
        token = self.token(clerk_settings, alice)
        with time_machine.travel(self.T0 + offset, tick=False):
            response = get_me(client, token)
        if accepted:
            assert response.status_code == 200
        else:
            assert_refused(response, clerk.EXPIRED)

    @pytest.mark.parametrize(("ahead", "accepted"), [(5, True), (6, False)])
    @pytest.mark.parametrize("claim", ["nbf", "iat"])
    def test_nbf_and_iat_leeway(self, client, alice, clerk_settings, claim, ahead, accepted):
        token = self.token(clerk_settings, alice, **{claim: self.T0 + ahead})
        with time_machine.travel(self.T0, tick=False):
            response = get_me(client, token)
        if accepted:
            assert response.status_code == 200
        else:
            assert_refused(response, clerk.NOT_YET_VALID)


def test_clerk_not_configured_refuses_every_jwt(client, alice, settings, clerk_key):
    settings.CLERK_JWT_KEY = ""
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_ISSUER = ""
    assert_refused(get_me(client, clerk_key.sign(session_claims(alice.pk))), clerk.UNKNOWN_KEY)


def test_a_valid_bearer_wins_over_a_session_cookie_of_another_user(bob_client, alice, bearer_for):
    response = bob_client.get(ME, HTTP_AUTHORIZATION=bearer_for(alice))
    assert response.json()["id"] == "user_alice"


class TestSessionCookie:
    def test_valid_session_cookie_signs_the_user_in(self, client, alice, clerk_settings):
        client.cookies["__session"] = clerk_settings.sign(session_claims(alice.pk))
        response = client.get(ME)
        assert response.status_code == 200
        assert response.json()["id"] == "user_alice"

    def test_only_the_exact_cookie_name_counts(self, client, alice, clerk_settings):
        client.cookies["__session_abc123"] = clerk_settings.sign(session_claims(alice.pk))
        assert client.get(ME).status_code == 401

    def test_expired_cookie_on_a_page_is_just_not_signed_in(self, client, alice, clerk_settings):
        now = int(time.time())
        client.cookies["__session"] = clerk_settings.sign(
            session_claims(alice.pk, iat=now - 120, nbf=now - 130, exp=now - 60)
        )
        # A dashboard page: no 401, the anonymous flow (sign-in redirect) applies.
        response = client.get(reverse("account_login"))
        assert response.status_code == 200
        # The API says why, so clerk-js knows to refresh the cookie.
        response = client.get(ME)
        assert response.status_code == 401
        assert 'error_description="token expired"' in response["WWW-Authenticate"]

    def test_expired_cookie_falls_back_to_a_django_session(self, alice_client, clerk_settings):
        now = int(time.time())
        alice_client.cookies["__session"] = clerk_settings.sign(
            session_claims("user_bob", iat=now - 120, nbf=now - 130, exp=now - 60)
        )
        response = alice_client.get(ME)
        assert response.status_code == 200
        assert response.json()["auth_method"] == "session"

    def test_cookie_writes_need_the_csrf_token(self, alice, clerk_settings):
        from django.test import Client

        client = Client(enforce_csrf_checks=True)
        client.cookies["__session"] = clerk_settings.sign(session_claims(alice.pk))
        response = client.post(
            "/api/auth/tokens", {"name": "x", "scope": "read"}, content_type="application/json"
        )
        assert response.status_code == 403
        assert "CSRF" in response.json()["error"]["message"]

    def test_bearer_writes_need_no_csrf_token(self, alice, bearer_for):
        from rest_framework.test import APIClient

        client = APIClient(enforce_csrf_checks=True)
        response = client.post(
            "/api/auth/tokens",
            {"name": "x", "scope": "read"},
            format="json",
            HTTP_AUTHORIZATION=bearer_for(alice),
        )
        assert response.status_code == 201


def test_verifier_refuses_every_broken_token_without_the_middleware(clerk_settings, alice):
    # The same matrix at the function level: no request, no database.
    for kind in ATTACKS:
        token, reason = forged(kind, clerk_settings, alice)
        with pytest.raises(clerk.TokenRejected) as refused:
            clerk.verify_session_token(token)
        assert refused.value.reason == reason, kind
