"""Prometheus metrics: API response times and background-job outcomes.

`/metrics` answers only to `Authorization: Bearer <METRICS_TOKEN>` (the
scraper) or a signed-in staff member; everyone else gets 404, so the
endpoint's existence is not advertised. The client address is not trusted:
behind a reverse proxy on the same host every request comes from loopback.
"""

from __future__ import annotations

import secrets
import time

from django.conf import settings
from django.db.models import Count
from django.http import Http404, HttpResponse
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from thetavue_site import rls

# No auto-describe: registering must not run the collector (it reads the database).
REGISTRY = CollectorRegistry(auto_describe=False)
API_LATENCY = Histogram(
    "thetavue_http_request_seconds",
    "Time to answer a request, by route and status class.",
    ["route", "method", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


class SyncRunCollector:
    """Sync outcomes over the last 24 h, read from the database at scrape time.

    Read from sync_runs rather than counted in-process, so every worker's
    runs are seen whichever process is scraped.
    """

    def collect(self):
        from brokers.models import BrokerConnection, SyncRun

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


REGISTRY.register(SyncRunCollector())


def _route(request) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match and match.view_name else "unmatched"


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        API_LATENCY.labels(
            _route(request), request.method, f"{response.status_code // 100}xx"
        ).observe(time.perf_counter() - started)
        return response


def _allowed(request) -> bool:
    token = settings.METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and header.startswith("Bearer "):
        return secrets.compare_digest(header[7:].encode(), token.encode())
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_staff)


def metrics_view(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
