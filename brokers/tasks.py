"""Celery tasks for broker syncs: thin, ids in, state re-read inside."""

from __future__ import annotations

import datetime as dt
import logging
import random

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from brokers import sync
from brokers.models import BrokerConnection, SyncRun
from brokers.sync_queue import SYNC_CONNECTION_TASK, sync_enqueue
from thetavue_site import rls
from thetavue_site.users.idempotency import idempotency_keys_prune
from thetavue_site.users.notifications import notification_prune

logger = logging.getLogger(__name__)


LOCKED_RETRIES = 5


@shared_task(
    bind=True,
    name=SYNC_CONNECTION_TASK,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=120,
    time_limit=150,
)
def sync_connection_task(self, connection_id: int, owner_id: str, run_id: int | None = None) -> str:
    outcome = sync.connection_sync(
        connection_id=connection_id, owner_id=owner_id, run_id=run_id, trigger="schedule"
    )
    if outcome.status == "locked" and run_id is not None:
        # Another holder, alive or killed mid-sync: a live one keeps the lock
        # fresh, a dead one's lock expires within its TTL. Try again after it.
        if self.request.retries < LOCKED_RETRIES:
            raise self.retry(countdown=settings.SYNC_LOCK_TTL_SECONDS, max_retries=LOCKED_RETRIES)
        with rls.as_user(owner_id):
            SyncRun.objects.filter(pk=run_id, status=SyncRun.Status.QUEUED).update(
                status=SyncRun.Status.SKIPPED, finished_at=timezone.now(), error=outcome.error
            )
    return outcome.status


@shared_task(name="brokers.sync_all_connections", acks_late=True)
def sync_all_connections_task() -> int:
    """Queue one sync per active connection, spread across the interval with jitter."""
    interval = settings.SYNC_INTERVAL_MINUTES * 60
    with rls.as_service(), transaction.atomic():
        connections = list(
            BrokerConnection.objects.filter(
                status__in=[
                    BrokerConnection.Status.ACTIVE,
                    BrokerConnection.Status.ERROR,
                    BrokerConnection.Status.SYNCING,
                ]
            ).order_by("pk")
        )
        for connection in connections:
            # Spread over the first 80 % of the interval so a slow wave ends in time.
            countdown = random.uniform(0, interval * 0.8)  # noqa: S311 - jitter, not security
            sync_enqueue(connection=connection, trigger="schedule", countdown_seconds=countdown)
    return len(connections)


@shared_task(name="brokers.prune_history", acks_late=True)
def prune_history_task() -> dict[str, int]:
    """Delete old sync runs, read notifications and expired idempotency keys."""
    now = timezone.now()
    with rls.as_service(), transaction.atomic():
        runs, _ = SyncRun.objects.filter(
            finished_at__lt=now - dt.timedelta(days=settings.SYNC_RUN_RETENTION_DAYS)
        ).delete()
    notes = notification_prune(
        read_before=now - dt.timedelta(days=settings.NOTIFICATION_RETENTION_DAYS)
    )
    with rls.as_service(), transaction.atomic():
        keys = idempotency_keys_prune(now=now)
    return {"sync_runs": runs, "notifications": notes, "idempotency_keys": keys}
