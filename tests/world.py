"""A trader's whole world (portfolio, legs, plan, connection, notifications) for page tests.

Loaded as a pytest plugin by the root conftest.py: alice_world and bob_world
are fixtures in every app's tests; page_urls names the pages that show a world.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from brokers.models import BrokerConnection, SyncRun
from metrics.models import HistoricalMetric
from portfolios.models import Portfolio, Position
from portfolios.selectors import market_today
from portfolios.tests.factories import priced_short_put
from thetavue_site import rls
from thetavue_site.users.models import ApiToken, Notification
from tradeplans.models import TradePlan, TradePlanStrategy


@dataclass
class World:
    portfolio: Portfolio
    connection: BrokerConnection
    run: SyncRun
    plan: TradePlan
    notification: Notification
    token: ApiToken


def make_world(*, owner, tag: str, n_legs: int = 10) -> World:
    """Create `owner`'s synced portfolio of `n_legs` short puts, history, a plan, a notice.

    `tag` goes into every name, so a page showing another trader's data is caught.
    """
    now = timezone.now()
    with rls.as_service():
        connection = BrokerConnection.objects.create(
            user=owner,
            environment="http://127.0.0.1:1",
            status=BrokerConnection.Status.ACTIVE,
            last_synced_at=now - dt.timedelta(minutes=5),
        )
        portfolio = Portfolio.objects.create(
            user=owner,
            name=f"{tag} margin",
            account_type="margin",
            broker_account_id=f"5WT-{tag}",
            broker_connection=connection,
            net_liquidation_value=Decimal("125000.00"),
            cash_balance=Decimal("90000.00"),
            maintenance_requirement=Decimal("30000.00"),
            spy_price=Decimal("560.00"),
            synced_at=now - dt.timedelta(minutes=5),
        )
        add_legs(portfolio=portfolio, count=n_legs)
        run = SyncRun.objects.create(
            connection=connection,
            trigger="schedule",
            status=SyncRun.Status.SUCCEEDED,
            started_at=now - dt.timedelta(minutes=6),
            finished_at=now - dt.timedelta(minutes=5),
            accounts_synced=1,
            positions_added=n_legs,
            progress="done",
        )
        today = market_today()  # history dates are New York trading days
        HistoricalMetric.objects.bulk_create(
            [
                HistoricalMetric(
                    portfolio=portfolio,
                    date=today - dt.timedelta(days=days),
                    net_liquidation_value=Decimal("120000.00") + Decimal(days * 37),
                    total_delta=100.0 + days,
                    total_theta=40.0 + days / 2,
                    total_vega=-300.0,
                    beta_weighted_delta=80.0 - days,
                )
                for days in range(1, 31)
            ]
        )
        plan = TradePlan.objects.create(
            user=owner,
            name=f"{tag} wheel plan",
            monthly_income_target=Decimal("2000.00"),
            risk_per_trade=Decimal("500.00"),
            max_overnight_exposure=Decimal("50000.00"),
        )
        TradePlanStrategy.objects.create(
            trade_plan=plan,
            strategy_type="short_put",
            allocation_percentage=Decimal("40"),
            max_positions=5,
            delta_range_min=Decimal("0.15"),  # a short put's delta is positive
            delta_range_max=Decimal("0.35"),
        )
        notification = Notification.objects.create(
            user=owner, kind="sync_failed", level="warning", title=f"{tag} sync hiccup"
        )
        from thetavue_site.users.tokens import api_token_create

        token, _ = api_token_create(user=owner, name=f"{tag} sheet", scope="read")
    return World(portfolio, connection, run, plan, notification, token)


def add_legs(*, portfolio: Portfolio, count: int, start: int = 0) -> None:
    """Bulk-create `count` priced short puts, ten per underlying, one group each.

    Spread over underlyings as a real book is: strategy detection (plans'
    compliance) costs about n³ in the legs of one underlying.
    """
    expiration = timezone.localdate() + dt.timedelta(days=30)
    legs = [
        priced_short_put(
            portfolio=portfolio,
            underlying=f"X{index // 10:03d}",
            strike=Decimal(100 + index % 10),
            expiration=expiration,
            group_id=f"g{index}",
        )
        for index in range(start, start + count)
    ]
    Position.objects.bulk_create(legs)


def grow_book(world: World, *, to_legs: int) -> None:
    """Add legs to the world's portfolio until it holds `to_legs`."""
    with rls.as_service():
        have = Position.objects.filter(portfolio=world.portfolio).count()
        add_legs(portfolio=world.portfolio, count=to_legs - have, start=have)


@pytest.fixture
def alice_world(alice):
    return make_world(owner=alice, tag="Alicebook")


@pytest.fixture
def bob_world(bob):
    return make_world(owner=bob, tag="Bobbook")


def page_urls(world) -> dict[str, str]:
    """Every dashboard page that shows the world's data, by name."""
    return {
        "overview": "/",
        "portfolio": f"/portfolios/{world.portfolio.pk}/",
        "plans": "/plans/",
        "plan": f"/plans/{world.plan.pk}/",
        "connections": "/connections/",
        "account": "/account/",
        "notifications": "/notifications/",
    }
