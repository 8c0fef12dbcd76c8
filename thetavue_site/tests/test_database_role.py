"""The application role can neither bypass nor switch off Row Level Security (finding 7).

Web and workers connect as the application role (DATABASE_URL); the owner
role (DATABASE_OWNER_URL) ran the migrations and owns every table. These
tests connect as the application role with raw SQL.
"""

import psycopg
import pytest
from django.core.cache import caches
from django.core.checks import run_checks
from django.db import connection

from brokers.models import BrokerConnection
from portfolios.tests.factories import make_portfolio
from thetavue_site import rls
from thetavue_site.checks import check_database_role, database_role_flags
from thetavue_site.tests.rls_probe import owner_dsn, probe_connection
from tradeplans.models import TradePlan


@pytest.mark.django_db
def test_connected_role_is_neither_superuser_nor_bypassrls():
    role, is_super, bypass = database_role_flags()
    assert (is_super, bypass) == (False, False), role


@pytest.mark.django_db
def test_system_check_passes_for_the_app_role():
    errors = [e for e in run_checks(databases=["default"]) if e.id.startswith("thetavue.")]
    assert errors == []


@pytest.mark.django_db
def test_app_role_owns_nothing_and_cannot_create_roles_or_databases(settings):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_user, rolcreaterole, rolcreatedb FROM pg_roles "
            "WHERE rolname = current_user"
        )
        assert cursor.fetchone() == (settings.DATABASE_APP_USER, False, False)
        cursor.execute(
            "SELECT count(*) FROM pg_class WHERE relowner = "
            "(SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db
def test_system_check_refuses_an_app_role_that_owns_a_table(settings):
    # given: the role named as the application's is one that owns the tables
    settings.DATABASE_APP_USER = settings.DATABASE_OWNER["USER"]
    # when
    errors = check_database_role(databases=["default"])
    # then
    assert [error.id for error in errors] == ["thetavue.E003"]
    assert "NO FORCE ROW LEVEL SECURITY" in errors[0].msg


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "statement",
    [
        "ALTER TABLE portfolios NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE portfolios DISABLE ROW LEVEL SECURITY",
        "DROP POLICY portfolios_tenant ON portfolios",
        "CREATE POLICY everything ON portfolios USING (true)",
        "TRUNCATE portfolios CASCADE",
        "CREATE TABLE stash (id int)",
        "CREATE ROLE intruder",
    ],
)
def test_app_role_cannot_switch_row_level_security_off(statement):
    with probe_connection() as cursor, pytest.raises(psycopg.errors.InsufficientPrivilege):
        cursor.execute(statement)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname = 'portfolios'"
        )
        assert cursor.fetchone() == (True, True)


