"""A plan is measured when it is saved: badge, marked group and one notification at once."""

from __future__ import annotations

from http import HTTPStatus

import pytest

from metrics.tests.pnl_book import make_pnl_book
from portfolios.models import Position
from thetavue_site import rls
from thetavue_site.users.models import Notification

pytestmark = pytest.mark.django_db

PLANS = "/api/trade-plans/"


@pytest.fixture
def condor_book(alice):
    """Only the hand book's iron condor: max loss 10 × 100 − 240 = $760."""
    book = make_pnl_book(alice)
    with rls.as_service():
        Position.objects.filter(portfolio=book).exclude(strategy_group_id="condor").delete()
    return book


def plan_notifications(user) -> list[Notification]:
    with rls.as_service():
        return list(Notification.objects.filter(user=user, kind="plan_breach"))


def test_a_breaching_plan_saved_is_shown_marked_and_notified_once(
    alice, alice_api, alice_client, condor_book
):
    # given: nothing notified yet
    assert plan_notifications(alice) == []
    body = {"name": "Small risk", "portfolio": condor_book.pk, "risk_per_trade": "500.00"}
    # when: a plan whose risk per trade the condor's $760 max loss breaks is saved
    response = alice_api.post(PLANS, body, format="json")
    # then: one notification, at once, linking to the plan
    assert response.status_code == HTTPStatus.CREATED, response.json()
    plan_id = response.json()["id"]
    [notification] = plan_notifications(alice)
    assert notification.link == f"/plans/{plan_id}/"
    assert "risk per trade" in notification.title
    # and the overview and the portfolio header carry the badge with its count
    overview = alice_client.get("/").content.decode()
    assert 'data-plan-status="breach"' in overview and "✕ 1 breach<" in overview
    page = alice_client.get(f"/portfolios/{condor_book.pk}/").content.decode()
    assert 'data-plan-status="breach"' in page
    # and the condor's group is marked with the rule's words
    assert 'class="group group-breach"' in page
    assert 'data-breach-rule="risk_per_trade"><span class="badge badge-breach">Risk per trade' in (
        page
    )

    # when: the same plan is saved again, unchanged
    again = alice_api.put(f"{PLANS}{plan_id}/", body, format="json")
    # then: no second notification
    assert again.status_code == HTTPStatus.OK, again.json()
    assert len(plan_notifications(alice)) == 1


def test_a_plan_the_book_keeps_shows_on_plan_and_notifies_nothing(
    alice, alice_api, alice_client, condor_book
):
    body = {"name": "Roomy", "portfolio": condor_book.pk, "risk_per_trade": "1000.00"}
    assert alice_api.post(PLANS, body, format="json").status_code == HTTPStatus.CREATED
    assert plan_notifications(alice) == []
    page = alice_client.get(f"/portfolios/{condor_book.pk}/").content.decode()
    assert 'data-plan-status="ok"' in page and "group-breach" not in page
