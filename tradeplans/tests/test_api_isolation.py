"""Bob never sees, changes or borrows Alice's plans or portfolios, on any endpoint or verb."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

import pytest
from rest_framework.test import APIClient

from thetavue_site import rls
from tradeplans.models import TradePlan, TradePlanStrategy
from tradeplans.tests.factories import make_plan, make_portfolio
from tradeplans.tests.test_book_facts import xyz_naked_put

LIST = "/api/trade-plans/"
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}
NOT_YOURS = {
    "error": {
        "code": "invalid",
        "message": "portfolio: Not one of your portfolios.",
        "fields": {"portfolio": ["Not one of your portfolios."]},
    }
}


def stored() -> dict:
    with rls.as_service():
        return {
            "plans": list(TradePlan.objects.order_by("pk").values()),
            "strategies": list(TradePlanStrategy.objects.order_by("pk").values()),
        }


@pytest.fixture
def alices(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Alice's")
        xyz_naked_put(portfolio)
        plan = make_plan(
            owner=alice,
            portfolio=portfolio,
            risk_per_trade=Decimal("1000"),
            strategies=[{"strategy_type": "short_put", "allocation_percentage": Decimal(20)}],
        )
    return portfolio, plan


@pytest.fixture
def bobs(bob):
    with rls.as_service():
        portfolio = make_portfolio(owner=bob, name="Bob's")
        plan = make_plan(owner=bob, name="Bob's plan", portfolio=portfolio)
    return portfolio, plan


BODY = {"name": "Hijack", "strategies": []}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("get", "/", None),
        ("put", "/", BODY),
        ("patch", "/", BODY),
        ("delete", "/", None),
        ("get", "/compliance", None),
    ],
)
def test_bob_gets_404_on_every_verb_of_alices_plan(bob_api, alices, method, suffix, body):
    # given
    _, plan = alices
    before = stored()

    # when
    response = getattr(bob_api, method)(f"{LIST}{plan.pk}{suffix}", body, format="json")

    # then
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == NOT_FOUND
    assert stored() == before


@pytest.mark.django_db
def test_lists_never_mix_traders(alice_api, bob_api, alices, bobs):
    alice_ids = [p["id"] for p in alice_api.get(LIST).json()["results"]]
    bob_ids = [p["id"] for p in bob_api.get(LIST).json()["results"]]
    bob_filtered = bob_api.get(LIST, {"portfolio": alices[0].pk}).json()

    assert alice_ids == [alices[1].pk]
    assert bob_ids == [bobs[1].pk]
    assert bob_filtered["count"] == 0


@pytest.mark.django_db
def test_bob_cannot_scope_a_new_plan_to_alices_portfolio(bob_api, alices):
    before = stored()

    response = bob_api.post(LIST, {"name": "Mine now", "portfolio": alices[0].pk}, format="json")

    # The same answer as for a portfolio that does not exist: nothing revealed.
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == NOT_YOURS
    assert stored() == before


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["put", "patch"])
def test_bob_cannot_move_his_plan_onto_alices_portfolio(bob_api, alices, bobs, method):
    before = stored()

    response = getattr(bob_api, method)(
        f"{LIST}{bobs[1].pk}/", {"name": "Moved", "portfolio": alices[0].pk}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == NOT_YOURS
    assert stored() == before


@pytest.mark.django_db
def test_bobs_all_portfolios_plan_judges_only_his_book(bob, bob_api, alices):
    # given: bob's plan covers all of his portfolios; he has none
    with rls.as_service():
        plan = make_plan(owner=bob, name="Everything", risk_per_trade=Decimal("1"))

    body = bob_api.get(f"{LIST}{plan.pk}/compliance").json()

    assert body["book"]["portfolio_ids"] == []
    assert body["book"]["groups"] == []
    assert body["checks"] == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path"),
    [("get", ""), ("post", ""), ("get", "{id}/"), ("delete", "{id}/"), ("get", "{id}/compliance")],
)
def test_anonymous_requests_are_refused(alices, method, path):
    before = stored()
    url = LIST + path.format(id=alices[1].pk)

    response = getattr(APIClient(), method)(url, format="json")

    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert stored() == before
