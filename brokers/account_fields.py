"""The broker's account results as the fields portfolios stores (balances, transactions)."""

from __future__ import annotations

from decimal import Decimal

from brokers.tastytrade import client as tt


def account_type(account: tt.Account) -> str:
    """Return the portfolio's account type: ira, cash or margin."""
    name = (account.account_type_name or "").lower()
    if "ira" in name:
        return "ira"
    if (account.margin_or_cash or "").lower() == "cash":
        return "cash"
    return "margin"


def balance_fields(balance: tt.Balance) -> dict | None:
    """Return the account balance's stored fields ($, Decimal), None without a net liq."""
    if balance.net_liquidating_value is None:
        return None
    return {
        "net_liquidating_value": balance.net_liquidating_value,
        "cash_balance": balance.cash_balance,
        "equity_buying_power": balance.equity_buying_power,
        "derivative_buying_power": balance.derivative_buying_power,
        "used_derivative_buying_power": balance.used_derivative_buying_power,
        "maintenance_requirement": balance.maintenance_requirement,
        "maintenance_excess": balance.maintenance_excess,
        "broker_updated_at": balance.updated_at,
    }


def _fees(row: tt.Transaction) -> Decimal:
    costs = [
        row.commission,
        row.clearing_fees,
        row.regulatory_fees,
        row.proprietary_index_option_fees,
        row.other_charge,
    ]
    # Costs arrive signed (a debit < 0); fees are stored as a positive amount paid.
    return -sum((cost for cost in costs if cost is not None), start=Decimal(0))


def transaction_fields(row: tt.Transaction) -> dict | None:
    """Return the transaction's stored fields ($, Decimal, fees > 0), None without a date."""
    if row.transaction_date is None:
        return None
    return {
        "broker_transaction_id": row.id,
        "transaction_type": row.transaction_type or "",
        "transaction_sub_type": row.transaction_sub_type or "",
        "action": row.action or "",
        "symbol": row.symbol or "",
        "instrument_type": row.instrument_type or "",
        "underlying_symbol": row.underlying_symbol or "",
        "quantity": row.quantity,
        "price": row.price,
        "value": row.value or Decimal(0),
        "net_value": row.net_value if row.net_value is not None else (row.value or Decimal(0)),
        "fees": _fees(row),
        "order_id": row.order_id or "",
        "executed_at": row.executed_at,
        "transaction_date": row.transaction_date,
    }
