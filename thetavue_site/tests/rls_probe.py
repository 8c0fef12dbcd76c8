"""A raw connection as a plain application role, to prove RLS without the ORM's filters."""

from __future__ import annotations

import contextlib
import secrets

import psycopg
from django.db import connection

PROBE_ROLE = "thetavue_rls_probe"


def _can_create_roles() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcreaterole FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


def probe_dsn() -> str:
    """Return a DSN for a non-owner, non-superuser, non-BYPASSRLS role on the test DB.

    Falls back to the owner role (FORCE RLS binds it too) where roles cannot be made.
    """
    settings = connection.settings_dict
    base = {
        "host": settings["HOST"] or "127.0.0.1",
        "port": settings["PORT"] or 5432,
        "dbname": settings["NAME"],
    }
    if not _can_create_roles():
        return psycopg.conninfo.make_conninfo(
            **base, user=settings["USER"], password=settings["PASSWORD"]
        )
    password = secrets.token_urlsafe(16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [PROBE_ROLE])
        if cursor.fetchone():
            cursor.execute(f"ALTER ROLE {PROBE_ROLE} PASSWORD %s", [password])
        else:
            cursor.execute(
                f"CREATE ROLE {PROBE_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %s", [password]
            )
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {PROBE_ROLE}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {PROBE_ROLE}"
        )
        cursor.execute(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {PROBE_ROLE}")
    return psycopg.conninfo.make_conninfo(**base, user=PROBE_ROLE, password=password)


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
