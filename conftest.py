"""Shared fixtures: two tenants (alice, bob), an admin, and their clients.

Tests run against real PostgreSQL and Redis (embedded by default). Tenant
rows are seeded under `rls.as_service()`; requests carry their own context.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import socket
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from thetavue_site import rls

# The sandbox's fixtures (tastytrade_sandbox, tastytrade_sandbox_server) for every app's tests.
pytest_plugins = ["tastytrade_sandbox.pytest_plugin", "tests.world"]

PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch):
    """Refuse sockets beyond loopback: nothing external is reachable in tests."""
    real_connect = socket.socket.connect

    def guarded(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and self.family in (socket.AF_INET, socket.AF_INET6):
            if host not in {"127.0.0.1", "localhost", "::1"} and not host.startswith("127."):
                raise OSError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


DB_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "live_server"})


def _may_have_used_redis(request) -> bool:
    """Whether the test can have written cache keys: it used the database (every
    page and API test does) or something built this process's Redis client."""
    from thetavue_site.redis_client import _client_for

    return (
        bool(DB_FIXTURES.intersection(request.fixturenames))
        or request.node.get_closest_marker("django_db") is not None
        or _client_for.cache_info().currsize > 0
    )


@pytest.fixture(autouse=True)
def _clear_cache(request):
    """Forget this run's cache keys after each test that may have written some.

    Only keys under this run's prefix: the Redis database is shared with the
    Celery broker and with other test runs, which FLUSHDB would wipe. Pure
    tests (no database, no Redis client) skip it, so they run without Redis.
    """
    yield
    from thetavue_site.redis_client import redis_client
    from thetavue_site.users import clerk

    clerk.VERIFIED.clear()  # the per-process memory of verified tokens, too
    if not _may_have_used_redis(request):
        return
    client = redis_client()
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(scope="session", autouse=True)
def _private_cache_prefix():
    """Give this test run its own cache namespace (locks, OAuth states, metrics, sessions)."""
    from django.conf import settings
    from django.test import override_settings

    prefix = f"tvtest{os.getpid()}"
    caches = {
        **settings.CACHES,
        "default": {**settings.CACHES["default"], "KEY_PREFIX": prefix},
        # Under the same prefix, so _clear_cache forgets the sessions too.
        "sessions": {**settings.CACHES["sessions"], "KEY_PREFIX": f"{prefix}:sessions"},
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Create and migrate the test database as the owner role (DATABASE_OWNER_URL).

    pytest-django's django_db_setup runs next, as the owner; the override
    below then logs every connection in as the application role, which owns
    nothing: tests see the database as web and workers do.
    """
    from thetavue_site import db_roles

    db_roles.switch_default_role(owner=True)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from thetavue_site import db_roles

    with django_db_blocker.unblock():
        db_roles.switch_default_role(owner=False)
    yield
    with django_db_blocker.unblock():
        db_roles.switch_default_role(owner=True)  # the owner drops the test database


def make_user(email: str, *, clerk_id: str | None = None, **fields):
    from thetavue_site.users.models import User

    with rls.as_service():
        extra = {"clerk_id": clerk_id} if clerk_id else {}
        return User.objects.create_user(email=email, password=PASSWORD, **extra, **fields)


@pytest.fixture
def alice(db):
    return make_user("alice@example.com", clerk_id="user_alice", display_name="Alice")


@pytest.fixture
def bob(db):
    return make_user("bob@example.com", clerk_id="user_bob", display_name="Bob")


@pytest.fixture
def admin_user(db):
    return make_user("admin@example.com", clerk_id="user_admin", is_staff=True, is_superuser=True)


def login(client, user):
    # Django's login updates users.last_login: a write under RLS.
    with rls.as_service():
        client.force_login(user)
    return client


@pytest.fixture
def alice_client(alice):
    return login(Client(), alice)


@pytest.fixture
def bob_client(bob):
    return login(Client(), bob)


@pytest.fixture
def admin_client(admin_user):
    return login(Client(), admin_user)


@pytest.fixture
def alice_api(alice):
    return login(APIClient(), alice)


@pytest.fixture
def bob_api(bob):
    return login(APIClient(), bob)


# --- Bearer tokens (Clerk session JWTs and personal API tokens) -----------------
#
# `bearer_for(user)` returns an "Authorization" header value with a Clerk-shaped
# session JWT signed by a key generated for this test run (PEM mode: no network).
# `alice_token_client` / `bob_token_client` are APIClients that send it.
# `api_token_for(user, scope=...)` returns a personal `tv_…` token.
# Tokens live one hour from minting: mint inside a time_machine.travel block
# when a test moves the clock further than that.

CLERK_TEST_ISSUER = "https://clerk.thetavue.test"
CLERK_TEST_KID = "ins_test"


@dataclasses.dataclass(frozen=True)
class ClerkTestKey:
    private_pem: str
    public_pem: str
    kid: str

    def sign(self, claims: dict, *, headers: dict | None = None) -> str:
        return jwt.encode(
            claims, self.private_pem, "RS256", headers={"kid": self.kid, **(headers or {})}
        )


def rsa_key_pems() -> tuple[str, str]:
    """Return (private PEM, public PEM) of a fresh 2048-bit RSA key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


def session_claims(sub: str, **overrides) -> dict:
    """Return the default claims of a Clerk session token (v2) for `sub`, minted now."""
    now = int(time.time())
    claims = {
        "iss": CLERK_TEST_ISSUER,
        "sub": sub,
        "sid": f"sess_{secrets.token_hex(8)}",
        "v": 2,
        "jti": secrets.token_hex(10),
        "iat": now,
        "nbf": now - 10,
        "exp": now + 3600,
        "fva": [0, -1],
    }
    claims.update(overrides)
    return {key: value for key, value in claims.items() if value is not None}


@pytest.fixture(scope="session")
def clerk_key() -> ClerkTestKey:
    private_pem, public_pem = rsa_key_pems()
    return ClerkTestKey(private_pem=private_pem, public_pem=public_pem, kid=CLERK_TEST_KID)


@pytest.fixture
def clerk_settings(settings, clerk_key) -> ClerkTestKey:
    """Trust `clerk_key` as the Clerk instance's key (CLERK_JWT_KEY, no JWKS, no parties)."""
    settings.CLERK_JWT_KEY = clerk_key.public_pem
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_ISSUER = CLERK_TEST_ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = []
    return clerk_key


@pytest.fixture
def bearer_for(clerk_settings):
    """bearer_for(user, **claim_overrides) -> "Bearer <jwt>"; a claim set to None is left out."""

    def make(user, **claims) -> str:
        return f"Bearer {clerk_settings.sign(session_claims(user.pk, **claims))}"

    return make


@pytest.fixture
def alice_token_client(alice, bearer_for) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(alice))
    return client


@pytest.fixture
def bob_token_client(bob, bearer_for) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(bob))
    return client


@pytest.fixture
def api_token_for(db):
    """api_token_for(user, scope="read_write", name="test") -> the raw `tv_…` value."""
    from thetavue_site.users.tokens import api_token_create

    def make(user, scope: str = "read_write", name: str = "test") -> str:
        with rls.as_service():
            _, raw = api_token_create(user=user, name=name, scope=scope)
        return raw

    return make


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Hash test passwords with MD5: PBKDF2's 1M rounds cost ~0.4 s per user created."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
