"""metrics.services.positions_reprice: one vectorised pricing, one bulk write."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import greeks
from metrics.services import positions_reprice
from portfolios.models import Portfolio, Position
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
EXPIRY = dt.date(2026, 12, 18)


def test_reprice_stores_iv_and_position_greeks_in_design_units(alice, settings):
    # given: a manual book with a short put, stock, an unquoted put and a put
    # whose underlying price is unknown but whose IV the trader typed in
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        put = make_short_put(
            portfolio=portfolio,
            strike=Decimal("560"),
            expiration=EXPIRY,
            mark=Decimal("6.10"),
            underlying_price=Decimal("580"),
            dividend_yield=0.012,
        )
        stock = Position.objects.create(
            portfolio=portfolio,
            symbol="XYZ",
            underlying_symbol="XYZ",
            instrument_type="Equity",
            quantity=Decimal(100),
            multiplier=1,
            mark=Decimal("50"),
            underlying_price=Decimal("50"),
        )
        unquoted = make_short_put(
            portfolio=portfolio, strike=Decimal("500"), expiration=EXPIRY, mark=None
        )
        no_spot = make_short_put(
            portfolio=portfolio,
            strike=Decimal("520"),
            expiration=EXPIRY,
            underlying_price=None,
            implied_volatility=0.3,
        )
        version = portfolio.sync_version
        # when
        written = positions_reprice(portfolio=portfolio, now=NOW)
        put, stock, unquoted, no_spot = (
            Position.objects.get(pk=leg.pk) for leg in (put, stock, unquoted, no_spot)
        )
        stored = Portfolio.objects.get(pk=portfolio.pk)

    # then: the solved IV gives back the mark, and the greeks are per position
    assert written == 4
    assert (stored.sync_version, stored.updated_at) == (version + 1, NOW)
    assert portfolio.sync_version == version + 1
    assert (put.iv_status, put.greeks_source) == ("solved", "implied")
    years = greeks.year_fraction(np.array([EXPIRY], dtype="datetime64[D]"), np.array(["PM"]), NOW)
    model = greeks.black_scholes_merton(
        spot=np.array([580.0]),
        strike=np.array([560.0]),
        years=years,
        rate=settings.RISK_FREE_RATE,
        dividend_yield=np.array([0.012]),
        sigma=np.array([put.implied_volatility]),
        is_call=np.array([False]),
    )
    assert model.price[0] == pytest.approx(6.10, abs=1e-8)
    assert put.delta == pytest.approx(model.delta[0] * -100, rel=1e-12)
    assert put.gamma == pytest.approx(model.gamma[0] * -100, rel=1e-12)
    assert put.theta == pytest.approx(model.theta[0] * -100, rel=1e-12)
    assert put.vega == pytest.approx(model.vega[0] * -100, rel=1e-12)
    assert put.delta > 0 and put.theta > 0 and put.gamma < 0 and put.vega < 0

    assert (stock.delta, stock.gamma, stock.theta, stock.vega) == (100.0, 0.0, 0.0, 0.0)
    assert (stock.implied_volatility, stock.greeks_source) == (None, "linear")

    assert (unquoted.delta, unquoted.theta, unquoted.greeks_source) == (None, None, "none")
    assert unquoted.iv_status == "no_quote"

    # The trader's IV survives until the leg can be priced with it.
    assert (no_spot.delta, no_spot.greeks_source) == (None, "none")
    assert (no_spot.implied_volatility, no_spot.iv_status) == (0.3, "no_underlying")


def test_reprice_falls_back_to_the_stored_iv_without_a_usable_mark(alice):
    # given: a put quoted below intrinsic, with an IV entered by hand
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        leg = make_short_put(
            portfolio=portfolio,
            strike=Decimal("600"),
            expiration=EXPIRY,
            mark=Decimal("5.00"),
            underlying_price=Decimal("580"),
            implied_volatility=0.25,
        )
        # when
        positions_reprice(portfolio=portfolio, now=NOW)
        leg.refresh_from_db()
    # then
    assert (leg.iv_status, leg.greeks_source, leg.implied_volatility) == (
        "below_intrinsic",
        "market_iv",
        0.25,
    )
    assert leg.delta is not None and leg.delta > 0


def test_reprice_of_an_empty_portfolio_bumps_its_version(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        assert positions_reprice(portfolio=portfolio, now=NOW) == 0
        assert Portfolio.objects.get(pk=portfolio.pk).sync_version == 1


def test_reprice_query_count_is_flat_in_legs(alice):
    counts = []
    with rls.as_service():
        for n_legs in (10, 200):
            portfolio = make_portfolio(owner=alice, name=f"Book {n_legs}")
            make_book(portfolio=portfolio, n_positions=n_legs)
            with CaptureQueriesContext(connection) as queries:
                assert positions_reprice(portfolio=portfolio, now=NOW) == n_legs
            counts.append(len(queries.captured_queries))
            assert not Position.objects.filter(portfolio=portfolio).exclude(updated_at=NOW).exists()
    # savepoint, lock, legs, one bulk update, version bump, refresh, release
    assert counts == [7, 7]
