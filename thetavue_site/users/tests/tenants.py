"""A row in every tenant table for a user, and what RLS shows of it on a raw connection."""

from __future__ import annotations

from allauth.account.models import EmailAddress, EmailConfirmation
from django.db import connection

from brokers.models import BrokerConnection
from thetavue_site import rls
from thetavue_site.tests.rls_probe import probe_connection
from thetavue_site.tests.test_rls_isolation import seed_tenant


def protected_tables() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT tablename FROM pg_policies WHERE schemaname = 'public' ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def ids_by_table(user_id: str) -> dict[str, set]:
    """Return the primary keys RLS shows `user_id`, for every protected table."""
    result = {}
    with probe_connection(user_id=user_id) as cursor:
        for table in protected_tables():
            key = {"users": "clerk_id", "processed_webhooks": "message_id"}.get(table, "id")
            cursor.execute(f"SELECT {key} FROM {table}")  # noqa: S608 - catalog names
            result[table] = {row[0] for row in cursor.fetchall()}
    return result


def seed(user) -> None:
    seed_tenant(user)
    with rls.as_service():
        address = EmailAddress.objects.get(user=user)
        EmailConfirmation.objects.create(email_address=address, key=f"key-{user.pk}")
        BrokerConnection.objects.filter(user=user).update(
            access_token_encrypted="gAAAA-access-ciphertext",
            refresh_token_encrypted="gAAAA-refresh-ciphertext",
        )
