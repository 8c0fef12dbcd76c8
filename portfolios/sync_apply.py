"""Write one broker account's snapshot: the portfolio, its legs, balances, transactions.

Called by the broker sync inside one transaction per account. A constant
number of statements per table, whatever the number of legs: the legs and
the transactions are copied (COPY) into temporary staging tables, then
written with one UPDATE of the rows whose values moved and one INSERT of
the new ones each; closed legs go in one DELETE.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter

from django.db import connection, models, transaction
from django.utils import timezone

from portfolios.book import LEG_COLUMNS
from portfolios.models import Position, Transaction

LEG_FIELDS = [*LEG_COLUMNS, "updated_at"]
BALANCE_FIELDS = [
    "net_liquidating_value",
    "cash_balance",
    "equity_buying_power",
    "derivative_buying_power",
    "used_derivative_buying_power",
    "maintenance_requirement",
    "maintenance_excess",
    "broker_updated_at",
    "updated_at",
]
TRANSACTION_FIELDS = [
    "transaction_type",
    "transaction_sub_type",
    "action",
    "symbol",
    "instrument_type",
    "underlying_symbol",
    "quantity",
    "price",
    "value",
    "net_value",
    "fees",
    "order_id",
    "executed_at",
    "transaction_date",
    "updated_at",
]


@dataclass(frozen=True)
class AccountSnapshot:
    """Everything the broker said about one account, already mapped to our fields."""

    broker_account_id: str
    name: str
    account_type: str
    legs: Sequence[Mapping]  # positions-table field dicts, keyed by symbol
    spy_price: Decimal | None  # the beta-weighting benchmark's price at this sync
    balance: Mapping | None  # account_balances field dicts
    transactions: Sequence[Mapping]  # transactions-table field dicts
    # Legs kept out of the book: {symbol, instrument_type, quantity, reason}.
    unsupported_legs: Sequence[Mapping] = ()


@dataclass(frozen=True)
class ApplyResult:
    portfolio_id: int
    added: int
    updated: int
    closed: int
    transactions_added: int


# No savepoint when nested: the sync calls this inside its own transaction
# (rls.as_user), and an error here aborts that whole transaction anyway.
@transaction.atomic(savepoint=False)
def account_snapshot_apply(
    *, user_id: str, connection_id: int, snapshot: AccountSnapshot, synced_at: dt.datetime
) -> ApplyResult:
    """Upsert the account's portfolio, legs, balance and transactions; delete closed legs."""
    now = timezone.now()
    with connection.cursor() as cursor:
        # The upsert locks the portfolio row (inserted, or updated in place):
        # two writers of one account queue here instead of interleaving their
        # upserts and deletes.
        cursor.execute(
            _UPSERT_PORTFOLIO_SQL,
            [
                user_id,
                snapshot.name,
                snapshot.account_type,
                snapshot.broker_account_id,
                connection_id,
                now,
                now,
            ],
        )
        portfolio_id, created = cursor.fetchone()
        # A portfolio made by this statement holds no legs or transactions yet:
        # nothing to compare with, nothing closed.
        held = not created
        added = _write_staged(
            cursor, _LEGS, snapshot.legs, portfolio_id=portfolio_id, now=now, held=held
        )
        closed = 0
        if held:
            cursor.execute(_DELETE_CLOSED_SQL, [portfolio_id])
            closed = cursor.fetchone()[0]
        transactions_added = 0
        if snapshot.transactions:
            transactions_added = _write_staged(
                cursor,
                _TRANSACTIONS,
                snapshot.transactions,
                portfolio_id=portfolio_id,
                now=now,
                held=held,
            )
        _write_balances(cursor, portfolio_id, snapshot, synced_at=synced_at, now=now)
    return ApplyResult(
        portfolio_id=portfolio_id,
        added=added,
        # Every leg the account already held counts as updated, moved or not.
        updated=len(snapshot.legs) - added,
        closed=closed,
        transactions_added=transactions_added,
    )


