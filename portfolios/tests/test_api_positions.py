"""GET /api/portfolio/{id}/positions/: shape, isolation, filters, ordering, pages, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework import serializers

from portfolios import selectors
from portfolios.api.serializers import PositionOutput
from portfolios.csv_export import POSITION_CSV_COLUMNS
from portfolios.models import Position
from portfolios.tests.api_support import (
    POSITION_EXTRAS,
    POSITION_FIELDS_DESIGN,
    db_state,
    iso,
    make_connection,
    make_synced,
    position_json,
)
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db


def list_url(portfolio) -> str:
    return f"/api/portfolio/{portfolio.pk}/positions/"


def detail_url(position) -> str:
    return f"/api/portfolio/{position.portfolio_id}/positions/{position.pk}/"


@pytest.fixture
def book(alice):
    """A small mixed book: SPY short and long puts, QQQ stock, an /ES future, an expired put."""
    today = selectors.market_today()
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        legs = {
            "spy_put_7": make_short_put(
                portfolio=portfolio,
                underlying="SPY",
                strike=Decimal("540"),
                expiration=today + dt.timedelta(days=7),
                delta=35.5,
                gamma=-2.25,
                theta=18.75,
                vega=-40.0,
                implied_volatility=0.18,
                greeks_source="implied",
                iv_status="solved",
                beta=1.0,
                strategy_group_id="grp-a",
            ),
            "spy_put_45": make_short_put(
                portfolio=portfolio,
                underlying="SPY",
                strike=Decimal("500.5"),
                expiration=today + dt.timedelta(days=45),
                quantity=-2,
                mark=Decimal("1.25"),
                current_value=Decimal("-250.00"),
                average_open_price=Decimal("2.10"),
                premium_received=Decimal("420.00"),
                delta=20.0,
                theta=6.0,
                vega=-55.0,
                gamma=-0.5,
                strategy_group_id="grp-b",
            ),
            "spy_long_put": make_short_put(
                portfolio=portfolio,
                underlying="SPY",
                strike=Decimal("600"),
                expiration=today + dt.timedelta(days=45),
                quantity=1,
                option_type="P",
                strategy_type="long_put",
                mark=None,
                current_value=None,
                average_open_price=Decimal("0.80"),
                premium_received=Decimal("-80.00"),
            ),
            "expired": make_short_put(
                portfolio=portfolio,
                underlying="IWM",
                strike=Decimal("200"),
                expiration=today - dt.timedelta(days=1),
                open_date=today - dt.timedelta(days=30),
            ),
        }
        legs["qqq_stock"] = Position.objects.create(
            portfolio=portfolio,
            symbol="QQQ",
            underlying_symbol="QQQ",
            instrument_type="Equity",
            quantity=Decimal("150.5"),
            multiplier=1,
            average_open_price=Decimal("480.00"),
            premium_received=Decimal("-72240.00"),
            mark=Decimal("500.00"),
            current_value=Decimal("75250.00"),
            strategy_type="stock",
            delta=150.5,
            gamma=0.0,
            theta=0.0,
            vega=0.0,
            greeks_source="linear",
            beta=1.2,
        )
        legs["es_future"] = Position.objects.create(
            portfolio=portfolio,
            symbol="/ESZ6",
            underlying_symbol="/ESZ6",
            instrument_type="Future",
            quantity=Decimal(-1),
            multiplier=50,
            strategy_type="future",
        )
    return portfolio, legs


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


# Shape -----------------------------------------------------------------------------


def test_a_leg_has_exactly_the_documented_fields(alice, alice_api):
    # given: a short put with every figure set, checked against literal values
    expiration = selectors.market_today() + dt.timedelta(days=30)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        leg = make_short_put(
            portfolio=portfolio,
            underlying="SPY",
            strike=Decimal("540"),
            expiration=expiration,
            quantity=-3,
            average_open_price=Decimal("4.35"),
            premium_received=Decimal("1305.00"),
            mark=Decimal("3.10"),
            previous_close=Decimal("3.40"),
            current_value=Decimal("-930.00"),
            underlying_price=Decimal("561.25"),
            implied_volatility=0.2125,
            iv_status="solved",
            delta=61.5,
            gamma=-3.75,
            theta=24.5,
            vega=-88.25,
            rho=-12.5,
            exercise_style="American",
            exercise_style_source="broker",
            iv_rank=0.27,
            iv_percentile=0.44,
            greeks_source="implied",
            beta=1.0,
            strategy_group_id="sg_1",
            open_date=dt.date(2026, 10, 1),
        )
        leg.refresh_from_db()
    # when
    response = alice_api.get(detail_url(leg))
    # then
    assert response.status_code == 200
    assert response.json() == {
        "id": leg.pk,
        "portfolio_id": portfolio.pk,
        "symbol": f"SPY   {expiration:%y%m%d}P00540000",
        "underlying_symbol": "SPY",
        "instrument_type": "Equity Option",
        "option_type": "P",
        "strike_price": "540.000000",
        "expiration_date": expiration.isoformat(),
        "dte": 30,
        "open_date": "2026-10-01",
        "quantity": -3,
        "multiplier": "100",
        "strategy_type": "short_put",
        "strategy_group_id": "sg_1",
        "average_open_price": "4.350000",
        "mark": "3.100000",
        "previous_close": "3.400000",
        "underlying_price": "561.250000",
        "implied_volatility": 0.2125,
        "iv_status": "solved",
        "greeks_source": "implied",
        "beta": 1.0,
        "premium_received": "1305.00",
        "current_value": "-930.00",
        "unrealized_pnl": "375.00",
        "fees_since_open": "0.00",
        "pnl_open": "375.00",
        # -930.00 - 3.40 x -3 x 100
        "pnl_day": "90.00",
        "delta": 61.5,
        "gamma": -3.75,
        "theta": 24.5,
        "vega": -88.25,
        "rho": -12.5,
        "exercise_style": "American",
        "exercise_style_source": "broker",
        "iv_rank": 0.27,
        "iv_percentile": 0.44,
        "updated_at": iso(leg.updated_at),
    }
    assert set(response.json()) == set(POSITION_FIELDS_DESIGN) | set(POSITION_EXTRAS)


def test_list_gives_every_leg_in_the_default_order(book, alice_api):
    portfolio, legs = book
    response = alice_api.get(list_url(portfolio))
    assert response.status_code == 200
    # underlying, expiration (nulls last), strike, symbol
    order = ["es_future", "expired", "qqq_stock", "spy_put_7", "spy_put_45", "spy_long_put"]
    with rls.as_service():
        assert response.json() == {
            "count": 6,
            "next": None,
            "previous": None,
            "results": [position_json(legs[name]) for name in order],
            "legs_unsupported": [],
        }


def test_unknown_figures_are_null_and_pnl_needs_both(book, alice_api):
    portfolio, legs = book
    row = alice_api.get(detail_url(legs["spy_long_put"])).json()
    assert row["mark"] is None
    assert row["current_value"] is None
    assert row["premium_received"] == "-80.00"
    assert row["unrealized_pnl"] is None
    future = alice_api.get(detail_url(legs["es_future"])).json()
    assert future["option_type"] is None
    assert future["strike_price"] is None
    assert future["dte"] is None
    assert future["quantity"] == -1
    stock = alice_api.get(detail_url(legs["qqq_stock"])).json()
    assert stock["quantity"] == 150.5
    assert stock["unrealized_pnl"] == "3010.00"


def test_fast_row_path_matches_drf(book):
    portfolio, _ = book
    with rls.as_service():
        rows = list(selectors.position_rows(portfolio=portfolio))
    fast = PositionOutput(rows, many=True).data
    generic = [serializers.Serializer.to_representation(PositionOutput(), row) for row in rows]
    assert [dict(row) for row in fast] == [dict(row) for row in generic]


# Isolation -------------------------------------------------------------------------


def test_bob_gets_404_on_alices_legs(book, bob, bob_api):
    portfolio, legs = book
    with rls.as_service():
        bobs = make_portfolio(owner=bob, name="Bob")
    leg = legs["spy_put_7"]
    before = db_state()
    assert bob_api.get(list_url(portfolio)).status_code == 404
    assert bob_api.get(list_url(portfolio) + "?format=csv").status_code == 404
    assert bob_api.get(detail_url(leg)).status_code == 404
    assert bob_api.get(f"/api/portfolio/{portfolio.pk}/strategies/").status_code == 404
    # His own portfolio id with her leg id: still not found.
    assert bob_api.get(f"/api/portfolio/{bobs.pk}/positions/{leg.pk}/").status_code == 404
    assert (
        bob_api.patch(f"/api/portfolio/{bobs.pk}/positions/{leg.pk}/", {"quantity": 1}).status_code
        == 404
    )
    assert bob_api.delete(f"/api/portfolio/{bobs.pk}/positions/{leg.pk}/").status_code == 404
    assert bob_api.post(list_url(portfolio), {"symbol": "SPY", "quantity": 1}).status_code == 404
    assert bob_api.patch(detail_url(leg), {"quantity": 5}, format="json").status_code == 404
    assert bob_api.delete(detail_url(leg)).status_code == 404
    assert db_state() == before


def test_lists_never_mix_users(book, bob, bob_api, alice_api):
    portfolio, _ = book
    with rls.as_service():
        bobs = make_portfolio(owner=bob, name="Bob")
        make_book(portfolio=bobs, n_positions=2)
    bob_rows = bob_api.get(list_url(bobs)).json()["results"]
    assert {row["portfolio_id"] for row in bob_rows} == {bobs.pk}
    assert len(bob_rows) == 2
    alice_rows = alice_api.get(list_url(portfolio)).json()["results"]
    assert {row["portfolio_id"] for row in alice_rows} == {portfolio.pk}


def test_a_leg_of_another_portfolio_of_the_same_user_is_404(book, alice, alice_api):
    _, legs = book
    with rls.as_service():
        other = make_portfolio(owner=alice, name="Other")
    url = f"/api/portfolio/{other.pk}/positions/{legs['spy_put_7'].pk}/"
    assert alice_api.get(url).status_code == 404


# Filters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("underlying=SPY", ["spy_put_7", "spy_put_45", "spy_long_put"]),
        ("underlying=spy,qqq", ["qqq_stock", "spy_put_7", "spy_put_45", "spy_long_put"]),
        ("underlying=/ESZ6", ["es_future"]),
        ("underlying=TSLA", []),
        ("strategy_type=short_put", ["expired", "spy_put_7", "spy_put_45"]),
        ("strategy_type=stock,future", ["es_future", "qqq_stock"]),
        ("instrument_type=Equity", ["qqq_stock"]),
        ("instrument_type=Equity Option", ["expired", "spy_put_7", "spy_put_45", "spy_long_put"]),
        ("instrument_type=Future,Equity", ["es_future", "qqq_stock"]),
        ("expiring_within_days=0", ["expired"]),
        ("expiring_within_days=7", ["expired", "spy_put_7"]),
        ("expiring_within_days=6", ["expired"]),
        ("expiring_within_days=45", ["expired", "spy_put_7", "spy_put_45", "spy_long_put"]),
        ("underlying=SPY&expiring_within_days=30&strategy_type=short_put", ["spy_put_7"]),
    ],
)
def test_filters(book, alice_api, query, expected):
    portfolio, legs = book
    response = alice_api.get(f"{list_url(portfolio)}?{query}")
    assert response.status_code == 200
    assert ids(response) == [legs[name].pk for name in expected]
    assert response.json()["count"] == len(expected)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("expiring_within_days=-1", "expiring_within_days"),
        ("expiring_within_days=soon", "expiring_within_days"),
        ("expiring_within_days=2.5", "expiring_within_days"),
        ("expiring_within_days=99999999", "expiring_within_days"),
        ("strategy_type=wheel", "strategy_type"),
        ("instrument_type=Crypto", "instrument_type"),
        ("ordering=colour", "ordering"),
        ("ordering=theta,--delta", "ordering"),
        ("limit=0", "limit"),
        ("offset=-2", "offset"),
    ],
)
def test_bad_query_is_400_naming_the_parameter(book, alice_api, query, field):
    portfolio, _ = book
    response = alice_api.get(f"{list_url(portfolio)}?{query}")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == [field]


# Ordering --------------------------------------------------------------------------

ORDERING_KEYS = sorted(selectors.POSITION_ORDERING_FIELDS)


def _sort_key(row: dict, key: str):
    value = row[key if key != "dte" else "expiration_date"]
    if key in {"strike_price", "mark", "premium_received", "current_value", "unrealized_pnl"}:
        value = None if value is None else Decimal(value)
    return value


@pytest.mark.parametrize("key", ORDERING_KEYS)
@pytest.mark.parametrize("descending", [False, True])
def test_ordering_by_each_key_puts_nulls_last(book, alice_api, key, descending):
    portfolio, _ = book
    every = sorted(alice_api.get(list_url(portfolio)).json()["results"], key=lambda r: r["id"])
    present = [row for row in every if _sort_key(row, key) is not None]
    absent = [row for row in every if _sort_key(row, key) is None]
    # Sorting is stable (reverse too): ties keep ascending ids, as the API's id tie-break.
    present.sort(key=lambda row: _sort_key(row, key), reverse=descending)
    prefix = "-" if descending else ""
    response = alice_api.get(f"{list_url(portfolio)}?ordering={prefix}{key}")
    assert response.status_code == 200
    assert ids(response) == [row["id"] for row in present + absent]


def test_ordering_by_several_keys(book, alice_api):
    portfolio, legs = book
    response = alice_api.get(f"{list_url(portfolio)}?ordering=-strategy_type,expiration_date")
    # stock, short_put ×3 (by expiry), long_put, future
    expected = ["qqq_stock", "expired", "spy_put_7", "spy_put_45", "spy_long_put", "es_future"]
    assert ids(response) == [legs[name].pk for name in expected]


# Pagination ------------------------------------------------------------------------


def test_pages(book, alice_api):
    portfolio, _ = book
    every = ids(alice_api.get(list_url(portfolio)))
    first = alice_api.get(f"{list_url(portfolio)}?limit=4").json()
    assert [row["id"] for row in first["results"]] == every[:4]
    assert first["next"] == f"http://testserver{list_url(portfolio)}?limit=4&offset=4"
    assert first["previous"] is None
    second = alice_api.get(first["next"]).json()
    assert [row["id"] for row in second["results"]] == every[4:]
    assert second["next"] is None
    assert second["previous"] == f"http://testserver{list_url(portfolio)}?limit=4"
    clamped = alice_api.get(f"{list_url(portfolio)}?limit=99999&underlying=SPY").json()
    assert clamped["count"] == 3
    assert len(clamped["results"]) == 3


# CSV -------------------------------------------------------------------------------


def parse_csv(response) -> tuple[list[str], list[dict]]:
    reader = csv.reader(io.StringIO(response.content.decode("utf-8")))
    header = next(reader)
    return header, [dict(zip(header, row, strict=True)) for row in reader]


def as_cell(value) -> str:
    return "" if value is None else str(value)


@pytest.mark.parametrize("query", ["", "underlying=SPY&ordering=-theta", "expiring_within_days=7"])
def test_csv_equals_the_json(book, alice_api, query):
    portfolio, _ = book
    json_rows = alice_api.get(f"{list_url(portfolio)}?{query}").json()["results"]
    response = alice_api.get(f"{list_url(portfolio)}?format=csv&{query}")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        f'attachment; filename="portfolio-{portfolio.pk}-positions.csv"'
    )
    header, rows = parse_csv(response)
    columns = dict(POSITION_CSV_COLUMNS)
    assert header == [columns[field] for field in json_rows[0]] if json_rows else True
    assert rows == [
        {columns[field]: as_cell(value) for field, value in row.items()} for row in json_rows
    ]


def test_csv_header_carries_units(book, alice_api):
    portfolio, _ = book
    header, _ = parse_csv(alice_api.get(f"{list_url(portfolio)}?format=csv"))
    for column in (
        "premium_received_usd_credit_positive",
        "current_value_usd",
        "unrealized_pnl_usd",
        "theta_usd_per_day",
        "vega_usd_per_vol_point",
        "delta_shares",
        "implied_volatility_fraction",
        "quantity_signed_short_negative",
    ):
        assert column in header
    assert len(header) == len(POSITION_FIELDS_DESIGN) + len(POSITION_EXTRAS)


def test_csv_is_not_paginated(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=120)
    _, rows = parse_csv(alice_api.get(f"{list_url(portfolio)}?format=csv"))
    assert len(rows) == 120
    assert alice_api.get(list_url(portfolio)).json()["count"] == 120


def test_csv_by_accept_header(book, alice_api):
    portfolio, _ = book
    response = alice_api.get(list_url(portfolio), HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")


def test_csv_errors_are_json_envelopes(book, alice_api):
    portfolio, _ = book
    response = alice_api.get(f"{list_url(portfolio)}?format=csv&expiring_within_days=-1")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert list(response.json()["error"]["fields"]) == ["expiring_within_days"]
    missing = alice_api.get("/api/portfolio/999999/positions/?format=csv")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"


def test_csv_neutralises_formula_cells(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_short_put(portfolio=portfolio, strategy_group_id="=HYPERLINK(1)")
    _, rows = parse_csv(alice_api.get(f"{list_url(portfolio)}?format=csv"))
    assert rows[0]["strategy_group_id"] == "'=HYPERLINK(1)"
    assert rows[0]["premium_received_usd_credit_positive"] == "435.00"
    assert rows[0]["current_value_usd"] == "-310.00"


def test_detail_has_no_csv(book, alice_api):
    _, legs = book
    assert alice_api.get(detail_url(legs["spy_put_7"]) + "?format=csv").status_code == 404


# Query count -----------------------------------------------------------------------


def test_query_count_is_the_same_for_10_and_500_legs(alice, alice_api):
    with rls.as_service():
        small = make_portfolio(owner=alice, name="Small")
        make_book(portfolio=small, n_positions=10)
        large = make_portfolio(owner=alice, name="Large")
        make_book(portfolio=large, n_positions=500)
    counts = {}
    for name, portfolio in (("small", small), ("large", large)):
        for query in ("?limit=1000", "?format=csv"):
            with CaptureQueriesContext(connection) as queries:
                response = alice_api.get(list_url(portfolio) + query)
            assert response.status_code == 200
            counts[name, query] = [q["sql"].split(" ")[0] for q in queries]
    assert counts["small", "?limit=1000"] == counts["large", "?limit=1000"]
    assert counts["small", "?format=csv"] == counts["large", "?format=csv"]
    # savepoint, RLS context, user, then one statement for the portfolio
    # check, the count and the legs (position_pages), release; the session is
    # read from Redis
    assert len(counts["large", "?limit=1000"]) == 5
    assert len(counts["large", "?format=csv"]) == 5


def test_a_bearer_request_for_the_list_is_four_statements(alice, bearer_for):
    from rest_framework.test import APIClient

    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Bearer")
        make_book(portfolio=portfolio, n_positions=20)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=bearer_for(alice))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(list_url(portfolio))
    assert response.status_code == 200 and response.json()["count"] == 20
    # savepoint, the RLS context and the user in one round trip, the page, release
    statements = [q["sql"] for q in queries]
    assert len(statements) == 4, statements
    assert "set_config" in statements[1] and '"users"' in statements[1]


# Browsable API ---------------------------------------------------------------------


def test_browsable_api_renders(book, alice_api):
    portfolio, legs = book
    for url in (list_url(portfolio), detail_url(legs["spy_put_7"])):
        response = alice_api.get(url, HTTP_ACCEPT="text/html")
        assert response.status_code == 200
        assert b"SPY" in response.content


def test_synced_portfolio_legs_are_listed(alice, alice_api):
    with rls.as_service():
        portfolio = make_synced(owner=alice, connection=make_connection(owner=alice))
        make_book(portfolio=portfolio, n_positions=3)
    assert alice_api.get(list_url(portfolio)).json()["count"] == 3
