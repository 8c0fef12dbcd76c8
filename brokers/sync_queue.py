"""Queue syncs: a run row first (so the trader sees it), the task after commit."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from brokers.models import BrokerConnection, SyncRun
from thetavue_site.celery import app as celery_app

MANUAL_SYNC_COOLDOWN_SECONDS = 60
# The task is sent by its stable name: brokers.tasks sits above this service
# and imports it, so importing the task object back would close a cycle.
SYNC_CONNECTION_TASK = "brokers.sync_connection"


class SyncTooSoon(Exception):
    """A manual sync was asked for within the cooldown; `retry_after` says when to come back."""

    def __init__(self, retry_after: int):
        super().__init__(f"a sync was started less than {MANUAL_SYNC_COOLDOWN_SECONDS} s ago")
        self.retry_after = retry_after


def manual_sync_wait_seconds(
    *, connection: BrokerConnection, now: dt.datetime | None = None
) -> int:
    """Return seconds until a manual sync is allowed again (0 = now)."""
    now = now or timezone.now()
    last = (
        SyncRun.objects.filter(connection=connection, trigger__in=["manual", "connect"])
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if last is None:
        return 0
    remaining = MANUAL_SYNC_COOLDOWN_SECONDS - (now - last).total_seconds()
    return max(0, int(remaining + 0.999))


def sync_enqueue(
    *, connection: BrokerConnection, trigger: str, countdown_seconds: float = 0
) -> SyncRun:
    """Create a queued run and send its task once the surrounding transaction commits."""
    run = SyncRun.objects.create(
        connection=connection,
        trigger=trigger,
        status=SyncRun.Status.QUEUED,
        started_at=timezone.now(),
    )
    args = (connection.pk, connection.user_id, run.pk)
    transaction.on_commit(
        lambda: celery_app.send_task(SYNC_CONNECTION_TASK, args=args, countdown=countdown_seconds)
    )
    return run


@transaction.atomic
def sync_request_manual(*, connection: BrokerConnection) -> SyncRun:
    """Queue a sync asked for by the trader, at most once a minute per connection."""
    # Lock the connection so two clicks at once cannot both pass the cooldown.
    BrokerConnection.objects.select_for_update().filter(pk=connection.pk).values_list("pk").get()
    wait = manual_sync_wait_seconds(connection=connection)
    if wait:
        raise SyncTooSoon(retry_after=wait)
    return sync_enqueue(connection=connection, trigger="manual")
