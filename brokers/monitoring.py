"""What brokers adds to /metrics and /healthz; BrokersConfig.ready registers both."""

from __future__ import annotations

from django.db import DatabaseError
from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from brokers.models import BrokerConnection, SyncRun
from brokers.selectors import oldest_active_sync_time
from thetavue_site import rls


class SyncRunCollector:
    """Sync outcomes over the last 24 h, read from the database at scrape time.

    Read from sync_runs rather than counted in-process, so every worker's
    runs are seen whichever process is scraped.
    """

    def collect(self):
        since = timezone.now() - timezone.timedelta(hours=24)
        runs = GaugeMetricFamily(
            "thetavue_sync_runs_24h", "Sync runs in the last 24 hours by status.", labels=["status"]
        )
        connections = GaugeMetricFamily(
            "thetavue_broker_connections", "Broker connections by status.", labels=["status"]
        )
        with rls.as_service():
            for row in (
                SyncRun.objects.filter(started_at__gte=since)
                .values("status")
                .annotate(n=Count("id"))
            ):
                runs.add_metric([row["status"]], row["n"])
            for row in BrokerConnection.objects.values("status").annotate(n=Count("id")):
                connections.add_metric([row["status"]], row["n"])
        yield runs
        yield connections


def oldest_sync_age_seconds() -> float | None:
    """Return seconds since the oldest active connection last synced (None if none or no DB)."""
    try:
        with rls.as_service():
            oldest = oldest_active_sync_time()
    except DatabaseError:
        return None
    if oldest is None:
        return None
    return round((timezone.now() - oldest).total_seconds(), 1)
