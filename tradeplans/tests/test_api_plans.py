"""/api/trade-plans/: create, list, retrieve, replace, partial update, delete."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine
from django.urls import reverse

from thetavue_site import rls
from tradeplans.models import TradePlan, TradePlanStrategy
from tradeplans.tests.factories import make_plan, make_portfolio

FROZEN = dt.datetime(2026, 4, 16, 14, 30, tzinfo=dt.UTC)
STAMP = "2026-04-16T14:30:00Z"
LIST = "/api/trade-plans/"


def detail(plan_id: int) -> str:
    return f"{LIST}{plan_id}/"


def test_urls_are_named_in_the_namespace(db):
    assert reverse("tradeplans-api:trade-plan-list") == LIST
    assert reverse("tradeplans-api:trade-plan-detail", args=[7]) == detail(7)
    assert reverse("tradeplans-api:trade-plan-compliance", args=[7]) == f"{LIST}7/compliance"


def pcs_rule(**overrides) -> dict:
    rule = {
        "strategy_type": "put_credit_spread",
        "allocation_percentage": "40",
        "max_positions": 5,
        "delta_range_min": "0.16",
        "delta_range_max": "0.30",
        "target_credit": "1.50",
    }
    rule.update(overrides)
    return rule


def plan_body(**overrides) -> dict:
    body = {
        "name": "Wheel and spreads",
        "portfolio": None,
        "monthly_income_target": "3000",
        "risk_per_trade": "500.00",
        "max_overnight_exposure": "25000",
        "is_active": True,
        "strategies": [pcs_rule(), {"strategy_type": "short_put", "allocation_percentage": "25.5"}],
    }
    body.update(overrides)
    return body


def strategy_ids(plan_id: int) -> dict[str, int]:
    with rls.as_service():
        return dict(
            TradePlanStrategy.objects.filter(trade_plan_id=plan_id).values_list(
                "strategy_type", "id"
            )
        )


@pytest.mark.django_db
@time_machine.travel(FROZEN, tick=False)
def test_create_stores_the_plan_with_its_strategies_and_returns_it(alice, alice_api):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)

    # when
    response = alice_api.post(LIST, plan_body(portfolio=portfolio.pk), format="json")

    # then
    assert response.status_code == HTTPStatus.CREATED, response.json()
    plan_id = response.json()["id"]
    ids = strategy_ids(plan_id)
    assert response.json() == {
        "id": plan_id,
        "name": "Wheel and spreads",
        "portfolio": portfolio.pk,
        "scope": "portfolio",
        "monthly_income_target": "3000.00",
        "risk_per_trade": "500.00",
        "max_overnight_exposure": "25000.00",
        "is_active": True,
        "strategies": [
            {
                "id": ids["put_credit_spread"],
                "strategy_type": "put_credit_spread",
                "allocation_percentage": "40.00",
                "max_positions": 5,
                "delta_range_min": "0.160",
                "delta_range_max": "0.300",
                "target_credit": "1.50",
            },
            {
                "id": ids["short_put"],
                "strategy_type": "short_put",
                "allocation_percentage": "25.50",
                "max_positions": None,
                "delta_range_min": None,
                "delta_range_max": None,
                "target_credit": None,
            },
        ],
        "created_at": STAMP,
        "updated_at": STAMP,
    }
    assert alice_api.get(detail(plan_id)).json() == response.json()


@pytest.mark.django_db
def test_create_with_only_a_name_covers_all_portfolios_with_no_limits(alice_api):
    response = alice_api.post(LIST, {"name": "Just watching"}, format="json")

    assert response.status_code == HTTPStatus.CREATED
    body = response.json()
    assert {key: body[key] for key in body if key not in ("id", "created_at", "updated_at")} == {
        "name": "Just watching",
        "portfolio": None,
        "scope": "all",
        "monthly_income_target": None,
        "risk_per_trade": None,
        "max_overnight_exposure": None,
        "is_active": True,
        "strategies": [],
    }


@pytest.mark.django_db
def test_list_is_paginated_ordered_by_name_and_filters_by_portfolio(alice, alice_api):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        scoped = make_plan(owner=alice, name="B scoped", portfolio=portfolio)
        everything = make_plan(owner=alice, name="A everything")

    # when
    everything_page = alice_api.get(LIST, {"limit": 1}).json()
    scoped_only = alice_api.get(LIST, {"portfolio": portfolio.pk}).json()
    all_only = alice_api.get(LIST, {"portfolio": "all"}).json()

    # then
    assert everything_page["count"] == 2
    assert everything_page["next"] is not None and everything_page["previous"] is None
    assert [plan["id"] for plan in everything_page["results"]] == [everything.pk]
    assert [plan["id"] for plan in scoped_only["results"]] == [scoped.pk]
    assert [plan["id"] for plan in all_only["results"]] == [everything.pk]


@pytest.mark.django_db
@pytest.mark.parametrize("value", ["mine", "²", "-1", "99999999999999999999"])
def test_list_filter_must_be_an_id_or_all(alice_api, value):
    response = alice_api.get(LIST, {"portfolio": value})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["fields"] == {
        "portfolio": ['A portfolio id or "all" is required.']
    }


@pytest.mark.django_db
def test_put_replaces_every_field_and_the_strategy_list(alice, alice_api):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    created = alice_api.post(LIST, plan_body(portfolio=portfolio.pk), format="json").json()
    before = strategy_ids(created["id"])

    # when: a new name, all portfolios, no exposure limit; one rule changed, one dropped, one new
    with time_machine.travel(FROZEN, tick=False):
        response = alice_api.put(
            detail(created["id"]),
            {
                "name": "Spreads only",
                "risk_per_trade": "400",
                "strategies": [
                    pcs_rule(allocation_percentage="60", max_positions=None),
                    {"strategy_type": "iron_condor", "allocation_percentage": "20"},
                ],
            },
            format="json",
        )

    # then
    assert response.status_code == HTTPStatus.OK, response.json()
    after = strategy_ids(created["id"])
    assert after["put_credit_spread"] == before["put_credit_spread"]  # kept its id
    assert response.json() == {
        "id": created["id"],
        "name": "Spreads only",
        "portfolio": None,
        "scope": "all",
        "monthly_income_target": None,
        "risk_per_trade": "400.00",
        "max_overnight_exposure": None,
        "is_active": True,
        "strategies": [
            {
                "id": after["iron_condor"],
                "strategy_type": "iron_condor",
                "allocation_percentage": "20.00",
                "max_positions": None,
                "delta_range_min": None,
                "delta_range_max": None,
                "target_credit": None,
            },
            {
                "id": after["put_credit_spread"],
                "strategy_type": "put_credit_spread",
                "allocation_percentage": "60.00",
                "max_positions": None,
                "delta_range_min": "0.160",
                "delta_range_max": "0.300",
                "target_credit": "1.50",
            },
        ],
        "created_at": created["created_at"],
        "updated_at": STAMP,
    }


@pytest.mark.django_db
def test_patch_changes_given_fields_and_keeps_strategies_unless_given(alice_api):
    # given
    created = alice_api.post(LIST, plan_body(), format="json").json()

    # when
    renamed = alice_api.patch(
        detail(created["id"]), {"name": "Renamed", "is_active": False}, format="json"
    )

    # then
    assert renamed.status_code == HTTPStatus.OK
    expected = {**created, "name": "Renamed", "is_active": False}
    assert {**renamed.json(), "updated_at": None} == {**expected, "updated_at": None}

    # when: strategies given replace the whole list
    replaced = alice_api.patch(
        detail(created["id"]),
        {"strategies": [{"strategy_type": "short_strangle", "allocation_percentage": "10"}]},
        format="json",
    )

    # then
    assert replaced.status_code == HTTPStatus.OK
    assert [s["strategy_type"] for s in replaced.json()["strategies"]] == ["short_strangle"]
    assert replaced.json()["risk_per_trade"] == "500.00"


@pytest.mark.django_db
def test_patch_with_an_empty_strategy_list_removes_every_rule(alice_api):
    created = alice_api.post(LIST, plan_body(), format="json").json()

    response = alice_api.patch(detail(created["id"]), {"strategies": []}, format="json")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["strategies"] == []
    assert strategy_ids(created["id"]) == {}


@pytest.mark.django_db
def test_delete_removes_the_plan_and_its_strategies(alice_api):
    created = alice_api.post(LIST, plan_body(), format="json").json()

    response = alice_api.delete(detail(created["id"]))

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert alice_api.get(detail(created["id"])).status_code == HTTPStatus.NOT_FOUND
    with rls.as_service():
        assert not TradePlan.objects.filter(pk=created["id"]).exists()
        assert not TradePlanStrategy.objects.filter(trade_plan_id=created["id"]).exists()


@pytest.mark.django_db
def test_list_query_count_does_not_grow_with_plans(alice, alice_api, django_assert_num_queries):
    # given
    with rls.as_service():
        for index in range(3):
            make_plan(
                owner=alice,
                name=f"Plan {index}",
                strategies=[
                    {"strategy_type": "short_put", "allocation_percentage": Decimal(10)},
                    {"strategy_type": "iron_condor", "allocation_percentage": Decimal(10)},
                ],
            )

    alice_api.get(LIST)  # warm up: the URLconf loads once per process, with its own queries

    # when / then: savepoint, RLS context, user, count, page, strategies, release
    # (the session is read from Redis)
    with django_assert_num_queries(7):
        few = alice_api.get(LIST)
    with rls.as_service():
        for index in range(3, 30):
            make_plan(
                owner=alice,
                name=f"Plan {index}",
                strategies=[{"strategy_type": "short_put", "allocation_percentage": Decimal(5)}],
            )
    with django_assert_num_queries(7):
        many = alice_api.get(LIST)
    assert (few.json()["count"], many.json()["count"]) == (3, 30)
