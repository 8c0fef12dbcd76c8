"""Realised income per calendar month in New York time (pure: no ORM, no I/O).

The rule, in $ (credit > 0), summing each counted row's signed ``net_value``
(after commissions and fees):

- option premium: every ``Trade`` row on an option (``Equity Option``,
  ``Future Option``), opens and closes alike, so a roll's closing debit and
  opening credit add up; plus option ``Receive Deliver`` rows (expiration,
  assignment, exercise: usually $0, a cash-settled assignment is a debit);
- ``Money Movement`` rows of sub-type ``Dividend`` and ``Credit Interest``
  (income) and ``Debit Interest`` and ``Fee`` (costs, already < 0).

Not income: deposits, withdrawals, transfers, stock and futures trades, stock
delivered by an assignment, futures mark-to-market, anything else.

A row belongs to the month of its ``transaction_date`` (the broker's New York
date, which late adjustments and reversals back-date to the row they correct);
a row without one falls back to ``executed_at`` read in New York time, so a
trade at 23:30 on 31 March New York (03:30 UTC on 1 April) counts in March.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from portfolios.instruments import OPTION_INSTRUMENTS

NEW_YORK = "America/New_York"
CENT = Decimal("0.01")

INCOME_MONEY_MOVEMENTS = frozenset({"dividend", "credit interest", "debit interest", "fee"})

Month = tuple[int, int]


@dataclass(frozen=True, slots=True)
class TransactionView:
    """One broker transaction row; ``net_value`` in $ is signed (credit > 0)."""

    transaction_type: str
    net_value: Decimal
    sub_type: str | None = None
    action: str | None = None
    instrument_type: str | None = None
    executed_at: datetime | None = None
    transaction_date: date | None = None


@dataclass(frozen=True, slots=True)
class MonthPace:
    """How far a month has run and whether income keeps up with the target.

    ``elapsed_fraction`` is the share (0…1) of the month's real time gone by
    in New York; ``pace_target`` = target × elapsed_fraction in $, rounded to
    the cent; ``achieved_fraction`` = mtd / target (None when the target is
    0); ``on_pace`` when mtd ≥ pace_target.
    """

    month: Month
    elapsed_fraction: Decimal
    pace_target: Decimal
    achieved_fraction: Decimal | None
    on_pace: bool


def is_income(transaction: TransactionView) -> bool:
    """Tell whether a row counts as realised income under the module's rule."""
    kind = transaction.transaction_type.strip().lower()
    if kind in ("trade", "receive deliver"):
        return transaction.instrument_type in OPTION_INSTRUMENTS
    if kind == "money movement":
        sub_type = (transaction.sub_type or transaction.action or "").strip().lower()
        return sub_type in INCOME_MONEY_MOVEMENTS
    return False


def income_by_month(
    transactions: Iterable[TransactionView], *, tz: str = NEW_YORK
) -> dict[Month, Decimal]:
    """Return realised income in $ per (year, month), months ascending."""
    totals: dict[Month, Decimal] = defaultdict(Decimal)
    zone = ZoneInfo(tz)
    for transaction in transactions:
        if is_income(transaction):
            day = _local_date(transaction, zone)
            totals[(day.year, day.month)] += Decimal(transaction.net_value)
    return {month: totals[month] for month in sorted(totals)}


def income_month_to_date(
    transactions: Iterable[TransactionView], *, now: datetime, tz: str = NEW_YORK
) -> Decimal:
    """Return realised income in $ of ``now``'s New York month, up to ``now``."""
    zone = ZoneInfo(tz)
    local_now = _aware(now, "now").astimezone(zone)
    today = local_now.date()
    total = Decimal(0)
    for transaction in transactions:
        if not is_income(transaction):
            continue
        if transaction.executed_at is not None and transaction.executed_at > now:
            continue
        day = _local_date(transaction, zone)
        if day <= today and (day.year, day.month) == (today.year, today.month):
            total += Decimal(transaction.net_value)
    return total


def month_pace(*, mtd: Decimal, target: Decimal, now: datetime, tz: str = NEW_YORK) -> MonthPace:
    """Compare income so far with the share of ``target`` due by ``now``."""
    zone = ZoneInfo(tz)
    local_now = _aware(now, "now").astimezone(zone)
    start = datetime(local_now.year, local_now.month, 1, tzinfo=zone)
    next_year, next_month = divmod(local_now.month, 12)
    end = datetime(local_now.year + next_year, next_month + 1, 1, tzinfo=zone)
    # Subtract in UTC: same-zone aware datetimes subtract as wall-clock times,
    # which would miscount the hour a DST change adds or removes.
    utc = ZoneInfo("UTC")
    elapsed = (local_now.astimezone(utc) - start.astimezone(utc)).total_seconds()
    length = (end.astimezone(utc) - start.astimezone(utc)).total_seconds()
    fraction = Decimal(int(elapsed)) / Decimal(int(length))
    pace_target = (Decimal(target) * fraction).quantize(CENT, ROUND_HALF_UP)
    achieved = Decimal(mtd) / Decimal(target) if target else None
    return MonthPace(
        month=(local_now.year, local_now.month),
        elapsed_fraction=fraction,
        pace_target=pace_target,
        achieved_fraction=achieved,
        on_pace=Decimal(mtd) >= pace_target,
    )


def _local_date(transaction: TransactionView, zone: ZoneInfo) -> date:
    if transaction.transaction_date is not None:
        return transaction.transaction_date
    if transaction.executed_at is None:
        raise ValueError("a transaction needs transaction_date or executed_at")
    return _aware(transaction.executed_at, "executed_at").astimezone(zone).date()


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment
