"""P/L open and day on the hand-computed book of metrics/tests/pnl_book.py."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from metrics.tests.pnl_book import EXPECTED_DAY, EXPECTED_OPEN, make_pnl_book
from portfolios.models import Position
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    return make_pnl_book(alice)


def test_each_leg_carries_its_pnl(alice_api, book):
    body = alice_api.get(f"/api/portfolio/{book.pk}/positions/").json()
    by_symbol = {row["symbol"]: row for row in body["results"]}
    put = next(row for symbol, row in by_symbol.items() if symbol.startswith("XYZ"))
    assert (put["fees_since_open"], put["pnl_open"], put["pnl_day"]) == ("1.14", "48.86", "20.00")
    assert (by_symbol["KO"]["fees_since_open"], by_symbol["KO"]["pnl_open"]) == ("0.00", "250.00")
    assert by_symbol["KO"]["pnl_day"] == "50.00"
    future = by_symbol["/MESZ6"]
    assert (future["pnl_open"], future["pnl_day"]) == ("98.76", "102.50")


def test_groups_sum_their_legs_and_measure_the_max_profit(alice_api, book):
    body = alice_api.get(f"/api/portfolio/{book.pk}/strategies/").json()
    groups = {row["group_id"]: row for row in body["results"]}
    condor = groups["condor"]
    assert (condor["net_credit"], condor["fees_since_open"]) == ("240.00", "4.60")
    assert (condor["pnl_open"], condor["pnl_day"]) == ("25.40", "5.00")
    # 30 of the 240 max profit captured (before fees)
    assert (condor["max_profit"], condor["percent_of_max_profit"]) == ("240.00", "12.5")
    assert groups["put"]["percent_of_max_profit"] == "33.3"  # 50 of 150


def test_portfolio_and_per_underlying_totals(alice_api, book):
    body = alice_api.get(f"/api/portfolio/{book.pk}/metrics/").json()
    assert Decimal(body["pnl_open"]) == EXPECTED_OPEN == Decimal("423.02")
    assert Decimal(body["pnl_day"]) == EXPECTED_DAY == Decimal("177.50")
    assert body["fees_since_open"] == "9.48"
    assert body["legs_without_pnl_day"] == 0
    spy = next(row for row in body["by_underlying"] if row["underlying"] == "SPY")
    assert (spy["pnl_open"], spy["pnl_day"]) == ("25.40", "5.00")


def test_a_leg_without_a_previous_close_has_no_day_pnl_and_is_counted(alice_api, book):
    with rls.as_service():
        Position.objects.filter(portfolio=book, symbol="KO").update(previous_close=None)
        book.save()  # moves updated_at: the cached metrics are not read again
    body = alice_api.get(f"/api/portfolio/{book.pk}/metrics/").json()
    assert Decimal(body["pnl_day"]) == EXPECTED_DAY - Decimal("50.00")
    assert body["legs_without_pnl_day"] == 1


def test_csv_has_the_pnl_columns(alice_api, book):
    text = alice_api.get(f"/api/portfolio/{book.pk}/positions/?format=csv").content.decode()
    header, *rows = text.strip().split("\r\n")
    columns = header.split(",")
    ko = dict(zip(columns, next(r for r in rows if ",KO,KO," in r).split(","), strict=True))
    assert (ko["fees_since_open_usd"], ko["pnl_open_usd_after_fees"], ko["pnl_day_usd"]) == (
        "0.00",
        "250.00",
        "50.00",
    )


def test_pages_show_the_apis_pnl(alice_client, alice_api, book):
    metrics = alice_api.get(f"/api/portfolio/{book.pk}/metrics/").json()
    overview = alice_client.get("/").content.decode()
    detail = alice_client.get(f"/portfolios/{book.pk}/").content.decode()
    # signed_usd: "+$423.02"
    assert "+$423.02" in overview and "+$177.50" in overview
    assert "+$423.02" in detail and "+$177.50 today" in detail
    assert metrics["pnl_open"] == "423.02"
    # The condor's group row: P/L open to the cent and the share of max profit.
    assert re.search(r'data-pnl-open="25.40">\+25.40<span class="sub"[^>]*>12.5 % of max', detail)
