"""System checks: refuse to serve as a role that could bypass or switch off Row Level Security."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import connection
from django.db.utils import OperationalError

# Relations a role can ALTER (and so un-FORCE, or drop policies of) because it owns them.
OWNED_KINDS = ("r", "p", "v", "m", "f")


def database_role_flags() -> tuple[str, bool, bool]:
    """Return (role, is superuser, bypasses RLS) of the application role (DATABASE_URL's user)."""
    role, is_super, bypass, _ = database_role_state()
    return role, is_super, bypass


def database_role_state() -> tuple[str, bool, bool, list[str]]:
    """Return the application role's name, superuser and BYPASSRLS flags, and tables it owns.

    Looked up by name, so the answer is the same whether the check runs as the
    application role (web, workers) or as the owner (`migrate`).
    """
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT r.rolname, r.rolsuper, r.rolbypassrls,
                   coalesce((SELECT array_agg(c.relname::text ORDER BY c.relname)
                             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                             WHERE c.relowner = r.oid AND n.nspname = current_schema()
                               AND c.relkind = ANY(%s)), '{}')
            FROM pg_roles r WHERE r.rolname = %s
            """,
            [list(OWNED_KINDS), settings.DATABASE_APP_USER],
        )
        row = cursor.fetchone()
    if row is None:
        return settings.DATABASE_APP_USER, False, False, []
    return row[0], row[1], row[2], list(row[3])


@register(Tags.database, deploy=False)
def check_database_role(app_configs=None, databases=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    try:
        role, is_super, bypass, owned = database_role_state()
    except OperationalError as error:
        return [Error(f"Cannot reach the database: {error}", id="thetavue.E002")]
    errors = []
    if is_super or bypass:
        errors.append(
            Error(
                f"The database role {role!r} is a superuser or has BYPASSRLS: Row Level "
                "Security would not hold for it.",
                hint="Connect as a role created with NOSUPERUSER NOBYPASSRLS (see README).",
                id="thetavue.E001",
            )
        )
    if owned:
        shown = ", ".join(owned[:5]) + (f" and {len(owned) - 5} more" if len(owned) > 5 else "")
        errors.append(
            Error(
                f"The application role {role!r} owns {shown}: it could switch Row Level "
                "Security off on them (ALTER TABLE … NO FORCE ROW LEVEL SECURITY).",
                hint=(
                    "Give the tables to a separate owner role and set DATABASE_OWNER_URL "
                    "(README, 'External PostgreSQL and Redis'): REASSIGN OWNED BY the "
                    "application role TO the owner, then run `manage.py migrate`."
                ),
                id="thetavue.E003",
            )
        )
    return errors
