"""Migration 0008 rewrites stored signed delta ranges into the position view, and back."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from thetavue_site import db_roles, rls
from tradeplans.models import TradePlanStrategy
from tradeplans.tests.factories import make_plan

BEFORE = [("tradeplans", "0007_merge_0005_verbose_names_0006_merge_20261206_1541")]
AFTER = [("tradeplans", "0008_delta_range_position_view")]
D = Decimal

# strategy type: (stored before, after 0008, after reversing 0008)
RANGES = {
    # all-negative, old meaning "short puts of 16 to 30 delta": now 0.16 to 0.30
    "short_put": (("-0.30", "-0.16"), ("0.16", "0.30"), ("0.16", "0.30")),
    "short_strangle": (("-0.30", "-0.16"), ("0.16", "0.30"), ("0.16", "0.30")),
    "butterfly": ((None, "-0.10"), ("0.10", None), ("0.10", None)),
    # all-negative on a call-only strategy: typed as a short call's delta, kept
    "short_call": (("-0.30", "-0.10"), ("-0.30", "-0.10"), ("0.10", "0.30")),
    # across zero: negated and swapped, exactly the same legs pass
    "iron_condor": (("-0.30", "0.20"), ("-0.20", "0.30"), ("-0.30", "0.20")),
    "call_credit_spread": (("-0.20", "0.30"), ("-0.30", "0.20"), ("-0.20", "0.30")),
    # an open top stays signed: −1 written out, not null (null to 0.30 reads as |Δ|)
    "calendar": (("-0.30", None), ("-1", "0.30"), ("-0.30", "1")),
    # no negative bound compares |Δ| in both conventions: untouched
    "put_credit_spread": (("0.16", "0.30"), ("0.16", "0.30"), ("0.16", "0.30")),
    "jade_lizard": ((None, None), (None, None), (None, None)),
}


def _decimal(value):
    return None if value is None else D(value)


def _stored(plan) -> dict:
    with rls.as_service():
        rows = TradePlanStrategy.objects.filter(trade_plan=plan).values_list(
            "strategy_type", "delta_range_min", "delta_range_max"
        )
        return {stype: (low, high) for stype, low, high in rows}


def _expected(column: int) -> dict:
    return {
        stype: tuple(_decimal(bound) for bound in ranges[column])
        for stype, ranges in RANGES.items()
    }


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


@pytest.fixture
def as_owner():
    """Connect as the owner role: only it may record migrations (django_migrations)."""
    db_roles.switch_default_role(owner=True)
    yield
    _migrate(AFTER)
    db_roles.switch_default_role(owner=False)


@pytest.mark.django_db(transaction=True)
def test_signed_ranges_move_to_the_position_view_and_back(as_owner, alice):
    # given: plans stored under the option-delta convention
    _migrate(BEFORE)
    with rls.as_service():
        plan = make_plan(
            owner=alice,
            strategies=[
                {
                    "strategy_type": stype,
                    "allocation_percentage": D(5),
                    "delta_range_min": _decimal(before[0]),
                    "delta_range_max": _decimal(before[1]),
                }
                for stype, (before, _, _) in RANGES.items()
            ],
        )
    assert _stored(plan) == _expected(0)

    # when / then: forwards
    _migrate(AFTER)
    assert _stored(plan) == _expected(1)

    # when / then: backwards
    _migrate(BEFORE)
    assert _stored(plan) == _expected(2)
