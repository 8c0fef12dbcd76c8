"""Database constraints reject bad rows, whatever the application does."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from metrics.models import HistoricalMetric
from portfolios.models import Portfolio, Position
from portfolios.tests.factories import make_portfolio, make_short_put
from thetavue_site import rls
from tradeplans.models import TradePlan, TradePlanStrategy

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(alice):
    with rls.as_service():
        return TradePlan.objects.create(user=alice, name="Income")


def rejected(create) -> bool:
    try:
        with rls.as_service(), transaction.atomic():
            create()
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize("allocation", ["-0.01", "100.01"])
def test_allocation_outside_0_100_is_rejected(plan, allocation):
    assert rejected(
        lambda: TradePlanStrategy.objects.create(
            trade_plan=plan, strategy_type="short_put", allocation_percentage=Decimal(allocation)
        )
    )


def test_allocation_bounds_are_accepted(plan):
    assert not rejected(
        lambda: TradePlanStrategy.objects.create(
            trade_plan=plan, strategy_type="short_put", allocation_percentage=100
        )
    )


@pytest.mark.parametrize(("low", "high"), [("-1.001", "0"), ("0", "1.001"), ("0.3", "0.2")])
def test_delta_range_outside_bounds_or_inverted_is_rejected(plan, low, high):
    assert rejected(
        lambda: TradePlanStrategy.objects.create(
            trade_plan=plan,
            strategy_type="short_put",
            allocation_percentage=10,
            delta_range_min=Decimal(low),
            delta_range_max=Decimal(high),
        )
    )


def test_duplicate_strategy_type_in_one_plan_is_rejected(plan):
    make = lambda: TradePlanStrategy.objects.create(  # noqa: E731
        trade_plan=plan, strategy_type="short_put", allocation_percentage=10
    )
    assert not rejected(make)
    assert rejected(make)


def test_max_positions_zero_is_rejected(plan):
    assert rejected(
        lambda: TradePlanStrategy.objects.create(
            trade_plan=plan, strategy_type="iron_condor", allocation_percentage=10, max_positions=0
        )
    )


@pytest.mark.parametrize(
    "field", ["monthly_income_target", "risk_per_trade", "max_overnight_exposure"]
)
def test_negative_plan_amounts_are_rejected(alice, field):
    assert rejected(
        lambda: TradePlan.objects.create(user=alice, name="Bad", **{field: Decimal("-1")})
    )


def test_historical_metrics_one_row_per_portfolio_and_date(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    make = lambda: HistoricalMetric.objects.create(portfolio=portfolio, date=dt.date(2026, 3, 2))  # noqa: E731
    assert not rejected(make)
    assert rejected(make)


def test_broker_account_is_unique_per_user_not_globally(alice, bob):
    assert not rejected(
        lambda: make_portfolio(owner=alice, account_type="margin", broker_account_id="5WT1")
    )
    assert rejected(
        lambda: make_portfolio(owner=alice, account_type="margin", broker_account_id="5WT1")
    )
    assert not rejected(
        lambda: make_portfolio(owner=bob, account_type="margin", broker_account_id="5WT1")
    )


def test_manual_portfolio_cannot_carry_a_broker_account(alice):
    assert rejected(
        lambda: Portfolio.objects.create(
            user=alice, name="x", account_type="manual", broker_account_id="5WT9"
        )
    )
    assert rejected(lambda: Portfolio.objects.create(user=alice, name="x", account_type="margin"))


@pytest.fixture
def portfolio(alice):
    with rls.as_service():
        return make_portfolio(owner=alice)


def test_same_symbol_twice_in_a_portfolio_is_rejected(portfolio):
    make = lambda: make_short_put(portfolio=portfolio)  # noqa: E731
    assert not rejected(make)
    assert rejected(make)


@pytest.mark.parametrize(
    "fields",
    [
        {"quantity": Decimal(0)},
        {"multiplier": 0},
        {"strike_price": Decimal("-1")},
        {"option_type": None},
        {"implied_volatility": -0.1},
        {"mark": Decimal("-0.01")},
    ],
    ids=[
        "zero-quantity",
        "zero-multiplier",
        "negative-strike",
        "option-without-type",
        "negative-iv",
        "negative-mark",
    ],
)
def test_bad_position_rows_are_rejected(portfolio, fields):
    assert rejected(lambda: make_short_put(portfolio=portfolio, **fields))


def test_stock_cannot_have_an_option_type(portfolio):
    assert rejected(
        lambda: Position.objects.create(
            portfolio=portfolio,
            symbol="KO",
            underlying_symbol="KO",
            instrument_type="Equity",
            option_type="C",
            quantity=100,
        )
    )


def test_deleting_a_portfolio_in_sql_cascades_to_its_legs(portfolio):
    from django.db import connection

    with rls.as_service():
        make_short_put(portfolio=portfolio)
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM portfolios WHERE id = %s", [portfolio.id])
            cursor.execute("SELECT count(*) FROM positions WHERE portfolio_id = %s", [portfolio.id])
            assert cursor.fetchone()[0] == 0
