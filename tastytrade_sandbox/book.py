"""The demo world's data: customers, accounts and their holdings.

Builders live in ``demo_accounts`` and ``income_account``; ``Opener`` records
an opening fill in the ledger and the holding it creates, so cash and
positions always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.history import HistoryMaker
from tastytrade_sandbox.ledger import Ledger, signed_net_value
from tastytrade_sandbox.symbols import build_occ
from tastytrade_sandbox.underlyings import UNDERLYINGS

ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class Holding:
    """An open (or Zero) position; ``quantity`` unsigned, like the wire."""

    symbol: str
    instrument_type: str
    underlying_symbol: str
    quantity: Decimal
    direction: str  # "Long", "Short" or "Zero"
    multiplier: Decimal
    average_open_price: Decimal  # per share/unit
    opened_at: datetime
    expires_at: datetime | None = None
    quantity_as_text: bool = True  # production sends both strings and numbers
    multiplier_as_text: bool = False

    @property
    def signed_quantity(self) -> Decimal:
        sign = {"Long": 1, "Short": -1, "Zero": 0}[self.direction]
        return self.quantity * sign


@dataclass
class DemoAccount:
    number: str
    owner: str  # customer login
    nickname: str
    type_name: str  # "Individual", "Roth IRA"
    margin_or_cash: str  # "Margin" or "Cash"
    opened_at: datetime
    is_closed: bool = False
    futures_approved: bool = False
    holdings: list[Holding] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cash(self) -> Decimal:
        """Return the cash balance in $: every transaction's signed net value."""
        return sum((signed_net_value(row) for row in self.transactions), Decimal(0))


@dataclass(frozen=True)
class DemoCustomer:
    login: str
    customer_id: str
    first_name: str
    last_name: str
    email: str
    account_numbers: tuple[str, ...]

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass
class Book:
    market_date: date
    customers: dict[str, DemoCustomer]
    accounts: dict[str, DemoAccount]

    def owner_of(self, account_number: str) -> str | None:
        account = self.accounts.get(account_number)
        return account.owner if account else None

    def accounts_of(self, login: str) -> list[DemoAccount]:
        return [self.accounts[n] for n in self.customers[login].account_numbers]


class Opener:
    """Open positions for one account: a ledger row and a holding each."""

    def __init__(self, maker: HistoryMaker, account: DemoAccount, ledger: Ledger):
        self.maker = maker
        self.account = account
        self.ledger = ledger
        self.today = maker.market.market_date

    def option(
        self,
        symbol: str,
        *,
        expiry: date,
        option_type: str,
        strike: Decimal,
        quantity: int,
        direction: str,
        sessions_ago: int,
        root: str | None = None,
        quantity_as_text: bool = True,
    ) -> Holding:
        underlying = UNDERLYINGS[symbol]
        occ = build_occ(root or symbol, expiry, option_type, strike)
        price = self.maker.option_price(underlying, strike, expiry, option_type, sessions_ago)
        action = "Sell to Open" if direction == "Short" else "Buy to Open"
        when = self.maker.fill_time(sessions_ago, occ)
        self.ledger.trade(
            when,
            action=action,
            symbol=occ,
            instrument_type="Equity Option",
            underlying=symbol,
            quantity=Decimal(quantity),
            price=price,
            multiplier=HUNDRED,
        )
        return self._hold(
            Holding(
                symbol=occ,
                instrument_type="Equity Option",
                underlying_symbol=symbol,
                quantity=Decimal(quantity),
                direction=direction,
                multiplier=HUNDRED,
                average_open_price=price,
                opened_at=when,
                expires_at=cal.session_close(expiry),
                quantity_as_text=quantity_as_text,
            )
        )

    def stock(
        self,
        symbol: str,
        *,
        quantity: Decimal,
        direction: str,
        sessions_ago: int,
        quantity_as_text: bool = False,
    ) -> Holding:
        price = self.maker.stock_price(symbol, sessions_ago)
        action = "Sell to Open" if direction == "Short" else "Buy to Open"
        when = self.maker.fill_time(sessions_ago, symbol)
        self.ledger.trade(
            when,
            action=action,
            symbol=symbol,
            instrument_type="Equity",
            underlying=symbol,
            quantity=quantity,
            price=price,
            multiplier=ONE,
        )
        return self._hold(
            Holding(
                symbol=symbol,
                instrument_type="Equity",
                underlying_symbol=symbol,
                quantity=quantity,
                direction=direction,
                multiplier=ONE,
                average_open_price=price,
                opened_at=when,
                quantity_as_text=quantity_as_text,
            )
        )

    def _hold(self, holding: Holding) -> Holding:
        self.account.holdings.append(holding)
        return holding
