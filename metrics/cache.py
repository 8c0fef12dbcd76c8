"""Redis cache of each portfolio's real-time metrics payload.

The key names the portfolio, its ``sync_version`` and its ``updated_at``: a
sync (or a re-price of a manual book) bumps the version, and any other write
to the portfolio row (net liq, a rename) moves ``updated_at``, so a stale
payload is never read, only left to expire. Callers read keys only after the
owner check has passed (DESIGN.md §6).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.cache import cache

from portfolios.models import Portfolio

# Bump when the payload's shape changes, so old entries are ignored on deploy.
PAYLOAD_VERSION = 2
# Keys change with every sync, so entries need not live long; an hour keeps a
# quiet (e.g. manual) portfolio's metrics warm between visits.
METRICS_CACHE_TTL_SECONDS = 3600


def metrics_key(portfolio: Portfolio) -> str:
    """Return the cache key of the portfolio's metrics at its current version."""
    stamp = int(portfolio.updated_at.timestamp() * 1_000_000) if portfolio.updated_at else 0
    return f"metrics:p{PAYLOAD_VERSION}:portfolio:{portfolio.pk}:v{portfolio.sync_version}:u{stamp}"


def metrics_get_many(portfolios: Iterable[Portfolio]) -> dict[int, dict[str, Any]]:
    """Return the cached payloads found, by portfolio id (one round trip)."""
    keys = {metrics_key(portfolio): portfolio.pk for portfolio in portfolios}
    if not keys:
        return {}
    found = cache.get_many(list(keys))
    return {keys[key]: payload for key, payload in found.items()}


def metrics_set_many(payloads: Mapping[Portfolio, dict[str, Any]]) -> None:
    """Store freshly computed payloads under each portfolio's current key."""
    if payloads:
        cache.set_many(
            {metrics_key(portfolio): payload for portfolio, payload in payloads.items()},
            timeout=METRICS_CACHE_TTL_SECONDS,
        )
