"""Retention: old sync runs and old read notifications are pruned; the rest stays."""

import datetime as dt

import pytest
from django.utils import timezone

from brokers.models import BrokerConnection, SyncRun
from brokers.tasks import prune_history_task
from thetavue_site import rls
from thetavue_site.users.models import Notification

pytestmark = pytest.mark.django_db


def test_prune_deletes_only_what_is_past_retention(alice, settings):
    settings.SYNC_RUN_RETENTION_DAYS = 30
    settings.NOTIFICATION_RETENTION_DAYS = 30
    now = timezone.now()
    old, recent = now - dt.timedelta(days=31), now - dt.timedelta(days=29)
    with rls.as_service():
        connection = BrokerConnection.objects.create(user=alice, environment="sandbox")
        stale_run = SyncRun.objects.create(
            connection=connection, started_at=old, finished_at=old, status="succeeded"
        )
        kept_run = SyncRun.objects.create(
            connection=connection, started_at=recent, finished_at=recent, status="failed"
        )
        running = SyncRun.objects.create(connection=connection, started_at=old, status="running")
        stale_note = Notification.objects.create(
            user=alice, kind="k", title="old read", read_at=old
        )
        unread = Notification.objects.create(user=alice, kind="k", title="old unread")
        Notification.objects.filter(pk=unread.pk).update(created_at=old)
        fresh_read = Notification.objects.create(
            user=alice, kind="k", title="recent read", read_at=recent
        )

    # Outside any tenant context, as the beat runs it.
    assert prune_history_task() == {"sync_runs": 1, "notifications": 1, "idempotency_keys": 0}

    with rls.as_service():
        assert set(SyncRun.objects.values_list("pk", flat=True)) == {kept_run.pk, running.pk}
        assert set(Notification.objects.values_list("pk", flat=True)) == {unread.pk, fresh_read.pk}
    assert stale_run.pk and stale_note.pk
