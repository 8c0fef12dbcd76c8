"""The seed's tables and columns exist with the intended types."""

import pytest
from django.core.management import call_command
from django.db import connection

SEED_COLUMNS = {
    "users": {
        "clerk_id": "text",
        "created_at": "timestamp with time zone",
        "updated_at": "timestamp with time zone",
    },
    "portfolios": {
        "id": "bigint",
        "user_id": "text",
        "name": "character varying",
        "account_type": "character varying",
        "broker_account_id": "character varying",
        "net_liquidation_value": "numeric",
        "synced_at": "timestamp with time zone",
        "created_at": "timestamp with time zone",
        "updated_at": "timestamp with time zone",
    },
    "positions": {
        "id": "bigint",
        "portfolio_id": "bigint",
        "symbol": "character varying",
        "strategy_type": "character varying",
        "quantity": "numeric",
        "open_date": "date",
        "expiration_date": "date",
        "strike_price": "numeric",
        "premium_received": "numeric",
        "current_value": "numeric",
        "delta": "double precision",
        "gamma": "double precision",
        "theta": "double precision",
        "vega": "double precision",
        "implied_volatility": "double precision",
        "created_at": "timestamp with time zone",
        "updated_at": "timestamp with time zone",
    },
    "trade_plans": {
        "id": "bigint",
        "user_id": "text",
        "name": "character varying",
        "monthly_income_target": "numeric",
        "risk_per_trade": "numeric",
        "max_overnight_exposure": "numeric",
        "created_at": "timestamp with time zone",
        "updated_at": "timestamp with time zone",
    },
    "trade_plan_strategies": {
        "id": "bigint",
        "trade_plan_id": "bigint",
        "strategy_type": "character varying",
        "allocation_percentage": "numeric",
        "max_positions": "integer",
        "delta_range_min": "numeric",
        "delta_range_max": "numeric",
        "target_credit": "numeric",
        "created_at": "timestamp with time zone",
        "updated_at": "timestamp with time zone",
    },
    "historical_metrics": {
        "id": "bigint",
        "portfolio_id": "bigint",
        "date": "date",
        "net_liquidation_value": "numeric",
        "total_delta": "double precision",
        "total_theta": "double precision",
        "total_vega": "double precision",
        "beta_weighted_delta": "double precision",
        "created_at": "timestamp with time zone",
    },
}

FOREIGN_KEYS = {
    ("portfolios", "user_id"): ("users", "clerk_id", "CASCADE"),
    ("positions", "portfolio_id"): ("portfolios", "id", "CASCADE"),
    ("trade_plans", "user_id"): ("users", "clerk_id", "CASCADE"),
    ("trade_plan_strategies", "trade_plan_id"): ("trade_plans", "id", "CASCADE"),
    ("historical_metrics", "portfolio_id"): ("portfolios", "id", "CASCADE"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("table", sorted(SEED_COLUMNS))
def test_seed_table_has_columns_with_types(table):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name = %s",
            [table],
        )
        actual = dict(cursor.fetchall())
    expected = SEED_COLUMNS[table]
    assert {name: actual.get(name) for name in expected} == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("source", "target"), sorted(FOREIGN_KEYS.items()))
def test_foreign_keys_reference_the_right_column_and_cascade(source, target):
    # Django emulates ON DELETE in Python; the database enforces it too. Read
    # from pg_catalog: information_schema's constraint_column_usage lists only
    # tables the current role owns, and the application role owns none.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.confrelid::regclass::text, fa.attname::text,
                   CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'n' THEN 'SET NULL'
                        WHEN 'r' THEN 'RESTRICT' WHEN 'a' THEN 'NO ACTION'
                        WHEN 'd' THEN 'SET DEFAULT' END
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute fa ON fa.attrelid = c.confrelid AND fa.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.conrelid = %s::regclass AND a.attname = %s
            """,
            list(source),
        )
        assert cursor.fetchone() == target


@pytest.mark.django_db
def test_historical_metrics_unique_per_portfolio_and_date():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'historical_metrics' "
            "AND indexdef LIKE 'CREATE UNIQUE INDEX%%'"
        )
        definitions = [row[0] for row in cursor.fetchall()]
    assert any("(portfolio_id, date)" in d for d in definitions), definitions


@pytest.mark.django_db
def test_models_and_migrations_agree():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
