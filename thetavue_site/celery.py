"""The Celery app: Redis broker, settings from Django's CELERY_* names."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "thetavue_site.settings")

app = Celery("thetavue")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
