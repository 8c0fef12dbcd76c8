"""Reads about broker connections and sync runs."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min, Q

from brokers.models import BrokerConnection, SyncRun


def oldest_active_sync_time() -> dt.datetime | None:
    """Return the oldest last-good-sync time among active connections (None if none)."""
    active = BrokerConnection.objects.exclude(status=BrokerConnection.Status.DISABLED)
    result = active.aggregate(
        oldest=Min("last_synced_at"),
        never=Min("created_at", filter=Q(last_synced_at__isnull=True)),
    )
    candidates = [value for value in result.values() if value is not None]
    return min(candidates) if candidates else None


def latest_runs(*, connection_ids) -> dict[int, SyncRun]:
    """Return the most recent sync run of each connection, in one query."""
    ids = [pk for pk in connection_ids if pk is not None]
    if not ids:
        return {}
    runs = (
        SyncRun.objects.filter(connection_id__in=ids)
        .order_by("connection_id", "-started_at", "-id")
        .distinct("connection_id")
    )
    return {run.connection_id: run for run in runs}