@pytest.mark.django_db
def test_app_role_has_only_dml_on_every_table():
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
              AND (has_table_privilege(c.oid, 'TRUNCATE')
                   OR has_table_privilege(c.oid, 'REFERENCES')
                   OR has_table_privilege(c.oid, 'TRIGGER'))
            """
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT has_table_privilege('django_migrations', 'INSERT')")
        assert cursor.fetchone() == (False,)


# --- Cross-tenant parents: a child row's parent belongs to the same user --------------


def _seed(user):
    with rls.as_service():
        conn = BrokerConnection.objects.create(user=user, environment=f"sandbox-{user.pk}")
        portfolio = make_portfolio(owner=user, account_type="margin")
        plan = TradePlan.objects.create(user=user, name="Plan", portfolio=portfolio)
    return conn, portfolio, plan


@pytest.mark.django_db(transaction=True)
def test_trade_plan_cannot_be_repointed_at_another_users_portfolio(alice, bob):
    _, _, alice_plan = _seed(alice)
    _, bob_portfolio, _ = _seed(bob)
    with (
        probe_connection(user_id=alice.pk) as cursor,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        cursor.execute(
            "UPDATE trade_plans SET portfolio_id = %s WHERE id = %s",
            [bob_portfolio.pk, alice_plan.pk],
        )
    # Not even the service context may link across owners: it is an invariant of the data.
    with (
        probe_connection(service=True) as cursor,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        cursor.execute(
            "UPDATE trade_plans SET portfolio_id = %s WHERE id = %s",
            [bob_portfolio.pk, alice_plan.pk],
        )
    with rls.as_service():
        alice_plan.refresh_from_db()
        assert alice_plan.portfolio.user_id == alice.pk


@pytest.mark.django_db(transaction=True)
def test_cross_owner_links_are_refused_on_every_foreign_key_between_tenant_tables(alice, bob):
    """Walk the catalog: every FK from a table with its own user_id to another such table."""
    alice_conn, alice_portfolio, alice_plan = _seed(alice)
    bob_conn, bob_portfolio, bob_plan = _seed(bob)
    rows = {
        "portfolios": (alice_portfolio.pk, bob_portfolio.pk),
        "broker_connections": (alice_conn.pk, bob_conn.pk),
        "trade_plans": (alice_plan.pk, bob_plan.pk),
    }
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
              AND c.confrelid::regclass::text <> 'users'
              AND EXISTS (SELECT 1 FROM pg_attribute u WHERE u.attrelid = c.conrelid
                          AND u.attname = 'user_id' AND NOT u.attisdropped)
              AND EXISTS (SELECT 1 FROM pg_attribute u WHERE u.attrelid = c.confrelid
                          AND u.attname = 'user_id' AND NOT u.attisdropped)
            """
        )
        links = sorted(set(cursor.fetchall()))
    assert links == [
        ("portfolios", "broker_connection_id", "broker_connections"),
        ("trade_plans", "portfolio_id", "portfolios"),
    ]
    for table, column, parent in links:
        with (
            probe_connection(user_id=alice.pk) as cursor,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE id = %s",  # noqa: S608 - catalog names
                [rows[parent][1], rows[table][0]],
            )
        # Her own parent is fine.
        with probe_connection(user_id=alice.pk) as cursor:
            cursor.execute(
                f"UPDATE {table} SET {column} = %s WHERE id = %s RETURNING id",  # noqa: S608
                [rows[parent][0], rows[table][0]],
            )
            assert cursor.fetchall() == [(rows[table][0],)]


# --- Sessions, admin log, user links: no app-role access to other users' rows ---------


@pytest.mark.django_db
def test_sessions_are_not_in_the_database(alice_client, alice):
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('django_session')")
        assert cursor.fetchone() == (None,)
    session_key = alice_client.cookies["sessionid"].value
    stored = caches["sessions"].get(f"django.contrib.sessions.cache{session_key}")
    assert stored["_auth_user_id"] == alice.pk


@pytest.mark.django_db(transaction=True)
def test_admin_log_and_permission_links_of_another_user_are_invisible(alice, bob):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.auth.models import Permission

    with rls.as_service():
        for user in (alice, bob):
            LogEntry.objects.create(user=user, action_flag=CHANGE, object_repr="x")
            user.user_permissions.add(Permission.objects.order_by("pk").first())
    with probe_connection(user_id=alice.pk) as cursor:
        cursor.execute("SELECT DISTINCT user_id FROM django_admin_log")
        assert cursor.fetchall() == [(alice.pk,)]
        cursor.execute("SELECT DISTINCT user_id FROM users_user_permissions")
        assert cursor.fetchall() == [(alice.pk,)]
    with probe_connection() as cursor:
        cursor.execute("SELECT count(*) FROM django_admin_log")
        assert cursor.fetchone() == (0,)


@pytest.mark.django_db(transaction=True)
def test_tables_the_owner_creates_later_are_granted_to_the_app_role_by_default():
    """ALTER DEFAULT PRIVILEGES: a table from a later migration is usable before the re-grant."""
    with psycopg.connect(owner_dsn(), autocommit=True) as owner:
        owner.execute("CREATE TABLE later_table (id bigint GENERATED BY DEFAULT AS IDENTITY)")
    try:
        with probe_connection() as cursor:
            cursor.execute("INSERT INTO later_table DEFAULT VALUES RETURNING id")
            assert cursor.fetchone() == (1,)
            cursor.execute(
                "SELECT has_table_privilege('later_table', 'TRUNCATE'), "
                "(SELECT relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) "
                "FROM pg_class WHERE relname = 'later_table')"
            )
            assert cursor.fetchone() == (False, False)
    finally:
        with psycopg.connect(owner_dsn(), autocommit=True) as owner:
            owner.execute("DROP TABLE later_table")
