"""The sync of one connection against the local sandbox: data, signs, faults, locks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection as db
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from brokers.locks import connection_lock
from brokers.models import BrokerConnection, SyncRun
from brokers.sync import connection_sync
from brokers.tests.sync_helpers import fast_client_factory, granted_connection, table_dump
from conftest import login
from metrics.models import HistoricalMetric
from metrics.selectors import new_york_today, portfolio_metrics
from portfolios.models import AccountBalance, Portfolio, Position, Transaction
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def sync(connection, **kwargs):
    return connection_sync(
        connection_id=connection.pk,
        owner_id=connection.user_id,
        client_factory=fast_client_factory,
        **kwargs,
    )


def test_full_sync_stores_accounts_legs_balances_and_transactions(sandbox, alice):
    connection = granted_connection(sandbox, alice)

    outcome = sync(connection)

    assert outcome.status == "succeeded", outcome.error
    with rls.as_user(alice.pk):
        portfolios = {p.broker_account_id: p for p in Portfolio.objects.all()}
        # The demo customer's open accounts; the closed 5WT00003 is not synced.
        assert set(portfolios) == {"5WT00001", "5WT00002"}
        assert portfolios["5WT00002"].account_type == "ira"
        assert all(p.synced_at and p.sync_version == 1 for p in portfolios.values())
        assert all(p.net_liquidation_value is not None for p in portfolios.values())
        assert AccountBalance.objects.count() == len(portfolios)
        assert Transaction.objects.count() > 250  # several pages were followed
        legs = list(Position.objects.all())
        run = SyncRun.objects.get(pk=outcome.run_id)
        connection.refresh_from_db()
    assert run.status == "succeeded"
    assert run.positions_added == len(legs) > 10
    assert run.accounts_synced == len(portfolios)
    assert set(run.timings) >= {"accounts", "positions", "quotes", "pricing", "write"}
    assert connection.status == "active" and connection.last_synced_at is not None

    # Every seed column of an option leg is filled, with DESIGN.md §5 signs.
    short_puts = [
        p for p in legs if p.option_type == "P" and p.quantity < 0 and p.greeks_source == "implied"
    ]
    assert short_puts
    for leg in short_puts:
        assert leg.symbol and leg.strategy_type and leg.strategy_group_id
        assert leg.expiration_date and leg.strike_price > 0
        assert leg.premium_received > 0  # credit
        assert leg.current_value < 0  # a short option is a liability
        assert leg.delta > 0 and leg.theta > 0 and leg.vega < 0
        assert 0 < leg.implied_volatility < 5
        assert leg.current_value == (leg.mark * leg.quantity * leg.multiplier).quantize(
            Decimal("0.01")
        )
    stock = [p for p in legs if p.instrument_type == "Equity" and p.greeks_source == "linear"]
    assert stock and all(p.delta == pytest.approx(float(p.quantity)) for p in stock)
    assert {p.strategy_type for p in legs} >= {
        "short_strangle",
        "iron_condor",
        "covered_call",
        "stock",
    }
    # The IRA's short put is cash-secured.
    ira_put = [
        p for p in legs if p.portfolio_id == portfolios["5WT00002"].pk and p.option_type == "P"
    ]
    assert [p.strategy_type for p in ira_put] == ["cash_secured_put"]


def test_second_sync_updates_values_removes_closed_legs_and_duplicates_nothing(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    sync(connection)
    with rls.as_user(alice.pk):
        portfolio = Portfolio.objects.order_by("pk").first()
        before = {p.symbol: p.mark for p in Position.objects.all()}
        ghost = Position.objects.create(
            portfolio=portfolio,
            symbol="GONE",
            underlying_symbol="GONE",
            instrument_type="Equity",
            quantity=1,
        )
        transactions = Transaction.objects.count()
    sandbox.tick(30)

    outcome = sync(connection)

    assert outcome.status == "succeeded"
    with rls.as_user(alice.pk):
        after = {p.symbol: p.mark for p in Position.objects.all()}
        assert not Position.objects.filter(pk=ghost.pk).exists()
        assert Transaction.objects.count() == transactions
        assert Portfolio.objects.get(pk=portfolio.pk).sync_version == 2
    assert set(after) == set(before)
    assert any(after[s] != before[s] for s in after), "marks should move with the tick"
    assert outcome.counts["closed"] == 1 and outcome.counts["added"] == 0


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "malformed_json", "path": "/accounts/*/positions", "times": None},
        {"kind": "hang", "path": "/market-data/by-type", "times": None, "seconds": 2},
        {"kind": "server_error", "path": "/accounts/*/balances/USD", "times": None},
        {"kind": "bad_gateway", "path": "/market-metrics", "times": None},
    ],
    ids=["malformed-json", "timeout", "5xx", "502-html"],
)
def test_failure_mid_sync_leaves_every_stored_row_as_it_was(sandbox, alice, fault):
    connection = granted_connection(sandbox, alice)
    assert sync(connection).status == "succeeded"
    sandbox.tick(10)
    before = table_dump()
    sandbox.add_fault(**fault)

    outcome = sync(connection)

    assert outcome.status == "failed"
    assert table_dump() == before
    with rls.as_user(alice.pk):
        connection.refresh_from_db()
        run = SyncRun.objects.get(pk=outcome.run_id)
    assert connection.status == "error"
    assert connection.last_error and "token" not in connection.last_error.lower()
    assert connection.consecutive_failures == 1
    assert run.status == "failed" and run.error == connection.last_error


def test_the_brokers_error_details_reach_the_run_message(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    sandbox.add_fault("status", status=422, path="/accounts/*/positions", times=None)

    outcome = sync(connection)

    assert outcome.status == "failed"
    with rls.as_user(alice.pk):
        run = SyncRun.objects.get(pk=outcome.run_id)
    assert "HTTP 422 sandbox_fault" in run.error
    assert "sandbox injected_fault: Injected" in run.error


def test_retries_429_and_5xx_with_growing_delays(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    sandbox.add_fault("throttle", path="/customers/me/accounts", times=2)
    sandbox.add_fault("unavailable", path="/accounts/*/positions", times=1)
    sleeps: list[float] = []

    def recording_factory(**kwargs):
        from brokers.sync import default_client_factory

        return default_client_factory(**kwargs, sleep=sleeps.append)

    outcome = connection_sync(
        connection_id=connection.pk, owner_id=alice.pk, client_factory=recording_factory
    )

    assert outcome.status == "succeeded"
    assert len(sandbox.requests(path="/customers/me/accounts")) == 3
    assert len(sleeps) == 3
    # Full jitter within capped exponential windows: 429 uses base 2 s.
    assert 0 <= sleeps[0] <= 2 and 0 <= sleeps[1] <= 4


def test_revoked_grant_asks_for_reauth_without_a_retry_loop(sandbox, alice):
    connection = granted_connection(sandbox, alice, expires_in=10)  # refresh is due
    sandbox.revoke(customer="demo")

    outcome = sync(connection)

    assert outcome.status == "failed"
    with rls.as_user(alice.pk):
        connection.refresh_from_db()
    assert connection.status == BrokerConnection.Status.NEEDS_REAUTH
    assert (
        "reconnect" in connection.last_error.lower() or "revoked" in connection.last_error.lower()
    )
    assert len(sandbox.requests(path="/oauth/token")) == 1
    assert sandbox.requests(path="/accounts") == []


def test_refreshed_tokens_are_stored_encrypted_before_use(sandbox, alice):
    connection = granted_connection(sandbox, alice, expires_in=10)
    old = connection.access_token_encrypted

    assert sync(connection).status == "succeeded"

    with rls.as_user(alice.pk):
        connection.refresh_from_db()
    assert connection.access_token_encrypted != old
    assert len(sandbox.requests(path="/oauth/token")) == 1


def test_a_second_worker_on_the_same_connection_is_a_no_op(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    with connection_lock(connection.pk) as held:
        assert held
        outcome = sync(connection)
    assert outcome.status == "locked"
    assert sandbox.requests() == []
    with rls.as_user(alice.pk):
        assert not SyncRun.objects.exists()


def test_a_finished_run_delivered_again_does_nothing(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    with rls.as_user(alice.pk):
        run = SyncRun.objects.create(
            connection=connection, status="queued", started_at="2026-03-02T15:00:00Z"
        )
    assert sync(connection, run_id=run.pk).status == "succeeded"
    before = table_dump(
        [*("portfolios", "positions", "account_balances", "transactions", "sync_runs")]
    )
    sandbox.clear_log()

    again = sync(connection, run_id=run.pk)

    assert again.status == "skipped"
    assert sandbox.requests() == []
    assert (
        table_dump(["portfolios", "positions", "account_balances", "transactions", "sync_runs"])
        == before
    )


def test_disconnected_connection_is_not_synced(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    with rls.as_user(alice.pk):
        BrokerConnection.objects.filter(pk=connection.pk).update(status="disabled")
    assert sync(connection).status == "skipped"
    assert sandbox.requests() == []


def test_deleted_account_is_not_resurrected(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    sync(connection)
    with rls.as_user(alice.pk):
        victim = Portfolio.objects.order_by("broker_account_id").first()
        BrokerConnection.objects.filter(pk=connection.pk).update(
            excluded_account_ids=[victim.broker_account_id]
        )
        victim.delete()
    sync(connection)
    with rls.as_user(alice.pk):
        assert not Portfolio.objects.filter(broker_account_id=victim.broker_account_id).exists()


def test_sync_never_writes_to_another_users_rows(sandbox, alice, bob):
    granted_connection(sandbox, bob, customer="bob")
    connection = granted_connection(sandbox, alice)
    sync(connection)
    with rls.as_service():
        owners = set(Portfolio.objects.values_list("user_id", flat=True))
    assert owners == {alice.pk}


def test_a_sync_turns_a_new_plan_breach_into_one_notification(sandbox, alice):
    from thetavue_site.users.models import Notification
    from tradeplans.models import TradePlan

    with rls.as_service():
        TradePlan.objects.create(user=alice, name="Tight", max_overnight_exposure=Decimal("1.00"))
    connection = granted_connection(sandbox, alice)

    assert sync(connection).status == "succeeded"
    sandbox.tick(5)
    assert sync(connection).status == "succeeded"

    with rls.as_user(alice.pk):
        breaches = list(
            Notification.objects.filter(kind="plan_breach").values_list("title", flat=True)
        )
    assert len(breaches) == 1, breaches


def test_three_consecutive_failures_notify_the_trader_once(sandbox, alice):
    from thetavue_site.users.models import Notification

    connection = granted_connection(sandbox, alice)
    sandbox.add_fault("server_error", path="/customers/me/accounts", times=None)

    outcomes = [sync(connection).status for _ in range(4)]

    assert outcomes == ["failed"] * 4
    with rls.as_user(alice.pk):
        notes = list(Notification.objects.filter(kind="sync_failed"))
        connection.refresh_from_db()
    assert connection.consecutive_failures == 4
    assert len(notes) == 1 and "last 3 syncs failed" in notes[0].body


def _tenant_blocks(queries) -> int:
    """rls.as_user blocks run (each is one transaction outside the tests' outer one)."""
    return sum(query["sql"].startswith("SELECT coalesce(current_setting") for query in queries)


@pytest.mark.parametrize("has_plan", [False, True])
def test_a_sync_commits_once_per_account_and_twice_more(sandbox, alice, has_plan):
    from tradeplans.models import TradePlan

    if has_plan:
        with rls.as_service():
            TradePlan.objects.create(user=alice, name="Plan", max_overnight_exposure=Decimal("1"))
    connection = granted_connection(sandbox, alice)

    with CaptureQueriesContext(db) as captured:
        outcome = sync(connection)

    assert outcome.status == "succeeded"
    # Claim the run; note the step and read stored fills; one per account, the
    # last also recording the run; then tradeplans' breach check, which for a
    # trader without plans is its one read of trade_plans and nothing more.
    assert outcome.counts["accounts"] == 2
    plan_checks = [q for q in captured.captured_queries if 'FROM "trade_plans"' in q["sql"]]
    assert len(plan_checks) == 1
    if not has_plan:
        # 5 for the sync itself; a first sync adds 4 to start the history: which
        # accounts have none, their portfolios, the backfill, today's snapshot.
        assert _tenant_blocks(captured.captured_queries) == 5 + 4
    with rls.as_user(alice.pk):
        run = SyncRun.objects.get(pk=outcome.run_id)
        connection.refresh_from_db()
    assert (run.status, run.progress, run.error, run.accounts_synced) == (
        "succeeded",
        "done",
        "",
        2,
    )
    # 10 for the sync; a first sync adds one page of balance snapshots per account
    # (a year of days fits in one page at the client's page size) and one
    # instrument list per option kind held (equity and future options)
    assert run.requests_made == len(sandbox.requests()) == 10 + 2 + 2
    assert run.finished_at >= run.started_at and run.duration_ms is not None
    assert connection.status == "active" and connection.transactions_cursor is not None


@pytest.mark.parametrize(
    ("before", "after"),
    [("active", "syncing"), ("error", "syncing"), ("needs_reauth", "needs_reauth")],
)
def test_starting_a_run_marks_the_connection_syncing_unless_it_needs_reauth(
    sandbox, alice, before, after
):
    from brokers.sync import FIRST_STEP, _run_start

    connection = granted_connection(sandbox, alice)
    with rls.as_service():
        BrokerConnection.objects.filter(pk=connection.pk).update(status=before)

    run, read = _run_start(
        connection_id=connection.pk, owner_id=alice.pk, run_id=None, trigger="manual"
    )

    with rls.as_user(alice.pk):
        stored_run = SyncRun.objects.get(pk=run.pk)
        connection.refresh_from_db()
    assert read.pk == connection.pk and read.status == before  # as read, before the run
    assert read.access_token_encrypted == connection.access_token_encrypted
    assert (stored_run.status, stored_run.trigger, stored_run.progress) == (
        "running",
        "manual",
        FIRST_STEP,
    )
    assert stored_run.started_at == run.started_at and stored_run.timings == {}
    assert connection.status == after
    assert (connection.last_sync_started_at == run.started_at) == (after == "syncing")


def test_a_disabled_connection_starts_no_run(sandbox, alice):
    from brokers.sync import _run_start

    connection = granted_connection(sandbox, alice)
    with rls.as_service():
        BrokerConnection.objects.filter(pk=connection.pk).update(status="disabled")

    started = _run_start(
        connection_id=connection.pk, owner_id=alice.pk, run_id=None, trigger="schedule"
    )

    assert started is None
    with rls.as_user(alice.pk):
        assert not SyncRun.objects.exists()


def test_fees_include_the_other_charges_of_a_futures_option_trade(sandbox, alice):
    connection = granted_connection(sandbox, alice)

    assert sync(connection).status == "succeeded"

    with rls.as_user(alice.pk):
        opened = list(
            Transaction.objects.filter(instrument_type="Future Option", action__endswith="to Open")
        )
    assert opened
    for row in opened:
        # per contract: commission 1.25 + clearing 0.30 + NFA 0.02 + exchange 0.70
        # + other charges 1.70 = 3.97 (2.27 without the other charges)
        assert row.fees == Decimal("3.97") * row.quantity


def test_sync_stores_each_legs_previous_close_so_day_pnl_works_on_day_one(sandbox, alice):
    # given: a connection that has never synced
    connection = granted_connection(sandbox, alice)
    # when
    outcome = sync(connection)
    # then: every quoted leg carries the broker's previous close, and P/L day follows from it
    assert outcome.status == "succeeded", outcome.error
    with rls.as_user(alice.pk):
        legs = list(Position.objects.filter(mark__isnull=False))
        portfolio = Portfolio.objects.get(broker_account_id="5WT00001")
        unquoted = portfolio.positions.filter(mark__isnull=True).count()
        metrics = portfolio_metrics(portfolio=portfolio)
    assert legs and all(leg.previous_close is not None and leg.previous_close > 0 for leg in legs)
    # Only a leg without a mark (so without a value) lacks a day figure.
    assert metrics["pnl_day"] is not None and metrics["legs_without_pnl_day"] == unquoted


def test_a_first_sync_starts_the_history_with_a_year_of_broker_net_liq(sandbox, alice):
    # given: a new connection, no history anywhere
    connection = granted_connection(sandbox, alice)
    # when: its first sync ends
    outcome = sync(connection)
    # then: each account has a year of backfilled net liq and today's measured row
    assert outcome.status == "succeeded", outcome.error
    today = new_york_today()
    with rls.as_user(alice.pk):
        portfolio = Portfolio.objects.get(broker_account_id="5WT00001")
        rows = list(HistoricalMetric.objects.filter(portfolio=portfolio).order_by("date"))
    backfilled = [row for row in rows if row.backfilled]
    assert len(backfilled) >= 250  # the weekdays of a year
    assert (today - backfilled[0].date).days >= 360
    assert all(row.net_liquidation_value > 0 and row.total_delta is None for row in backfilled)
    last = rows[-1]
    assert (last.date, last.backfilled) == (today, False)
    assert last.net_liquidation_value == portfolio.net_liquidation_value
    assert last.total_delta is not None
    # and the history API and the page show it from day one
    body = history_api(alice, portfolio.pk)
    assert body["count"] == len(rows) and body["results"][0]["backfilled"] is True
    page = login(Client(), alice).get(f"/portfolios/{portfolio.pk}/").content.decode()
    assert 'data-history="backfilled"' in page and "series-backfill" in page

    # when: a second sync runs
    sync_again = sync(connection)
    # then: nothing is fetched or backfilled twice
    assert sync_again.status == "succeeded"
    with rls.as_user(alice.pk):
        assert HistoricalMetric.objects.filter(portfolio=portfolio).count() == len(rows)


def history_api(user, portfolio_id: int) -> dict:
    return login(APIClient(), user).get(f"/api/portfolio/{portfolio_id}/history/").json()
