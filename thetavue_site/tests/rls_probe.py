"""A raw connection as the application role, to prove RLS without the ORM's filters.

The application role (DATABASE_URL) is neither superuser nor BYPASSRLS and
owns nothing (the owner role ran the migrations), so it is exactly the role
web and workers run as; no extra role needs creating, and none can be.
"""

from __future__ import annotations

import contextlib

import psycopg
from django.conf import settings
from django.db import connection


def probe_dsn() -> str:
    """Return a DSN for the application role on the test database."""
    app = settings.DATABASE_APP
    return psycopg.conninfo.make_conninfo(
        host=app["HOST"] or "127.0.0.1",
        port=app["PORT"] or 5432,
        dbname=connection.settings_dict["NAME"],
        user=app["USER"],
        password=app["PASSWORD"],
    )


def owner_dsn() -> str:
    """Return a DSN for the owner role on the test database (DDL, role checks)."""
    owner = settings.DATABASE_OWNER
    return psycopg.conninfo.make_conninfo(
        host=owner["HOST"] or "127.0.0.1",
        port=owner["PORT"] or 5432,
        dbname=connection.settings_dict["NAME"],
        user=owner["USER"],
        password=owner["PASSWORD"],
    )


@contextlib.contextmanager
def probe_connection(user_id: str = "", service: bool = False):
    """Yield a cursor in one transaction with the given tenant context."""
    with psycopg.connect(probe_dsn()) as conn:
        with conn.cursor() as cursor:
            if user_id or service:
                cursor.execute(
                    "SELECT set_config('app.user_id', %s, true), set_config('app.service', %s, true)",
                    [user_id, "on" if service else "off"],
                )
            yield cursor
        conn.rollback()
