"""/healthz: the database, Redis and the age of the oldest active sync; 200 or 503."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.utils import timezone

from thetavue_site import rls

logger = logging.getLogger(__name__)


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except DatabaseError as error:
        logger.error("health: database unreachable: %s", error)
        return "unreachable"


def _check_redis() -> str:
    try:
        cache.set("healthz", "1", timeout=5)
        return "ok" if cache.get("healthz") == "1" else "unreachable"
    except Exception as error:  # noqa: BLE001 - any client error means Redis is not usable
        logger.error("health: redis unreachable: %s", error)
        return "unreachable"


def _oldest_sync_age_seconds() -> float | None:
    from brokers.selectors import oldest_active_sync_time

    try:
        with rls.as_service():
            oldest = oldest_active_sync_time()
    except DatabaseError:
        return None
    if oldest is None:
        return None
    return round((timezone.now() - oldest).total_seconds(), 1)


def healthz(request):
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if checks["database"] == "ok":
        body["oldest_active_sync_age_seconds"] = _oldest_sync_age_seconds()
    return JsonResponse(body, status=200 if healthy else 503)
