"""Tenant context for PostgreSQL Row Level Security (DESIGN.md §6, auth-and-rls.md §4).

Every tenant table has RLS enabled and forced; its policy compares the row's
owner with `current_setting('app.user_id', true)`, and `app.service = 'on'`
is the one bypass (system jobs, staff in the admin). The settings are set with
`set_config(…, true)`, so they live only as long as the transaction that runs
the queries: safe with persistent connections and PgBouncer in transaction
mode. Code outside `as_user` / `as_service` / a request sees no tenant rows.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import SESSION_KEY
from django.db import connection, migrations, transaction

from thetavue_site import observability

ADMIN_PATH_PREFIX = "/admin/"

# allauth's views that must find an account before anyone is signed in: the
# sign-in and sign-up forms look users up by email, the password reset and
# email confirmation links by id. Their forms query users and
# account_emailaddress directly (no adapter hook covers them all), so for an
# anonymous request, and only while one of these views runs, the request acts
# as service. Everything before the view (and every other path) stays anonymous.
ACCOUNT_LOOKUP_VIEWS = frozenset(
    {
        "account_login",
        "account_signup",
        "account_reset_password",
        "account_reset_password_from_key",
        "account_confirm_email",
    }
)

# Policy rules. `(SELECT …)` makes PostgreSQL evaluate the setting once per
# statement (an InitPlan) instead of once per row.
SERVICE = "(SELECT current_setting('app.service', true)) = 'on'"
CURRENT_USER = "(SELECT NULLIF(current_setting('app.user_id', true), ''))"


def owner_rule(column: str = "user_id") -> str:
    return f"{column} = {CURRENT_USER} OR {SERVICE}"


def via_parent_rule(table: str, column: str, parent: str) -> str:
    """Children see what their parent's own (filtered) policy lets them see."""
    # Identifiers come from migration code, never from input.
    return f"EXISTS (SELECT 1 FROM {parent} parent WHERE parent.id = {table}.{column})"


def same_owner(table: str, column: str, parent: str) -> migrations.RunSQL:
    """Return the operation that keeps `table.column` pointing at a row of the same owner.

    For a table that has its own `user_id` and also references another
    owner's table: its tenant policy checks `user_id` only, so without this
    a trader could re-point her row at another trader's (`UPDATE trade_plans
    SET portfolio_id = <bob's>`). Restrictive, so it narrows the permissive
    tenant policy on writes and leaves reads alone; it binds the service
    context too, as an invariant of the data.
    """
    name = f"{table}_{column}_same_owner"
    check = (
        f"{table}.{column} IS NULL OR EXISTS (SELECT 1 FROM {parent} parent "
        f"WHERE parent.id = {table}.{column} AND parent.user_id = {table}.user_id)"
    )
    return migrations.RunSQL(
        sql=(
            f"CREATE POLICY {name} ON {table} AS RESTRICTIVE FOR ALL "
            f"USING (true) WITH CHECK ({check});"
        ),
        reverse_sql=f"DROP POLICY IF EXISTS {name} ON {table};",
    )


def protect(table: str, rule: str) -> migrations.RunSQL:
    """Return the migration operation that enables, forces and scopes RLS on a table."""
    return migrations.RunSQL(
        sql=(
            f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY; "
            f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY; "
            f"CREATE POLICY {table}_tenant ON {table} USING ({rule}) WITH CHECK ({rule});"
        ),
        reverse_sql=(
            f"DROP POLICY IF EXISTS {table}_tenant ON {table}; "
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY; "
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;"
        ),
    )


def _read_context() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(current_setting('app.user_id', true), ''), "
            "coalesce(current_setting('app.service', true), '')"
        )
        user_id, service = cursor.fetchone()
    return user_id, service


SET_CONTEXT = "SELECT set_config('app.user_id', %s, true), set_config('app.service', %s, true)"


