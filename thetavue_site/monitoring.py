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
from django.http import Http404, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest

# No auto-describe: registering must not run a collector (apps register ones
# that read the database, e.g. brokers' sync outcomes, from AppConfig.ready).
REGISTRY = CollectorRegistry(auto_describe=False)
API_LATENCY = Histogram(
    "thetavue_http_request_seconds",
    "Time to answer a request, by route and status class.",
    ["route", "method", "status"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


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
