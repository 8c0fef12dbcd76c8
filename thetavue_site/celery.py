"""The Celery app: Redis broker, settings from Django's CELERY_* names."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thetavue_site.settings")

app = Celery("thetavue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect(weak=False)
@signals.task_postrun.connect(weak=False)
def _close_old_connections(**kwargs) -> None:
    """What Django does around each request: drop connections past CONN_MAX_AGE
    or left unusable; the rest are health-checked on their next use."""
    # Imported here: this module loads with the thetavue_site package, before
    # Django's settings are configured.
    from django.db import close_old_connections, connections

    # A task run eagerly inside a caller's transaction must not close that
    # transaction's connection under it.
    if any(connection.in_atomic_block for connection in connections.all(initialized_only=True)):
        return
    close_old_connections()
