"""Reads about broker connections and sync runs."""

from __future__ import annotations

import datetime as dt

from django.db.models import Min, Q

from brokers.models import BrokerConnection


def oldest_active_sync_time() -> dt.datetime | None:
    """Return the oldest last-good-sync time among active connections (None if none)."""
    active = BrokerConnection.objects.exclude(status=BrokerConnection.Status.DISABLED)
    result = active.aggregate(
        oldest=Min("last_synced_at"),
        never=Min("created_at", filter=Q(last_synced_at__isnull=True)),
    )
    candidates = [value for value in result.values() if value is not None]
    return min(candidates) if candidates else None
