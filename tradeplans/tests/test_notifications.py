"""Breaches become notifications once per breach, not after every sync."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pytest
from django.utils import timezone

from thetavue_site import rls
from thetavue_site.users.models import Notification
from tradeplans.models import TradePlanBreach
from tradeplans.notifications import NewBreach, plans_notify_breaches
from tradeplans.tests.factories import make_option, make_plan, make_portfolio

NOW = dt.datetime(2026, 4, 16, 14, 0, tzinfo=dt.UTC)
LATER = NOW + dt.timedelta(minutes=15)
D = Decimal

UNDEFINED_RISK = (
    "Risk per trade: XYZ short put 100 2026-05-15 ×1 has undefined risk: short options not "
    "covered by long options or cash leave its loss uncapped (were the underlying to go to zero it would "
    "lose $9,700.00), so it cannot be held within the $1,000.00 limit."
)
EXPOSURE = (
    "Overnight exposure: the book is long $3,300.00 of SPY (beta-weighted delta), "
    "above the $3,000.00 maximum."
)


def notifications(user) -> list[dict]:
    with rls.as_service():
        return list(
            Notification.objects.filter(user=user)
            .order_by("pk")
            .values("kind", "level", "title", "body", "dedupe_key", "read_at")
        )


def open_breaches(user) -> set[tuple[str, str]]:
    with rls.as_service():
        return set(
            TradePlanBreach.objects.filter(trade_plan__user=user).values_list("rule", "subject")
        )


@pytest.fixture
def naked_put_book(alice):
    """A margin account holding one naked XYZ put (Δ −0.20, beta 1.5, underlying 110)."""
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, spy_price=D("500"))
        leg = make_option(
            portfolio=portfolio, underlying="XYZ", option_type="P", strike="100", quantity=-1,
            open_price="3.00", mark="2.00", underlying_price="110", delta="-0.20", beta=1.5,
            group_id="sp-xyz", strategy_type="short_put",
        )  # fmt: skip
        plan = make_plan(owner=alice, name="Careful", risk_per_trade=D("1000"))
    return plan, leg


@pytest.mark.django_db
def test_the_same_breach_twice_makes_one_notification_and_a_new_one_another(alice, naked_put_book):
    # given
    plan, _ = naked_put_book

    # when: two syncs see the same undefined-risk breach
    first = plans_notify_breaches(user_id=alice.pk, now=NOW)
    second = plans_notify_breaches(user_id=alice.pk, now=LATER)

    # then
    assert first == [NewBreach(plan.pk, "risk_per_trade", "sp-xyz", UNDEFINED_RISK)]
    assert second == []
    assert notifications(alice) == [
        {
            "kind": "plan_breach",
            "level": "warning",
            "title": "Trade plan “Careful”: risk per trade breached",
            "body": UNDEFINED_RISK,
            "dedupe_key": f"plan_breach:{plan.pk}:risk_per_trade:sp-xyz",
            "read_at": None,
        }
    ]

    # when: the exposure limit drops below |BWD| = 20 × 1.5 × 110 = $3,300
    with rls.as_service():
        plan.max_overnight_exposure = D("3000")
        plan.save()
    third = plans_notify_breaches(user_id=alice.pk, now=LATER + dt.timedelta(minutes=15))

    # then: one more notification, for the new breach only
    assert third == [NewBreach(plan.pk, "overnight_exposure", "", EXPOSURE)]
    assert [n["dedupe_key"] for n in notifications(alice)] == [
        f"plan_breach:{plan.pk}:risk_per_trade:sp-xyz",
        f"plan_breach:{plan.pk}:overnight_exposure:",
    ]
    assert open_breaches(alice) == {("risk_per_trade", "sp-xyz"), ("overnight_exposure", "")}


@pytest.mark.django_db
def test_a_read_notification_is_not_raised_again_while_the_breach_lasts(alice, naked_put_book):
    # given: the trader read the first notification
    plans_notify_breaches(user_id=alice.pk, now=NOW)
    with rls.as_service():
        Notification.objects.filter(user=alice).update(read_at=timezone.now())

    # when: the next sync still sees the breach
    again = plans_notify_breaches(user_id=alice.pk, now=LATER)

    # then
    assert again == []
    assert len(notifications(alice)) == 1
    with rls.as_service():
        (row,) = TradePlanBreach.objects.all()
    assert (row.opened_at, row.last_seen_at) == (NOW, LATER)


@pytest.mark.django_db
def test_a_breach_that_clears_and_returns_is_notified_again(alice, naked_put_book):
    # given: notified and read
    plan, leg = naked_put_book
    plans_notify_breaches(user_id=alice.pk, now=NOW)
    with rls.as_service():
        Notification.objects.filter(user=alice).update(read_at=timezone.now())

    # when: the put is closed, then sold again
    with rls.as_service():
        leg.delete()
    cleared = plans_notify_breaches(user_id=alice.pk, now=LATER)
    assert open_breaches(alice) == set()
    with rls.as_service():
        leg.pk = None
        leg.save()
    back = plans_notify_breaches(user_id=alice.pk, now=LATER + dt.timedelta(minutes=15))

    # then
    assert cleared == []
    assert [b.rule for b in back] == ["risk_per_trade"]
    assert [n["read_at"] is None for n in notifications(alice)] == [False, True]


@pytest.mark.django_db
def test_warnings_and_paused_plans_raise_nothing(alice, naked_put_book):
    # given: a paused plan in breach, and an active one that only warns
    plan, _ = naked_put_book
    with rls.as_service():
        plan.is_active = False
        plan.save()
        make_plan(owner=alice, name="Loose", max_overnight_exposure=D("3500"))  # $3,300 ≥ 90 %

    assert plans_notify_breaches(user_id=alice.pk, now=NOW) == []
    assert notifications(alice) == []


@pytest.mark.django_db
def test_pausing_a_plan_forgets_its_breaches(alice, naked_put_book):
    plan, _ = naked_put_book
    plans_notify_breaches(user_id=alice.pk, now=NOW)
    with rls.as_service():
        plan.is_active = False
        plan.save()

    plans_notify_breaches(user_id=alice.pk, now=LATER)

    assert open_breaches(alice) == set()


@pytest.mark.django_db
def test_one_traders_run_never_touches_another_traders_plans(alice, bob, naked_put_book):
    # given: bob has the same book and plan
    with rls.as_service():
        portfolio = make_portfolio(owner=bob, spy_price=D("500"))
        make_option(
            portfolio=portfolio, underlying="XYZ", option_type="P", strike="100", quantity=-1,
            open_price="3.00", mark="2.00", underlying_price="110", delta="-0.20", beta=1.5,
        )  # fmt: skip
        make_plan(owner=bob, name="Bob's", risk_per_trade=D("1000"))

    # when
    plans_notify_breaches(user_id=alice.pk, now=NOW)

    # then
    assert len(notifications(alice)) == 1
    assert notifications(bob) == []
    assert open_breaches(bob) == set()


@pytest.mark.django_db(transaction=True)
def test_open_breaches_are_row_level_secured_through_their_plan(alice, bob):
    # given: committed rows for two traders (the probe is another connection)
    from thetavue_site.tests.rls_probe import probe_connection

    with rls.as_service():
        alice_plan = make_plan(owner=alice, name="A")
        bob_plan = make_plan(owner=bob, name="B")
        for plan in (alice_plan, bob_plan):
            TradePlanBreach.objects.create(
                trade_plan=plan, rule="risk_per_trade", subject="g", opened_at=NOW, last_seen_at=NOW
            )

    # when / then: as alice, only her row; anonymous, none; bob's plan refuses her insert
    with probe_connection(user_id=alice.pk) as cursor:
        cursor.execute("SELECT trade_plan_id FROM trade_plan_breaches")
        assert cursor.fetchall() == [(alice_plan.pk,)]
    with probe_connection() as cursor:
        cursor.execute("SELECT count(*) FROM trade_plan_breaches")
        assert cursor.fetchone() == (0,)
    with probe_connection(user_id=alice.pk) as cursor:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            cursor.execute(
                "INSERT INTO trade_plan_breaches (trade_plan_id, rule, subject, message, "
                "opened_at, last_seen_at, created_at, updated_at) "
                "VALUES (%s, 'allocation', '', '', now(), now(), now(), now())",
                [bob_plan.pk],
            )
