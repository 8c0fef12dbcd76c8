"""POST /api/portfolio/{id}/what-if."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from metrics.services import positions_reprice
from portfolios.models import Position
from portfolios.tests.factories import make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db

AS_OF = dt.datetime(2026, 11, 24, 20, 0, tzinfo=dt.UTC)
EXPIRY = dt.date(2026, 12, 18)


def what_if_url(portfolio_id: int) -> str:
    return reverse("metrics-api:portfolio-what-if", args=[portfolio_id])


def make_stock(portfolio, *, symbol="XYZ", quantity=100, price="50") -> Position:
    return Position.objects.create(
        portfolio=portfolio,
        symbol=symbol,
        underlying_symbol=symbol,
        instrument_type="Equity",
        quantity=Decimal(quantity),
        multiplier=1,
        mark=Decimal(price),
        underlying_price=Decimal(price),
        current_value=Decimal(price) * quantity,
    )


@pytest.fixture
def book(alice):
    """A synced book: a short SPY put priced from its mark, 100 shares, an unquoted put."""
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, account_type="margin", synced_at=AS_OF)
        make_short_put(
            portfolio=portfolio,
            strike=Decimal("560"),
            expiration=EXPIRY,
            mark=Decimal("6.10"),
            current_value=Decimal("-610.00"),
            underlying_price=Decimal("580"),
        )
        make_stock(portfolio)
        make_short_put(portfolio=portfolio, strike=Decimal("500"), expiration=EXPIRY, mark=None)
        positions_reprice(portfolio=portfolio, now=AS_OF)
    return portfolio


def cell(body, move, shift) -> dict:
    (found,) = [
        item
        for item in body["scenarios"]
        if (item["underlying_move_pct"], item["iv_shift_points"]) == (move, shift)
    ]
    return found


def test_stock_only_grid_is_exact(alice, alice_api):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, account_type="margin", synced_at=AS_OF)
        make_stock(portfolio)
    # when
    response = alice_api.post(
        what_if_url(portfolio.pk),
        {"underlying_moves_pct": [-10, 0, 12.5], "iv_shift_points": [0], "days_forward": 3},
        format="json",
    )
    # then: stock moves one for one, has no time value and no vega
    assert response.status_code == HTTPStatus.OK

    def stock_cell(move, value, pnl):
        return {
            "underlying_move_pct": move,
            "iv_shift_points": 0.0,
            "value": value,
            "pnl": pnl,
            "delta": 100.0,
            "gamma": 0.0,
            "theta": 0.0,
            "vega": 0.0,
        }

    body = response.json()
    (group,) = body["groups"]
    assert body == {
        "portfolio_id": portfolio.pk,
        "as_of": "2026-11-24T20:00:00Z",
        "days_forward": 3,
        "underlying_moves_pct": [-10.0, 0.0, 12.5],
        "iv_shift_points": [0.0],
        "model_value": "5000.00",
        "legs": 1,
        "legs_unpriced": 0,
        # the book today, as the metrics endpoint reads it: 50 % of $5,000 of stock
        "buying_power_used": "2500.00",
        "buying_power_source": "reg_t",
        "groups": [
            {
                "group_id": group["group_id"],
                "strategy_type": "stock",
                "underlying_symbol": "XYZ",
                "legs": [{"position_id": portfolio.positions.get().pk, "quantity": "100.000000"}],
                "buying_power_requirement": "2500.00",
                "buying_power_reduction": "2500.00",
            }
        ],
        "scenarios": [
            stock_cell(-10.0, "4500.00", "-500.00"),
            stock_cell(0.0, "5000.00", "0.00"),
            stock_cell(12.5, "5625.00", "625.00"),
        ],
    }


def test_zero_scenario_is_todays_model_value_and_the_marks(book, alice_api):
    # when
    body = alice_api.post(
        what_if_url(book.pk),
        {"underlying_moves_pct": [-10, -5, 0, 5, 10], "iv_shift_points": [-5, 0, 5]},
        format="json",
    ).json()
    # then: the IV solved from the mark prices the put back at its mark
    with rls.as_service():
        put = Position.objects.get(portfolio=book, strike_price=Decimal("560"))
    assert body["model_value"] == "4390.00"  # -610.00 put + 5,000.00 stock
    assert (body["legs"], body["legs_unpriced"], len(body["scenarios"])) == (3, 1, 15)
    today = cell(body, 0.0, 0.0)
    assert (today["value"], today["pnl"]) == ("4390.00", "0.00")
    assert today["delta"] == pytest.approx(put.delta + 100.0, rel=1e-9)
    assert today["theta"] == pytest.approx(put.theta, rel=1e-9)
    assert today["vega"] == pytest.approx(put.vega, rel=1e-9)
    # A short put with stock: loses when the market falls or IV rises.
    pnl = {key: Decimal(cell(body, *key)["pnl"]) for key in [(-10.0, 0.0), (10.0, 0.0), (0.0, 5.0)]}
    assert pnl[(-10.0, 0.0)] < 0 < pnl[(10.0, 0.0)]
    assert pnl[(0.0, 5.0)] < 0
    # Moves and shifts come back in the order given, moves outer.
    assert [(c["underlying_move_pct"], c["iv_shift_points"]) for c in body["scenarios"][:4]] == [
        (-10.0, -5.0),
        (-10.0, 0.0),
        (-10.0, 5.0),
        (-5.0, -5.0),
    ]


def test_days_forward_earns_the_short_puts_theta(book, alice_api):
    body = alice_api.post(
        what_if_url(book.pk), {"underlying_moves_pct": [0], "days_forward": 7}, format="json"
    ).json()
    with rls.as_service():
        put = Position.objects.get(portfolio=book, strike_price=Decimal("560"))
    gained = Decimal(body["scenarios"][0]["pnl"])
    assert Decimal(0) < gained
    # About a week of theta (which grows as expiry nears).
    assert 0.8 * 7 * put.theta < float(gained) < 1.5 * 7 * put.theta


GRID = {"underlying_moves_pct": [0], "iv_shift_points": [0], "days_forward": 0}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"underlying_moves_pct": ["abc"]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": ["5"]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": ["NaN"]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": [True]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": [None]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": 5}, "underlying_moves_pct"),
        ({"underlying_moves_pct": []}, "underlying_moves_pct"),
        ({"underlying_moves_pct": list(range(42))}, "underlying_moves_pct"),
        ({"underlying_moves_pct": [-95.01]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": [500.5]}, "underlying_moves_pct"),
        ({"underlying_moves_pct": [10**400]}, "underlying_moves_pct"),
        ({"iv_shift_points": ["x"]}, "iv_shift_points"),
        ({"iv_shift_points": list(range(22))}, "iv_shift_points"),
        ({"iv_shift_points": [-101]}, "iv_shift_points"),
        ({"days_forward": -1}, "days_forward"),
        ({"days_forward": 3651}, "days_forward"),
        ({"days_forward": 1.5}, "days_forward"),
        ({"days_forward": "3"}, "days_forward"),
        ({"days_forward": True}, "days_forward"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_grids_are_400_naming_the_field(book, alice_api, change, field):
    response = alice_api.post(what_if_url(book.pk), {**GRID, **change}, format="json")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


def test_a_missing_grid_is_400_naming_it(book, alice_api):
    response = alice_api.post(what_if_url(book.pk), {}, format="json")
    assert response.json()["error"]["fields"] == {
        "underlying_moves_pct": ["This field is required."]
    }


def test_an_item_error_names_its_index(book, alice_api):
    response = alice_api.post(
        what_if_url(book.pk), {"underlying_moves_pct": [0, -99]}, format="json"
    )
    assert response.json()["error"]["fields"] == {
        "underlying_moves_pct": ["Item 1: Ensure this value is greater than or equal to -95.0."]
    }


def test_the_largest_grid_allowed_is_41_by_21(book, alice_api):
    grid = {
        "underlying_moves_pct": [-95 + 14.875 * i for i in range(41)],
        "iv_shift_points": list(range(-10, 11)),
        "days_forward": 3650,
    }
    body = alice_api.post(what_if_url(book.pk), grid, format="json").json()
    assert len(body["scenarios"]) == 41 * 21
    assert body["underlying_moves_pct"][-1] == 500.0


def test_a_json_nan_literal_is_refused(book, alice_api):
    response = alice_api.post(
        what_if_url(book.pk), '{"underlying_moves_pct": [NaN]}', content_type="application/json"
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "parse_error"


def test_a_form_body_is_refused(book, alice_api):
    response = alice_api.post(what_if_url(book.pk), {"underlying_moves_pct": "5"})
    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


def test_bob_cannot_run_a_what_if_on_alices_book(book, bob_api, client):
    response = bob_api.post(what_if_url(book.pk), GRID, format="json")
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "not_found"
    assert client.post(what_if_url(book.pk), GRID).status_code == HTTPStatus.UNAUTHORIZED


def test_a_read_only_token_may_run_a_what_if(book, alice, api_token_for):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice, scope='read')}")
    response = client.post(what_if_url(book.pk), GRID, format="json")
    assert response.status_code == HTTPStatus.OK
    assert response.json()["legs"] == 3


def test_finding_8_read_only_tokens_may_run_a_what_if_and_nothing_else_and_the_docs_say_so(
    book, alice, api_token_for
):
    # given: a read-only token
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_for(alice, scope='read')}")
    # then: the what-if answers, and it stored nothing (the book is unchanged)
    before = client.get(f"/api/portfolio/{book.pk}/positions/").json()
    assert client.post(what_if_url(book.pk), GRID, format="json").status_code == HTTPStatus.OK
    assert client.get(f"/api/portfolio/{book.pk}/positions/").json() == before
    # and any other POST is refused
    refused = client.post("/api/portfolio/", {"name": "x"}, format="json")
    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert refused.json()["error"]["code"] == "insufficient_scope"
    # and the API docs and the token docs say it
    schema = client.get("/api/schema/", {"format": "json"}).json()
    what_if = schema["paths"]["/api/portfolio/{id}/what-if"]["post"]["description"]
    assert "read-only API tokens may ask for one" in what_if
    bearer = schema["components"]["securitySchemes"]["ApiToken"]["description"]
    assert "POST /api/portfolio/{id}/what-if" in bearer
    output = schema["components"]["schemas"]["ApiTokenOutput"]
    scope = output["properties"]["scope"]["description"]
    assert "what-if" in scope
