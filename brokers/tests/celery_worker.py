"""Start a real Celery worker on a private queue against the test database."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

from celery import Celery
from django.conf import settings
from django.db import connection as db

from thetavue_site.celery import app as celery_app

WORKER_START_SECONDS = 90


def worker_database_url() -> str:
    s = db.settings_dict
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@contextlib.contextmanager
def running_worker(
    *, base_url: str, extra_env: dict[str, str] | None = None, broker_url: str | None = None
) -> Iterator[subprocess.Popen]:
    """Run a prefork worker (one child) consuming a fresh queue that tasks are sent to.

    `broker_url`: the broker the worker uses when it is not the app's (the
    ping that waits for it goes there too). The process has a `.queue`.
    """
    queue = f"test-{uuid.uuid4().hex[:8]}"
    previous = celery_app.conf.task_default_queue
    celery_app.conf.task_default_queue = queue
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "TASTYTRADE_API_BASE_URL": base_url,
        "CELERY_QUEUE": queue,
        "THETAVUE_CACHE_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        **(extra_env or {}),
    }
    hostname = f"{queue}@{socket.gethostname()}"
    worker = subprocess.Popen(  # noqa: S603 - our own worker command
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "thetavue_site",
            "worker",
            "-Q",
            queue,
            "--concurrency",
            "1",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
            "--hostname",
            hostname,
        ],
        cwd=settings.BASE_DIR,
        env=env,
    )
    worker.queue = queue
    control = (
        Celery("worker-ping", broker=broker_url, set_as_current=False).control
        if broker_url
        else celery_app.control
    )
    try:
        # A message published before the worker bound its queue would be dropped
        # by the Redis transport: wait until the worker answers a ping.
        deadline = time.monotonic() + WORKER_START_SECONDS
        while not control.ping(destination=[hostname], timeout=0.5):
            assert worker.poll() is None, "the worker exited"
            assert time.monotonic() < deadline, "the worker did not start"
        yield worker
    finally:
        celery_app.conf.task_default_queue = previous
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