def set_context(
    *, user_id: str, service: bool, then: tuple[str, Sequence[Any]] | None = None
) -> list[tuple] | None:
    """Set both settings for the current transaction (must be inside one).

    `then`, a (SELECT, params) pair, runs right after the settings take
    effect, in the same round trip (two statements in one simple-protocol
    message, executed in order), and its rows are returned. A request uses
    it to read its user with the context that scopes it.
    """
    params = [user_id or "", "on" if service else "off"]
    with connection.cursor() as cursor:
        if then is None:
            cursor.execute(SET_CONTEXT, params)
            return None
        statement, more = then
        cursor.execute(f"{SET_CONTEXT}; {statement}", [*params, *more])
        cursor.nextset()
        return cursor.fetchall()


def _restore(user_id: str, service: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('app.user_id', %s, true), set_config('app.service', %s, true)",
            [user_id, service or "off"],
        )


@contextlib.contextmanager
def _scoped(*, user_id: str, service: bool) -> Iterator[None]:
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:
            # A new transaction starts with no context and ends with it: there
            # is nothing to read or restore (two round trips saved per task).
            set_context(user_id=user_id, service=service)
            yield
            return
        previous = _read_context()
        set_context(user_id=user_id, service=service)
        yield
        # On an error the savepoint's rollback restores the outer values by
        # itself; on success they are restored here so nesting composes.
        if not transaction.get_rollback():
            _restore(*previous)


def as_user(user_id: str) -> contextlib.AbstractContextManager[None]:
    """Run the block in one transaction that sees only `user_id`'s rows."""
    if not user_id:
        raise ValueError("as_user needs a user id")
    return _scoped(user_id=str(user_id), service=False)


def as_service() -> contextlib.AbstractContextManager[None]:
    """Run the block in one transaction that sees every tenant's rows (system jobs)."""
    return _scoped(user_id="", service=True)


def request_identity(request) -> str:
    """Return the user id a request acts as, without touching tenant tables."""
    identity = getattr(request, "auth_identity", None)
    if identity is not None:
        return identity.user_id
    session = getattr(request, "session", None)
    if session is not None:
        return str(session.get(SESSION_KEY, "") or "")
    return ""


@dataclass(frozen=True)
class Preload:
    """A read an earlier middleware wants done with the context, in its round trip.

    The authentication middleware sets `request.rls_preload` to read the
    token's user: one round trip instead of two on every authenticated request.
    """

    query: tuple[str, Sequence[Any]]
    receive: Callable[[list[tuple]], None]


class RowLevelSecurityMiddleware:
    """Run the whole request, rendering included, in one transaction with the tenant set.

    ATOMIC_REQUESTS stays off: it wraps only the view, so a TemplateResponse
    would render after the transaction that carried the settings.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with transaction.atomic():
            user_id = request_identity(request)
            preload: Preload | None = getattr(request, "rls_preload", None)
            rows = set_context(
                user_id=user_id, service=False, then=preload.query if preload else None
            )
            if preload is not None:
                preload.receive(rows)
            # Left set after the response: Django logs the request's outcome
            # after the middleware chain. The next request overwrites it.
            observability.user_id_var.set(user_id or "-")
            if user_id and request.path.startswith(ADMIN_PATH_PREFIX):
                user = request.user  # loaded under the user's own context
                if getattr(user, "is_staff", False) and user.is_active:
                    # Staff in the admin see every trader's rows: the admin is
                    # the one place built for that.
                    set_context(user_id=user_id, service=True)
            response = self.get_response(request)
            if getattr(response, "render", None) and not getattr(response, "is_rendered", True):
                response.render()
            if response.status_code >= 500:
                # An inner handler turned an exception into a 500: keep no half write.
                transaction.set_rollback(True)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        """Let allauth's anonymous sign-in, sign-up and reset views find accounts."""
        match = request.resolver_match
        if (
            match is not None
            and match.url_name in ACCOUNT_LOOKUP_VIEWS
            and not match.namespace
            and view_func.__module__.startswith("allauth.")
            # Loaded under the session's own context; a stale or erased
            # session's user comes back anonymous and may sign in again.
            and not request.user.is_authenticated
        ):
            # Runs inside the transaction opened in __call__ (Django calls
            # process_view from within the middleware chain).
            set_context(user_id="", service=True)
        return None
