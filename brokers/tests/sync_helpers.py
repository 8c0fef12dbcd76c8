"""Helpers for sync tests: a connection granted by the sandbox, table snapshots."""

from __future__ import annotations

import datetime as dt

from django.db import connection as db
from django.utils import timezone

from brokers.models import BrokerConnection
from brokers.sync import default_client_factory
from brokers.tastytrade import client as tt
from brokers.tastytrade.oauth_client import TokenSet
from brokers.tokens import connection_tokens_store
from thetavue_site import rls

SYNCED_TABLES = ["portfolios", "positions", "account_balances", "transactions"]


def granted_connection(
    sandbox, user, *, customer: str = "demo", expires_in: float = 900
) -> BrokerConnection:
    """Create a connection holding tokens the sandbox issued for `customer`."""
    grant = sandbox.create_grant(customer)
    with rls.as_service():
        connection = BrokerConnection.objects.create(user=user, environment=sandbox.base_url)
        connection_tokens_store(
            connection=connection,
            tokens=TokenSet(
                access_token=grant["access_token"],
                refresh_token=grant["refresh_token"],
                expires_at=timezone.now() + dt.timedelta(seconds=expires_in),
            ),
        )
    return connection


def fast_client_factory(**kwargs) -> tt.TastytradeClient:
    """The production client with short timeouts and no real sleeping between retries."""
    return default_client_factory(**kwargs, timeout=(0.5, 0.5), sleep=lambda seconds: None)


def table_dump(tables=SYNCED_TABLES) -> dict[str, list[str]]:
    """Every row of the synced tables as text, ordered: byte-for-byte comparisons."""
    dump = {}
    with rls.as_service(), db.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT t::text FROM {table} t ORDER BY t::text")  # noqa: S608
            dump[table] = [row[0] for row in cursor.fetchall()]
    return dump
