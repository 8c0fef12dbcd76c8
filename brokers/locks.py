"""One sync at a time per connection: an atomic Redis lock released only by its holder."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterator

from django.core.cache import cache

# Above the sync task's hard time limit: a killed worker's lock expires by itself.
LOCK_TTL_SECONDS = 180

_RELEASE_IF_HOLDER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""


def _key(name: str) -> str:
    return cache.make_and_validate_key(f"lock:{name}")


@contextlib.contextmanager
def redis_lock(name: str, ttl_seconds: int = LOCK_TTL_SECONDS) -> Iterator[bool]:
    """Yield True when this caller holds the lock `name`, False when another does."""
    client = cache._cache.get_client(write=True)  # the Redis client behind Django's cache
    key = _key(name)
    token = secrets.token_hex(16)
    acquired = bool(client.set(key, token, nx=True, ex=ttl_seconds))
    try:
        yield acquired
    finally:
        if acquired:
            client.eval(_RELEASE_IF_HOLDER, 1, key, token)


def connection_lock(connection_id: int) -> contextlib.AbstractContextManager[bool]:
    return redis_lock(f"sync-connection:{connection_id}")
