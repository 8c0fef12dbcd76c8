"""GET /api/trade-plans/{id}/compliance: the database → book facts → API path, by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
import time_machine

from portfolios.tests.factories import make_book
from thetavue_site import rls
from tradeplans.tests.factories import make_option, make_plan, make_portfolio
from tradeplans.tests.test_book_facts import spy_put_credit_spread, xyz_naked_put

# 16 April 2026 00:00 New York (EDT): exactly half of April has gone by.
MID_APRIL = dt.datetime(2026, 4, 16, 4, 0, tzinfo=dt.UTC)
SYNCED = dt.datetime(2026, 4, 15, 20, 30, tzinfo=dt.UTC)
D = Decimal


def compliance_url(plan_id: int) -> str:
    return f"/api/trade-plans/{plan_id}/compliance"


def get_compliance(client, plan_id: int, at: dt.datetime = MID_APRIL):
    with time_machine.travel(at, tick=False):
        return client.get(compliance_url(plan_id))


def income(portfolio, broker_id: int, net: str, date: dt.date, **fields):
    from portfolios.tests.factories import make_transaction

    return make_transaction(
        portfolio=portfolio, broker_id=broker_id, net_value=D(net), transaction_date=date, **fields
    )


@pytest.fixture
def book(alice):
    """Alice's margin account: a SPY put credit spread ×2 and a naked XYZ put.

    By hand (see test_book_facts): spread credit $150/contract, max loss $700,
    buying power $700 (width − credit at open), short Δ −0.25; naked put max loss to zero $9,700
    (undefined risk), buying power $1,100 (requirement 1,400 − 300 received), Δ −0.20; BWD $14,300; net liq $100,000.
    """
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, spy_price=D("500"), synced_at=SYNCED)
        short, long = spy_put_credit_spread(portfolio)
        naked = xyz_naked_put(portfolio)
        # April income so far: $1,000 + $650 − $50 closing debit = $1,600; March and
        # a deposit do not count.
        income(portfolio, 1, "1000.00", dt.date(2026, 4, 1))
        income(portfolio, 2, "650.00", dt.date(2026, 4, 10))
        income(portfolio, 3, "-50.00", dt.date(2026, 4, 14), action="Buy to Close")
        income(portfolio, 4, "900.00", dt.date(2026, 3, 31))
        income(
            portfolio,
            5,
            "5000.00",
            dt.date(2026, 4, 2),
            transaction_type="Money Movement",
            transaction_sub_type="Deposit",
            instrument_type="",
            action="",
        )
    return portfolio, (short, long, naked)


@pytest.fixture
def plan(alice, book):
    portfolio, _ = book
    with rls.as_service():
        return make_plan(
            owner=alice,
            name="Income plan",
            portfolio=portfolio,
            monthly_income_target=D("3000"),
            risk_per_trade=D("1000"),
            max_overnight_exposure=D("20000"),
            strategies=[
                {
                    "strategy_type": "put_credit_spread",
                    "allocation_percentage": D("10"),
                    "max_positions": 2,
                    "delta_range_min": D("0.16"),
                    "delta_range_max": D("0.30"),
                    "target_credit": D("100"),
                },
                {
                    "strategy_type": "short_put",
                    "allocation_percentage": D("5"),
                    "max_positions": 1,
                    "delta_range_min": D("0.10"),
                    "delta_range_max": D("0.20"),
                    "target_credit": D("350"),
                },
            ],
        )


@pytest.mark.django_db
def test_compliance_explains_every_check_with_hand_computed_numbers(alice_api, book, plan):
    # given
    portfolio, (short, long, naked) = book

    # when
    response = get_compliance(alice_api, plan.pk)

    # then
    assert response.status_code == HTTPStatus.OK, response.json()
    spread_label = "SPY put credit spread 535/540 2026-05-15 ×2"
    naked_label = "XYZ short put 100 2026-05-15 ×1"
    assert response.json() == {
        "plan_id": plan.pk,
        "as_of": "2026-04-15T20:30:00Z",
        "evaluated_at": "2026-04-16T04:00:00Z",
        "overall_status": "breach",
        "checks": [
            {
                "rule": "income_target",
                "subject": None,
                "status": "ok",
                "unit": "$",
                "actual": "1600.00",
                "limit": "3000.00",
                "message": "Income target: $1,600.00 realised this month is on pace: 50.0 % of "
                "April 2026 has passed, so $1,500.00 of the $3,000.00 target was due by now.",
                "details": {
                    "pace_target": "1500.00",
                    "elapsed_fraction": "0.5",
                    "month": "2026-04",
                },
            },
            {
                "rule": "overnight_exposure",
                "subject": None,
                "status": "ok",
                "unit": "$",
                "actual": "14300.00",
                "limit": "20000.00",
                "message": "Overnight exposure: the book is long $14,300.00 of SPY "
                "(beta-weighted delta), below 90 % of the $20,000.00 maximum.",
                "details": {"warn_at": "18000.000"},
            },
            {
                "rule": "risk_per_trade",
                "subject": "pcs-spy",
                "status": "ok",
                "unit": "$",
                "actual": "700.00",
                "limit": "1000.00",
                "message": f"Risk per trade: {spread_label} can lose up to $700.00, below 90 % "
                "of the $1,000.00 limit.",
                "details": {"warn_at": "900.000", "label": spread_label},
            },
            {
                "rule": "risk_per_trade",
                "subject": "sp-xyz",
                "status": "breach",
                "unit": "$",
                "actual": "9700.00",
                "limit": "1000.00",
                "message": f"Risk per trade: {naked_label} has undefined risk: short options "
                "not covered by long options or cash leave its loss uncapped (were the "
                "underlying to go to zero it would lose $9,700.00), so it cannot be held within the $1,000.00 limit.",
                "details": {"warn_at": "900.000", "label": naked_label},
            },
            {
                "rule": "allocation",
                "subject": "put_credit_spread",
                "status": "ok",
                "unit": "%",
                "actual": "0.7000",
                "limit": "10.0000",
                "message": "Allocation: put credit spread groups hold $700.00 of buying power, "
                "0.7 % of the $100,000.00 net liq, below 90 % of the 10.0 % allocation.",
                "details": {
                    "buying_power_used": "700.00",
                    "buying_power": "100000.00",
                    "warn_at": "9.000",
                },
            },
            {
                "rule": "max_positions",
                "subject": "put_credit_spread",
                "status": "ok",
                "unit": "positions",
                "actual": "1",
                "limit": "2",
                "message": "Max positions: 1 open put credit spread groups, under the 2 allowed.",
                "details": {},
            },
            {
                "rule": "delta_range",
                "subject": "pcs-spy",
                "status": "ok",
                "unit": "delta",
                "actual": "0.2500",
                "limit": "0.3000",
                "message": f"Delta range: {spread_label} has a short leg at |delta| 0.25, "
                "inside the |delta| range 0.16 to 0.30.",
                "details": {"min": "0.160", "max": "0.300", "compares": "absolute"},
            },
            {
                "rule": "target_credit",
                "subject": "pcs-spy",
                "status": "ok",
                "unit": "$ per contract",
                "actual": "150.00",
                "limit": "100.00",
                "message": f"Target credit: {spread_label} took $150.00 per contract, which "
                "meets the $100.00 target.",
                "details": {},
            },
            {
                "rule": "allocation",
                "subject": "short_put",
                "status": "ok",
                "unit": "%",
                "actual": "1.1000",
                "limit": "5.0000",
                "message": "Allocation: short put groups hold $1,100.00 of buying power, "
                "1.1 % of the $100,000.00 net liq, below 90 % of the 5.0 % allocation.",
                "details": {
                    "buying_power_used": "1100.00",
                    "buying_power": "100000.00",
                    "warn_at": "4.500",
                },
            },
            {
                "rule": "max_positions",
                "subject": "short_put",
                "status": "warn",
                "unit": "positions",
                "actual": "1",
                "limit": "1",
                "message": "Max positions: 1 open short put groups, the most allowed (1): "
                "no room for another.",
                "details": {},
            },
            {
                "rule": "delta_range",
                "subject": "sp-xyz",
                "status": "ok",
                "unit": "delta",
                "actual": "0.2000",
                "limit": "0.2000",
                "message": f"Delta range: {naked_label} has a short leg at |delta| 0.20, inside "
                "the |delta| range 0.10 to 0.20.",
                "details": {"min": "0.100", "max": "0.200", "compares": "absolute"},
            },
            {
                "rule": "target_credit",
                "subject": "sp-xyz",
                "status": "warn",
                "unit": "$ per contract",
                "actual": "300.00",
                "limit": "350.00",
                "message": f"Target credit: {naked_label} took $300.00 per contract, which "
                "falls short of the $350.00 target.",
                "details": {},
            },
        ],
        "income": {
            "month": "2026-04",
            "mtd": "1600.00",
            "target": "3000.00",
            "pace": {
                "elapsed_fraction": "0.500000",
                "pace_target": "1500.00",
                "achieved_fraction": "0.533333",
                "on_pace": True,
            },
        },
        "book": {
            "portfolio_ids": [portfolio.pk],
            "legs": 3,
            "legs_unpriced": 0,
            "legs_beta_missing": 0,
            "buying_power": "100000.00",
            "beta_weighted_delta_dollars": "14300.00",
            "groups": [
                {
                    "group_id": "pcs-spy",
                    "portfolio_id": portfolio.pk,
                    "strategy_type": "put_credit_spread",
                    "label": spread_label,
                    "position_ids": [short.pk, long.pk],
                    "contracts": "2",
                    "net_credit": "300.00",
                    "credit_per_contract": "150.00",
                    "max_loss": "700.00",
                    "max_profit": "300.00",
                    "undefined_risk": False,
                    "buying_power_effect": "700.00",
                    "short_leg_deltas": [0.25],  # a short put's position delta
                },
                {
                    "group_id": "sp-xyz",
                    "portfolio_id": portfolio.pk,
                    "strategy_type": "short_put",
                    "label": naked_label,
                    "position_ids": [naked.pk],
                    "contracts": "1",
                    "net_credit": "300.00",
                    "credit_per_contract": "300.00",
                    "max_loss": "9700.00",
                    "max_profit": "300.00",
                    "undefined_risk": True,
                    "buying_power_effect": "1100.00",
                    "short_leg_deltas": [0.2],
                },
            ],
        },
    }


def statuses(response, rule: str) -> dict:
    return {c["subject"]: c["status"] for c in response.json()["checks"] if c["rule"] == rule}


def patch_plan(client, plan_id: int, **fields):
    response = client.patch(f"/api/trade-plans/{plan_id}/", fields, format="json")
    assert response.status_code == HTTPStatus.OK, response.json()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("risk_per_trade", "status"),
    [
        ("699.99", "breach"),  # max loss 700 > limit
        ("700.00", "warn"),  # at the limit
        ("777.77", "warn"),  # 700 ≥ 90 % × 777.77 = 699.993
        ("777.78", "ok"),  # 700 < 90 % × 777.78 = 700.002
    ],
)
def test_risk_per_trade_flips_at_the_spreads_700_max_loss(alice_api, plan, risk_per_trade, status):
    patch_plan(alice_api, plan.pk, risk_per_trade=risk_per_trade)

    response = get_compliance(alice_api, plan.pk)

    # The naked put is a breach at any limit: its risk is undefined.
    assert statuses(response, "risk_per_trade") == {"pcs-spy": status, "sp-xyz": "breach"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("limit", "status"),
    [
        ("14299.99", "breach"),
        ("14300.00", "warn"),
        ("15888.88", "warn"),  # 90 % = 14,299.992 ≤ 14,300
        ("15888.89", "ok"),  # 90 % = 14,300.001 > 14,300
    ],
)
def test_exposure_flips_at_the_books_14300_dollars_of_bwd(alice_api, plan, limit, status):
    patch_plan(alice_api, plan.pk, max_overnight_exposure=limit)

    response = get_compliance(alice_api, plan.pk)

    assert statuses(response, "overnight_exposure") == {None: status}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("allocation", "max_positions", "delta_range", "target_credit", "expected"),
    [
        # 0.7 % of buying power used; 1 group; the short put's position delta
        # +0.25 (option Δ −0.25); $150 per contract. Signed ranges compare +0.25.
        ("0.69", 1, ("0.16", "0.24"), "150.01", ("breach", "warn", "breach", "warn")),
        ("0.70", 2, ("0.25", "0.30"), "150.00", ("warn", "ok", "ok", "ok")),
        ("0.77", 2, ("-0.30", "0.25"), "0", ("warn", "ok", "ok", "ok")),
        ("0.78", 2, ("-0.30", "0.24"), "149.99", ("ok", "ok", "breach", "ok")),
    ],
)
def test_strategy_rules_flip_at_their_thresholds(
    alice_api, plan, allocation, max_positions, delta_range, target_credit, expected
):
    # given: the spread's rule tightened or loosened around the book's figures
    rule = {
        "strategy_type": "put_credit_spread",
        "allocation_percentage": allocation,
        "max_positions": max_positions,
        "delta_range_min": delta_range[0],
        "delta_range_max": delta_range[1],
        "target_credit": target_credit,
    }
    patch_plan(alice_api, plan.pk, strategies=[rule])

    # when
    response = get_compliance(alice_api, plan.pk)

    # then
    got = tuple(
        statuses(response, name).get(subject)
        for name, subject in (
            ("allocation", "put_credit_spread"),
            ("max_positions", "put_credit_spread"),
            ("delta_range", "pcs-spy"),
            ("target_credit", "pcs-spy"),
        )
    )
    assert got == expected


@pytest.mark.django_db
def test_more_groups_than_max_positions_is_a_breach(alice, alice_api, plan, book):
    # given: a second SPY spread, another expiry
    portfolio, _ = book
    with rls.as_service():
        common = {"portfolio": portfolio, "underlying": "SPY", "underlying_price": "550"}
        common.update(expiration=dt.date(2026, 6, 19), strategy_type="put_credit_spread")
        make_option(
            **common, option_type="P", strike="530", quantity=-1, open_price="2", mark="2",
            delta="-0.2", group_id="pcs-june",
        )  # fmt: skip
        make_option(
            **common, option_type="P", strike="525", quantity=1, open_price="1", mark="1",
            delta="-0.1", group_id="pcs-june",
        )  # fmt: skip
    patch_plan(
        alice_api,
        plan.pk,
        strategies=[
            {
                "strategy_type": "put_credit_spread",
                "allocation_percentage": "10",
                "max_positions": 1,
            }
        ],
    )

    response = get_compliance(alice_api, plan.pk)

    (check,) = [c for c in response.json()["checks"] if c["rule"] == "max_positions"]
    assert (check["status"], check["actual"], check["limit"]) == ("breach", "2", "1")
    assert check["message"] == (
        "Max positions: 2 open put credit spread groups, more than the 1 allowed."
    )


@pytest.mark.django_db
def test_a_plan_over_all_portfolios_sums_them(alice, alice_api, book):
    # given: a second, manual portfolio with its own income and no SPY price
    with rls.as_service():
        manual = make_portfolio(
            owner=alice, name="Elsewhere", account_type="manual", net_liquidation_value=D("60000")
        )
        income(manual, 9, "400.00", dt.date(2026, 4, 15))
        plan = make_plan(owner=alice, name="Everything", monthly_income_target=D("4000"))

    response = get_compliance(alice_api, plan.pk)

    body = response.json()
    assert body["book"]["portfolio_ids"] == [book[0].pk, manual.pk]
    assert body["book"]["buying_power"] == "160000.00"
    assert body["income"]["mtd"] == "2000.00"
    assert body["as_of"] == "2026-04-15T20:30:00Z"  # the manual one never syncs
    # $2,000 ≥ the $2,000 due by mid-month: exactly on pace.
    assert [(c["rule"], c["status"]) for c in body["checks"]] == [("income_target", "ok")]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("at", "month", "mtd", "status"),
    [
        # 31 March 23:30 New York is already 1 April in UTC: still March's income.
        (dt.datetime(2026, 4, 1, 3, 30, tzinfo=dt.UTC), "2026-03", "150.00", "ok"),
        # 1 April 00:30 New York: a new month, nothing realised yet.
        (dt.datetime(2026, 4, 1, 4, 30, tzinfo=dt.UTC), "2026-04", "0.00", "warn"),
        # 1 April 11:00 New York: the morning's trade, after fees.
        (dt.datetime(2026, 4, 1, 15, 0, tzinfo=dt.UTC), "2026-04", "69.00", "ok"),
    ],
)
def test_income_month_to_date_follows_the_new_york_month(alice, alice_api, at, month, mtd, status):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        income(portfolio, 1, "100.00", dt.date(2026, 3, 2))
        income(portfolio, 2, "50.00", dt.date(2026, 3, 31))
        income(
            portfolio,
            3,
            "69.00",
            dt.date(2026, 4, 1),
            executed_at=dt.datetime(2026, 4, 1, 14, 0, tzinfo=dt.UTC),
            fees=D("1.00"),
        )
        income(
            portfolio,
            4,
            "5000.00",
            dt.date(2026, 3, 31),
            transaction_type="Money Movement",
            transaction_sub_type="Deposit",
            instrument_type="",
            action="",
        )
        plan = make_plan(owner=alice, portfolio=portfolio, monthly_income_target=D("100"))

    # when
    response = get_compliance(alice_api, plan.pk, at=at)

    # then
    body = response.json()
    assert (body["income"]["month"], body["income"]["mtd"]) == (month, mtd)
    assert statuses(response, "income_target") == {None: status}


@pytest.mark.django_db
def test_income_pace_at_mid_month(alice, alice_api, book, plan):
    response = get_compliance(alice_api, plan.pk)

    # $1,600 of $3,000 with half of April gone: $1,500 due, on pace.
    assert response.json()["income"]["pace"] == {
        "elapsed_fraction": "0.500000",
        "pace_target": "1500.00",
        "achieved_fraction": "0.533333",
        "on_pace": True,
    }


@pytest.mark.django_db
def test_a_plan_without_limits_is_ok_with_no_checks(alice, alice_api, book):
    with rls.as_service():
        plan = make_plan(owner=alice, portfolio=book[0])

    body = get_compliance(alice_api, plan.pk).json()

    assert (body["overall_status"], body["checks"], body["income"]["pace"]) == ("ok", [], None)


@pytest.mark.django_db
def test_compliance_query_count_does_not_grow_with_legs(
    alice, alice_api, django_assert_num_queries
):
    # given: a 10-leg and a 200-leg book, one plan each
    with rls.as_service():
        small = make_portfolio(owner=alice, name="Small", spy_price=D("500"))
        large = make_portfolio(owner=alice, name="Large", spy_price=D("500"))
        make_book(portfolio=small, n_positions=10)
        make_book(portfolio=large, n_positions=200)
        rules = [{"strategy_type": "short_put", "allocation_percentage": D(50), "max_positions": 5}]
        small_plan = make_plan(
            owner=alice, portfolio=small, risk_per_trade=D(100), strategies=rules
        )
        large_plan = make_plan(
            owner=alice, portfolio=large, risk_per_trade=D(100), strategies=rules
        )
    get_compliance(alice_api, small_plan.pk)  # warm up: the URLconf loads once per process

    # when / then: savepoint, RLS context, user, plan, strategies, portfolio,
    # legs, transactions, release (the session is read from Redis)
    with django_assert_num_queries(9):
        few = get_compliance(alice_api, small_plan.pk)
    with django_assert_num_queries(9):
        many = get_compliance(alice_api, large_plan.pk)
    assert (few.json()["book"]["legs"], many.json()["book"]["legs"]) == (10, 200)
    assert len(many.json()["book"]["groups"]) == 200
