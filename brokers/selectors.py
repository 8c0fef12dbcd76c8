"""Reads about broker connections and sync runs."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min, Q
from django.urls import reverse

from brokers.models import BrokerConnection, SyncRun

ACTIVE_RUN_STATUSES = frozenset({SyncRun.Status.QUEUED, SyncRun.Status.RUNNING})
# How often the sync status partial polls while a run is in flight.
POLL_SECONDS = 2


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


def _state(connection: BrokerConnection, run: SyncRun | None) -> str:
    """Name what the trader should see first: a run in flight, a problem, or freshness."""
    Status = BrokerConnection.Status
    if connection.status == Status.DISABLED:
        return "disabled"
    if run is not None and run.status in ACTIVE_RUN_STATUSES:
        return run.status
    if connection.status == Status.NEEDS_REAUTH:
        return "reauth"
    if connection.status == Status.ERROR or (
        run is not None and run.status == SyncRun.Status.FAILED
    ):
        return "failed"
    return "ok" if connection.last_synced_at else "never"


def sync_state(
    *,
    connection: BrokerConnection | None,
    run: SyncRun | None,
    notice: str = "",
    compact: bool = False,
) -> dict:
    """Return the template context of the sync status partial."""
    if connection is None:
        return {"connection": None, "state": "manual", "compact": compact}
    state = _state(connection, run)
    query = "?watching=1&compact=1" if compact else "?watching=1"
    return {
        "connection": connection,
        "run": run,
        "state": state,
        "active": state in ACTIVE_RUN_STATUSES,
        "notice": notice,
        "compact": compact,
        "poll_seconds": POLL_SECONDS,
        "status_url": reverse("brokers:status", args=[connection.pk]) + query,
        "sync_url": reverse("brokers:sync", args=[connection.pk]),
        "can_sync": connection.status
        not in (BrokerConnection.Status.DISABLED, BrokerConnection.Status.NEEDS_REAUTH),
    }
