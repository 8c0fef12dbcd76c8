"""Tenant isolation through a real PgBouncer in transaction mode (DESIGN.md §6).

PgBouncer hands each transaction whichever server connection is free and, in
transaction mode, resets nothing between clients. The tenant context is
transaction-local (`set_config(…, true)`), so it must end with the request's
transaction: these tests run two tenants' requests concurrently through a
pool of two server connections and check that no request sees the other
tenant's rows and no transaction starts with a context it did not set.

Debian's `pgbouncer` is installed by `make test` (as root, like Chromium);
the tests skip, saying why, only where it is missing.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client

from portfolios.tests.factories import make_portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db(transaction=True)

POOL_SIZE = 2
CLIENT_THREADS_PER_TENANT = 3
REQUESTS_PER_THREAD = 15
START_TIMEOUT_SECONDS = 10


def _pgbouncer_binary() -> str | None:
    return shutil.which("pgbouncer") or next(
        (p for p in ("/usr/sbin/pgbouncer", "/usr/bin/pgbouncer") if os.path.exists(p)), None
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {process.stderr.read()}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("pgbouncer did not start listening")


@pytest.fixture
def pgbouncer():
    """Start PgBouncer (transaction mode, 2 server connections) before the test database.

    Yields (host, port); the database name is the test database's.
    """
    binary = _pgbouncer_binary()
    if binary is None:
        pytest.skip(
            "pgbouncer is not installed (Debian package `pgbouncer`; `make test` installs it)"
        )
    app = settings.DATABASE_APP
    database = connection.settings_dict["NAME"]
    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="tv-pgbouncer-"))
    config = workdir / "pgbouncer.ini"
    users = workdir / "userlist.txt"
    # PgBouncer logs in to PostgreSQL with the password from its user list
    # (SCRAM both ways) and resets nothing between clients in this mode.
    users.write_text(f'"{app["USER"]}" "{app["PASSWORD"]}"\n')
    config.write_text(
        "[databases]\n"
        f"{database} = host={app['HOST'] or '127.0.0.1'} port={app['PORT'] or 5432} "
        f"dbname={database}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = scram-sha-256\n"
        f"auth_file = {users}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {POOL_SIZE}\n"
        "min_pool_size = 0\n"
        "reserve_pool_size = 0\n"
        "max_client_conn = 100\n"
        "ignore_startup_parameters = extra_float_digits\n"
    )
    command = [binary, str(config)]
    if os.geteuid() == 0:
        # PgBouncer refuses to run as root; it reads its files as `nobody`.
        nobody = pwd.getpwnam("nobody")
        for path in (workdir, config, users):
            os.chown(path, nobody.pw_uid, nobody.pw_gid)
        command = [binary, "-u", "nobody", str(config)]
    process = subprocess.Popen(  # noqa: S603 - the system's pgbouncer, our config
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        _wait_for_port(port, process)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def _seed(user, count: int) -> set[int]:
    with rls.as_service():
        return {make_portfolio(owner=user, name=f"{user.pk} {n}").pk for n in range(count)}


def _through_pooler(host: str, port: int) -> None:
    """Point this thread's Django connection at PgBouncer (other threads are untouched)."""
    db = connections["default"]
    db.close()
    db.settings_dict = {**db.settings_dict, "HOST": host, "PORT": port, "CONN_MAX_AGE": 60}


def test_concurrent_tenants_through_pgbouncer_see_only_their_own_rows(
    pgbouncer, alice, bob, bearer_for
):
    # given: two tenants with portfolios of their own
    owned = {alice.pk: _seed(alice, 3), bob.pk: _seed(bob, 2)}
    headers = {alice.pk: bearer_for(alice), bob.pk: bearer_for(bob)}
    seen: dict[str, list[set[int]]] = defaultdict(list)
    leftover_context: list[tuple[str, str | None]] = []
    server_pids: dict[str, set[int]] = defaultdict(set)
    errors: list[BaseException] = []
    start = threading.Barrier(2 * CLIENT_THREADS_PER_TENANT)

    def tenant_client(user_id: str) -> None:
        try:
            _through_pooler(*pgbouncer)
            client = Client(HTTP_AUTHORIZATION=headers[user_id])
            start.wait()
            for _ in range(REQUESTS_PER_THREAD):
                # when: a request through the whole stack (RLS middleware included)
                response = client.get("/api/portfolio/", {"limit": 50})
                assert response.status_code == 200, response.content
                seen[user_id].append({row["id"] for row in response.json()["results"]})
                # and a bare transaction right after, on whatever server
                # connection the pooler hands out next
                with transaction.atomic(), connections["default"].cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_backend_pid(), current_setting('app.user_id', true), "
                        "(SELECT count(*) FROM portfolios)"
                    )
                    pid, context, visible = cursor.fetchone()
                server_pids[user_id].add(pid)
                if context or visible:
                    leftover_context.append((context, visible))
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=tenant_client, args=(user_id,))
        for user_id in (alice.pk, bob.pk)
        for _ in range(CLIENT_THREADS_PER_TENANT)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    # then
    assert errors == []
    for user_id in (alice.pk, bob.pk):
        assert len(seen[user_id]) == CLIENT_THREADS_PER_TENANT * REQUESTS_PER_THREAD
        assert all(ids == owned[user_id] for ids in seen[user_id]), user_id
    # No transaction started with a tenant context it did not set.
    assert leftover_context == []
    # The pooler really shared its few server connections between the tenants.
    assert len(server_pids[alice.pk] | server_pids[bob.pk]) <= POOL_SIZE
    assert server_pids[alice.pk] & server_pids[bob.pk]


def test_a_transaction_without_context_sees_nothing_after_another_tenants_on_the_same_server(
    pgbouncer, alice, bob
):
    """Raw SQL as the application role: the pooled server connection keeps no tenant."""
    _seed(alice, 2)
    _seed(bob, 1)
    host, port = pgbouncer
    app = settings.DATABASE_APP
    dsn = psycopg.conninfo.make_conninfo(
        host=host,
        port=port,
        dbname=connection.settings_dict["NAME"],
        user=app["USER"],
        password=app["PASSWORD"],
    )
    # No server-side prepared statements, as in the product (Django's client-side
    # cursors): PgBouncer 1.18 cannot carry them across server connections.
    with (
        psycopg.connect(dsn, prepare_threshold=None) as alice_conn,
        psycopg.connect(dsn, prepare_threshold=None) as anonymous,
    ):
        for _ in range(10):
            with alice_conn.transaction():
                alice_conn.execute("SELECT set_config('app.user_id', %s, true)", [alice.pk])
                alice_pid, alice_rows = alice_conn.execute(
                    "SELECT pg_backend_pid(), count(*) FROM portfolios"
                ).fetchone()
            with anonymous.transaction():
                pid, context, rows = anonymous.execute(
                    "SELECT pg_backend_pid(), current_setting('app.user_id', true), "
                    "(SELECT count(*) FROM portfolios)"
                ).fetchone()
            # Sequential transactions: PgBouncer hands out the server it just
            # freed (LIFO), so this is the very server connection alice used.
            assert (alice_rows, pid, context or "", rows) == (2, alice_pid, "", 0)
