"""An option past its expiry that the broker still lists counts in no plan rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from thetavue_site import rls
from tradeplans import selectors
from tradeplans.tests.factories import make_option, make_plan, make_portfolio

NOW = dt.datetime(2026, 4, 16, 16, 0, tzinfo=dt.UTC)  # 16 April, noon in New York
EXPIRED = dt.date(2026, 4, 14)  # two days ago: the broker has not removed it yet
LIVE = dt.date(2026, 4, 17)  # the same leg, still to expire
D = Decimal

pytestmark = pytest.mark.django_db


def book_with_short_call(owner, *, call_expiration):
    """A XYZ 95/90 put credit spread (live) and a naked XYZ 100 call, in the money.

    Spread: credit 1.50 − 0.50 = $100, max loss 500 − 100 = $400, position
    delta +10 − 5 = +5. Call: sold for 2.00, Δ 0.95 (position −95 shares),
    undefined risk. Underlying 110, beta 1.
    """
    with rls.as_service():
        portfolio = make_portfolio(owner=owner, spy_price=D("500"))
        common = {"portfolio": portfolio, "underlying": "XYZ", "underlying_price": "110"}
        make_option(
            **common, option_type="P", strike="95", quantity=-1, open_price="1.50", mark="0.50",
            delta="-0.10", beta=1.0, group_id="pcs", strategy_type="put_credit_spread",
        )  # fmt: skip
        make_option(
            **common, option_type="P", strike="90", quantity=1, open_price="0.50", mark="0.20",
            delta="-0.05", beta=1.0, group_id="pcs", strategy_type="put_credit_spread",
        )  # fmt: skip
        make_option(
            **common, option_type="C", strike="100", quantity=-1, open_price="2.00",
            mark="10.00", delta="0.95", beta=1.0, expiration=call_expiration,
            group_id="sc", strategy_type="short_call",
        )  # fmt: skip
        plan = make_plan(
            owner=owner,
            risk_per_trade=D("1000"),
            max_overnight_exposure=D("5000"),
            strategies=[
                {
                    "strategy_type": "short_call",
                    "allocation_percentage": D("1"),
                    "max_positions": 1,
                    "delta_range_min": D("0.10"),
                    "delta_range_max": D("0.30"),
                    "target_credit": D("300"),
                }
            ],
        )
    return plan


def statuses(owner, plan):
    with rls.as_user(owner.pk):
        report = selectors.trade_plan_compliance(plan=plan, now=NOW)
    by_rule = [(check.rule, check.status.value) for check in report.checks]
    return report, by_rule


def test_an_expired_short_call_breaches_no_rule(alice):
    # given
    plan = book_with_short_call(alice, call_expiration=EXPIRED)

    # when
    report, by_rule = statuses(alice, plan)

    # then: only the spread is judged; the short call strategy has no open group
    assert by_rule == [
        ("overnight_exposure", "ok"),
        ("risk_per_trade", "ok"),
        ("allocation", "ok"),
        ("max_positions", "ok"),
    ]
    assert report.status.value == "ok"
    # exposure: the spread's +5 shares × $110, the call's intrinsic delta left out
    assert report.checks[0].actual == D("550.00")
    assert [group.facts.strategy_type.value for group in report.book.groups] == [
        "put_credit_spread"
    ]
    assert report.checks[2].actual == D(0)  # no buying power held by short calls


def test_the_same_short_call_unexpired_breaches_every_rule_it_touches(alice):
    # given
    plan = book_with_short_call(alice, call_expiration=LIVE)

    # when
    report, by_rule = statuses(alice, plan)

    # then
    assert by_rule == [
        ("overnight_exposure", "breach"),  # |5 − 95| × $110 = $9,900 > $5,000
        ("risk_per_trade", "ok"),  # the spread
        ("risk_per_trade", "breach"),  # the naked call: undefined risk
        ("allocation", "breach"),  # its buying power > 1 % of $100,000
        ("max_positions", "warn"),  # 1 open, the most allowed
        ("delta_range", "breach"),  # |Δ| 0.95 outside 0.10 to 0.30
        ("target_credit", "warn"),  # $200 < $300
    ]
    assert report.status.value == "breach"
    assert report.checks[0].actual == D("9900.00")
