"""Manual books from the dashboards, checked exactly as the API checks them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest

from portfolios.models import Portfolio, Position
from portfolios.selectors import market_today
from portfolios.tests.factories import make_portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def legs(portfolio) -> list[Position]:
    with rls.as_service():
        return list(Position.objects.filter(portfolio=portfolio).order_by("id"))


def test_create_a_manual_portfolio_add_edit_and_remove_a_leg(alice, alice_client):
    # when: a trader creates a manual portfolio from the page
    response = alice_client.post(
        "/portfolios/new", {"name": "Held at IBKR", "net_liquidation_value": "25000"}
    )
    with rls.as_service():
        portfolio = Portfolio.objects.get(user=alice, name="Held at IBKR")
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"/portfolios/{portfolio.pk}/"
    assert portfolio.account_type == "manual"
    assert portfolio.net_liquidation_value == Decimal("25000.00")

    # and adds a short put by its OCC symbol
    expiry = market_today() + dt.timedelta(days=40)
    symbol = f"AAPL  {expiry:%y%m%d}P00172500"
    added = alice_client.post(
        f"/portfolios/{portfolio.pk}/positions/new",
        {"symbol": symbol, "quantity": "-2", "average_open_price": "3.10", "mark": "2.05"},
    )
    assert added.status_code == HTTPStatus.FOUND
    [leg] = legs(portfolio)
    # premium −3.10 × −2 × 100, as the API computes it
    assert (leg.premium_received, leg.current_value) == (Decimal("620.00"), Decimal("-410.00"))
    page = alice_client.get(f"/portfolios/{portfolio.pk}/").content.decode()
    assert "Short put" in page and f"/positions/{leg.pk}/edit" in page

    # when: the mark is edited, then the leg removed
    alice_client.post(f"/portfolios/{portfolio.pk}/positions/{leg.pk}/edit", {"mark": "1.00"})
    assert legs(portfolio)[0].current_value == Decimal("-200.00")
    alice_client.post(f"/portfolios/{portfolio.pk}/positions/{leg.pk}/delete")
    assert legs(portfolio) == []


def test_a_bad_leg_is_refused_next_to_its_field_with_the_apis_words(alice, alice_client):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Manual")
    response = alice_client.post(
        f"/portfolios/{portfolio.pk}/positions/new",
        {"symbol": "AAPL  260116P00172500", "quantity": "abc"},
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="id_quantity_error1"' in content and "A valid number is required." in content
    nameless = alice_client.post("/portfolios/new", {"name": ""})
    assert nameless.status_code == HTTPStatus.OK
    assert 'id="id_name_error1"' in nameless.content.decode()
    assert legs(portfolio) == []


def test_edit_and_delete_a_manual_portfolio_but_not_another_traders(alice, alice_client, bob):
    with rls.as_service():
        mine = make_portfolio(owner=alice, name="Mine")
        theirs = make_portfolio(owner=bob, name="Theirs")
    edited = alice_client.post(
        f"/portfolios/{mine.pk}/edit", {"name": "Renamed", "cash_balance": "10"}
    )
    assert edited.status_code == HTTPStatus.FOUND
    with rls.as_service():
        mine.refresh_from_db()
    assert (mine.name, mine.cash_balance, mine.net_liquidation_value) == (
        "Renamed",
        Decimal("10.00"),
        None,
    )
    assert alice_client.post(f"/portfolios/{theirs.pk}/delete").status_code == 404
    assert alice_client.post(f"/portfolios/{mine.pk}/delete").status_code == HTTPStatus.FOUND
    with rls.as_service():
        assert not Portfolio.objects.filter(pk=mine.pk).exists()
        assert Portfolio.objects.filter(pk=theirs.pk).exists()
