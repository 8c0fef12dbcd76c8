"""Every tenant table has RLS enabled, forced and a policy; a new table without one fails here."""

import pytest
from django.db import connection

# Tables that hold no user data (framework and global tables). Everything
# else, user links and logs included, carries forced RLS; sessions live in Redis.
GLOBAL_TABLES = {
    "django_migrations",
    "django_content_type",
    "auth_permission",
    "auth_group",
    "auth_group_permissions",
}


@pytest.mark.django_db
def test_every_tenant_table_has_forced_rls_and_a_policy():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   array_remove(array_agg(DISTINCT p.cmd::text), NULL)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            LEFT JOIN pg_policies p ON p.tablename = c.relname AND p.schemaname = n.nspname
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            GROUP BY c.relname, c.relrowsecurity, c.relforcerowsecurity
            """
        )
        rows = cursor.fetchall()
    unprotected = {
        name: (enabled, forced, commands)
        for name, enabled, forced, commands in rows
        if name not in GLOBAL_TABLES
        and not (
            enabled
            and forced
            and ("ALL" in commands or {"SELECT", "INSERT", "UPDATE", "DELETE"} <= set(commands))
        )
    }
    assert unprotected == {}
    tenant_tables = {name for name, *_ in rows} - GLOBAL_TABLES
    assert {
        "users",
        "portfolios",
        "positions",
        "trade_plans",
        "trade_plan_strategies",
        "historical_metrics",
    } <= tenant_tables


@pytest.mark.django_db
def test_no_view_runs_with_its_owners_rights():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind = 'v'
              AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
            """
        )
        assert cursor.fetchall() == []


@pytest.mark.django_db
def test_policies_name_no_role():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, roles FROM pg_policies WHERE schemaname = 'public'")
        rows = cursor.fetchall()
    assert rows, "no policies at all"
    assert {table: roles for table, roles in rows if roles != ["public"]} == {}
