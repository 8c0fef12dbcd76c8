"""account_snapshot_apply: staged set-based writes of one broker account's snapshot."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from brokers.models import BrokerConnection
from portfolios.models import AccountBalance, Portfolio, Position, Transaction
from portfolios.sync_apply import AccountSnapshot, account_snapshot_apply
from thetavue_site import rls

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
T1 = T0 + dt.timedelta(minutes=15)


def leg(symbol: str, **fields) -> dict:
    values = {
        "symbol": symbol,
        "underlying_symbol": "SPY",
        "instrument_type": "Equity Option",
        "option_type": "P",
        "strategy_type": "short_put",
        "strategy_group_id": f"g-{symbol}",
        "quantity": Decimal("-2"),
        "multiplier": 100,
        "open_date": dt.date(2026, 2, 20),
        "expiration_date": dt.date(2026, 4, 17),
        "settlement_type": "PM",
        "strike_price": Decimal("540.000000"),
        "average_open_price": Decimal("4.350000"),
        "premium_received": Decimal("870.00"),
        "current_value": Decimal("-620.00"),
        "mark": Decimal("3.100000"),
        "underlying_price": Decimal("560.120000"),
        "implied_volatility": 0.1834,
        "iv_status": "solved",
        "delta": 41.25,
        "gamma": -1.5,
        "theta": 12.5,
        "vega": -80.125,
        "greeks_source": "implied",
        "beta": 1.0,
        "dividend_yield": 0.013,
        "opening_order_id": "",
        "rho": -3.25,
        "exercise_style": "American",
        "exercise_style_source": "broker",
        "iv_rank": 0.41,
        "iv_percentile": 0.57,
    }
    values.update(fields)
    return values


def stock(symbol: str) -> dict:
    return leg(
        symbol,
        underlying_symbol=symbol,
        instrument_type="Equity",
        option_type=None,
        strategy_type="stock",
        quantity=Decimal("100"),
        multiplier=1,
        expiration_date=None,
        strike_price=None,
        implied_volatility=None,
        iv_status="not_applicable",
        greeks_source="linear",
        gamma=None,
        vega=None,
        rho=None,
        exercise_style="",
        exercise_style_source="",
    )


def fill(broker_id: int, **fields) -> dict:
    values = {
        "broker_transaction_id": broker_id,
        "transaction_type": "Trade",
        "transaction_sub_type": "Sell to Open",
        "action": "Sell to Open",
        "symbol": "SPY   260417P00540000",
        "instrument_type": "Equity Option",
        "underlying_symbol": "SPY",
        "quantity": Decimal("2"),
        "price": Decimal("4.350000"),
        "value": Decimal("870.00"),
        "net_value": Decimal("867.72"),
        "fees": Decimal("2.28"),
        "order_id": "9001",
        "executed_at": T0 - dt.timedelta(days=10),
        "transaction_date": dt.date(2026, 2, 20),
    }
    values.update(fields)
    return values


def apply(user, link, legs, transactions=(), at=T0):
    snapshot = AccountSnapshot(
        broker_account_id="5WT00001",
        name="Margin",
        account_type="margin",
        legs=legs,
        spy_price=Decimal("560.12"),
        balance=None,
        transactions=list(transactions),
    )
    with time_machine.travel(at, tick=False), rls.as_user(user.pk):
        return account_snapshot_apply(
            user_id=user.pk, connection_id=link.pk, snapshot=snapshot, synced_at=timezone.now()
        )


def stored_legs(user) -> dict[str, dict]:
    with rls.as_user(user.pk):
        return {
            row["symbol"]: row
            for row in Position.objects.values(*leg("x"), "created_at", "updated_at")
        }


@pytest.fixture
def link(alice):
    with rls.as_user(alice.pk):
        return BrokerConnection.objects.create(user=alice, environment="test")


def test_a_column_a_snapshot_leaves_out_is_stored_as_the_models_default(alice, link):
    # given: a leg without a style source (nor a previous close: a NULL column)
    row = leg("SPY   260417P00540000")
    del row["exercise_style_source"]

    apply(alice, link, [row])

    with rls.as_user(alice.pk):
        stored = Position.objects.values("exercise_style_source", "previous_close").get()
    assert stored == {"exercise_style_source": "", "previous_close": None}


def test_first_snapshot_stores_every_field_as_given(alice, link):
    legs = [leg("SPY   260417P00540000"), stock("AAPL")]

    result = apply(alice, link, legs, [fill(1), fill(2, executed_at=None, price=None)])

    assert (result.added, result.updated, result.closed, result.transactions_added) == (2, 0, 0, 2)
    stored = stored_legs(alice)
    for given in legs:
        row = stored[given["symbol"]]
        assert {key: row[key] for key in given} == given
        assert row["created_at"] == row["updated_at"] == T0
    with rls.as_user(alice.pk):
        rows = {
            row["broker_transaction_id"]: row
            for row in Transaction.objects.values(*fill(0), "updated_at")
        }
        portfolio = Portfolio.objects.get()
    assert {key: rows[2][key] for key in fill(2)} == fill(2, executed_at=None, price=None)
    assert rows[1]["executed_at"] == T0 - dt.timedelta(days=10)
    assert (portfolio.sync_version, portfolio.spy_price) == (1, Decimal("560.12"))


def test_next_snapshot_updates_moved_legs_only_adds_new_and_deletes_closed(alice, link):
    # given
    held = [leg("SPY   260417P00540000"), leg("SPY   260417P00530000"), stock("AAPL")]
    apply(alice, link, held, [fill(1)])
    moved = leg("SPY   260417P00540000", mark=Decimal("2.900000"), delta=39.5)
    opened = leg("QQQ   260417P00450000", underlying_symbol="QQQ")

    # when
    result = apply(alice, link, [moved, stock("AAPL"), opened], [fill(1), fill(2)], at=T1)

    # then
    assert (result.added, result.updated, result.closed, result.transactions_added) == (1, 2, 1, 1)
    stored = stored_legs(alice)
    assert set(stored) == {moved["symbol"], "AAPL", opened["symbol"]}
    assert (stored[moved["symbol"]]["mark"], stored[moved["symbol"]]["delta"]) == (
        Decimal("2.900000"),
        39.5,
    )
    assert stored[moved["symbol"]]["updated_at"] == T1
    assert stored["AAPL"]["updated_at"] == T0  # nothing moved: the row was left alone
    assert stored[opened["symbol"]]["created_at"] == T1
    with rls.as_user(alice.pk):
        assert Transaction.objects.count() == 2
        assert Portfolio.objects.get().sync_version == 2


def test_same_account_number_of_another_trader_leaves_alices_legs_alone(alice, bob, link):
    apply(alice, link, [stock("AAPL")])
    with rls.as_user(alice.pk):
        portfolio_id = Portfolio.objects.get().pk
    with rls.as_user(bob.pk):
        bobs_link = BrokerConnection.objects.create(user=bob, environment="test")

    result = apply(bob, bobs_link, [stock("MSFT")])

    assert result.portfolio_id != portfolio_id
    assert set(stored_legs(alice)) == {"AAPL"}
    assert set(stored_legs(bob)) == {"MSFT"}


BALANCE = {
    "net_liquidating_value": Decimal("251234.56"),
    "cash_balance": None,
    "equity_buying_power": Decimal("300000.00"),
    "derivative_buying_power": Decimal("150000.00"),
    "used_derivative_buying_power": Decimal("50000.00"),
    "maintenance_requirement": Decimal("50000.00"),
    "maintenance_excess": Decimal("100000.00"),
    "broker_updated_at": T0,
}


def apply_counting(user, link, legs, transactions=(), *, balance=None, spy_price=None):
    """Apply a snapshot; return its result and the statements it ran, by their first word."""
    snapshot = AccountSnapshot(
        broker_account_id="5WT00001",
        name="Margin",
        account_type="margin",
        legs=legs,
        spy_price=spy_price,
        balance=balance,
        transactions=list(transactions),
    )
    with rls.as_user(user.pk), CaptureQueriesContext(connection) as captured:
        result = account_snapshot_apply(
            user_id=user.pk, connection_id=link.pk, snapshot=snapshot, synced_at=timezone.now()
        )
    words = [query["sql"].split()[0].upper() for query in captured.captured_queries]
    return result, Counter(words)


def test_a_new_portfolio_skips_the_update_and_delete_of_rows_it_cannot_hold(alice, link):
    first, first_statements = apply_counting(alice, link, [stock("AAPL")], [fill(1)])
    second, second_statements = apply_counting(alice, link, [stock("MSFT")], [fill(1), fill(2)])

    assert (first.added, first.closed, first.transactions_added) == (1, 0, 1)
    assert (second.added, second.closed, second.transactions_added) == (1, 1, 1)
    # The portfolio upsert, staging (CREATE …; DELETE) and a plain INSERT per
    # table, the portfolio's figures: no UPDATE of legs or transactions, no
    # upsert of them, no DELETE, no savepoint.
    assert first_statements == {"INSERT": 3, "CREATE": 2, "UPDATE": 1}
    # Held rows: legs and transactions compared (2 UPDATEs) and upserted (WITH
    # … INSERT … ON CONFLICT), closed legs deleted (WITH … DELETE).
    assert second_statements == {"INSERT": 1, "CREATE": 2, "WITH": 3, "UPDATE": 3}
    assert set(stored_legs(alice)) == {"MSFT"}


def test_a_balance_updates_the_portfolio_and_none_keeps_its_figures(alice, link):
    apply_counting(alice, link, [stock("AAPL")], balance=BALANCE, spy_price=Decimal("560.12"))
    with rls.as_user(alice.pk):
        after_balance = Portfolio.objects.values().get()
        stored_balance = AccountBalance.objects.values(*BALANCE).get()

    apply_counting(alice, link, [stock("AAPL")], balance=None, spy_price=None)
    with rls.as_user(alice.pk):
        after_none = Portfolio.objects.values().get()

    assert stored_balance == BALANCE
    assert after_balance["net_liquidation_value"] == Decimal("251234.56")
    assert after_balance["cash_balance"] is None  # the broker said none
    assert after_balance["buying_power"] == Decimal("150000.00")
    assert after_balance["equity_buying_power"] == Decimal("300000.00")
    assert after_balance["maintenance_requirement"] == Decimal("50000.00")
    kept = ["net_liquidation_value", "buying_power", "equity_buying_power", "spy_price"]
    assert {k: after_none[k] for k in kept} == {k: after_balance[k] for k in kept}
    assert after_none["spy_price"] == Decimal("560.12")
    assert after_none["sync_version"] == after_balance["sync_version"] + 1
