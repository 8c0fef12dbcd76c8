"""/healthz: the database and Redis, plus what the apps register; 200 or 503."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import JsonResponse

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


# Extra figures reported when the database answers, registered by the apps
# that own them (AppConfig.ready): name -> callable returning a JSON value.
DETAILS: dict[str, Callable[[], Any]] = {}


def detail_register(name: str, probe: Callable[[], Any]) -> None:
    """Add `name` to /healthz's body, computed by `probe` on each request."""
    DETAILS[name] = probe


def healthz(request):
    checks = {"database": _check_database(), "redis": _check_redis()}
    healthy = all(value == "ok" for value in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    if checks["database"] == "ok":
        for name, probe in DETAILS.items():
            body[name] = probe()
    return JsonResponse(body, status=200 if healthy else 503)
