"""Write one broker account's snapshot: the portfolio, its legs, balances, transactions.

Called by the broker sync inside one transaction per account. A constant
number of statements per table, whatever the number of legs: one upsert,
one delete of closed legs, one read of what was there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portfolios.models import AccountBalance, Portfolio, Position, Transaction

LEG_FIELDS = [
    "underlying_symbol",
    "instrument_type",
    "option_type",
    "strategy_type",
    "strategy_group_id",
    "quantity",
    "multiplier",
    "open_date",
    "expiration_date",
    "settlement_type",
    "strike_price",
    "average_open_price",
    "premium_received",
    "current_value",
    "mark",
    "underlying_price",
    "implied_volatility",
    "iv_status",
    "delta",
    "gamma",
    "theta",
    "vega",
    "greeks_source",
    "beta",
    "dividend_yield",
    "opening_order_id",
    "updated_at",
]
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


@dataclass(frozen=True)
class ApplyResult:
    portfolio_id: int
    added: int
    updated: int
    closed: int
    transactions_added: int


@transaction.atomic
def account_snapshot_apply(
    *, user_id: str, connection_id: int, snapshot: AccountSnapshot, synced_at: dt.datetime
) -> ApplyResult:
    """Upsert the account's portfolio, legs, balance and transactions; delete closed legs."""
    portfolio, _ = Portfolio.objects.update_or_create(
        user_id=user_id,
        broker_account_id=snapshot.broker_account_id,
        defaults={"account_type": snapshot.account_type, "broker_connection_id": connection_id},
        create_defaults={
            "name": snapshot.name,
            "account_type": snapshot.account_type,
            "broker_connection_id": connection_id,
        },
    )
    # Lock the portfolio row: two writers of one account queue here instead of
    # interleaving their upserts and deletes.
    Portfolio.objects.select_for_update().filter(pk=portfolio.pk).values_list("pk").get()

    now = timezone.now()
    existing = set(portfolio.positions.values_list("symbol", flat=True))
    symbols = [leg["symbol"] for leg in snapshot.legs]
    if snapshot.legs:
        Position.objects.bulk_create(
            [Position(portfolio=portfolio, **{**leg, "updated_at": now}) for leg in snapshot.legs],
            update_conflicts=True,
            unique_fields=["portfolio", "symbol"],
            update_fields=LEG_FIELDS,
        )
    closed, _ = portfolio.positions.exclude(symbol__in=symbols).delete()

    if snapshot.balance is not None:
        AccountBalance.objects.bulk_create(
            [AccountBalance(portfolio=portfolio, **{**snapshot.balance, "updated_at": now})],
            update_conflicts=True,
            unique_fields=["portfolio"],
            update_fields=BALANCE_FIELDS,
        )

    known_transactions = 0
    if snapshot.transactions:
        ids = [row["broker_transaction_id"] for row in snapshot.transactions]
        known_transactions = portfolio.transactions.filter(broker_transaction_id__in=ids).count()
        Transaction.objects.bulk_create(
            [
                Transaction(portfolio=portfolio, **{**row, "updated_at": now})
                for row in snapshot.transactions
            ],
            update_conflicts=True,
            unique_fields=["portfolio", "broker_transaction_id"],
            update_fields=TRANSACTION_FIELDS,
        )

    balance = snapshot.balance or {}
    Portfolio.objects.filter(pk=portfolio.pk).update(
        net_liquidation_value=balance.get("net_liquidating_value", portfolio.net_liquidation_value),
        cash_balance=balance.get("cash_balance", portfolio.cash_balance),
        buying_power=balance.get("derivative_buying_power", portfolio.buying_power),
        equity_buying_power=balance.get("equity_buying_power", portfolio.equity_buying_power),
        maintenance_requirement=balance.get(
            "maintenance_requirement", portfolio.maintenance_requirement
        ),
        spy_price=snapshot.spy_price if snapshot.spy_price is not None else portfolio.spy_price,
        synced_at=synced_at,
        sync_version=F("sync_version") + 1,
        updated_at=now,
    )
    added = len(set(symbols) - existing)
    return ApplyResult(
        portfolio_id=portfolio.pk,
        added=added,
        updated=len(symbols) - added,
        closed=closed,
        transactions_added=len(snapshot.transactions) - known_transactions,
    )


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.01"))
