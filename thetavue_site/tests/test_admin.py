"""Every admin changelist and change page opens for a superuser, with bounded queries."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from brokers.models import BrokerConnection, SyncRun
from metrics.models import HistoricalMetric
from portfolios.models import Position
from portfolios.tests.factories import make_balance, make_book, make_portfolio, make_transaction
from thetavue_site import rls
from thetavue_site.users.models import (
    ApiToken,
    Consent,
    IdempotencyKey,
    Notification,
    ProcessedWebhook,
)
from tradeplans.models import TradePlan, TradePlanBreach, TradePlanStrategy

pytestmark = pytest.mark.django_db

MAX_QUERIES = 25


def seed(owner, n_legs: int):
    with rls.as_service():
        portfolio = make_portfolio(owner=owner, account_type="margin")
        make_book(portfolio=portfolio, n_positions=n_legs)
        make_balance(portfolio=portfolio)
        make_transaction(portfolio=portfolio, broker_id=1)
        plan = TradePlan.objects.create(user=owner, name="Plan", portfolio=portfolio)
        TradePlanStrategy.objects.create(
            trade_plan=plan, strategy_type="short_put", allocation_percentage=20
        )
        TradePlanBreach.objects.create(
            trade_plan=plan,
            rule="risk_per_trade",
            subject="g1",
            opened_at="2026-03-02T15:00:00Z",
            last_seen_at="2026-03-02T15:00:00Z",
        )
        HistoricalMetric.objects.create(portfolio=portfolio, date="2026-03-02")
        conn = BrokerConnection.objects.create(user=owner, environment="sandbox")
        SyncRun.objects.create(connection=conn, started_at="2026-03-02T15:00:00Z")
        ApiToken.objects.create(user=owner, name="t", token_hash="abc", prefix="tv_abc")
        Notification.objects.create(user=owner, kind="k", title="t")
        Consent.objects.create(user=owner, purpose="broker_connection", text_version="1")
        IdempotencyKey.objects.create(
            user=owner, key="k", request_fingerprint="f", response_status=201, response_body={}
        )
        ProcessedWebhook.objects.create(message_id="msg_1", event_type="user.created")
        from allauth.account.models import EmailAddress

        EmailAddress.objects.create(user=owner, email=owner.email, primary=True, verified=True)
        from django.contrib.auth.models import Group

        Group.objects.get_or_create(name="Support")


def registered_models():
    return sorted(admin.site._registry, key=lambda m: m._meta.label)


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_changelist_and_change_page_open_with_bounded_queries(admin_client, alice, model):
    seed(alice, n_legs=30)
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(queries) <= MAX_QUERIES, [q["sql"] for q in queries]

    with rls.as_service():
        obj = model._default_manager.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(change)
    assert response.status_code == 200
    assert len(queries) <= MAX_QUERIES + 10, [q["sql"] for q in queries]


def test_admin_shows_every_traders_rows_to_staff(admin_client, alice, bob):
    seed(alice, n_legs=1)
    with rls.as_service():
        make_portfolio(owner=bob, name="Bob's book")
    response = admin_client.get(reverse("admin:portfolios_portfolio_changelist"))
    assert b"Bob&#x27;s book" in response.content or b"Bob's book" in response.content


def test_admin_is_closed_to_traders(alice_client):
    response = alice_client.get(reverse("admin:portfolios_portfolio_changelist"))
    assert response.status_code == 302


def test_admin_filters_legs_whose_style_came_from_the_table(admin_client, alice):
    seed(alice, n_legs=4)
    with rls.as_service():
        legs = list(Position.objects.order_by("pk"))
        Position.objects.filter(pk=legs[0].pk).update(
            symbol="/MESZ6 EX3Z6 261218C5900",
            exercise_style="American",
            exercise_style_source="table",
        )
        Position.objects.filter(pk__in=[leg.pk for leg in legs[1:]]).update(
            exercise_style_source="broker"
        )
    url = reverse("admin:portfolios_position_changelist")
    response = admin_client.get(url, {"exercise_style_source": "table"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    assert b"EX3Z6" in response.content
