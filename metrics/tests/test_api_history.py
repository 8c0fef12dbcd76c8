"""GET /api/portfolio/{id}/history/?from=&to=."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from metrics.models import HistoricalMetric
from portfolios.tests.factories import make_portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def history_url(portfolio_id: int) -> str:
    return reverse("metrics-api:portfolio-history", args=[portfolio_id])


def add_rows(portfolio, *rows) -> None:
    """rows: (date, net liq or None, total delta), in any order."""
    with rls.as_service():
        HistoricalMetric.objects.bulk_create(
            HistoricalMetric(
                portfolio=portfolio,
                date=date,
                net_liquidation_value=net_liq,
                total_delta=delta,
                total_gamma=-1.0,
                total_theta=12.5,
                total_vega=-40.0,
                beta_weighted_delta=delta / 2,
                legs_unpriced=0,
            )
            for date, net_liq, delta in rows
        )


def row(date: str, net_liq: str | None, change: str | None, delta: float) -> dict:
    return {
        "date": date,
        "net_liquidation_value": net_liq,
        "net_liq_change": change,
        "total_delta": delta,
        "total_gamma": -1.0,
        "total_theta": 12.5,
        "total_vega": -40.0,
        "beta_weighted_delta": delta / 2,
        "legs_unpriced": 0,
        "backfilled": False,
    }


@pytest.fixture
def portfolio(alice):
    with rls.as_service():
        return make_portfolio(owner=alice)


def test_history_rows_are_ordered_by_date_with_the_daily_net_liq_change(portfolio, alice_api):
    # given: rows stored out of order, one without a net liq, one outside the range
    add_rows(
        portfolio,
        (dt.date(2026, 11, 20), Decimal("101000.50"), 20.0),
        (dt.date(2026, 11, 17), Decimal("100000.00"), 10.0),
        (dt.date(2026, 11, 18), Decimal("99500.25"), 12.0),
        (dt.date(2026, 11, 19), None, 15.0),
        (dt.date(2026, 11, 23), Decimal("102000.00"), 25.0),
        (dt.date(2026, 11, 16), Decimal("1.00"), 1.0),
    )
    # when
    response = alice_api.get(history_url(portfolio.pk), {"from": "2026-11-17", "to": "2026-11-23"})
    # then
    assert response.status_code == HTTPStatus.OK
    assert response.json() == {
        "portfolio_id": portfolio.pk,
        "from": "2026-11-17",
        "to": "2026-11-23",
        "count": 5,
        "results": [
            row("2026-11-17", "100000.00", None, 10.0),
            row("2026-11-18", "99500.25", "-499.75", 12.0),
            row("2026-11-19", None, None, 15.0),
            row("2026-11-20", "101000.50", None, 20.0),
            row("2026-11-23", "102000.00", "999.50", 25.0),
        ],
    }


def test_history_defaults_to_the_last_365_new_york_days(portfolio, alice_api):
    add_rows(
        portfolio,
        (dt.date(2025, 11, 24), Decimal("90000.00"), 1.0),
        (dt.date(2025, 11, 25), Decimal("91000.00"), 2.0),
        (dt.date(2026, 11, 25), Decimal("95000.00"), 3.0),
    )
    # 23:30 in New York on 24 November is already the 25th in UTC.
    now = dt.datetime(2026, 11, 24, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    with time_machine.travel(now, tick=False):
        body = alice_api.get(history_url(portfolio.pk)).json()
    assert (body["from"], body["to"], body["count"]) == ("2025-11-24", "2026-11-24", 2)
    assert [item["date"] for item in body["results"]] == ["2025-11-24", "2025-11-25"]


def test_history_with_only_from_ends_today(portfolio, alice_api):
    with time_machine.travel(dt.datetime(2026, 11, 24, 17, 0, tzinfo=dt.UTC), tick=False):
        body = alice_api.get(history_url(portfolio.pk), {"from": "2026-11-01"}).json()
    assert (body["from"], body["to"], body["results"]) == ("2026-11-01", "2026-11-24", [])


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ({"from": "2026-13-01"}, {"from"}),
        ({"to": "yesterday"}, {"to"}),
        ({"from": "2026-11-01", "to": "11/24/2026"}, {"to"}),
        ({"from": "x", "to": "y"}, {"from", "to"}),
        ({"from": "2026-11-24", "to": "2026-11-23"}, {"from"}),
        ({"from": "2016-01-01", "to": "2026-11-24"}, {"from"}),
    ],
)
def test_bad_history_ranges_are_400_naming_the_field(portfolio, alice_api, query, fields):
    response = alice_api.get(history_url(portfolio.pk), query)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert set(error["fields"]) == fields


def test_the_longest_range_allowed_is_3660_days(portfolio, alice_api):
    response = alice_api.get(history_url(portfolio.pk), {"from": "2016-11-16", "to": "2026-11-24"})
    assert response.status_code == HTTPStatus.OK
    response = alice_api.get(history_url(portfolio.pk), {"from": "2016-11-15", "to": "2026-11-24"})
    assert response.json()["error"]["fields"] == {
        "from": ["The range from `from` to `to` may span at most 3660 days."]
    }


def test_bob_cannot_read_alices_history(portfolio, bob_api):
    add_rows(portfolio, (dt.date(2026, 11, 20), Decimal("1.00"), 1.0))
    response = bob_api.get(history_url(portfolio.pk), {"from": "bad"})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json()["error"]["code"] == "not_found"


def test_history_query_count(portfolio, alice_api, django_assert_num_queries):
    add_rows(
        portfolio, *[(dt.date(2026, 1, 1) + dt.timedelta(days=i), None, 1.0) for i in range(200)]
    )
    alice_api.get(history_url(0))  # the middleware chain's first run reads the sync gauges
    # savepoint, RLS context, user, portfolio, rows, release (session: Redis)
    with django_assert_num_queries(6):
        body = alice_api.get(history_url(portfolio.pk), {"from": "2026-01-01", "to": "2026-12-31"})
    assert body.json()["count"] == 200
