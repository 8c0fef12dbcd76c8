"""System checks: refuse to serve as a role that would bypass Row Level Security."""

from __future__ import annotations

from django.core.checks import Error, Tags, register
from django.db import connection
from django.db.utils import OperationalError


def database_role_flags() -> tuple[str, bool, bool]:
    """Return (role, is superuser, bypasses RLS) of the connected database role."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
        )
        return cursor.fetchone()


@register(Tags.database, deploy=False)
def check_database_role(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    try:
        role, is_super, bypass = database_role_flags()
    except OperationalError as error:
        return [Error(f"Cannot reach the database: {error}", id="thetavue.E002")]
    if is_super or bypass:
        return [
            Error(
                f"The database role {role!r} is a superuser or has BYPASSRLS: Row Level "
                "Security would not hold for it.",
                hint="Connect as a role created with NOSUPERUSER NOBYPASSRLS (see README).",
                id="thetavue.E001",
            )
        ]
    return []
