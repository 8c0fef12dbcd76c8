"""A redis-py client on settings.REDIS_URL, for code that needs Redis to be right.

The cache (cache_backend.py) turns an unreachable Redis into a miss; locks and
single-use OAuth states must fail loudly instead, so they use this client.
Keys go through the cache's key function, so they share its prefix (and a
test run's private namespace).
"""

from __future__ import annotations

import functools

import redis
from django.conf import settings
from django.core.cache import cache

# As the cache's own client: a stalled Redis fails a request in seconds.
SOCKET_TIMEOUT_SECONDS = 2


@functools.cache
def _client_for(url: str) -> redis.Redis:
    # redis-py's pool notices a fork and reconnects, so one client per URL
    # serves every thread of a process, prefork workers included.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
        socket_timeout=SOCKET_TIMEOUT_SECONDS,
    )


def redis_client() -> redis.Redis:
    """Return the process's client for settings.REDIS_URL (redis://, rediss:// or unix://)."""
    return _client_for(settings.REDIS_URL)


def redis_key(name: str) -> str:
    """Return `name` under the cache's key prefix and version."""
    return cache.make_and_validate_key(name)
