"""Row Level Security proven at the database level, as a plain role with raw SQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from django.db import connection

from brokers.models import BrokerConnection, SyncRun
from metrics.models import HistoricalMetric
from portfolios.tests.factories import (
    make_balance,
    make_portfolio,
    make_short_put,
    make_transaction,
)
from thetavue_site import rls
from thetavue_site.tests.rls_probe import probe_connection
from thetavue_site.users.models import ApiToken, Consent, IdempotencyKey, Notification
from tradeplans.models import TradePlan, TradePlanBreach, TradePlanStrategy

pytestmark = pytest.mark.django_db(transaction=True)

# table -> column holding the owner, directly or through the parent's id.
TENANT_TABLES = [
    "users",
    "portfolios",
    "positions",
    "account_balances",
    "transactions",
    "trade_plans",
    "trade_plan_strategies",
    "trade_plan_breaches",
    "historical_metrics",
    "broker_connections",
    "sync_runs",
    "api_tokens",
    "notifications",
    "consents",
    "idempotency_keys",
    "account_emailaddress",
    "users_groups",
    "users_user_permissions",
    "django_admin_log",
]
# Rows of no trader: only the service context (the webhook view) sees them.
SERVICE_ONLY_TABLES = ["processed_webhooks"]


def seed_tenant(user) -> dict[str, int]:
    """Create one row in every tenant table for `user`; return the ids by table."""
    with rls.as_service():
        portfolio = make_portfolio(owner=user, account_type="margin")
        position = make_short_put(portfolio=portfolio)
        balance = make_balance(portfolio=portfolio)
        txn = make_transaction(portfolio=portfolio, broker_id=hash(user.pk) % 10**9)
        plan = TradePlan.objects.create(user=user, name="Plan")
        strategy = TradePlanStrategy.objects.create(
            trade_plan=plan, strategy_type="short_put", allocation_percentage=Decimal("50")
        )
        breach = TradePlanBreach.objects.create(
            trade_plan=plan,
            rule="risk_per_trade",
            opened_at="2026-03-02T15:00:00Z",
            last_seen_at="2026-03-02T15:00:00Z",
        )
        metric = HistoricalMetric.objects.create(portfolio=portfolio, date=dt.date(2026, 3, 2))
        conn = BrokerConnection.objects.create(user=user, environment="sandbox")
        run = SyncRun.objects.create(connection=conn, started_at="2026-03-02T15:00:00Z")
        token = ApiToken.objects.create(
            user=user, name="t", token_hash=f"h{user.pk}", prefix="tv_x"
        )
        note = Notification.objects.create(user=user, kind="test", title="hi")
        consent = Consent.objects.create(user=user, purpose="broker_connection", text_version="1")
        key = IdempotencyKey.objects.create(
            user=user, key="k", request_fingerprint="f", response_status=201, response_body={}
        )
        from allauth.account.models import EmailAddress

        email = EmailAddress.objects.create(
            user=user, email=user.email, primary=True, verified=True
        )
        from django.contrib.admin.models import ADDITION, LogEntry
        from django.contrib.auth.models import Group, Permission

        group, _ = Group.objects.get_or_create(name="traders")
        user.groups.add(group)
        user.user_permissions.add(Permission.objects.order_by("pk").first())
        log = LogEntry.objects.create(user=user, action_flag=ADDITION, object_repr="x")
        user_group = user.groups.through.objects.get(user=user)
        user_permission = user.user_permissions.through.objects.get(user=user)
    return {
        "users_groups": user_group.id,
        "users_user_permissions": user_permission.id,
        "django_admin_log": log.id,
        "account_emailaddress": email.id,
        "portfolios": portfolio.id,
        "positions": position.id,
        "account_balances": balance.id,
        "transactions": txn.id,
        "trade_plans": plan.id,
        "trade_plan_strategies": strategy.id,
        "trade_plan_breaches": breach.id,
        "historical_metrics": metric.id,
        "broker_connections": conn.id,
        "sync_runs": run.id,
        "api_tokens": token.id,
        "notifications": note.id,
        "consents": consent.id,
        "idempotency_keys": key.id,
    }


def count(cursor, table: str) -> int:
    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed table names
    return cursor.fetchone()[0]


def test_tenant_table_list_matches_the_catalog():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_policies WHERE schemaname = 'public'")
        protected = {row[0] for row in cursor.fetchall()}
    assert protected == set(TENANT_TABLES) | set(SERVICE_ONLY_TABLES) | {
        "account_emailconfirmation"
    }


def test_no_context_sees_no_rows_anywhere(alice, bob):
    seed_tenant(alice)
    seed_tenant(bob)
    with probe_connection() as cursor:
        assert {t: count(cursor, t) for t in TENANT_TABLES} == {t: 0 for t in TENANT_TABLES}


def test_alice_sees_exactly_her_rows(alice, bob):
    seed_tenant(alice)
    seed_tenant(bob)
    with probe_connection(user_id=alice.pk) as cursor:
        assert {t: count(cursor, t) for t in TENANT_TABLES} == {t: 1 for t in TENANT_TABLES}
        cursor.execute("SELECT DISTINCT user_id FROM portfolios")
        assert cursor.fetchall() == [(alice.pk,)]


def test_processed_webhooks_are_seen_and_written_by_the_service_context_only(alice):
    from thetavue_site.users.models import ProcessedWebhook

    with rls.as_service():
        ProcessedWebhook.objects.create(message_id="msg_1", event_type="user.updated")
    with probe_connection(user_id=alice.pk) as cursor:
        assert count(cursor, "processed_webhooks") == 0
        cursor.execute("DELETE FROM processed_webhooks RETURNING message_id")
        assert cursor.fetchall() == []
    with (
        probe_connection(user_id=alice.pk) as cursor,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        cursor.execute(
            "INSERT INTO processed_webhooks (message_id, event_type, processed_at) "
            "VALUES ('msg_2', 'user.deleted', now())"
        )
    with probe_connection(service=True) as cursor:
        assert count(cursor, "processed_webhooks") == 1


def test_service_context_sees_everyone(alice, bob):
    seed_tenant(alice)
    seed_tenant(bob)
    with probe_connection(service=True) as cursor:
        assert count(cursor, "portfolios") == 2


@pytest.mark.parametrize("table", [t for t in TENANT_TABLES if t != "users"])
def test_alice_cannot_update_or_delete_bobs_rows(alice, bob, table):
    seed_tenant(alice)
    bob_ids = seed_tenant(bob)
    with probe_connection(user_id=alice.pk) as cursor:
        cursor.execute(f"UPDATE {table} SET id = id WHERE id = %s RETURNING id", [bob_ids[table]])  # noqa: S608
        assert cursor.fetchall() == []
        cursor.execute(f"DELETE FROM {table} WHERE id = %s RETURNING id", [bob_ids[table]])  # noqa: S608
        assert cursor.fetchall() == []
    with rls.as_service(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table} WHERE id = %s", [bob_ids[table]])  # noqa: S608
        assert cursor.fetchone()[0] == 1


def test_alice_cannot_insert_a_row_owned_by_bob(alice, bob):
    seed_tenant(alice)
    bob_ids = seed_tenant(bob)
    with (
        probe_connection(user_id=alice.pk) as cursor,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        cursor.execute(
            "INSERT INTO portfolios (user_id, name, account_type, sync_version, created_at, updated_at) "
            "VALUES (%s, 'stolen', 'manual', 0, now(), now())",
            [bob.pk],
        )
    with (
        probe_connection(user_id=alice.pk) as cursor,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        cursor.execute(
            "INSERT INTO positions (portfolio_id, symbol, underlying_symbol, instrument_type, strategy_type, "
            "strategy_group_id, quantity, multiplier, settlement_type, iv_status, greeks_source, "
            "opening_order_id, created_at, updated_at) VALUES (%s, 'X', 'X', 'Equity', 'stock', '', 1, 1, "
            "'PM', '', 'none', '', now(), now())",
            [bob_ids["portfolios"]],
        )


def test_alice_cannot_move_her_portfolio_to_bob(alice, bob):
    alice_ids = seed_tenant(alice)
    with (
        probe_connection(user_id=alice.pk) as cursor,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        cursor.execute(
            "UPDATE portfolios SET user_id = %s WHERE id = %s", [bob.pk, alice_ids["portfolios"]]
        )


def test_orm_outside_any_context_sees_nothing(alice):
    seed_tenant(alice)
    from portfolios.models import Portfolio

    # A task that forgot rls.as_user(): the ORM finds no tenant rows.
    assert Portfolio.objects.count() == 0
    with rls.as_user(alice.pk):
        assert Portfolio.objects.count() == 1


def test_contexts_nest_and_restore(alice, bob):
    seed_tenant(alice)
    seed_tenant(bob)
    from portfolios.models import Portfolio

    with rls.as_user(alice.pk):
        with rls.as_service():
            assert Portfolio.objects.count() == 2
        assert list(Portfolio.objects.values_list("user_id", flat=True)) == [alice.pk]
