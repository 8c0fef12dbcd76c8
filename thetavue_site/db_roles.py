"""Two database roles: the owner runs migrations, the application role only reads and writes.

The application role (DATABASE_URL) owns nothing, so no SQL it can be made
to run can `ALTER TABLE … NO FORCE ROW LEVEL SECURITY`, drop a policy or
TRUNCATE. The owner role (DATABASE_OWNER_URL) creates and alters the tables;
web and workers never connect as it. `manage.py migrate` and `flush` switch
the `default` connection to the owner for their run (same database name,
the owner's user, password, host and port), then grant the application role
the DML it needs.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.conf import settings
from django.db import connections

# Read by the framework at run time (runserver's unapplied-migrations
# warning), never written by the application.
READ_ONLY_TABLES = ("django_migrations",)


def owner_credentials() -> dict[str, object] | None:
    """Return the owner's USER/PASSWORD/HOST/PORT, or None when no owner role is configured.

    The database name stays the connection's own, so the test runner's test
    database is the one the owner migrates.
    """
    return getattr(settings, "DATABASE_OWNER", None) or None


def app_role_name() -> str:
    """Return the application role's name (DATABASE_URL's user)."""
    return str(settings.DATABASE_APP_USER)


def connected_as_owner(alias: str = "default") -> bool:
    owner = owner_credentials()
    return owner is None or connections[alias].settings_dict["USER"] == owner["USER"]


@contextlib.contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Run the block with this thread's `alias` connection logged in as the owner role.

    The connection object gets its own copy of the settings, so other
    threads' connections (a live server, a worker thread) stay the
    application role's. No-op without an owner role or when already the owner.
    """
    if connected_as_owner(alias):
        yield
        return
    connection = connections[alias]
    original = connection.settings_dict
    connection.close()
    connection.settings_dict = {**original, **owner_credentials()}
    try:
        yield
    finally:
        connection.close()
        # The test runner renames the database while connected as the owner;
        # carry the name back to the application role's settings.
        original["NAME"] = connection.settings_dict["NAME"]
        connection.settings_dict = original


def switch_default_role(*, owner: bool) -> None:
    """Log every thread's `default` connection in as the owner or the application role.

    For the test session: the test database is created and migrated as the
    owner, then every test connects as the application role.
    """
    if owner_credentials() is None:
        return
    credentials = owner_credentials() if owner else settings.DATABASE_APP
    connection = connections["default"]
    connection.close()
    # settings.DATABASES["default"] is the dict every thread's connection reads.
    connection.settings_dict.update(credentials)
    settings.DATABASES["default"].update(credentials)


def app_role_grant(*, alias: str = "default") -> None:
    """Grant the application role DML on every table and sequence of the schema, nothing more.

    Runs as the owner after each migrate; the default privileges cover
    tables a later migration creates before this runs again.
    """
    owner = owner_credentials()
    if owner is None:
        return
    connection = connections[alias]
    quote = connection.ops.quote_name
    app, owner_role = quote(app_role_name()), quote(str(owner["USER"]))
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {app}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {app}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {app}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner_role} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {app}",
        *(f"REVOKE INSERT, UPDATE, DELETE ON {quote(t)} FROM {app}" for t in READ_ONLY_TABLES),
    ]
    with connection.cursor() as cursor:
        # Role names come from settings, quoted as identifiers; no input reaches here.
        cursor.execute("; ".join(statements))
