"""A worker SIGKILLed at each point of a sync: the task is re-run and the data stays consistent.

acks_late + reject_on_worker_lost make the prefork pool requeue a task whose
child died; the dead child's lock expires within SYNC_LOCK_TTL_SECONDS (2 s
here) and the redelivered run retries after it.
"""

from __future__ import annotations

import signal
import time

import psutil
import psycopg
import pytest
from django.db import connection as db
from django.test import override_settings

from brokers.models import BrokerConnection, SyncRun
from brokers.sync import connection_sync
from brokers.sync_queue import sync_enqueue
from brokers.tests.celery_worker import running_worker, worker_database_url
from brokers.tests.sync_helpers import fast_client_factory, granted_connection
from portfolios.models import Position
from thetavue_site import rls

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LOCK_TTL = "2"
WAIT_SECONDS = 90


def poll(predicate, what: str, seconds: float = WAIT_SECONDS):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def run_of(user_id: str, run_id: int) -> SyncRun:
    with rls.as_user(user_id):
        return SyncRun.objects.get(pk=run_id)


def pool_child(worker) -> psutil.Process:
    return poll(lambda: (psutil.Process(worker.pid).children() or [None])[0], "the pool child")


def blocked_on_a_lock() -> bool:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def leg_state(user_id: str) -> list[tuple]:
    with rls.as_user(user_id):
        return sorted(
            Position.objects.values_list("portfolio__broker_account_id", "symbol", "quantity")
        )


@pytest.mark.parametrize("point", ["before-fetch", "mid-fetch", "inside-write", "after-commit"])
def test_killed_worker_is_replaced_and_the_run_completes(tastytrade_sandbox, alice, point):
    sandbox = tastytrade_sandbox
    with override_settings(
        TASTYTRADE_API_BASE_URL=sandbox.base_url, SYNC_LOCK_TTL_SECONDS=int(LOCK_TTL)
    ):
        connection = granted_connection(sandbox, alice)
        # A first good sync: what the broker holds, and rows a crash could damage.
        assert (
            connection_sync(
                connection_id=connection.pk, owner_id=alice.pk, client_factory=fast_client_factory
            ).status
            == "succeeded"
        )
        expected = leg_state(alice.pk)
        sandbox.tick(20)
        if point == "before-fetch":
            sandbox.add_fault("latency", path="/customers/me/accounts", seconds=5, times=1)
        elif point == "mid-fetch":
            sandbox.add_fault("latency", path="/market-data/by-type", seconds=5, times=1)
        else:
            sandbox.add_fault("latency", path="/market-metrics", seconds=1.5, times=1)

        with running_worker(
            base_url=sandbox.base_url, extra_env={"SYNC_LOCK_TTL_SECONDS": LOCK_TTL}
        ) as worker:
            with rls.as_user(alice.pk):
                run = sync_enqueue(connection=connection, trigger="manual")
            holder = None
            if point == "before-fetch":
                poll(lambda: run_of(alice.pk, run.pk).status == "running", "the run to start")
            elif point == "mid-fetch":
                poll(
                    lambda: run_of(alice.pk, run.pk).progress == "fetching quotes",
                    "the quote fetch",
                )
            else:
                poll(
                    lambda: run_of(alice.pk, run.pk).progress == "fetching quotes",
                    "the quote fetch",
                )
                # Hold a row the sync must write, from outside: the worker blocks there.
                holder = psycopg.connect(worker_database_url())
                holder.execute("SELECT set_config('app.service', 'on', false)")
                if point == "inside-write":
                    holder.execute(
                        "SELECT id FROM portfolios WHERE user_id = %s FOR UPDATE", [alice.pk]
                    )
                else:  # the accounts commit, then the run's own row is locked
                    holder.execute("SELECT id FROM sync_runs WHERE id = %s FOR UPDATE", [run.pk])
                poll(blocked_on_a_lock, "the worker to block inside its transaction")

            child = pool_child(worker)
            child.send_signal(signal.SIGKILL)
            if holder is not None:
                holder.rollback()
                holder.close()

            finished = poll(
                lambda: (r := run_of(alice.pk, run.pk)).status in ("succeeded", "failed") and r,
                "the re-run to finish",
            )
            replacement = pool_child(worker)

    assert replacement.pid != child.pid, "another worker process ran the task"
    assert finished.status == "succeeded", finished.error
    assert leg_state(alice.pk) == expected
    with rls.as_user(alice.pk):
        connection.refresh_from_db()
        assert connection.status == BrokerConnection.Status.ACTIVE
        assert SyncRun.objects.filter(status="running").count() == 0
