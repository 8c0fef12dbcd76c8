"""Celery tasks of the metrics app: thin wrappers over metrics.snapshot."""

from __future__ import annotations

import logging

from celery import shared_task

from metrics import snapshot

logger = logging.getLogger(__name__)


# Beat runs this at SNAPSHOT_TIME New York ("snapshot-metrics-nightly"). Safe to
# run twice: the statement upserts on (portfolio, date). One statement over every
# portfolio may outlast the default 120 s on a large install, hence the longer limits
# (still below the broker's 600 s visibility timeout).
@shared_task(name="metrics.snapshot_all", acks_late=True, soft_time_limit=300, time_limit=360)
def snapshot_all_task() -> int:
    """Snapshot every portfolio for today's New York date (nothing on a non-trading day)."""
    written = snapshot.snapshot_all()
    logger.info("metrics snapshot wrote %d rows", written)
    return written
