"""Trade plan pages: the editor places the service's messages next to the fields they name."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django import forms

from thetavue_site import rls
from tradeplans.models import TradePlan

pytestmark = pytest.mark.django_db


def plan_post(**overrides) -> dict:
    data = {
        "name": "Wheel",
        "portfolio": "",
        "monthly_income_target": "1500",
        "risk_per_trade": "800",
        "max_overnight_exposure": "",
        "is_active": "on",
        "strategies-TOTAL_FORMS": "2",
        "strategies-INITIAL_FORMS": "0",
        "strategies-MIN_NUM_FORMS": "0",
        "strategies-MAX_NUM_FORMS": "22",
        "strategies-0-strategy_type": "short_put",
        "strategies-0-allocation_percentage": "40",
        # a short put's delta is positive: 15 to 35 delta
        "strategies-0-delta_range_min": "0.15",
        "strategies-0-delta_range_max": "0.35",
        "strategies-1-strategy_type": "",
    }
    data.update(overrides)
    return data


def test_a_backwards_delta_range_is_named_next_to_its_field(alice_client):
    response = alice_client.post(
        "/plans/new/",
        plan_post(
            **{"strategies-0-delta_range_min": "-0.15", "strategies-0-delta_range_max": "-0.35"}
        ),
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="id_strategies-0-delta_range_max_error1"' in content
    assert "Must be at least the minimum delta" in content
    with rls.as_service():
        assert not TradePlan.objects.exists()


def test_a_short_put_range_below_zero_is_refused_in_words_next_to_its_field(alice_client):
    response = alice_client.post(
        "/plans/new/",
        plan_post(
            **{
                "strategies-0-strategy_type": "short_put",
                "strategies-0-delta_range_min": "-0.30",
                "strategies-0-delta_range_max": "-0.10",
            }
        ),
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="id_strategies-0-delta_range_min_error1"' in content
    error = content.split('id="id_strategies-0-delta_range_min_error1">')[1].split("<")[0]
    assert error == (
        "Short put: a short put&#x27;s delta is positive (Δ 30 = 0.30), so −0.30 to −0.10 "
        "can never hold its short put. Enter a range like 0.10 to 0.30 to compare sizes; a "
        "negative range is for short calls (Δ 30 = −0.30)."
    )
    assert "delta_range" not in error
    with rls.as_service():
        assert not TradePlan.objects.exists()


def test_a_short_call_range_below_zero_is_the_short_calls_delta_and_is_kept(alice_client):
    # given: a short call's delta is negative in the position view (Δ 30 = −0.30)
    response = alice_client.post(
        "/plans/new/",
        plan_post(
            **{
                "strategies-0-strategy_type": "short_call",
                "strategies-0-delta_range_min": "-0.30",
                "strategies-0-delta_range_max": "-0.10",
            }
        ),
    )

    # then: stored as typed
    assert response.status_code == HTTPStatus.FOUND
    with rls.as_service():
        rule = TradePlan.objects.get().strategies.get()
    assert (rule.strategy_type, str(rule.delta_range_min), str(rule.delta_range_max)) == (
        "short_call",
        "-0.300",
        "-0.100",
    )


def test_an_error_in_a_later_row_lands_on_that_row(alice_client):
    response = alice_client.post(
        "/plans/new/",
        plan_post(
            **{
                "strategies-1-strategy_type": "iron_condor",
                "strategies-1-allocation_percentage": "120",
            }
        ),
    )
    assert 'id="id_strategies-1-allocation_percentage_error1"' in response.content.decode()


def test_allocations_over_100_percent_are_shown_above_the_strategies(alice_client):
    response = alice_client.post(
        "/plans/new/",
        plan_post(
            **{
                "strategies-0-allocation_percentage": "70",
                "strategies-1-strategy_type": "iron_condor",
                "strategies-1-allocation_percentage": "50",
            }
        ),
    )
    assert "Allocations add up to 120" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "  ", "This field is required."),
        ("risk_per_trade", "-5", "Must be at least 0."),
        ("monthly_income_target", "lots", "Enter a number."),
    ],
)
def test_a_bad_plan_field_is_named_next_to_it(alice_client, field, value, message):
    content = alice_client.post("/plans/new/", plan_post(**{field: value})).content.decode()
    error = content.split(f'id="id_{field}_error1">')[1].split("<")[0]
    assert error == message


def test_a_valid_plan_is_created_and_measured(alice_client, alice_world):
    response = alice_client.post("/plans/new/", plan_post(), follow=True)
    with rls.as_service():
        plan = TradePlan.objects.get(name="Wheel")
        assert list(plan.strategies.values_list("strategy_type", flat=True)) == ["short_put"]
    assert response.redirect_chain == [(f"/plans/{plan.pk}/", HTTPStatus.FOUND)]
    content = response.content.decode()
    assert "Plan “Wheel” created." in content
    assert "status-pill" in content and 'class="checks"' in content


def test_editing_keeps_unchanged_rules_and_removes_deleted_ones(alice_client, alice_world):
    plan = alice_world.plan
    url = f"/plans/{plan.pk}/"
    form = plan_post(
        name="Renamed",
        **{
            "strategies-TOTAL_FORMS": "3",
            "strategies-INITIAL_FORMS": "1",
            "strategies-1-strategy_type": "iron_condor",
            "strategies-1-allocation_percentage": "20",
            "strategies-2-strategy_type": "",
        },
    )
    alice_client.post(url, form)
    with rls.as_service():
        plan.refresh_from_db()
        assert plan.name == "Renamed"
        assert set(plan.strategies.values_list("strategy_type", flat=True)) == {
            "short_put",
            "iron_condor",
        }
    alice_client.post(url, {**form, "strategies-1-DELETE": "on"})
    with rls.as_service():
        assert list(plan.strategies.values_list("strategy_type", flat=True)) == ["short_put"]


def test_compliance_lists_breaches_first(alice_client, alice_world):
    content = alice_client.get(f"/plans/{alice_world.plan.pk}/").content.decode()
    statuses = [part.split('"')[0] for part in content.split('<li class="check-')[1:]]
    assert statuses, "no checks shown"
    order = {"breach": 0, "warn": 1, "ok": 2}
    assert statuses == sorted(statuses, key=order.__getitem__)


def test_plans_list_shows_each_plans_compliance(alice_client, alice_world):
    content = alice_client.get("/plans/").content.decode()
    assert "Alicebook wheel plan" in content
    assert "status-pill" in content


def test_deleting_a_plan(alice_client, alice_world):
    response = alice_client.post(f"/plans/{alice_world.plan.pk}/delete", follow=True)
    assert "deleted" in response.content.decode()
    with rls.as_service():
        assert not TradePlan.objects.filter(pk=alice_world.plan.pk).exists()


# --- Issue 19, finding 3: form bounds mirror the API's --------------------------------


def test_finding_3_huge_max_positions_is_a_form_error_not_a_500(alice_client):
    response = alice_client.post(
        "/plans/new/", plan_post(**{"strategies-0-max_positions": "123456789012"})
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert 'id="id_strategies-0-max_positions_error1"' in content
    assert "Must be at most 2147483647." in content
    with rls.as_service():
        assert not TradePlan.objects.exists()


def test_finding_3_plan_form_bounds_mirror_the_api_serializer():
    from tradeplans.api.serializers import TradePlanInput, TradePlanStrategyInput
    from tradeplans.forms import PLAN_FIELDS, STRATEGY_FIELDS, StrategyRuleForm, TradePlanForm

    pairs = [(TradePlanForm(), TradePlanInput(), PLAN_FIELDS)]
    pairs.append((StrategyRuleForm(), TradePlanStrategyInput(), STRATEGY_FIELDS))
    for form, serializer, names in pairs:
        for name in names:
            api = serializer.fields[name]
            field = form.fields[name]
            if isinstance(field, forms.ChoiceField):
                continue  # bounded by its choices
            for bound in ("min_value", "max_value", "max_length"):
                api_bound = getattr(api, bound, None)
                if api_bound is not None:
                    assert getattr(field, bound, None) == api_bound, (name, bound)
