"""Build the demo world from (seed, market date): customers and their accounts.

Expirations derive from the market date, so days to expiration stay
realistic whatever the day.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from tastytrade_sandbox import market_calendar as cal
from tastytrade_sandbox.book import Book, DemoAccount, DemoCustomer, Opener
from tastytrade_sandbox.history import HistoryMaker
from tastytrade_sandbox.income_account import income_account
from tastytrade_sandbox.ledger import Ledger
from tastytrade_sandbox.market import Market, round_strike

FIRST_TRANSACTION_ID = 100_001


def build_book(market: Market) -> Book:
    """Build the demo world for the market's seed and date."""
    maker = HistoryMaker(market)
    accounts = [
        income_account(maker),
        _ira_account(maker),
        _closed_account(maker),
        _bob_account(maker),
    ]
    _number_transactions(accounts)
    customers = {
        "demo": DemoCustomer(
            "demo",
            "C0000001",
            "Dana",
            "Demo",
            "demo@example.com",
            ("5WT00001", "5WT00002", "5WT00003"),
        ),
        "bob": DemoCustomer("bob", "C0000002", "Bob", "Builder", "bob@example.com", ("5WT00101",)),
    }
    return Book(
        market_date=market.market_date,
        customers=customers,
        accounts={account.number: account for account in accounts},
    )


def _number_transactions(accounts: list[DemoAccount]) -> None:
    """Give ids in time order across all accounts, as production's grow."""
    rows = [row for account in accounts for row in account.transactions]
    rows.sort(key=lambda row: (row["executed-at"], row["account-number"]))
    for offset, row in enumerate(rows):
        row["id"] = FIRST_TRANSACTION_ID + offset
    for account in accounts:
        account.transactions.sort(key=lambda row: row["id"])


def _ira_account(maker: HistoryMaker) -> DemoAccount:
    """A cash Roth IRA: a cash-secured IWM put and long VTI."""
    market = maker.market
    account = DemoAccount(
        number="5WT00002",
        owner="demo",
        nickname="Roth IRA",
        type_name="Roth IRA",
        margin_or_cash="Cash",
        opened_at=cal.at_new_york(date(2022, 1, 10), 11, 15),
    )
    ledger = Ledger(account.number)
    rng = market.seeded("book", account.number)
    maker.deposit(ledger, Decimal(60_000), sessions_ago=128)
    maker.churn(
        ledger, rng, first_session=120, last_session=5, probability=0.06, structures=("put",)
    )
    opener = Opener(maker, account, ledger)
    opener.option(
        "IWM",
        expiry=cal.monthly_expiration(market.market_date, 30),
        option_type="P",
        strike=round_strike(market.spot("IWM", 0) * 0.95, 1),
        quantity=1,
        direction="Short",
        sessions_ago=5,
    )
    opener.stock("VTI", quantity=Decimal(20), direction="Long", sessions_ago=60)
    maker.monthly_interest(ledger, rng, first_session=125, low=20, high=60)
    account.transactions = ledger.rows
    return account


def _closed_account(maker: HistoryMaker) -> DemoAccount:
    """A closed margin account: money in, interest, everything out."""
    account = DemoAccount(
        number="5WT00003",
        owner="demo",
        nickname="Old Margin",
        type_name="Individual",
        margin_or_cash="Margin",
        opened_at=cal.at_new_york(date(2019, 6, 3), 9, 45),
        is_closed=True,
    )
    ledger = Ledger(account.number)
    maker.deposit(ledger, Decimal(25_000), sessions_ago=125)
    interest = Decimal("41.27")
    ledger.money_movement(
        maker.fill_time(100, "interest"),
        sub_type="Credit Interest",
        amount=interest,
        description="INTEREST ON CREDIT BALANCE",
    )
    ledger.money_movement(
        maker.fill_time(80, "withdrawal"),
        sub_type="Withdrawal",
        amount=-(Decimal(25_000) + interest),
        description="ACH WITHDRAWAL",
    )
    account.transactions = ledger.rows
    return account


def _bob_account(maker: HistoryMaker) -> DemoAccount:
    """Bob's margin account: a second tenant for isolation tests."""
    market = maker.market
    today = market.market_date
    account = DemoAccount(
        number="5WT00101",
        owner="bob",
        nickname="Bob's Margin",
        type_name="Individual",
        margin_or_cash="Margin",
        opened_at=cal.at_new_york(date(2023, 8, 21), 14, 5),
    )
    ledger = Ledger(account.number)
    rng = market.seeded("book", account.number)
    maker.deposit(ledger, Decimal(90_000), sessions_ago=120)
    maker.churn(ledger, rng, first_session=115, last_session=4, probability=0.15)
    opener = Opener(maker, account, ledger)
    opener.option(
        "SPY",
        expiry=cal.weekly_expiration(today, 10),
        option_type="P",
        strike=round_strike(market.spot("SPY", 0) * 0.94, 1),
        quantity=3,
        direction="Short",
        sessions_ago=2,
    )
    opener.stock("SPY", quantity=Decimal(100), direction="Long", sessions_ago=70)
    opener.option(
        "AAPL",
        expiry=cal.monthly_expiration(today, 30),
        option_type="C",
        strike=round_strike(market.spot("AAPL", 0) * 1.08, 5),
        quantity=1,
        direction="Short",
        sessions_ago=6,
    )
    maker.monthly_interest(ledger, rng, first_session=118, low=30, high=120)
    account.transactions = ledger.rows
    return account
