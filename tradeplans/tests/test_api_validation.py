"""Every plan rule answers 400 naming the field, and nothing stored changes (POST, PUT, PATCH)."""

from __future__ import annotations

from decimal import Decimal
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError

from thetavue_site import rls
from tradeplans import services
from tradeplans.models import TradePlan, TradePlanStrategy
from tradeplans.tests.factories import make_plan, make_portfolio

LIST = "/api/trade-plans/"


def rule(stype: str = "put_credit_spread", **fields) -> dict:
    return {"strategy_type": stype, "allocation_percentage": "20", **fields}


# (case id, the body's bad part, the field the error names, its reason)
CASES = [
    ("income-negative", {"monthly_income_target": "-0.01"}, "monthly_income_target",
     "Ensure this value is greater than or equal to 0."),
    ("risk-nan", {"risk_per_trade": "NaN"}, "risk_per_trade", "A valid number is required."),
    ("exposure-infinity", {"max_overnight_exposure": "Infinity"}, "max_overnight_exposure",
     "A valid number is required."),
    ("risk-minus-infinity", {"risk_per_trade": "-Infinity"}, "risk_per_trade",
     "A valid number is required."),
    ("income-text", {"monthly_income_target": "lots"}, "monthly_income_target",
     "A valid number is required."),
    ("name-blank", {"name": "  "}, "name", "This field may not be blank."),
    ("portfolio-unknown", {"portfolio": 987654321}, "portfolio", "Not one of your portfolios."),
    ("portfolio-text", {"portfolio": "main"}, "portfolio", "A valid integer is required."),
    ("allocation-above-100", {"strategies": [rule(allocation_percentage="100.01")]},
     "strategies[0].allocation_percentage", "Ensure this value is less than or equal to 100."),
    ("allocation-negative", {"strategies": [rule(allocation_percentage="-1")]},
     "strategies[0].allocation_percentage", "Ensure this value is greater than or equal to 0."),
    ("allocation-nan", {"strategies": [rule(allocation_percentage="NaN")]},
     "strategies[0].allocation_percentage", "A valid number is required."),
    ("allocation-sum", {"strategies": [rule(allocation_percentage="60"),
                                       rule("short_put", allocation_percentage="40.01")]},
     "strategies",
     "Allocations add up to 100.01 %; a plan's strategies may use at most 100 % of its "
     "buying power."),
    ("delta-min-above-max", {"strategies": [rule("short_put"), rule(
        delta_range_min="0.30", delta_range_max="0.16")]},
     "strategies[1].delta_range_max",
     "Must be at least the minimum delta (0.30); the range runs from the minimum up to "
     "the maximum."),
    # A short put's position delta is positive: a range below zero never holds it.
    ("short-put-negative-delta", {"strategies": [rule(
        "short_put", delta_range_min="-0.30", delta_range_max="-0.10")]},
     "strategies[0].delta_range_min",
     "Short put: a short put's delta is positive (Δ 30 = 0.30), so −0.30 to −0.10 can never "
     "hold its short put. Enter a range like 0.10 to 0.30 to compare sizes; a negative range "
     "is for short calls (Δ 30 = −0.30)."),
    # Every short leg of a strangle must be in range: its put never is below zero.
    ("strangle-negative-delta", {"strategies": [rule(
        "short_strangle", delta_range_max="-0.10")]},
     "strategies[0].delta_range_min",
     "Short strangle: a short put's delta is positive (Δ 30 = 0.30), so −1.00 to −0.10 can "
     "never hold its short put. Enter a range like 0.10 to 0.30 to compare sizes; a negative "
     "range is for short calls (Δ 30 = −0.30)."),
    ("delta-max-above-1", {"strategies": [rule(delta_range_max="1.5")]},
     "strategies[0].delta_range_max", "Ensure this value is less than or equal to 1."),
    ("delta-min-below-minus-1", {"strategies": [rule(delta_range_min="-2")]},
     "strategies[0].delta_range_min", "Ensure this value is greater than or equal to -1."),
    ("delta-infinity", {"strategies": [rule(delta_range_min="-Infinity")]},
     "strategies[0].delta_range_min", "A valid number is required."),
    ("max-positions-zero", {"strategies": [rule(max_positions=0)]},
     "strategies[0].max_positions", "Ensure this value is greater than or equal to 1."),
    ("strategy-unknown", {"strategies": [rule("wheel")]},
     "strategies[0].strategy_type", '"wheel" is not a valid choice.'),
    ("strategy-duplicate", {"strategies": [rule(), rule("short_put"), rule()]},
     "strategies[2].strategy_type",
     "Put credit spread is already in this plan (rule 1); give each strategy type "
     "one rule."),
    ("target-credit-negative", {"strategies": [rule(target_credit="-0.01")]},
     "strategies[0].target_credit", "Ensure this value is greater than or equal to 0."),
    ("strategy-incomplete", {"strategies": [{"strategy_type": "short_put"}]},
     "strategies[0].allocation_percentage", "This field is required."),
    ("unknown-key", {"colour": "red"}, "colour", "Unknown field."),
    ("strategy-unknown-key", {"strategies": [rule(colour="red")]},
     "strategies[0].colour", "Unknown field."),
    ("active-not-boolean", {"is_active": "yes"}, "is_active", "Must be a valid boolean."),
]  # fmt: skip


