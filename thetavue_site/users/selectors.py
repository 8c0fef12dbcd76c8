"""Reads of the users app, always from the user's scope."""

from __future__ import annotations

import functools

from django.db import connection
from django.db.models import QuerySet

from thetavue_site.users.models import ApiToken, Notification, User


def api_token_list_for_user(*, user: User) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def notification_list_for_user(*, user: User, unread: bool | None = None) -> QuerySet[Notification]:
    notifications = Notification.objects.filter(user=user).order_by("-created_at", "-id")
    if unread is True:
        notifications = notifications.filter(read_at__isnull=True)
    elif unread is False:
        notifications = notifications.filter(read_at__isnull=False)
    return notifications


@functools.cache
def _user_by_pk() -> tuple[str, tuple[str, ...]]:
    """The SELECT of every concrete user column by primary key, built once per process."""
    quote = connection.ops.quote_name
    fields = User._meta.concrete_fields
    columns = ", ".join(quote(field.column) for field in fields)
    statement = (
        f"SELECT {columns} FROM {quote(User._meta.db_table)} "  # noqa: S608 - names from _meta
        f"WHERE {quote(User._meta.pk.column)} = %s"
    )
    return statement, tuple(field.attname for field in fields)


def user_by_pk_query(user_id: str) -> tuple[str, list[str]]:
    """Return (SELECT, params) reading one user, for `rls.set_context(then=…)`."""
    return _user_by_pk()[0], [user_id]


def user_from_rows(rows: list[tuple]) -> User | None:
    """Build the User that `user_by_pk_query` read (None when there was no row)."""
    if not rows:
        return None
    return User.from_db(connection.alias, _user_by_pk()[1], rows[0])
