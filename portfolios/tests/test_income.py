from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from portfolios.income import (
    TransactionView,
    income_by_month,
    income_month_to_date,
    is_income,
    month_pace,
)

NY = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def trade(value: str, at: datetime | None = None, day: date | None = None, **kw) -> TransactionView:
    fields = {
        "transaction_type": "Trade",
        "sub_type": "Sell to Open",
        "instrument_type": "Equity Option",
        "net_value": Decimal(value),
        "executed_at": at,
        "transaction_date": day,
    }
    fields.update(kw)
    return TransactionView(**fields)


def money(sub_type: str, value: str, day: date) -> TransactionView:
    return TransactionView(
        transaction_type="Money Movement",
        sub_type=sub_type,
        net_value=Decimal(value),
        transaction_date=day,
    )


def test_a_late_evening_trade_in_new_york_counts_in_its_new_york_month():
    # 2026-03-31 23:30 EDT is 2026-04-01 03:30 UTC.
    late = trade("100.00", at=utc(2026, 4, 1, 3, 30))
    assert late.executed_at.astimezone(NY).date() == date(2026, 3, 31)

    assert income_by_month([late]) == {(2026, 3): Decimal("100.00")}


def test_the_broker_new_york_date_decides_the_month_when_present():
    dated = trade("100.00", at=utc(2026, 4, 1, 3, 30), day=date(2026, 3, 31))
    backdated_fee_reversal = money("Fee", "5.00", date(2026, 3, 20))

    assert income_by_month([dated, backdated_fee_reversal]) == {(2026, 3): Decimal("105.00")}


@pytest.mark.parametrize(
    ("at", "month"),
    [
        # Winter (EST, UTC−5): 04:30 UTC is still 23:30 the day before.
        (utc(2026, 2, 1, 4, 30), (2026, 1)),
        (utc(2026, 2, 1, 5, 0), (2026, 2)),
        # Summer (EDT, UTC−4): the same 04:30 UTC is already 00:30.
        (utc(2026, 4, 1, 3, 59), (2026, 3)),
        (utc(2026, 4, 1, 4, 30), (2026, 4)),
        # DST ends at 02:00 on 1 November 2026: midnight is still EDT.
        (utc(2026, 11, 1, 3, 59), (2026, 10)),
        (utc(2026, 11, 1, 4, 0), (2026, 11)),
    ],
)
def test_month_boundaries_follow_new_york_time_through_dst(at, month):
    assert income_by_month([trade("10", at=at)]) == {month: Decimal(10)}


def test_income_counts_premium_dividends_and_interest_minus_costs():
    # given a month of rows: a roll (close −250, open +400), an expiry, an
    # assignment's stock row, cash movements
    day = date(2026, 3, 10)
    rows = [
        trade("300.00", day=day),
        trade("-250.00", day=day, sub_type="Buy to Close"),
        trade("400.00", day=day, sub_type="Sell to Open"),
        trade("-120.00", day=day, instrument_type="Future Option", sub_type="Buy to Open"),
        TransactionView(
            transaction_type="Receive Deliver",
            sub_type="Cash Settled Assignment",
            instrument_type="Equity Option",
            net_value=Decimal("-80.00"),
            transaction_date=day,
        ),
        TransactionView(
            transaction_type="Receive Deliver",
            sub_type="Assignment",
            instrument_type="Equity",
            net_value=Decimal("-54000.00"),
            transaction_date=day,
        ),
        trade("-5000.00", day=day, instrument_type="Equity", sub_type="Buy to Open"),
        money("Dividend", "42.00", day),
        money("Credit Interest", "3.10", day),
        money("Debit Interest", "-1.25", day),
        money("Fee", "-2.00", day),
        money("Deposit", "10000.00", day),
        money("Withdrawal", "-500.00", day),
        money("Mark to Market", "-700.00", day),
    ]

    # when
    totals = income_by_month(rows)

    # then: 300 − 250 + 400 − 120 − 80 + 42 + 3.10 − 1.25 − 2.00
    assert totals == {(2026, 3): Decimal("291.85")}


def test_money_movement_falls_back_to_action_and_ignores_case():
    row = TransactionView(
        transaction_type="money movement", action="DIVIDEND", net_value=Decimal("7")
    )

    assert is_income(row)


def test_months_come_back_in_order():
    rows = [trade("1", day=date(2026, 5, 1)), trade("2", day=date(2025, 12, 31))]

    assert list(income_by_month(rows)) == [(2025, 12), (2026, 5)]


def test_month_to_date_starts_at_new_york_midnight_on_the_first():
    rows = [
        trade("100", at=utc(2026, 4, 1, 3, 30)),  # 31 March, 23:30 EDT
        trade("200", at=utc(2026, 4, 1, 4, 30)),  # 1 April, 00:30 EDT
        trade("400", at=utc(2026, 4, 2, 15, 0)),
    ]

    assert income_month_to_date(rows, now=utc(2026, 4, 1, 3, 45)) == Decimal(100)
    assert income_month_to_date(rows, now=utc(2026, 4, 1, 12, 0)) == Decimal(200)
    assert income_month_to_date(rows, now=utc(2026, 4, 30, 12, 0)) == Decimal(600)


def test_month_to_date_leaves_out_rows_after_now():
    rows = [trade("100", at=utc(2026, 4, 10, 15)), money("Dividend", "5", date(2026, 4, 20))]

    assert income_month_to_date(rows, now=utc(2026, 4, 10, 16)) == Decimal(100)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="now must be timezone-aware"):
        income_month_to_date([], now=datetime(2026, 4, 1, 12))  # noqa: DTZ001
    with pytest.raises(ValueError, match="executed_at must be timezone-aware"):
        income_by_month([trade("1", at=datetime(2026, 4, 1, 12))])  # noqa: DTZ001


def test_pace_is_the_share_of_the_month_gone_by():
    # 16 April 00:00 EDT: 15 of April's 30 days have passed.
    now = datetime(2026, 4, 16, tzinfo=NY)

    pace = month_pace(mtd=Decimal("1500.00"), target=Decimal("3000.00"), now=now)

    assert pace.month == (2026, 4)
    assert pace.elapsed_fraction == Decimal("0.5")
    assert pace.pace_target == Decimal("1500.00")
    assert pace.achieved_fraction == Decimal("0.5")
    assert pace.on_pace is True
    assert month_pace(mtd=Decimal("1499.99"), target=Decimal(3000), now=now).on_pace is False


def test_pace_counts_real_hours_in_a_dst_month():
    # March 2026 loses an hour on the 8th: 31 × 24 − 1 = 743 hours long.
    now = datetime(2026, 3, 31, 23, 0, tzinfo=NY)

    pace = month_pace(mtd=Decimal(0), target=Decimal(743), now=now)

    assert pace.elapsed_fraction == Decimal(742) / Decimal(743)
    assert pace.pace_target == Decimal("742.00")


def test_pace_with_a_zero_target_is_always_met():
    pace = month_pace(mtd=Decimal(0), target=Decimal(0), now=utc(2026, 4, 20))

    assert pace.on_pace is True
    assert pace.achieved_fraction is None
