"""portfolios.services.positions_pricing_store: a book's re-pricing in one UPDATE."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.pricing import price_legs
from portfolios.book import portfolio_book
from portfolios.models import Portfolio, Position
from portfolios.services import positions_pricing_store
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)


def _store(portfolio: Portfolio) -> int:
    book = portfolio_book(portfolio=portfolio)
    inputs = book.leg_inputs()
    return positions_pricing_store(
        portfolio=portfolio,
        leg_ids=np.array([row["id"] for row in book.rows], dtype=np.int64),
        instrument_types=inputs.instrument_type,
        pricing=price_legs(inputs, now=NOW, rate=0.04) if book.rows else None,
        now=NOW,
    )


def test_store_writes_greeks_and_keeps_an_unused_iv(alice):
    with rls.as_service():
        # given: a priceable short put and one without an underlying price
        portfolio = make_portfolio(owner=alice)
        put = make_short_put(portfolio=portfolio, strike=Decimal("560"), mark=Decimal("6.10"))
        no_spot = make_short_put(
            portfolio=portfolio,
            strike=Decimal("520"),
            underlying_price=None,
            implied_volatility=0.3,
        )
        # when
        written = _store(portfolio)
        put.refresh_from_db()
        no_spot.refresh_from_db()
    # then
    assert written == 2
    assert (put.greeks_source, put.iv_status) == ("implied", "solved")
    assert put.delta > 0 and put.theta > 0 and put.updated_at == NOW
    assert (no_spot.delta, no_spot.greeks_source, no_spot.implied_volatility) == (None, "none", 0.3)
    assert (portfolio.sync_version, portfolio.updated_at) == (1, NOW)


def test_store_of_no_legs_bumps_the_version_only(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        assert _store(portfolio) == 0
        assert Portfolio.objects.get(pk=portfolio.pk).sync_version == 1


def test_store_is_one_update_whatever_the_number_of_legs(alice):
    counts = []
    with rls.as_service():
        for n_legs in (5, 150):
            portfolio = make_portfolio(owner=alice, name=f"Book {n_legs}")
            make_book(portfolio=portfolio, n_positions=n_legs)
            book = portfolio_book(portfolio=portfolio)
            inputs = book.leg_inputs()
            pricing = price_legs(inputs, now=NOW, rate=0.04)
            ids = np.array([row["id"] for row in book.rows], dtype=np.int64)
            with CaptureQueriesContext(connection) as queries:
                positions_pricing_store(
                    portfolio=portfolio,
                    leg_ids=ids,
                    instrument_types=inputs.instrument_type,
                    pricing=pricing,
                    now=NOW,
                )
            counts.append(len(queries.captured_queries))
            assert not Position.objects.filter(portfolio=portfolio).exclude(updated_at=NOW).exists()
    # the legs' UPDATE, the version bump, the refresh
    assert counts == [3, 3]
