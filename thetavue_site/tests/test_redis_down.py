"""With Redis down, web keeps serving from PostgreSQL and says what is unavailable.

Sessions live in Redis: with Redis down a browser session reads as signed
out (never a 500; Django then clears the cookie, so the trader signs in
again), while Bearer tokens (Clerk JWTs, API tokens) keep working.
"""

import pytest
from django.test import override_settings

from portfolios.tests.factories import make_book, make_portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db

DOWN_URL = "redis://127.0.0.1:1/0"
UNREACHABLE = {
    "default": {
        "BACKEND": "thetavue_site.cache_backend.ResilientRedisCache",
        "LOCATION": DOWN_URL,
        "KEY_PREFIX": "down",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    },
    "sessions": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "KEY_PREFIX": "down",
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    },
}


def test_api_serves_from_the_database_while_redis_is_down(alice_token_client, alice):
    alice_api = alice_token_client
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=5)
    with override_settings(CACHES=UNREACHABLE, REDIS_URL=DOWN_URL):
        listing = alice_api.get("/api/portfolio/")
        positions = alice_api.get(f"/api/portfolio/{portfolio.pk}/positions/")
        metrics = alice_api.get(f"/api/portfolio/{portfolio.pk}/metrics/")
        health = alice_api.get("/healthz")
        connect = alice_api.post("/api/tastytrade/connect")
    assert listing.status_code == 200 and listing.json()["count"] == 1
    assert positions.status_code == 200 and positions.json()["count"] == 5
    assert metrics.status_code == 200
    assert metrics.json()["total_delta"] == pytest.approx(150.0)
    assert health.status_code == 503 and health.json()["checks"]["redis"] == "unreachable"
    assert connect.status_code == 503
    assert connect.json()["error"]["code"] == "unavailable"


def test_a_session_reads_as_signed_out_while_redis_is_down(alice_api):
    with override_settings(CACHES=UNREACHABLE):
        response = alice_api.get("/api/portfolio/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] in {"not_authenticated", "invalid_token"}
