"""GET /api/portfolio/{id}/strategies/: legs grouped by strategy_group_id."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portfolios.models import Position
from portfolios.selectors import market_today
from portfolios.tests.api_support import db_state, position_json
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def url(portfolio) -> str:
    return f"/api/portfolio/{portfolio.pk}/strategies/"


@pytest.fixture
def spread_and_stock(alice):
    """A 540/530 SPY put credit spread ×2 (grouped) and 100 shares of KO (ungrouped)."""
    expiry = market_today() + dt.timedelta(days=21)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        short = make_short_put(
            portfolio=portfolio,
            strike=Decimal("540"),
            expiration=expiry,
            quantity=-2,
            average_open_price=Decimal("4.00"),
            premium_received=Decimal("800.00"),
            mark=Decimal("3.00"),
            current_value=Decimal("-600.00"),
            strategy_type="put_credit_spread",
            strategy_group_id="sg_spread",
            delta=40.0,
            gamma=-2.0,
            theta=12.0,
            vega=-30.0,
        )
        long = make_short_put(
            portfolio=portfolio,
            strike=Decimal("530"),
            expiration=expiry,
            quantity=2,
            average_open_price=Decimal("2.50"),
            premium_received=Decimal("-500.00"),
            mark=Decimal("1.75"),
            current_value=Decimal("350.00"),
            strategy_type="put_credit_spread",
            strategy_group_id="sg_spread",
            delta=-25.0,
            gamma=1.5,
            theta=-8.0,
            vega=22.0,
        )
        stock = Position.objects.create(
            portfolio=portfolio,
            symbol="KO",
            underlying_symbol="KO",
            instrument_type="Equity",
            quantity=Decimal(100),
            multiplier=1,
            average_open_price=Decimal("60"),
            premium_received=Decimal("-6000.00"),
            mark=Decimal("62.5"),
            current_value=Decimal("6250.00"),
            strategy_type="stock",
            delta=100.0,
            gamma=0.0,
            theta=0.0,
            vega=0.0,
            greeks_source="linear",
        )
    return portfolio, short, long, stock, expiry


def test_groups_with_credit_risk_and_dte(spread_and_stock, alice_api):
    portfolio, short, long, stock, expiry = spread_and_stock
    response = alice_api.get(url(portfolio))
    assert response.status_code == 200
    # The ungrouped stock is named by detection (stable across reads of the same legs).
    stock_group_id = response.json()["results"][0]["group_id"]
    assert stock_group_id.startswith("sg_")
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            {
                "group_id": stock_group_id,
                "strategy_type": "stock",
                "underlying_symbol": "KO",
                "legs_count": 1,
                "leg_quantities": [{"position_id": stock.pk, "quantity": "100.000000"}],
                "net_credit": "-6000.00",
                "current_value": "6250.00",
                "unrealized_pnl": "250.00",
                "fees_since_open": "0.00",
                "pnl_open": "250.00",
                "pnl_day": None,
                # a debit with unbounded upside: no max profit to measure against
                "percent_of_max_profit": None,
                # long stock: the most it can lose is its cost; its upside is unbounded
                "max_profit": None,
                "max_loss": "6000.00",
                "undefined_risk": False,
                # 50 % of 100 × 62.50; stock's cost is not premium received
                "buying_power_requirement": "3125.00",
                "buying_power_reduction": "3125.00",
                "expiration_date": None,
                "dte": None,
                "delta": 100.0,
                "gamma": 0.0,
                "theta": 0.0,
                "vega": 0.0,
                "legs": [position_json(stock)],
            },
            {
                "group_id": "sg_spread",
                "strategy_type": "put_credit_spread",
                "underlying_symbol": "SPY",
                "legs_count": 2,
                "leg_quantities": [
                    {"position_id": long.pk, "quantity": "2.000000"},
                    {"position_id": short.pk, "quantity": "-2.000000"},
                ],
                # credit 800 − 500 = 300; width 10 × 100 × 2 = 2000 → max loss 1700
                "net_credit": "300.00",
                "current_value": "-250.00",
                "unrealized_pnl": "50.00",
                "fees_since_open": "0.00",
                "pnl_open": "50.00",
                "pnl_day": None,
                # 50 of a 300 max profit
                "percent_of_max_profit": "16.7",
                "max_profit": "300.00",
                "max_loss": "1700.00",
                "undefined_risk": False,
                # Tastytrade: width 2,000 − credit 300 received at open
                "buying_power_requirement": "2000.00",
                "buying_power_reduction": "1700.00",
                "expiration_date": expiry.isoformat(),
                "dte": 21,
                "delta": 15.0,
                "gamma": -0.5,
                "theta": 4.0,
                "vega": -8.0,
                "legs": [position_json(long), position_json(short)],
            },
        ],
    }


def test_a_naked_short_put_is_undefined_risk(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_short_put(portfolio=portfolio, strike=Decimal("100"))
    [group] = alice_api.get(url(portfolio)).json()["results"]
    # credit 435; loss to zero: 100 × 100 − 435
    assert (group["max_profit"], group["max_loss"], group["undefined_risk"]) == (
        "435.00",
        "9565.00",
        True,
    )


def test_a_stored_group_across_two_underlyings_is_split_into_its_strategies(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        for strike in ("100", "110"):
            make_short_put(
                portfolio=portfolio,
                underlying=f"X{strike}",
                strike=Decimal(strike),
                strategy_group_id="odd",
            )
    groups = alice_api.get(url(portfolio)).json()["results"]
    assert [(g["underlying_symbol"], g["strategy_type"], g["legs_count"]) for g in groups] == [
        ("X100", "short_put", 1),
        ("X110", "short_put", 1),
    ]
    assert [g["undefined_risk"] for g in groups] == [True, True]


def test_a_leg_split_across_groups_shows_each_groups_quantity(alice, alice_api):
    # given: 3 short 50 puts and 2 short 70 calls on a $60 stock
    expiry = market_today() + dt.timedelta(days=30)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        common = {"portfolio": portfolio, "underlying": "XYZ", "expiration": expiry}
        common["underlying_price"] = Decimal("60")
        puts = make_short_put(
            **common, strike=Decimal("50"), quantity=-3, mark=Decimal("0.80"),
            average_open_price=Decimal("1.10"), premium_received=Decimal("330.00"),
            current_value=Decimal("-240.00"),
        )  # fmt: skip
        calls = make_short_put(
            **common, strike=Decimal("70"), quantity=-2, mark=Decimal("0.65"),
            average_open_price=Decimal("1.20"), premium_received=Decimal("240.00"),
            current_value=Decimal("-130.00"), option_type="C",
        )  # fmt: skip
        Position.objects.filter(pk=calls.pk).update(symbol=calls.symbol.replace("P", "C", 1))

    # when
    groups = alice_api.get(url(portfolio)).json()["results"]

    # then: a strangle ×2 holds 2 of the puts, a short put the third; buying
    # power: strangle 1,330 + 160, short put 580 → 2,070 / 1,500 (see metrics rules)
    assert [
        (g["strategy_type"], g["leg_quantities"], g["buying_power_requirement"]) for g in groups
    ] == [
        ("short_put", [{"position_id": puts.pk, "quantity": "-1.000000"}], "580.00"),
        (
            "short_strangle",
            [
                {"position_id": puts.pk, "quantity": "-2.000000"},
                {"position_id": calls.pk, "quantity": "-2.000000"},
            ],
            "1490.00",
        ),
    ]
    assert sum(Decimal(g["buying_power_reduction"]) for g in groups) == Decimal("1500.00")


def test_unknown_premium_makes_net_credit_unknown(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_short_put(portfolio=portfolio, premium_received=None, average_open_price=None)
    [group] = alice_api.get(url(portfolio)).json()["results"]
    assert group["net_credit"] is None
    assert group["unrealized_pnl"] is None


def test_bob_gets_404(spread_and_stock, bob_api):
    portfolio, *_ = spread_and_stock
    before = db_state()
    response = bob_api.get(url(portfolio))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert db_state() == before


def test_groups_paginate(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=5)
    body = alice_api.get(url(portfolio) + "?limit=2&offset=2").json()
    assert body["count"] == 5
    assert [group["group_id"] for group in body["results"]] == ["g2", "g3"]
    assert alice_api.get(url(portfolio) + "?limit=0").status_code == 400


def test_query_count_is_flat(alice, alice_api):
    with rls.as_service():
        small = make_portfolio(owner=alice, name="Small")
        make_book(portfolio=small, n_positions=3)
        large = make_portfolio(owner=alice, name="Large")
        make_book(portfolio=large, n_positions=200)
    counts = []
    for portfolio in (small, large):
        with CaptureQueriesContext(connection) as queries:
            assert alice_api.get(url(portfolio) + "?limit=1000").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_browsable_api_renders(spread_and_stock, alice_api):
    portfolio, *_ = spread_and_stock
    response = alice_api.get(url(portfolio), HTTP_ACCEPT="text/html")
    assert response.status_code == 200
