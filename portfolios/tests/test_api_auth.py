"""The portfolio API behind bearer credentials: Clerk session JWTs and tv_ API tokens."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from portfolios.selectors import market_today
from portfolios.tests.api_support import db_state
from portfolios.tests.factories import make_book, make_portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_book(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        [leg] = make_book(portfolio=portfolio, n_positions=1)
    return portfolio, leg


def token_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_clerk_session_token_reads_own_portfolios(
    alices_book, alice_token_client, bob_token_client
):
    portfolio, leg = alices_book
    assert alice_token_client.get("/api/portfolio/").json()["count"] == 1
    assert alice_token_client.get(f"/api/portfolio/{portfolio.pk}/positions/").status_code == 200
    assert bob_token_client.get("/api/portfolio/").json()["count"] == 0
    assert bob_token_client.get(f"/api/portfolio/{portfolio.pk}/").status_code == 404
    assert (
        bob_token_client.get(f"/api/portfolio/{portfolio.pk}/positions/{leg.pk}/").status_code
        == 404
    )


def test_read_only_api_token_reads_but_never_writes(alice, alices_book, api_token_for):
    portfolio, leg = alices_book
    client = token_client(api_token_for(alice, scope="read"))
    assert client.get(f"/api/portfolio/{portfolio.pk}/positions/?format=csv").status_code == 200
    before = db_state()
    expiry = market_today() + dt.timedelta(days=10)
    writes = [
        client.post("/api/portfolio/", {"name": "New"}, format="json"),
        client.patch(f"/api/portfolio/{portfolio.pk}/", {"name": "X"}, format="json"),
        client.delete(f"/api/portfolio/{portfolio.pk}/"),
        client.post(
            f"/api/portfolio/{portfolio.pk}/positions/",
            {"symbol": f"SPY   {expiry:%y%m%d}P00500000", "quantity": -1},
            format="json",
        ),
        client.patch(
            f"/api/portfolio/{portfolio.pk}/positions/{leg.pk}/", {"quantity": -2}, format="json"
        ),
        client.delete(f"/api/portfolio/{portfolio.pk}/positions/{leg.pk}/"),
    ]
    assert [response.status_code for response in writes] == [403] * len(writes)
    assert all(
        set(response.json()["error"]) == {"code", "message", "fields"} for response in writes
    )
    assert db_state() == before


def test_read_write_api_token_adds_a_leg(alice, alices_book, api_token_for):
    portfolio, _ = alices_book
    client = token_client(api_token_for(alice, scope="read_write"))
    expiry = market_today() + dt.timedelta(days=10)
    response = client.post(
        f"/api/portfolio/{portfolio.pk}/positions/",
        {"symbol": f"SPY   {expiry:%y%m%d}P00500000", "quantity": -1},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["portfolio_id"] == portfolio.pk


def test_bad_bearer_token_is_401_with_www_authenticate(alices_book):
    portfolio, _ = alices_book
    response = token_client("tv_not-a-real-token").get(f"/api/portfolio/{portfolio.pk}/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "invalid_token"
