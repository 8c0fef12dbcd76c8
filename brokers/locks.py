"""One sync at a time per connection: redis-py's Lock, released only by its holder.

The lock lives SYNC_LOCK_TTL_SECONDS and a heartbeat thread renews it
(`Lock.reacquire`) while its holder runs, so a worker killed mid-sync frees
the connection within one TTL instead of after the task's whole time limit.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from django.conf import settings
from redis.exceptions import LockError
from redis.lock import Lock

from thetavue_site.redis_client import redis_client, redis_key

logger = logging.getLogger(__name__)


def _lock(name: str, ttl_seconds: int) -> Lock:
    # thread_local=False: the heartbeat thread renews with the holder's token.
    return redis_client().lock(
        redis_key(f"lock:{name}"), timeout=ttl_seconds, blocking=False, thread_local=False
    )


@contextlib.contextmanager
def redis_lock(name: str, ttl_seconds: int | None = None) -> Iterator[bool]:
    """Yield True when this caller holds the lock `name`, False when another does."""
    ttl = ttl_seconds or settings.SYNC_LOCK_TTL_SECONDS
    lock = _lock(name, ttl)
    if not lock.acquire():
        yield False
        return
    stop = threading.Event()

    def beat() -> None:
        # Renew at a third of the TTL: two missed beats still leave margin.
        while not stop.wait(ttl / 3):
            try:
                lock.reacquire()
            except LockError:
                return  # Lost (expired): the holder finishes, the next run redoes.

    heartbeat = threading.Thread(target=beat, name=f"lock-heartbeat:{name}", daemon=True)
    heartbeat.start()
    try:
        yield True
    finally:
        stop.set()
        heartbeat.join(timeout=5)
        try:
            lock.release()
        except LockError:
            # Expired and perhaps taken by another worker: theirs now, not ours to delete.
            logger.warning("lock %s expired before its holder released it", name)


def connection_lock(connection_id: int) -> contextlib.AbstractContextManager[bool]:
    return redis_lock(f"sync-connection:{connection_id}")


def lock_is_held(name: str) -> bool:
    return _lock(name, settings.SYNC_LOCK_TTL_SECONDS).locked()
