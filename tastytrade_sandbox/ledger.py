"""Transaction rows as Tastytrade writes them, with fees and ``-effect`` signs.

Rows are collected per account without ids; the book numbers them in time
order across all accounts, so ids grow with ``executed-at`` like production's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.wire import count_text, decimal_text, effect, iso, money

CENT = Decimal("0.01")
FEE_FIELDS = (
    "commission",
    "clearing-fees",
    "regulatory-fees",
    "proprietary-index-option-fees",
    "other-charge",  # exchange and NFA fees on futures, sent apart from the rest
)


@dataclass(frozen=True)
class Fees:
    """Costs of one fill in $, positive numbers (they are debits)."""

    commission: Decimal = Decimal(0)
    clearing: Decimal = Decimal(0)
    regulatory: Decimal = Decimal(0)
    proprietary: Decimal = Decimal(0)
    other: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return self.commission + self.clearing + self.regulatory + self.proprietary + self.other


def fees_for(
    instrument_type: str, action: str, quantity: Decimal, value: Decimal, underlying: str
) -> Fees:
    """Return a plausible fee schedule: $1/contract to open options (max $10)."""
    opening = action.endswith("Open")
    if instrument_type == "Equity Option":
        return Fees(
            commission=min(quantity, Decimal(10)) if opening else Decimal(0),
            clearing=Decimal("0.10") * quantity,
            regulatory=Decimal("0.04") * quantity,
            proprietary=Decimal("0.65") * quantity if underlying == "SPX" else Decimal(0),
        )
    if instrument_type == "Future Option":
        return Fees(
            commission=Decimal("1.25") * quantity if opening else Decimal(0),
            clearing=Decimal("0.30") * quantity,
            regulatory=Decimal("0.02") * quantity,
            proprietary=Decimal("0.70") * quantity,
            other=Decimal("1.70") * quantity,  # a /ES option opening: 2.27 + 1.70 = 3.97
        )
    if instrument_type == "Future":
        return Fees(
            commission=Decimal("1.25") * quantity,
            clearing=Decimal("0.30") * quantity,
            regulatory=Decimal("0.02") * quantity,
            proprietary=Decimal("1.38") * quantity,
            other=Decimal("0.85") * quantity,
        )
    selling = action.startswith("Sell")
    return Fees(
        clearing=(Decimal("0.0008") * quantity).quantize(CENT, ROUND_HALF_UP),
        regulatory=(value * Decimal("0.0000278")).quantize(CENT, ROUND_HALF_UP)
        if selling
        else Decimal(0),
    )


@dataclass
class Ledger:
    """Rows of one account, appended in any order."""

    account_number: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def trade(
        self,
        when: datetime,
        *,
        action: str,
        symbol: str,
        instrument_type: str,
        underlying: str,
        quantity: Decimal,
        price: Decimal,
        multiplier: Decimal,
        description: str | None = None,
    ) -> None:
        """Record a fill; sells are credits. Futures move no premium."""
        notional = price * quantity * multiplier
        if instrument_type == "Future":
            notional = Decimal(0)
        signed_value = notional if action.startswith("Sell") else -notional
        fees = fees_for(instrument_type, action, quantity, notional, underlying)
        verb = "Sold" if action.startswith("Sell") else "Bought"
        row = self._row(
            when,
            transaction_type="Trade",
            sub_type=action,
            description=description or f"{verb} {count_text(quantity)} {symbol} @ {price}",
            value=signed_value,
            fees=fees,
        )
        row.update(
            {
                "action": action,
                "symbol": symbol,
                "instrument-type": instrument_type,
                "underlying-symbol": underlying,
                "quantity": count_text(quantity),
                "price": decimal_text(price),
                "order-id": 90_000_000 + len(self.rows),
                "exchange": "CME" if instrument_type.startswith("Future") else "CBOE",
            }
        )
        self.rows.append(row)

    def receive_deliver(
        self,
        when: datetime,
        *,
        sub_type: str,
        action: str,
        symbol: str,
        instrument_type: str,
        underlying: str,
        quantity: Decimal,
        price: Decimal = Decimal(0),
        multiplier: Decimal = Decimal(1),
        description: str,
    ) -> None:
        """Record an expiration, assignment or the stock it delivers."""
        notional = price * quantity * multiplier
        signed_value = notional if action.startswith("Sell") else -notional
        row = self._row(
            when,
            transaction_type="Receive Deliver",
            sub_type=sub_type,
            description=description,
            value=signed_value,
            fees=Fees(),
        )
        row.update(
            {
                "action": action,
                "symbol": symbol,
                "instrument-type": instrument_type,
                "underlying-symbol": underlying,
                "quantity": count_text(quantity),
                "price": decimal_text(price),
            }
        )
        self.rows.append(row)

    def money_movement(
        self,
        when: datetime,
        *,
        sub_type: str,
        amount: Decimal,
        description: str,
        symbol: str | None = None,
    ) -> None:
        """Record cash in (> 0) or out (< 0): deposits, dividends, interest, fees."""
        row = self._row(
            when,
            transaction_type="Money Movement",
            sub_type=sub_type,
            description=description,
            value=amount,
            fees=None,
        )
        if symbol:
            row.update({"symbol": symbol, "underlying-symbol": symbol})
        self.rows.append(row)

    def _row(
        self,
        when: datetime,
        *,
        transaction_type: str,
        sub_type: str,
        description: str,
        value: Decimal,
        fees: Fees | None,
    ) -> dict[str, Any]:
        value = value.quantize(CENT, ROUND_HALF_UP)
        row: dict[str, Any] = {
            "account-number": self.account_number,
            "transaction-type": transaction_type,
            "transaction-sub-type": sub_type,
            "description": description,
            "executed-at": iso(when),
            "transaction-date": cal.new_york_today(when).isoformat(),
            "value": money(abs(value)),
            "value-effect": effect(value),
        }
        net = value
        if fees is not None:
            amounts = (
                fees.commission,
                fees.clearing,
                fees.regulatory,
                fees.proprietary,
                fees.other,
            )
            for name, amount in zip(FEE_FIELDS, amounts, strict=True):
                amount = amount.quantize(CENT, ROUND_HALF_UP)
                row[name] = money(amount)
                row[f"{name}-effect"] = effect(-amount)
                net -= amount
            if fees.other:
                row["other-charge-description"] = "Exchange and NFA fees"
        row["is-estimated-fee"] = fees is not None
        row["net-value"] = money(abs(net))
        row["net-value-effect"] = effect(net)
        return row


def signed_net_value(row: dict[str, Any]) -> Decimal:
    """Return a row's net value in $, credit > 0."""
    amount = Decimal(row["net-value"])
    return {"Credit": amount, "Debit": -amount}.get(row["net-value-effect"], Decimal(0))


def row_date(row: dict[str, Any]) -> date:
    return date.fromisoformat(row["transaction-date"])
