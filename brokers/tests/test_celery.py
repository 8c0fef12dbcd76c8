"""Syncs through a real Celery worker on the real Redis broker, and the beat schedule."""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import pytest
from celery.schedules import crontab
from django.conf import settings

from brokers.models import SyncRun
from brokers.sync_queue import sync_enqueue
from brokers.tests.celery_worker import running_worker
from brokers.tests.sync_helpers import granted_connection
from portfolios.models import Position
from thetavue_site import rls
from thetavue_site.celery import app as celery_app

WORKER_WAIT_SECONDS = 90


@pytest.fixture
def worker_queue(tastytrade_sandbox):
    with running_worker(base_url=tastytrade_sandbox.base_url) as worker:
        yield worker


def wait_for_run(user_id: str, run_id: int) -> SyncRun:
    deadline = time.monotonic() + WORKER_WAIT_SECONDS
    while time.monotonic() < deadline:
        with rls.as_user(user_id):
            run = SyncRun.objects.get(pk=run_id)
        if run.status in ("succeeded", "failed"):
            return run
        time.sleep(0.25)
    raise AssertionError(f"run {run_id} still {run.status} after {WORKER_WAIT_SECONDS} s")


@pytest.mark.django_db(transaction=True)
def test_a_queued_sync_is_run_by_a_real_worker(worker_queue, tastytrade_sandbox, alice):
    connection = granted_connection(tastytrade_sandbox, alice)
    # as_user is the outermost transaction here: its commit sends the task.
    with rls.as_user(alice.pk):
        run = sync_enqueue(connection=connection, trigger="manual")

    finished = wait_for_run(alice.pk, run.pk)

    assert finished.status == "succeeded", finished.error
    with rls.as_user(alice.pk):
        assert Position.objects.count() == finished.positions_added > 0


def test_beat_schedule_holds_the_sync_the_snapshot_and_the_pruning():
    import brokers.tasks  # noqa: F401 - registers the tasks as the worker's autodiscovery does
    import metrics.tasks  # noqa: F401

    schedule = settings.CELERY_BEAT_SCHEDULE
    tasks = {entry["task"] for entry in schedule.values()}
    assert tasks == {
        "brokers.sync_all_connections",
        "metrics.snapshot_all",
        "brokers.prune_history",
    }
    assert tasks <= set(celery_app.tasks)

    sync_entry = schedule["sync-connections-every-interval"]["schedule"]
    assert isinstance(sync_entry, crontab)
    assert sync_entry.minute == {0, 15, 30, 45}
    assert schedule["sync-connections-every-interval"]["options"]["expires"] < 15 * 60

    snapshot = schedule["snapshot-metrics-nightly"]["schedule"]
    assert (snapshot.hour, snapshot.minute) == ({17}, {15})
    # Crontabs are read in New York time: the snapshot follows the close, DST or not.
    assert str(celery_app.conf.timezone) == "America/New_York"
    new_york = ZoneInfo("America/New_York")
    for day in (dt.date(2026, 3, 9), dt.date(2026, 11, 2)):
        just_after = dt.datetime.combine(day, dt.time(17, 16), new_york)
        due, _ = snapshot.is_due(just_after - dt.timedelta(days=1))
        assert due