def stored(user) -> dict:
    """Every stored row of the user's plans and their strategies, all columns."""
    with rls.as_service():
        plans = list(TradePlan.objects.filter(user=user).order_by("pk").values())
        rules = list(
            TradePlanStrategy.objects.filter(trade_plan__user=user).order_by("pk").values()
        )
    return {"plans": plans, "strategies": rules}


@pytest.fixture
def existing_plan(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        return make_plan(
            owner=alice,
            name="Before",
            portfolio=portfolio,
            risk_per_trade=Decimal("500"),
            strategies=[
                {"strategy_type": "iron_condor", "allocation_percentage": Decimal(30)},
                {"strategy_type": "short_put", "allocation_percentage": Decimal(20)},
            ],
        )


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch"])
@pytest.mark.parametrize(
    ("bad", "field", "reason"), [case[1:] for case in CASES], ids=[case[0] for case in CASES]
)
def test_each_rule_is_a_400_naming_the_field_and_nothing_changes(
    alice, alice_api, existing_plan, method, bad, field, reason
):
    # given: a valid change to the name, carried with one bad part
    before = stored(alice)
    body = {"name": "After", "strategies": [rule("calendar")], **bad}
    url = LIST if method == "post" else f"{LIST}{existing_plan.pk}/"

    # when
    response = getattr(alice_api, method)(url, body, format="json")

    # then
    assert response.status_code == HTTPStatus.BAD_REQUEST, response.json()
    assert response.json() == {
        "error": {"code": "invalid", "message": f"{field}: {reason}", "fields": {field: [reason]}}
    }
    assert stored(alice) == before


@pytest.mark.django_db
def test_every_broken_rule_is_named_at_once(alice, alice_api, existing_plan):
    before = stored(alice)
    body = {
        "name": "After",
        "portfolio": 987654321,
        "strategies": [
            rule(allocation_percentage="80", delta_range_min="0.2", delta_range_max="0.1"),
            rule(allocation_percentage="30"),
        ],
    }

    response = alice_api.put(f"{LIST}{existing_plan.pk}/", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["error"]["fields"]) == {
        "portfolio",
        "strategies[0].delta_range_max",
        "strategies[1].strategy_type",
        "strategies",
    }
    assert stored(alice) == before


@pytest.mark.django_db
def test_a_bare_nan_in_the_json_is_a_400_and_stores_nothing(alice, alice_api, existing_plan):
    before = stored(alice)

    response = alice_api.generic(
        "PATCH",
        f"{LIST}{existing_plan.pk}/",
        '{"name": "After", "risk_per_trade": NaN}',
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["code"] == "parse_error"
    assert stored(alice) == before


@pytest.mark.django_db
def test_a_number_too_large_for_a_float_is_a_400_naming_the_field(alice, alice_api, existing_plan):
    # JSON parses 1e999 to infinity, which no amount may be.
    before = stored(alice)

    response = alice_api.generic(
        "PATCH",
        f"{LIST}{existing_plan.pk}/",
        '{"name": "After", "max_overnight_exposure": 1e999}',
        content_type="application/json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json()["error"]["fields"] == {
        "max_overnight_exposure": ["A valid number is required."]
    }
    assert stored(alice) == before


@pytest.mark.django_db
def test_allocations_may_total_exactly_100(alice_api):
    body = {
        "name": "Full",
        "strategies": [
            rule(allocation_percentage="60"),
            rule("short_put", allocation_percentage="40"),
        ],
    }

    response = alice_api.post(LIST, body, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.json()


@pytest.mark.django_db
def test_the_service_refuses_non_finite_amounts_whoever_calls_it(alice):
    # A NaN passes PostgreSQL's numeric checks (NaN sorts above every number),
    # so the service checks too, not only the API's serializer.
    with rls.as_user(alice.pk), pytest.raises(ValidationError) as raised:
        services.trade_plan_create(
            user_id=alice.pk,
            fields={"name": "Direct", "risk_per_trade": Decimal("NaN")},
            strategies=[
                {
                    "strategy_type": "short_put",
                    "allocation_percentage": Decimal(10),
                    "target_credit": Decimal("Infinity"),
                }
            ],
        )

    assert raised.value.message_dict == {
        "risk_per_trade": ["Must be a finite number."],
        "strategies[0].target_credit": ["Must be a finite number."],
    }
    with rls.as_service():
        assert not TradePlan.objects.exists()
