"""The sync of one broker connection (DESIGN.md §8).

Order: take the connection's Redis lock; mark the run running; fetch
accounts, balances, positions, transactions, quotes and market metrics with no
database transaction open; price and group every leg; then write each account
in one transaction. Any failure before the write leaves the last good data as
it was; the error is stored on the run and the connection and shown to the
trader (a notification after 3 consecutive failures, at once when the
broker wants the trader to reconnect).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection as db_connection
from django.utils import timezone

from brokers import account_fields, book_builder
from brokers.locks import connection_lock
from brokers.models import BrokerConnection, SyncRun
from brokers.tastytrade import client as tt
from brokers.tastytrade.oauth_client import TokenSet
from brokers.token_crypto import TokenDecryptionError
from brokers.tokens import connection_tokens, connection_tokens_store
from metrics import snapshot as metrics_snapshot
from metrics.exercise import ExerciseStyleSource
from portfolios.sync_apply import AccountSnapshot, account_snapshot_apply
from thetavue_site import rls
from thetavue_site.users.notifications import notification_create
from tradeplans.notifications import plans_notify_breaches

logger = logging.getLogger(__name__)

FAILURES_BEFORE_NOTIFYING = 3
# The run is claimed with its first step already set. Progress is written
# only when the step changes (each write is a transaction of its own, and
# a sync does little else but wait): the fetch of accounts, balances,
# positions and transactions is one step, quotes and market metrics another.
FIRST_STEP = "fetching accounts"
# Late fee adjustments and reversals carry older dates (tastytrade-api.md §3.4).
TRANSACTIONS_OVERLAP_DAYS = 5
# A first sync backfills this many days of end-of-day net liq from the broker.
BACKFILL_DAYS = 365

ClientFactory = Callable[..., tt.TastytradeClient]


@dataclass
class SyncOutcome:
    run_id: int | None
    status: str
    error: str = ""
    counts: dict[str, int] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, int] = {}
        self._start = time.perf_counter()

    def lap(self, step: str) -> None:
        now = time.perf_counter()
        self.timings[step] = round((now - self._start) * 1000)
        self._start = now


def default_client_factory(*, tokens: TokenSet, on_tokens, **overrides) -> tt.TastytradeClient:
    options = {
        "client_id": settings.TASTYTRADE_CLIENT_ID,
        "client_secret": settings.TASTYTRADE_CLIENT_SECRET,
        "user_agent": f"thetavue/{settings.VERSION}",
        "timeout": settings.BROKER_TIMEOUT_SECONDS,
        **overrides,
    }
    return tt.TastytradeClient(
        settings.TASTYTRADE_API_BASE_URL, tokens=tokens, on_tokens=on_tokens, **options
    )


def _run_start(
    *, connection_id: int, owner_id: str, run_id: int | None, trigger: str
) -> tuple[SyncRun, BrokerConnection] | None:
    """Claim the run (or create one) and return it with the connection as read.

    None when the run has already finished (a duplicate delivery) or the
    connection is gone. The connection read here also serves the fetch (its
    tokens, cursor and exclusions): the lock keeps other syncs off it.
    """
    with rls.as_user(owner_id):
        if run_id is None:
            return _run_create(connection_id=connection_id, trigger=trigger)
        connection = BrokerConnection.objects.filter(pk=connection_id).first()
        if connection is None or connection.status == BrokerConnection.Status.DISABLED:
            return None  # Disconnected while the message waited in the queue.
        now = timezone.now()
        claimed = SyncRun.objects.filter(
            pk=run_id, status__in=[SyncRun.Status.QUEUED, SyncRun.Status.RUNNING]
        ).update(status=SyncRun.Status.RUNNING, started_at=now, progress=FIRST_STEP)
        if not claimed:
            return None  # Delivered twice: the first delivery finished this run.
        run = SyncRun.objects.get(pk=run_id)
        BrokerConnection.objects.filter(pk=connection_id).exclude(
            status=BrokerConnection.Status.NEEDS_REAUTH
        ).update(status=BrokerConnection.Status.SYNCING, last_sync_started_at=now)
        return run, connection


def _run_create(*, connection_id: int, trigger: str) -> tuple[SyncRun, BrokerConnection] | None:
    """Read the connection, record a running run and mark the connection syncing.

    One statement (a scheduled sync runs this for every connection, every
    interval); None when the connection is gone or disconnected.
    """
    now = timezone.now()
    Status = BrokerConnection.Status
    found = list(
        BrokerConnection.objects.raw(
            _RUN_CREATE_SQL,
            [connection_id, Status.DISABLED]
            + [trigger, SyncRun.Status.RUNNING, now, FIRST_STEP, now, now]
            + [Status.SYNCING, now, Status.NEEDS_REAUTH],
        )
    )
    if not found:
        return None  # Disconnected while the message waited in the queue.
    connection = found[0]
    run = SyncRun(
        pk=connection.run_id,
        connection_id=connection.pk,
        trigger=trigger,
        status=SyncRun.Status.RUNNING,
        started_at=now,
        progress=FIRST_STEP,
        created_at=now,
        updated_at=now,
    )
    return run, connection


# The connection as it was read (its status before this run), the new run's
# id; a connection that needs reauthorising keeps that status.
_RUN_CREATE_SQL = (
    "WITH conn AS (SELECT * FROM broker_connections WHERE id = %s AND status <> %s), "
    "run AS (INSERT INTO sync_runs (connection_id, trigger, status, started_at, progress, "
    "accounts_synced, positions_added, positions_updated, positions_closed, "
    "transactions_added, requests_made, timings, error, created_at, updated_at) "
    "SELECT id, %s, %s, %s, %s, 0, 0, 0, 0, 0, 0, '{}', '', %s, %s FROM conn RETURNING id), "
    "syncing AS (UPDATE broker_connections SET status = %s, last_sync_started_at = %s "
    "WHERE id IN (SELECT id FROM conn) AND status <> %s) "
    "SELECT conn.*, run.id AS run_id FROM conn, run"
)


def _progress_fills_and_styles(
    owner_id: str, run: SyncRun, step: str, accounts: list[str]
) -> tuple[dict[str, list[book_builder.TradeFill]], dict[str, str]]:
    """Write the run's new step; read the accounts' stored fills and stated styles.

    One statement. The fills are those already stored for these accounts: a
    roll's opening order may predate the window of transactions fetched. The
    styles (symbol → American/European) are those the broker's instrument
    data stated at an earlier sync: a contract's style never changes, so
    those symbols are not asked for again.
    """
    fills: dict[str, list[book_builder.TradeFill]] = {}
    styles: dict[str, str] = {}
    with rls.as_user(owner_id), db_connection.cursor() as db:
        db.execute(
            _PROGRESS_FILLS_AND_STYLES_SQL,
            [step, run.pk, accounts, accounts, ExerciseStyleSource.BROKER.value],
        )
        for kind, account, symbol, action, order_id, executed_at, broker_id in db.fetchall():
            if kind == "style":
                styles[symbol] = action
                continue
            fills.setdefault(account, []).append(
                book_builder.TradeFill(symbol, action, order_id, executed_at, broker_id)
            )
    return fills, styles


# Fills and styles share the statement's columns: a style row carries the
# style where a fill carries its action.
_PROGRESS_FILLS_AND_STYLES_SQL = (
    "WITH step AS (UPDATE sync_runs SET progress = %s WHERE id = %s) "
    "SELECT 'fill', p.broker_account_id, t.symbol, t.action, t.order_id, t.executed_at, "
    "t.broker_transaction_id FROM transactions t JOIN portfolios p ON p.id = t.portfolio_id "
    "WHERE p.broker_account_id = ANY(%s) AND t.transaction_type = 'Trade' AND t.order_id <> '' "
    "UNION ALL "
    "SELECT 'style', NULL, s.symbol, s.exercise_style, NULL, NULL, NULL "
    "FROM positions s JOIN portfolios p ON p.id = s.portfolio_id "
    "WHERE p.broker_account_id = ANY(%s) AND s.exercise_style_source = %s"
)


def _broker_styles(
    client: tt.TastytradeClient, legs: list[book_builder.LegRow], known: dict[str, str]
) -> dict[str, str]:
    """Return symbol → exercise style as the broker states it: ``known`` plus the legs' others.

    Only option symbols not in ``known`` are asked for. A failed call is not
    the sync's failure: those legs take the table's style, stored as such,
    and the next sync asks again.
    """
    wanted: dict[str, list[str]] = {}
    for leg in legs:
        if leg.instrument_type in book_builder.OPTIONS and leg.symbol not in known:
            wanted.setdefault(leg.instrument_type, []).append(leg.symbol)
    if not wanted:
        return known
    try:
        instruments = client.option_instruments(wanted)
    except tt.BrokerError as error:
        logger.warning(
            "option instruments unavailable (%s); %d legs take the table's exercise style",
            type(error).__name__,
            sum(len(symbols) for symbols in wanted.values()),
        )
        return known
    stated = {
        symbol: instrument.exercise_style
        for symbol, instrument in instruments.items()
        if instrument.exercise_style is not None
    }
    return {**known, **stated}


def _notify(*, user_id: str, kind: str, level: str, title: str, body: str, dedupe_key: str) -> None:
    notification_create(
        user_id=user_id, kind=kind, level=level, title=title, body=body, dedupe_key=dedupe_key
    )


def _fail(
    *,
    owner_id: str,
    connection_id: int,
    run: SyncRun,
    error: str,
    needs_reauth: bool,
    timer: _Timer,
) -> None:
    """Record a failed run; the stored positions are not touched."""
    now = timezone.now()
    with rls.as_user(owner_id):
        connection = BrokerConnection.objects.select_for_update().get(pk=connection_id)
        connection.status = (
            BrokerConnection.Status.NEEDS_REAUTH if needs_reauth else BrokerConnection.Status.ERROR
        )
        connection.last_error = error
        connection.last_error_at = now
        connection.consecutive_failures += 1
        connection.save()
        SyncRun.objects.filter(pk=run.pk).update(
            status=SyncRun.Status.FAILED,
            finished_at=now,
            duration_ms=int((now - run.started_at).total_seconds() * 1000),
            error=error,
            progress="failed",
            timings=timer.timings,
        )
        if needs_reauth:
            _notify(
                user_id=owner_id,
                kind="broker_needs_reauth",
                level="error",
                title="Reconnect your Tastytrade account",
                body=f"{error} Your last synced positions are kept; reconnect to resume syncing.",
                dedupe_key=f"reauth:{connection_id}",
            )
        elif connection.consecutive_failures >= FAILURES_BEFORE_NOTIFYING:
            _notify(
                user_id=owner_id,
                kind="sync_failed",
                level="warning",
                title="Tastytrade sync is failing",
                body=(
                    f"The last {connection.consecutive_failures} syncs failed: {error} "
                    "Your last good positions are shown until a sync succeeds."
                ),
                dedupe_key=f"sync-failed:{connection_id}",
            )


def _describe(error: Exception) -> str:
    """A trader-readable reason that never contains a token."""
    if isinstance(error, tt.BrokerGrantInvalid):
        return "Tastytrade no longer accepts this connection (the grant was revoked or expired)."
    if isinstance(error, TokenDecryptionError):
        return "The stored Tastytrade credentials cannot be read; please reconnect."
    if isinstance(error, tt.BrokerAuthError):
        return "Tastytrade refused our credentials."
    if isinstance(error, tt.BrokerUnavailable):
        return "Tastytrade did not answer in time (it may be down or throttling); will retry."
    if isinstance(error, tt.BrokerProtocolError):
        return "Tastytrade sent a response we could not read; will retry."
    if isinstance(error, tt.BrokerRequestError):
        # The broker's own code, message and error.errors[] reasons (never a token).
        return f"Tastytrade refused a request: {error}"
    return f"Tastytrade refused a request: {type(error).__name__}."


def connection_sync(
    *,
    connection_id: int,
    owner_id: str,
    run_id: int | None = None,
    trigger: str = "schedule",
    client_factory: ClientFactory = default_client_factory,
) -> SyncOutcome:
    """Sync one connection end to end; return what happened (never raises broker errors)."""
    with connection_lock(connection_id) as acquired:
        if not acquired:
            return SyncOutcome(
                run_id=run_id, status="locked", error="another sync holds this connection"
            )
        started = _run_start(
            connection_id=connection_id, owner_id=owner_id, run_id=run_id, trigger=trigger
        )
        if started is None:
            return SyncOutcome(run_id=run_id, status="skipped")
        run, connection = started
        timer = _Timer()
        try:
            snapshots, cursor, request_count, net_liq_history = _fetch_and_build(
                owner_id, connection, run, timer, client_factory
            )
        except (tt.BrokerError, TokenDecryptionError) as error:
            message = _describe(error)
            logger.warning(
                "sync of connection %s failed: %s (%s)",
                connection_id,
                message,
                type(error).__name__,
            )
            _fail(
                owner_id=owner_id,
                connection_id=connection_id,
                run=run,
                error=message,
                needs_reauth=isinstance(
                    error, (tt.BrokerGrantInvalid, TokenDecryptionError, tt.BrokerAuthError)
                ),
                timer=timer,
            )
            return SyncOutcome(run_id=run.pk, status=SyncRun.Status.FAILED, error=message)
        except Exception:
            logger.exception("sync of connection %s failed on our side", connection_id)
            _fail(
                owner_id=owner_id,
                connection_id=connection_id,
                run=run,
                error="ThetaVue failed to process the broker data; the team has been alerted.",
                needs_reauth=False,
                timer=timer,
            )
            raise
        counts = _write(owner_id, connection_id, run, snapshots, cursor, request_count, timer)
        if net_liq_history:
            _start_history(owner_id, net_liq_history)
        return SyncOutcome(run_id=run.pk, status=SyncRun.Status.SUCCEEDED, counts=counts)


def _fetch_and_build(owner_id, connection, run, timer, client_factory):
    connection_id = connection.pk
    tokens = connection_tokens(connection=connection)
    excluded = set(connection.excluded_account_ids or [])
    cursor = connection.transactions_cursor

    def on_tokens(new_tokens: TokenSet) -> None:
        # Persist a refreshed token before it is used: a crash right after must
        # not leave us holding only a dead one.
        with rls.as_user(owner_id):
            fresh = BrokerConnection.objects.select_for_update().get(pk=connection_id)
            connection_tokens_store(connection=fresh, tokens=new_tokens)

    client = client_factory(tokens=tokens, on_tokens=on_tokens)
    try:
        accounts = [
            a for a in client.accounts() if not a.is_closed and a.account_number not in excluded
        ]
        timer.lap("accounts")
        fetched = []
        start_date = cursor - dt.timedelta(days=TRANSACTIONS_OVERLAP_DAYS) if cursor else None
        for account in accounts:
            balance = client.balance(account.account_number)
            positions = client.positions(account.account_number)
            transactions = client.transactions(account.account_number, start_date)
            fetched.append((account, balance, positions, transactions))
        timer.lap("positions")
        net_liq_history = _net_liq_history(owner_id, client, [a for a, *_ in fetched])
        stored_fills, stored_styles = _progress_fills_and_styles(
            owner_id, run, "fetching quotes", [account.account_number for account, *_ in fetched]
        )
        all_legs = [
            leg for _, _, positions, _ in fetched for leg in book_builder.read_legs(positions)[0]
        ]
        quotes = client.quotes(book_builder.quote_request(all_legs))
        metrics = client.market_metrics(book_builder.metric_symbols(all_legs))
        # After quotes and metrics: a dead grant or an outage fails the sync on
        # those calls, not on this one the sync can do without.
        stated_styles = _broker_styles(client, all_legs, stored_styles)
        timer.lap("quotes")
    finally:
        requests_made = client.calls
        client.close()

    market = book_builder.MarketData(quotes=quotes, metrics=metrics)
    now = timezone.now()
    snapshots = []
    newest_date = cursor
    for account, balance, positions, transactions in fetched:
        account_type = account_fields.account_type(account)
        fetched_fills = [
            book_builder.TradeFill(
                symbol=row.symbol,
                action=row.action,
                order_id=row.order_id,
                executed_at=row.executed_at,
                broker_id=row.id,
            )
            for row in transactions
            if row.transaction_type == "Trade" and row.symbol and row.action and row.order_id
        ]
        fills = {fill.broker_id: fill for fill in stored_fills.get(account.account_number, [])}
        fills.update((fill.broker_id, fill) for fill in fetched_fills)
        campaigns = book_builder.opening_orders(fills.values())
        set_aside: list[book_builder.SetAside] = []
        legs = book_builder.build_legs(
            positions,
            market=market,
            account=account.account_number,
            account_is_cash=account_type in ("cash", "ira"),
            now=now,
            rate=settings.RISK_FREE_RATE,
            campaigns=campaigns,
            set_aside=set_aside,
            stated_styles=stated_styles,
        )
        for leg in set_aside:
            logger.warning(
                "account %s: leg %s set aside: %s", account.account_number, leg.symbol, leg.reason
            )
        rows = [
            row for row in map(account_fields.transaction_fields, transactions) if row is not None
        ]
        for row in rows:
            if newest_date is None or row["transaction_date"] > newest_date:
                newest_date = row["transaction_date"]
        snapshots.append(
            AccountSnapshot(
                broker_account_id=account.account_number,
                name=account.nickname or f"Tastytrade {account.account_number}",
                account_type=account_type,
                legs=[leg.as_fields() for leg in legs],
                spy_price=market.price(book_builder.SPY),
                balance=account_fields.balance_fields(balance),
                transactions=rows,
                unsupported_legs=[leg.as_json() for leg in set_aside],
            )
        )
    timer.lap("pricing")
    return snapshots, newest_date, requests_made, net_liq_history


def _net_liq_history(owner_id, client, accounts) -> dict[str, list]:
    """Fetch a year of end-of-day net liq for accounts ThetaVue has no history of yet.

    Only a first sync pays for it (one query, then a request or two per new
    account). A broker that will not serve it leaves the history to start today.
    """
    new = metrics_snapshot.accounts_without_history(
        user_id=owner_id, account_numbers=[account.account_number for account in accounts]
    )
    start = timezone.localdate(timezone=book_builder.NEW_YORK) - dt.timedelta(days=BACKFILL_DAYS)
    history: dict[str, list] = {}
    for number in sorted(new):
        try:
            snapshots = client.balance_snapshots(number, start_date=start)
        except tt.BrokerError as error:
            logger.warning("no balance snapshots for account %s: %s", number, error)
            snapshots = []
        history[number] = [
            (snapshot.snapshot_date, snapshot.net_liquidating_value) for snapshot in snapshots
        ]
    return history


def _start_history(owner_id: str, net_liq_history: dict[str, list]) -> None:
    """Give new accounts their history (backfill and today's row); never fail the sync."""
    try:
        metrics_snapshot.portfolio_history_start(
            user_id=owner_id, net_liq_by_account=net_liq_history
        )
    except Exception:
        logger.exception("history of new accounts not started for user %s", owner_id)


def _write(owner_id, connection_id, run, snapshots, cursor, request_count, timer) -> dict[str, int]:
    totals = {
        "accounts": 0,
        "added": 0,
        "updated": 0,
        "closed": 0,
        "transactions": 0,
        "warnings": sum(len(snapshot.unsupported_legs) for snapshot in snapshots),
    }
    synced_at = timezone.now()

    def finish() -> None:
        timer.lap("write")
        _finish(owner_id, connection_id, run, totals, cursor, request_count, timer)

    if not snapshots:
        with rls.as_user(owner_id):
            finish()
    for index, snapshot in enumerate(snapshots):
        # One transaction per account: an account is written whole or not at all.
        # The last one also records the run, so the connection and its run agree
        # (and a sync commits once per account, not once more).
        with rls.as_user(owner_id):
            result = account_snapshot_apply(
                user_id=owner_id,
                connection_id=connection_id,
                snapshot=snapshot,
                synced_at=synced_at,
            )
            totals["accounts"] += 1
            totals["added"] += result.added
            totals["updated"] += result.updated
            totals["closed"] += result.closed
            totals["transactions"] += result.transactions_added
            if index == len(snapshots) - 1:
                finish()
    _notify_plan_breaches(owner_id)
    return totals


def _finish(owner_id, connection_id, run, totals, cursor, request_count, timer) -> None:
    """Mark the connection synced and the run succeeded, in one statement inside
    the caller's transaction."""
    now = timezone.now()
    with db_connection.cursor() as db:
        db.execute(
            _FINISH_SQL,
            [
                SyncRun.Status.SUCCEEDED,
                now,
                int((now - run.started_at).total_seconds() * 1000),
                totals["accounts"],
                totals["added"],
                totals["updated"],
                totals["closed"],
                totals["transactions"],
                totals["warnings"],
                request_count,
                json.dumps(timer.timings),
                run.pk,
                BrokerConnection.Status.ACTIVE,
                now,
                cursor,
                now,
                connection_id,
            ],
        )


# The run and its connection in one statement.
_FINISH_SQL = (
    "WITH run AS (UPDATE sync_runs SET status = %s, finished_at = %s, duration_ms = %s, "
    "progress = 'done', accounts_synced = %s, positions_added = %s, positions_updated = %s, "
    "positions_closed = %s, transactions_added = %s, warnings = %s, requests_made = %s, "
    "timings = %s::jsonb, error = '' WHERE id = %s) "
    "UPDATE broker_connections SET status = %s, last_synced_at = %s, last_error = '', "
    "consecutive_failures = 0, transactions_cursor = %s, updated_at = %s WHERE id = %s"
)


def _notify_plan_breaches(owner_id: str) -> None:
    """Turn new trade-plan breaches into notifications; never fail the finished sync."""
    try:
        plans_notify_breaches(user_id=owner_id)
    except Exception:
        # The sync's data is committed; a compliance bug must not mark it failed.
        logger.exception("plan breach notifications failed for user %s", owner_id)
