"""The trade plan endpoints document themselves without schema warnings, units included."""

from __future__ import annotations

import pytest
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator

# Enum fields of these endpoints: a naming collision on one is reported by name.
ENUM_FIELDS = ("status", "overall_status", "rule", "unit", "strategy_type")


@pytest.fixture
def schema(db):
    # The whole API, as /api/schema/ generates it (enum names are global).
    GENERATOR_STATS.reset()
    yield SchemaGenerator().get_schema(request=None, public=True)
    GENERATOR_STATS.reset()


def test_schema_generation_has_no_warnings_or_errors_of_ours(schema):
    problems = [*GENERATOR_STATS._warn_cache, *GENERATOR_STATS._error_cache]
    ours = [
        message
        for message in problems
        if "tradeplans" in message or any(f'"{name}"' in message for name in ENUM_FIELDS)
    ]
    assert ours == []
    paths = {route: sorted(ops) for route, ops in schema["paths"].items() if "trade-plans" in route}
    assert paths == {
        "/api/trade-plans/": ["get", "post"],
        "/api/trade-plans/{id}/": ["delete", "get", "patch", "put"],
        "/api/trade-plans/{id}/compliance": ["get"],
    }


def test_money_fields_are_decimal_strings_with_their_units(schema):
    components = schema["components"]["schemas"]
    plan = components["TradePlanOutput"]["properties"]
    rule = components["TradePlanStrategyOutput"]["properties"]

    assert plan["risk_per_trade"]["type"] == "string"
    assert plan["risk_per_trade"]["format"] == "decimal"
    assert "$ of maximum loss per position" in plan["risk_per_trade"]["description"]
    assert "|BWD| × SPY price" in plan["max_overnight_exposure"]["description"]
    assert "$ per calendar month" in plan["monthly_income_target"]["description"]
    assert "$ of net credit per contract" in rule["target_credit"]["description"]
    assert "0–100 %" in rule["allocation_percentage"]["description"]
    assert "per contract, −1…1" in rule["delta_range_min"]["description"]
