"""stored_legs reads the same pricing inputs as leg_inputs over the ORM rows, in columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.selectors import LEG_FIELDS, leg_inputs
from metrics.stored_legs import stored_legs
from portfolios.models import Position
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db

EXPIRY = dt.date(2026, 12, 18)


@pytest.fixture
def mixed_book(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=5)
        make_short_put(portfolio=portfolio, strike=Decimal("500"), expiration=EXPIRY, mark=None)
        make_short_put(
            portfolio=portfolio,
            strike=Decimal("520"),
            expiration=EXPIRY,
            underlying_price=None,
            implied_volatility=0.3,
            dividend_yield=0.012,
        )
        Position.objects.create(
            portfolio=portfolio,
            symbol="/ESZ6",
            underlying_symbol="/ES",
            instrument_type="Future",
            quantity=Decimal("-2"),
            multiplier=50,
            mark=Decimal("6010.25"),
            settlement_type="AM",
            beta=None,
            strategy_group_id="",
        )
        Position.objects.create(
            portfolio=portfolio,
            symbol="XYZ",
            underlying_symbol="XYZ",
            instrument_type="Equity",
            quantity=Decimal("12.5"),
            multiplier=1,
            premium_received=None,
            current_value=Decimal("-10.01"),
        )
    return portfolio


def assert_same_arrays(left, right):
    assert left.dtype.kind == right.dtype.kind
    if left.dtype.kind == "f":
        np.testing.assert_array_equal(left, right)  # NaN equals NaN here
    else:
        assert left.tolist() == right.tolist()


def test_columns_equal_leg_inputs_of_the_orm_rows(alice, mixed_book):
    with rls.as_user(alice.pk):
        rows = list(
            Position.objects.filter(portfolio=mixed_book).order_by("pk").values(*LEG_FIELDS)
        )
        legs = stored_legs(portfolio_id=mixed_book.pk)
    expected = leg_inputs(rows)
    assert legs.ids.tolist() == [row["id"] for row in rows]
    for name in expected.__slots__:
        assert_same_arrays(getattr(legs.inputs, name), getattr(expected, name))
    assert legs.underlying.tolist() == [row["underlying_symbol"] for row in rows]
    assert legs.strategy_types.tolist() == [row["strategy_type"] for row in rows]
    assert legs.strategy_group_ids == [row["strategy_group_id"] for row in rows]
    assert legs.premium_received == [row["premium_received"] for row in rows]
    assert legs.current_value == [row["current_value"] for row in rows]


def test_another_traders_legs_are_not_read(bob, mixed_book):
    with rls.as_user(bob.pk):
        assert len(stored_legs(portfolio_id=mixed_book.pk)) == 0


def test_an_empty_book_is_empty_columns(alice):
    with rls.as_user(alice.pk):
        portfolio = make_portfolio(owner=alice, name="Empty")
        legs = stored_legs(portfolio_id=portfolio.pk)
    assert len(legs) == 0 and len(legs.inputs) == 0


def test_one_statement(alice, mixed_book):
    with rls.as_user(alice.pk), CaptureQueriesContext(connection) as queries:
        stored_legs(portfolio_id=mixed_book.pk)
    assert len(queries) == 1