def _write_balances(cursor, portfolio_id: int, snapshot: AccountSnapshot, *, synced_at, now):
    """Upsert the balance row (when the broker sent one) and update the portfolio: one statement."""
    balance = snapshot.balance
    unsupported = json.dumps(list(snapshot.unsupported_legs))
    if balance is None:
        # No balances this time: the portfolio keeps the figures it had.
        cursor.execute(
            _TOUCH_PORTFOLIO_SQL, [snapshot.spy_price, unsupported, synced_at, now, portfolio_id]
        )
        return
    cursor.execute(
        _BALANCE_AND_PORTFOLIO_SQL,
        [
            portfolio_id,
            *(balance[name] for name in BALANCE_FIELDS if name != "updated_at"),
            now,
            now,
            balance["net_liquidating_value"],
            balance["cash_balance"],
            balance["derivative_buying_power"],
            balance["equity_buying_power"],
            balance["maintenance_requirement"],
            snapshot.spy_price,
            unsupported,
            synced_at,
            now,
            portfolio_id,
        ],
    )


@dataclass(frozen=True)
class _Staged:
    """A table written by COPY into a temporary staging table, then set-based SQL."""

    staging: str
    columns: tuple[str, ...]  # staged as they come, in this order; the key first
    defaults: tuple  # per column: the model default a row without that column gets
    create_sql: str
    copy_sql: str
    update_sql: str  # params: updated_at, portfolio id
    insert_sql: str  # params: portfolio id, created_at, updated_at, portfolio id → added
    insert_new_sql: str  # into a portfolio made in this transaction; params: id, created, updated


def _staged(model: type[models.Model], key: str, fields: Sequence[str]) -> _Staged:
    table = model._meta.db_table
    staging = f"sync_{table}"
    names = [key, *(name for name in fields if name != "updated_at")]
    columns = [model._meta.get_field(name).column for name in names]
    listed = ", ".join(columns)
    assigned = ", ".join(f"{column} = s.{column}" for column in columns[1:])
    stored = ", ".join(f"t.{column}" for column in columns[1:])
    staged = ", ".join(f"s.{column}" for column in columns[1:])
    # The staging table takes its column types from the target, so numeric
    # scales, dates and timestamptz parse exactly as an INSERT would. Temporary
    # tables have no RLS, so COPY FROM is allowed into them (auth-and-rls §4.1);
    # the statements into the real table are still checked by its policy.
    # It lives as long as the database session and is emptied at each commit:
    # creating and dropping it per account cost PostgreSQL more CPU (catalog
    # rows, invalidations) than the rows written. A session behind PgBouncer
    # may or may not have it, hence IF NOT EXISTS. DELETE empties what an
    # earlier write of the same transaction staged (several accounts, tests'
    # outer transaction).
    create_sql = (
        f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {listed} FROM {table} WITH NO DATA; "
        f"DELETE FROM pg_temp.{staging}"
    )
    # A join updates the rows held, only where a value moved (no dead tuple,
    # no WAL, updated_at kept otherwise); it is much cheaper than routing every
    # row through ON CONFLICT's speculative insertion.
    update_sql = (
        f"UPDATE {table} t SET {assigned}, updated_at = %s "  # noqa: S608 - names from _meta
        f"FROM {staging} s WHERE t.portfolio_id = %s AND t.{key} = s.{key} "
        f"AND ({stored}) IS DISTINCT FROM ({staged})"
    )
    # The portfolio row is locked, so no other sync adds these keys meanwhile;
    # ON CONFLICT covers a hand-made write that does not take that lock.
    # xmax = 0 marks a row this statement inserted rather than updated.
    insert_sql = (
        f"WITH written AS ("  # noqa: S608 - names from the model's _meta
        f"INSERT INTO {table} (portfolio_id, {listed}, created_at, updated_at) "
        f"SELECT %s, {listed}, %s, %s FROM {staging} s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {table} t WHERE t.portfolio_id = %s AND t.{key} = s.{key}) "
        f"ON CONFLICT (portfolio_id, {key}) DO UPDATE SET "
        + ", ".join(f"{column} = EXCLUDED.{column}" for column in columns[1:])
        + ", updated_at = EXCLUDED.updated_at RETURNING xmax = 0 AS inserted"
        ") SELECT count(*) FILTER (WHERE inserted) FROM written"
    )
    # A portfolio made in this transaction holds no rows and no other
    # transaction can add any (the row is not committed): a plain INSERT, no
    # anti-join, no speculative insertion, the row count is what was added.
    insert_new_sql = (
        f"INSERT INTO {table} (portfolio_id, {listed}, created_at, updated_at) "  # noqa: S608
        f"SELECT %s, {listed}, %s, %s FROM {staging}"
    )
    return _Staged(
        staging=staging,
        insert_new_sql=insert_new_sql,
        columns=tuple(names),
        defaults=tuple(
            field.get_default() if field.has_default() else None
            for field in map(model._meta.get_field, names)
        ),
        create_sql=create_sql,
        copy_sql=f"COPY {staging} ({listed}) FROM STDIN",
        update_sql=update_sql,
        insert_sql=insert_sql,
    )


