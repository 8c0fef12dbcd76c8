"""JWKS mode: keys fetched from a loopback server, cached, refetched at most once a minute."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt import jwks_client as pyjwt_jwks_client

from conftest import CLERK_TEST_ISSUER, rsa_key_pems, session_claims
from thetavue_site.users import clerk

pytestmark = pytest.mark.django_db

ME = "/api/auth/me"


def jwk(public_pem: str, kid: str) -> dict:
    key = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(load_pem_public_key(public_pem.encode())))
    return {**key, "kid": kid, "use": "sig", "alg": "RS256"}


class JwksServer:
    """Serve {"keys": [...]} on 127.0.0.1 and count the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                server.hits += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class FakeMonotonic:
    """PyJWKClient's cache and cooldown read time.monotonic, which time-machine leaves alone."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeMonotonic()

    class TimeModule:
        monotonic = staticmethod(fake.monotonic)

    monkeypatch.setattr(pyjwt_jwks_client, "time", TimeModule)
    monkeypatch.setattr("jwt.jwk_set_cache.time", TimeModule)
    monkeypatch.setattr("jwt.api_jwk.time", TimeModule)
    return fake


@pytest.fixture
def keys():
    """Two instance keys (current and rotated-in) and their private PEMs."""
    return {"ins_a": rsa_key_pems(), "ins_b": rsa_key_pems()}


@pytest.fixture
def jwks(settings, keys, clock):
    clerk._jwks_client.cache_clear()
    with JwksServer() as server:
        server.keys = [jwk(keys["ins_a"][1], "ins_a")]
        settings.CLERK_JWT_KEY = ""
        settings.CLERK_JWKS_URL = server.url
        settings.CLERK_ISSUER = CLERK_TEST_ISSUER
        settings.CLERK_AUTHORIZED_PARTIES = []
        yield server
    clerk._jwks_client.cache_clear()


def signed(keys, kid: str, sub: str = "user_alice", **headers) -> str:
    return jwt.encode(session_claims(sub), keys[kid][0], "RS256", headers={"kid": kid, **headers})


def test_token_signed_by_a_published_key_is_accepted(client, alice, jwks, keys):
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_a')}").status_code == 200
    assert jwks.hits == 1


def test_key_set_is_cached_across_requests(client, alice, jwks, keys, clock):
    for _ in range(3):
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_a')}")
        assert response.status_code == 200
    assert jwks.hits == 1
    clock.now += 301  # lifespan 300 s
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_a')}").status_code == 200
    assert jwks.hits == 2


def test_unknown_kid_refetches_once_then_cools_down_for_a_minute(client, alice, jwks, keys, clock):
    # given: the key set was fetched, then Clerk rotated in ins_b
    assert client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_a')}").status_code == 200
    jwks.keys.append(jwk(keys["ins_b"][1], "ins_b"))

    # when: a token with the new kid arrives within the cooldown of that fetch
    clock.now += 30
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_b')}")
    # then: refused without a fetch
    assert response.status_code == 401
    assert 'error_description="unknown signing key"' in response["WWW-Authenticate"]
    assert jwks.hits == 1

    # when: after the minute, one refetch finds it
    clock.now += 31
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_b')}")
    assert response.status_code == 200
    assert jwks.hits == 2

    # then: a flood of unknown kids right after costs no fetch at all
    for index in range(5):
        token = jwt.encode(
            session_claims("user_alice"), keys["ins_b"][0], "RS256", headers={"kid": f"x{index}"}
        )
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401
        assert 'error_description="unknown signing key"' in response["WWW-Authenticate"]
    assert jwks.hits == 2


def test_alg_none_with_unknown_kid_causes_no_fetch(client, alice, jwks):
    import base64

    def b64(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{b64({'alg': 'none', 'kid': 'nope'})}.{b64(session_claims('user_alice'))}."
    response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert 'error_description="unsupported algorithm"' in response["WWW-Authenticate"]
    assert jwks.hits == 0


def test_jku_and_jwk_headers_pointing_at_an_attacker_key_are_ignored(client, alice, jwks, keys):
    attacker_private, attacker_public = rsa_key_pems()
    with JwksServer() as attacker:
        attacker.keys = [jwk(attacker_public, "ins_a")]
        token = jwt.encode(
            session_claims("user_alice"),
            attacker_private,
            "RS256",
            headers={"kid": "ins_a", "jku": attacker.url, "jwk": jwk(attacker_public, "ins_a")},
        )
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert 'error_description="invalid signature"' in response["WWW-Authenticate"]
    assert attacker.hits == 0


def test_unreachable_jwks_is_401_and_logged(client, alice, settings, keys, caplog, clock):
    clerk._jwks_client.cache_clear()
    settings.CLERK_JWT_KEY = ""
    settings.CLERK_JWKS_URL = "http://127.0.0.1:9/.well-known/jwks.json"  # discard port
    settings.CLERK_ISSUER = CLERK_TEST_ISSUER
    try:
        response = client.get(ME, HTTP_AUTHORIZATION=f"Bearer {signed(keys, 'ins_a')}")
    finally:
        clerk._jwks_client.cache_clear()
    assert response.status_code == 401
    assert 'error_description="signing keys unavailable"' in response["WWW-Authenticate"]
    assert "Clerk JWKS fetch failed" in caplog.text


def test_one_client_per_process():
    clerk._jwks_client.cache_clear()
    url = "http://127.0.0.1:1/jwks.json"
    first = clerk._jwks_client(url)
    assert clerk._jwks_client(url) is first
    assert (first.cooldown_duration, first.timeout, first.jwk_set_cache.lifespan) == (60, 5, 300)
    clerk._jwks_client.cache_clear()
