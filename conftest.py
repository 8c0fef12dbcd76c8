"""Shared fixtures: two tenants (alice, bob), an admin, and their clients.

Tests run against real PostgreSQL and Redis (embedded by default). Tenant
rows are seeded under `rls.as_service()`; requests carry their own context.
"""

from __future__ import annotations

import socket

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from thetavue_site import rls

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


@pytest.fixture(autouse=True)
def _clear_cache():
    yield
    cache.clear()


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