def _write_staged(
    cursor, staged: _Staged, rows: Sequence[Mapping], *, portfolio_id, now, held: bool
) -> int:
    """Stage the rows, update the changed ones held, insert the new; return the inserted."""
    cursor.execute(staged.create_sql)
    values = itemgetter(*staged.columns)
    if rows and not all(column in rows[0] for column in staged.columns):
        # Optional columns (a leg's previous close) may be absent: stored as
        # the model's default, NULL where it has none.
        pairs = tuple(zip(staged.columns, staged.defaults, strict=True))

        def values(row):
            return tuple(row.get(column, default) for column, default in pairs)

    # COPY is psycopg's, below Django's cursor wrapper: it is not in captured queries.
    with cursor.cursor.copy(staged.copy_sql) as copy:
        for row in rows:
            copy.write_row(values(row))
    if not held:
        cursor.execute(staged.insert_new_sql, [portfolio_id, now, now])
        return cursor.rowcount
    cursor.execute(staged.update_sql, [now, portfolio_id])
    cursor.execute(staged.insert_sql, [portfolio_id, now, now, portfolio_id])
    return cursor.fetchone()[0]


_LEGS = _staged(Position, "symbol", LEG_FIELDS)
_TRANSACTIONS = _staged(Transaction, "broker_transaction_id", TRANSACTION_FIELDS)
_DELETE_CLOSED_SQL = (
    "WITH closed AS ("  # noqa: S608 - a constant table name
    "DELETE FROM positions WHERE portfolio_id = %s "
    f"AND NOT EXISTS (SELECT 1 FROM {_LEGS.staging} s WHERE s.symbol = positions.symbol) "
    "RETURNING 1"
    ") SELECT count(*) FROM closed"
)

# xmax = 0 marks a row this statement inserted; an existing one is updated
# in place (and so locked until the transaction ends).
_UPSERT_PORTFOLIO_SQL = (
    "INSERT INTO portfolios (user_id, name, account_type, broker_account_id, "
    "broker_connection_id, sync_version, created_at, updated_at) "
    "VALUES (%s, %s, %s, %s, %s, 0, %s, %s) "
    "ON CONFLICT (user_id, broker_account_id) DO UPDATE SET "
    "account_type = EXCLUDED.account_type, "
    "broker_connection_id = EXCLUDED.broker_connection_id, "
    "updated_at = EXCLUDED.updated_at "
    "RETURNING id, xmax = 0"
)
_PORTFOLIO_SYNCED = (
    "spy_price = COALESCE(%s::numeric, spy_price), unsupported_legs = %s::jsonb, synced_at = %s, "
    "sync_version = sync_version + 1, updated_at = %s"
)
_TOUCH_PORTFOLIO_SQL = f"UPDATE portfolios SET {_PORTFOLIO_SYNCED} WHERE id = %s"  # noqa: S608
_BALANCE_COLUMNS = [name for name in BALANCE_FIELDS if name != "updated_at"]
_BALANCE_AND_PORTFOLIO_SQL = (
    "WITH balance AS ("  # noqa: S608 - names from constants
    f"INSERT INTO account_balances (portfolio_id, {', '.join(_BALANCE_COLUMNS)}, "
    "created_at, updated_at) "
    f"VALUES (%s, {', '.join(['%s'] * len(_BALANCE_COLUMNS))}, %s, %s) "
    "ON CONFLICT (portfolio_id) DO UPDATE SET "
    + ", ".join(f"{name} = EXCLUDED.{name}" for name in BALANCE_FIELDS)
    + ") UPDATE portfolios SET net_liquidation_value = %s, cash_balance = %s, "  # noqa: S608
    "buying_power = %s, equity_buying_power = %s, maintenance_requirement = %s, "
    f"{_PORTFOLIO_SYNCED} WHERE id = %s"
)
