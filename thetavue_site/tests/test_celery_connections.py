"""Celery workers keep their database connection across tasks, as Django keeps one across requests.

Celery's Django fixup closes every connection before and after each task
unless CELERY_DB_REUSE_MAX is set: a new PostgreSQL backend per sync. With it
set, thetavue_site.celery applies CONN_MAX_AGE and the health checks around
each task, as Django does around each request.
"""

from __future__ import annotations

import pytest
from celery import signals
from celery.fixups.django import DjangoWorkerFixup
from django.db import connection

from thetavue_site.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def run_task_signals() -> None:
    signals.task_prerun.send(sender=None, task_id="t", task=None, args=(), kwargs={})
    signals.task_postrun.send(sender=None, task_id="t", task=None, args=(), kwargs={})


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def test_the_worker_fixup_does_not_close_the_connection_after_each_task():
    fixup = DjangoWorkerFixup(app)
    pid = backend_pid()
    for _ in range(3):
        fixup.close_database()  # what Celery calls before and after every task
    assert connection.connection is not None
    assert backend_pid() == pid


def test_a_connection_within_conn_max_age_survives_a_task(settings):
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.close_at = None
    pid = backend_pid()
    run_task_signals()
    assert backend_pid() == pid


def test_conn_max_age_zero_closes_after_each_task():
    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 0
    try:
        backend_pid()
        connection.close_at = 0  # as connect() sets it for CONN_MAX_AGE = 0
        run_task_signals()
        assert connection.connection is None
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved
