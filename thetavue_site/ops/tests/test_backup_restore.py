"""A backup restores into a fresh database with every table's rows intact."""

from __future__ import annotations

import os

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from portfolios.tests.factories import make_balance, make_book, make_portfolio, make_transaction
from thetavue_site import rls
from thetavue_site.ops.backups import Target, backup_create, backup_restore, backups_prune
from tradeplans.models import TradePlan, TradePlanStrategy

pytestmark = pytest.mark.django_db(transaction=True)


def url_for(database: str, *, owner: bool = False) -> str:
    """The application role's URL, or the owner's (who creates databases and restores)."""
    s = settings.DATABASE_OWNER if owner else settings.DATABASE_APP
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST']}:{s['PORT']}/{database}"


def table_fingerprints(dsn: str) -> dict[str, tuple[int, str]]:
    """Row count and an md5 over every row (ordered) of every public table."""
    out = {}
    with psycopg.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT set_config('app.service', 'on', false)")
        cursor.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "  # noqa: S608
                f"FROM {table} t"
            )
            out[table] = cursor.fetchone()
    return out


def test_backup_then_restore_into_a_fresh_database_is_identical(alice, bob, tmp_path):
    # given: data in many tables, for two tenants
    for owner in (alice, bob):
        with rls.as_service():
            portfolio = make_portfolio(owner=owner, account_type="margin")
            make_book(portfolio=portfolio, n_positions=25)
            make_balance(portfolio=portfolio)
            make_transaction(portfolio=portfolio, broker_id=hash(owner.pk) % 10**6)
            plan = TradePlan.objects.create(user=owner, name="Plan")
            TradePlanStrategy.objects.create(
                trade_plan=plan, strategy_type="short_put", allocation_percentage=40
            )
    source = connection.settings_dict["NAME"]
    fresh = f"{source}_restore_{os.getpid()}"
    with psycopg.connect(url_for("postgres", owner=True), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{fresh}"')
        admin.execute(f'CREATE DATABASE "{fresh}"')
    try:
        # when
        dump = backup_create(directory=tmp_path, target=Target(url_for(source), maintenance=False))
        backup_restore(path=dump, target=Target(url_for(fresh, owner=True), maintenance=False))
        # then
        before = table_fingerprints(url_for(source))
        after = table_fingerprints(url_for(fresh, owner=True))
        assert before["positions"][0] == 50
        assert after == before
    finally:
        connection.close()
        with psycopg.connect(url_for("postgres", owner=True), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{fresh}" WITH (FORCE)')


def test_retention_keeps_the_newest(tmp_path):
    for index in range(5):
        (tmp_path / f"thetavue-2026010{index}T000000Z.dump").write_text("x")
    deleted = backups_prune(directory=tmp_path, keep=2)
    assert [p.name for p in deleted] == [f"thetavue-2026010{i}T000000Z.dump" for i in range(3)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "thetavue-20260103T000000Z.dump",
        "thetavue-20260104T000000Z.dump",
    ]
