"""/api/portfolio/ and /api/portfolio/{id}/: list, detail, create, update, delete."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from brokers.models import BrokerConnection
from metrics.services import positions_reprice
from portfolios.models import Portfolio, Position
from portfolios.tests.api_support import db_state, iso, make_connection, make_synced
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db
LIST_URL = "/api/portfolio/"


def detail_url(portfolio) -> str:
    return f"/api/portfolio/{portfolio.pk}/"


def portfolio_json(portfolio: Portfolio, **figures) -> dict:
    portfolio.refresh_from_db()
    body = {
        "id": portfolio.pk,
        "name": portfolio.name,
        "account_type": portfolio.account_type,
        "is_manual": portfolio.is_manual,
        "broker_account_id": portfolio.broker_account_id,
        "broker_connection_id": portfolio.broker_connection_id,
        "net_liquidation_value": None,
        "cash_balance": None,
        "buying_power": None,
        "maintenance_requirement": None,
        "synced_at": portfolio.synced_at and iso(portfolio.synced_at),
        "sync_version": portfolio.sync_version,
        "legs_count": 0,
        "legs_unpriced": 0,
        "total_delta": 0.0,
        "total_gamma": 0.0,
        "total_theta": 0.0,
        "total_vega": 0.0,
        "total_rho": 0.0,
        "total_premium_received": None,
        "total_current_value": None,
        "total_unrealized_pnl": None,
        "created_at": iso(portfolio.created_at),
        "updated_at": iso(portfolio.updated_at),
    }
    body.update(figures)
    return body


# List and detail -----------------------------------------------------------------


def test_list_gives_each_portfolio_with_totals_of_its_legs(alice, alice_api):
    # given: a manual book of 3 priced puts and 1 unpriced put, and an empty synced account
    with rls.as_service():
        conn = make_connection(owner=alice)
        manual = make_portfolio(owner=alice, name="IRA at Schwab")
        make_book(portfolio=manual, n_positions=3)
        manual.positions.update(rho=-0.25)
        make_short_put(portfolio=manual)  # no greeks: unpriced
        synced = make_synced(owner=alice, connection=conn, name="Tasty")
    # when
    response = alice_api.get(LIST_URL)
    # then: 3 × (delta 30, gamma -1, theta 5, vega -10, rho -0.25); money sums over all 4 legs
    assert response.status_code == 200
    assert response.json() == {
        "count": 2,
        "next": None,
        "previous": None,
        "results": [
            portfolio_json(
                manual,
                net_liquidation_value="100000.00",
                legs_count=4,
                legs_unpriced=1,
                total_delta=90.0,
                total_gamma=-3.0,
                total_theta=15.0,
                total_vega=-30.0,
                total_rho=-0.75,
                total_premium_received="1035.00",
                total_current_value="-760.00",
                total_unrealized_pnl="275.00",
            ),
            portfolio_json(synced, net_liquidation_value="100000.00"),
        ],
    }


def test_total_rho_is_the_metrics_total_of_the_legs_priced_rho(alice, alice_api):
    # given: a manual book of a long SPY call and a long /ES call, priced as a sync prices them
    now = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
    expiry = dt.date(2027, 3, 19)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Rates")
        common = {"option_type": "C", "expiration_date": expiry, "quantity": Decimal(1)}
        Position.objects.create(
            portfolio=portfolio,
            symbol=f"SPY   {expiry:%y%m%d}C00600000",
            underlying_symbol="SPY",
            instrument_type="Equity Option",
            strike_price=Decimal("600"),
            multiplier=100,
            mark=Decimal("21.40"),
            underlying_price=Decimal("590"),
            **common,
        )
        Position.objects.create(
            portfolio=portfolio,
            symbol=f"./ESH7 ESH7 {expiry:%y%m%d}C6000",
            underlying_symbol="/ESH7",
            instrument_type="Future Option",
            strike_price=Decimal("6000"),
            multiplier=50,
            mark=Decimal("210.00"),
            underlying_price=Decimal("6010"),
            exercise_style="European",
            **common,
        )
        positions_reprice(portfolio=portfolio, now=now)
        rho = dict(Position.objects.filter(portfolio=portfolio).values_list("symbol", "rho"))
    # when
    body = alice_api.get(detail_url(portfolio)).json()
    metrics = alice_api.get(f"/api/portfolio/{portfolio.pk}/metrics/").json()
    # then: the long equity call's rho is > 0, the long futures call's < 0
    # (Black-76: −T × price / 100 per unit), and the resource's total is theirs
    equity, future = (
        rho[f"SPY   {expiry:%y%m%d}C00600000"],
        rho[f"./ESH7 ESH7 {expiry:%y%m%d}C6000"],
    )
    assert equity > 0 > future
    # T to 16:00 New York (EDT) on the expiry; the IV is solved from the mark, so V = mark
    years = (dt.datetime(2027, 3, 19, 20, 0, tzinfo=dt.UTC) - now) / dt.timedelta(days=365)
    assert future == pytest.approx(-years * 210.00 / 100 * 50, rel=1e-6)
    assert body["legs_unpriced"] == 0
    assert body["total_rho"] == pytest.approx(equity + future, rel=1e-12)
    assert body["total_rho"] == pytest.approx(metrics["total_rho"], rel=1e-12)


def test_list_never_mixes_users(alice, bob, alice_api, bob_api):
    with rls.as_service():
        alices = make_portfolio(owner=alice, name="Alice book")
        make_book(portfolio=alices, n_positions=2)
        bobs = make_portfolio(owner=bob, name="Bob book")
    alice_ids = [row["id"] for row in alice_api.get(LIST_URL).json()["results"]]
    bob_ids = [row["id"] for row in bob_api.get(LIST_URL).json()["results"]]
    assert alice_ids == [alices.pk]
    assert bob_ids == [bobs.pk]


def test_anonymous_gets_401_envelope(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    for url in (LIST_URL, detail_url(portfolio)):
        response = APIClient().get(url)
        assert response.status_code == 401
        assert set(response.json()["error"]) == {"code", "message", "fields"}


def test_detail_is_the_list_item(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, cash_balance=Decimal("2500.50"))
        make_book(portfolio=portfolio, n_positions=2)
    response = alice_api.get(detail_url(portfolio))
    assert response.status_code == 200
    assert response.json() == alice_api.get(LIST_URL).json()["results"][0]
    assert response.json()["cash_balance"] == "2500.50"
    assert response.json()["legs_count"] == 2


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("get", None),
        ("put", {"name": "Mine now"}),
        ("patch", {"name": "Mine now"}),
        ("delete", None),
    ],
)
def test_bob_gets_404_on_alices_portfolio(alice, bob_api, method, body):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=1)
    before = db_state()
    response = getattr(bob_api, method)(detail_url(portfolio), body, format="json")
    assert response.status_code == 404
    assert response.json() == {
        "error": {"code": "not_found", "message": "Not found.", "fields": {}}
    }
    assert db_state() == before


def test_bob_cannot_delete_alices_synced_portfolio_even_confirmed(alice, bob_api):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=make_connection(owner=alice))
    before = db_state()
    response = bob_api.delete(detail_url(portfolio) + "?confirm=true")
    assert response.status_code == 404
    assert db_state() == before


def test_missing_portfolio_is_404(alice_api):
    assert alice_api.get("/api/portfolio/999999/").status_code == 404


def test_list_query_count_does_not_grow_with_portfolios_or_legs(alice, alice_api):
    with rls.as_service():
        first = make_portfolio(owner=alice, name="A")
        make_book(portfolio=first, n_positions=5)
    with CaptureQueriesContext(connection) as few:
        alice_api.get(LIST_URL)
    with rls.as_service():
        for index in range(8):
            make_book(portfolio=make_portfolio(owner=alice, name=f"B{index}"), n_positions=30)
    with CaptureQueriesContext(connection) as many:
        response = alice_api.get(LIST_URL)
    assert response.json()["count"] == 9
    assert len(many) == len(few)


# Create --------------------------------------------------------------------------


def test_create_manual_portfolio(alice, alice_api):
    response = alice_api.post(
        LIST_URL,
        {"name": "  Fidelity  ", "net_liquidation_value": "25000.5", "buying_power": 12000},
        format="json",
    )
    assert response.status_code == 201
    with rls.as_service():
        portfolio = Portfolio.objects.get(user=alice)
    assert response.json() == portfolio_json(
        portfolio, net_liquidation_value="25000.50", buying_power="12000.00"
    )
    assert portfolio.name == "Fidelity"
    assert portfolio.account_type == "manual"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "A", "account_type": "margin"}, "account_type"),
        ({"name": "A", "account_type": "broker"}, "account_type"),
        ({"name": "A", "net_liquidation_value": "1.234"}, "net_liquidation_value"),
        ({"name": "A", "net_liquidation_value": "lots"}, "net_liquidation_value"),
        ({"name": "A", "cash_balance": "1e20"}, "cash_balance"),
        ({"name": "A", "broker_account_id": "5WT1"}, "broker_account_id"),
        ({"name": "A", "sync_version": 3}, "sync_version"),
        ({"name": "A", "colour": "blue"}, "colour"),
    ],
)
def test_create_rejects_bad_input_naming_the_field(alice, alice_api, body, field):
    before = db_state()
    response = alice_api.post(LIST_URL, body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["fields"]
    assert error["message"].startswith(f"{next(iter(error['fields']))}: ")
    assert db_state() == before


def test_create_rejects_a_list_body(alice_api):
    response = alice_api.post(LIST_URL, [{"name": "A"}], format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


# Update --------------------------------------------------------------------------


def test_patch_manual_portfolio(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Old")
    response = alice_api.patch(
        detail_url(portfolio), {"name": "New", "cash_balance": "-150.25"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == portfolio_json(
        portfolio, name="New", net_liquidation_value="100000.00", cash_balance="-150.25"
    )


def test_put_needs_the_name(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Old")
    before = db_state()
    response = alice_api.put(detail_url(portfolio), {"cash_balance": "5"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["name"]
    assert db_state() == before
    response = alice_api.put(detail_url(portfolio), {"name": "Renamed"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account_type": "cash"}, "account_type"),
        ({"broker_account_id": "X"}, "broker_account_id"),
        ({"name": ""}, "name"),
        ({"buying_power": "abc"}, "buying_power"),
    ],
)
def test_patch_manual_rejects_bad_fields(alice, alice_api, body, field):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    before = db_state()
    response = alice_api.patch(detail_url(portfolio), body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert db_state() == before


def test_synced_portfolio_can_be_renamed(alice, alice_api):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=make_connection(owner=alice))
    response = alice_api.patch(detail_url(portfolio), {"name": "Tasty (main)"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Tasty (main)"
    assert response.json()["account_type"] == "margin"


@pytest.mark.parametrize("field", ["net_liquidation_value", "cash_balance", "buying_power"])
def test_synced_portfolio_refuses_broker_fields(alice, alice_api, field):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=make_connection(owner=alice))
    before = db_state()
    response = alice_api.patch(
        detail_url(portfolio), {"name": "Renamed", field: "1.00"}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == [field]
    assert "synced" in error["fields"][field][0]
    assert db_state() == before  # not even the name changed


# Delete --------------------------------------------------------------------------


def test_delete_manual_portfolio_removes_its_legs(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=3)
        keep = make_portfolio(owner=alice, name="Keep")
        make_book(portfolio=keep, n_positions=1)
    response = alice_api.delete(detail_url(portfolio))
    assert response.status_code == 204
    with rls.as_service():
        assert list(Portfolio.objects.values_list("id", flat=True)) == [keep.pk]
        assert Position.objects.filter(portfolio_id=portfolio.pk).count() == 0
        assert Position.objects.count() == 1


def test_delete_synced_portfolio_asks_for_confirmation(alice, alice_api):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=make_connection(owner=alice))
        make_book(portfolio=portfolio, n_positions=2)
    before = db_state()
    for url in (detail_url(portfolio), detail_url(portfolio) + "?confirm=false"):
        response = alice_api.delete(url)
        assert response.status_code == 409
        error = response.json()["error"]
        assert error["code"] == "confirmation_required"
        assert "?confirm=true" in error["message"]
        assert error["fields"] == {}
    assert db_state() == before


def test_confirmed_delete_of_synced_portfolio_excludes_its_account_from_syncs(alice, alice_api):
    with rls.as_service():
        conn = make_connection(owner=alice, excluded=["5WTOLD01"])
        portfolio = make_synced(owner=alice, connection=conn, account_id="5WT00001")
        make_book(portfolio=portfolio, n_positions=2)
        other = make_synced(owner=alice, connection=conn, account_id="5WT00002", name="Other")
    response = alice_api.delete(detail_url(portfolio) + "?confirm=true")
    assert response.status_code == 204
    with rls.as_service():
        conn.refresh_from_db()
        assert conn.excluded_account_ids == ["5WTOLD01", "5WT00001"]
        assert list(Portfolio.objects.values_list("id", flat=True)) == [other.pk]
        assert not Position.objects.filter(portfolio_id=portfolio.pk).exists()


def test_confirmation_may_come_in_the_body(alice, alice_api):
    with rls.as_service():
        conn = make_connection(owner=alice)
        portfolio = make_synced(owner=alice, connection=conn)
    response = alice_api.delete(detail_url(portfolio), {"confirm": True}, format="json")
    assert response.status_code == 204
    with rls.as_service():
        assert BrokerConnection.objects.get(pk=conn.pk).excluded_account_ids == ["5WT00001"]


def test_confirmed_delete_without_connection_still_deletes(alice, alice_api):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=None)
    assert alice_api.delete(detail_url(portfolio) + "?confirm=true").status_code == 204
    with rls.as_service():
        assert not Portfolio.objects.exists()


def test_unreadable_confirmation_is_400(alice, alice_api):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=make_connection(owner=alice))
    before = db_state()
    response = alice_api.delete(detail_url(portfolio) + "?confirm=perhaps")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["confirm"]
    assert db_state() == before


# Pagination ----------------------------------------------------------------------


@pytest.fixture
def five_portfolios(alice):
    with rls.as_service():
        return [make_portfolio(owner=alice, name=f"P{index}") for index in range(5)]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=-3", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
    ],
)
def test_bad_limit_or_offset_is_400_naming_it(five_portfolios, alice_api, query, field):
    response = alice_api.get(f"{LIST_URL}?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_pages_link_to_each_other(five_portfolios, alice_api):
    body = alice_api.get(f"{LIST_URL}?limit=2&offset=2").json()
    assert [row["name"] for row in body["results"]] == ["P2", "P3"]
    assert body["count"] == 5
    assert body["next"] == "http://testserver/api/portfolio/?limit=2&offset=4"
    assert body["previous"] == "http://testserver/api/portfolio/?limit=2"


def test_huge_limit_is_clamped_and_offset_past_the_end_is_empty(five_portfolios, alice_api):
    body = alice_api.get(f"{LIST_URL}?limit=1000000&offset=1").json()
    assert len(body["results"]) == 4
    assert body["previous"] == "http://testserver/api/portfolio/?limit=1000"
    past = alice_api.get(f"{LIST_URL}?offset=50").json()
    assert past["count"] == 5
    assert past["results"] == []


# Browsable API -------------------------------------------------------------------


def test_browsable_api_renders_for_a_signed_in_user(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Visible")
    for url in (LIST_URL, detail_url(portfolio)):
        response = alice_api.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/html")
        assert b"Visible" in response.content


def test_synced_at_is_shown(alice, alice_api):
    with rls.as_service():
        make_synced(owner=alice, connection=make_connection(owner=alice))
    row = alice_api.get(LIST_URL).json()["results"][0]
    assert row["synced_at"] == iso(dt.datetime(2026, 11, 20, 21, 0, tzinfo=dt.UTC))
    assert row["is_manual"] is False
