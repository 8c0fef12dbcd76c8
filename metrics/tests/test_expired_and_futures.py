"""An expired leg the broker still lists is badged and out of the risk; futures read as contracts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from metrics.selectors import portfolio_what_if, risk_graph
from metrics.tests.pnl_book import make_pnl_book
from portfolios.book import portfolio_book
from portfolios.models import Position
from portfolios.selectors import market_today
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    book = make_pnl_book(alice)
    expired = market_today() - dt.timedelta(days=2)
    with rls.as_service():
        Position.objects.create(
            portfolio=book,
            symbol=f"XYZ   {expired:%y%m%d}C00060000",
            underlying_symbol="XYZ",
            instrument_type="Equity Option",
            option_type="C",
            strike_price=Decimal("60"),
            expiration_date=expired,
            quantity=Decimal(-1),
            multiplier=100,
            average_open_price=Decimal("0.50"),
            premium_received=Decimal("50.00"),
            mark=Decimal("0"),
            current_value=Decimal("0.00"),
            strategy_type="short_call",
            strategy_group_id="old-call",
            # intrinsic greeks as a sync leaves them, which must not count
            delta=-100.0,
            gamma=0.0,
            theta=0.0,
            vega=0.0,
            greeks_source="intrinsic",
        )
    return book


def test_an_expired_leg_is_out_of_the_totals_and_counted(alice_api, book):
    body = alice_api.get(f"/api/portfolio/{book.pk}/metrics/").json()
    assert body["legs_expired"] == 1
    # the rest of the hand book carries no stored greeks: delta stays 0, not −100
    assert body["total_delta"] == 0.0
    group = next(row for row in body["by_strategy"] if row["group_id"] == "old-call")
    assert group["delta"] == 0.0 and group["buying_power_used"] is None


def test_the_page_badges_the_expired_leg_and_shows_futures_as_contracts_and_notional(
    alice_client, book
):
    page = alice_client.get(f"/portfolios/{book.pk}/").content.decode()
    assert page.count(">expired</span>") == 2  # the group and its leg
    assert "-2d" not in page
    # 2 /MES at 6,010.25 × 5 = $60,102.50 of notional, not a "debit"
    notional = page.split("<span data-future-notional>")[1].split("</span>")[0]
    assert notional == "+2 contracts · notional $60,102.50", repr(notional)
    assert "debit −$60,000" not in page


def test_an_expired_leg_is_out_of_the_risk_graph_and_the_what_if(book):
    # given: the expired short call is in the money, so counted it would bend both
    grid = {"underlying_moves_pct": [-10, 0, 10], "iv_shift_points": [0], "days_forward": 0}
    with rls.as_service():
        legs = Position.objects.filter(portfolio=book, strategy_group_id="old-call")
        legs.update(underlying_price=Decimal("70"))
        with_expired = (risk_graph(portfolio=book), portfolio_what_if(portfolio=book, **grid))
        expired_group = risk_graph(portfolio=book, group_id="old-call")
        legs.delete()
        without = (risk_graph(portfolio=book), portfolio_what_if(portfolio=book, **grid))

    # then: the book's graph and grid are the live legs' alone; the expired group's is empty
    assert with_expired[0] == without[0]
    for key in ("model_value", "scenarios"):
        assert with_expired[1][key] == without[1][key]
    assert expired_group["legs"] == 0
    assert set(expired_group["pnl_at_expiry"]) == {Decimal("0.00")}


def test_an_expired_leg_holds_no_buying_power(book):
    # given: the expired call is in the money (underlying 70 over a 60 strike)
    with rls.as_service():
        legs = Position.objects.filter(portfolio=book, strategy_group_id="old-call")
        legs.update(underlying_price=Decimal("70"))
        with_expired = portfolio_book(portfolio=book, today=market_today())
        legs.delete()
        without = portfolio_book(portfolio=book, today=market_today())

    # then: its group is flagged and holds nothing; the book's figures are the rest's
    expired = [group for group in with_expired.groups if group.expired]
    assert [(g.strategy_type, g.requirement, g.buying_power_reduction) for g in expired] == [
        ("short_call", None, None)
    ]
    assert with_expired.buying_power.reduction == without.buying_power.reduction
    assert with_expired.buying_power.requirement == without.buying_power.requirement
    assert with_expired.buying_power.unsupported == without.buying_power.unsupported
