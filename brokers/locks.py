"""One sync at a time per connection: an atomic Redis lock released only by its holder.

The lock lives SYNC_LOCK_TTL_SECONDS and a heartbeat thread extends it while
its holder runs, so a worker killed mid-sync frees the connection within one
TTL instead of after the task's whole time limit.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache

_RELEASE_IF_HOLDER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end
"""
_EXTEND_IF_HOLDER = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end
"""


def _key(name: str) -> str:
    return cache.make_and_validate_key(f"lock:{name}")


def _redis():
    return cache._cache.get_client(write=True)  # the Redis client behind Django's cache


@contextlib.contextmanager
def redis_lock(name: str, ttl_seconds: int | None = None) -> Iterator[bool]:
    """Yield True when this caller holds the lock `name`, False when another does."""
    ttl = ttl_seconds or settings.SYNC_LOCK_TTL_SECONDS
    client = _redis()
    key = _key(name)
    token = secrets.token_hex(16)
    acquired = bool(client.set(key, token, nx=True, ex=ttl))
    stop = threading.Event()
    heartbeat = None
    if acquired:

        def beat() -> None:
            # Extend at a third of the TTL: two missed beats still leave margin.
            while not stop.wait(ttl / 3):
                if not client.eval(_EXTEND_IF_HOLDER, 1, key, token, ttl):
                    return  # lost the lock (expired); the holder finishes, the next run redoes

        heartbeat = threading.Thread(target=beat, name=f"lock-heartbeat:{name}", daemon=True)
        heartbeat.start()
    try:
        yield acquired
    finally:
        if acquired:
            stop.set()
            heartbeat.join(timeout=5)
            client.eval(_RELEASE_IF_HOLDER, 1, key, token)


def connection_lock(connection_id: int) -> contextlib.AbstractContextManager[bool]:
    return redis_lock(f"sync-connection:{connection_id}")


def lock_is_held(name: str) -> bool:
    return bool(_redis().exists(_key(name)))
