"""The one-statement positions page gives exactly what the ORM path and the serializer give."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import orjson
import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portfolios import selectors
from portfolios.api.serializers import PositionOutput, position_updated_at_writer
from portfolios.models import Position
from portfolios.position_pages import UPDATED_AT_UTC, position_page
from portfolios.selectors import POSITION_COLUMNS, POSITION_ORDERING_FIELDS, PositionFilters
from portfolios.tests.factories import make_portfolio
from thetavue_site import rls
from thetavue_site.renderers import OrjsonRenderer, RawJSON

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 25)
UNDERLYINGS = ("SPY", "QQQ", "/ES", "AAPL")


def _leg(rng: random.Random, index: int) -> Position:
    kind = rng.choice(["Equity", "Equity Option", "Equity Option", "Future", "Future Option"])
    underlying = rng.choice(UNDERLYINGS)
    option = kind.endswith("Option")
    maybe = lambda value: None if rng.random() < 0.2 else value  # noqa: E731 - local shorthand
    quantity = (
        Decimal(rng.choice([-5, -1, 1, 3])) if option else Decimal(f"{rng.uniform(-50, 50):.3f}")
    )
    return Position(
        symbol=f"{underlying}-{kind[:3]}-{index}",
        underlying_symbol=underlying,
        instrument_type=kind,
        option_type=rng.choice("CP") if option else None,
        strike_price=Decimal(f"{rng.uniform(1, 600):.2f}") if option else None,
        expiration_date=TODAY + dt.timedelta(days=rng.randint(-3, 400)) if option else None,
        open_date=maybe(TODAY - dt.timedelta(days=rng.randint(0, 90))),
        quantity=quantity,
        multiplier=100 if option else 1,
        strategy_type=rng.choice(["short_put", "iron_condor", "other"]),
        strategy_group_id=maybe(f"g{rng.randint(1, 9)}") or "",
        average_open_price=maybe(Decimal(f"{rng.uniform(0, 30):.4f}")),
        mark=maybe(Decimal(f"{rng.uniform(0, 30):.6f}")),
        underlying_price=maybe(Decimal(f"{rng.uniform(10, 600):.2f}")),
        premium_received=maybe(Decimal(f"{rng.uniform(-3000, 3000):.2f}")),
        current_value=maybe(Decimal(f"{rng.uniform(-3000, 3000):.2f}")),
        implied_volatility=maybe(rng.uniform(0.05, 1.5)),
        iv_status=rng.choice(["solved", "no_quote", ""]),
        greeks_source=rng.choice(["implied", "none", "linear"]),
        beta=maybe(rng.uniform(-1, 2)),
        delta=maybe(rng.uniform(-500, 500)),
        gamma=maybe(rng.uniform(-5, 5)),
        theta=maybe(rng.uniform(-50, 50)),
        vega=maybe(rng.uniform(-80, 80)),
    )


@pytest.fixture
def varied_book(alice):
    rng = random.Random(20261125)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, name="Varied")
        legs = [_leg(rng, index) for index in range(60)]
        for leg in legs:
            leg.portfolio = portfolio
        Position.objects.bulk_create(legs)
        # Some timestamps without microseconds: isoformat() drops the fraction then.
        Position.objects.filter(portfolio=portfolio, pk__in=[leg.pk for leg in legs[:10]]).update(
            updated_at=dt.datetime(2026, 11, 24, 21, 0, 5, tzinfo=dt.UTC)
        )
    return portfolio


def as_json(rows) -> list:
    """What a client reads: the rows through the API's renderer."""
    return orjson.loads(OrjsonRenderer().render(rows))


def orm_page(portfolio, filters, limit=None, offset=0):
    rows = list(selectors.position_rows(portfolio=portfolio, filters=filters, today=TODAY))
    window = rows[offset:] if limit is None else rows[offset : offset + limit]
    return as_json(PositionOutput(window, many=True).data), len(rows)


def fast_page(user, portfolio, filters, limit=None, offset=0):
    """The page as a client reads it, updated_at in the request's time zone."""
    page = position_page(
        user_id=user.pk,
        portfolio_id=portfolio.pk,
        filters=filters,
        limit=limit,
        offset=offset,
        today=TODAY,
    )
    writer = position_updated_at_writer()
    if writer == UPDATED_AT_UTC:
        rows = orjson.loads(OrjsonRenderer().render({"r": RawJSON(page.results_json)}))["r"]
    else:
        rows = as_json(page.rows_with(updated_at=writer))
    return rows, page.count


FILTERS = [
    PositionFilters(),
    PositionFilters(underlyings=("SPY", "/ES")),
    PositionFilters(strategy_types=("iron_condor",)),
    PositionFilters(instrument_types=("Equity", "Future")),
    PositionFilters(expiring_within_days=30),
    PositionFilters(expiring_within_days=0, underlyings=("QQQ",)),
    *[PositionFilters(ordering=(key,)) for key in POSITION_ORDERING_FIELDS],
    *[PositionFilters(ordering=(f"-{key}",)) for key in POSITION_ORDERING_FIELDS],
    PositionFilters(ordering=("-delta", "symbol", "-unrealized_pnl")),
]


@pytest.mark.parametrize("filters", FILTERS, ids=repr)
def test_every_filter_and_order_gives_the_serializers_rows(alice, varied_book, filters):
    with rls.as_user(alice.pk):
        assert fast_page(alice, varied_book, filters) == orm_page(varied_book, filters)


@pytest.mark.parametrize(("limit", "offset"), [(7, 0), (7, 14), (100, 55), (10, 60), (5, 200)])
def test_pages_and_the_total(alice, varied_book, limit, offset):
    filters = PositionFilters(ordering=("-theta",))
    with rls.as_user(alice.pk):
        rows, count = fast_page(alice, varied_book, filters, limit, offset)
        assert (rows, count) == orm_page(varied_book, filters, limit, offset)
    assert count == 60


def test_values_are_written_as_the_api_writes_them(alice, varied_book):
    with rls.as_user(alice.pk):
        rows = position_page(user_id=alice.pk, portfolio_id=varied_book.pk).rows
    assert {type(row["mark"]) for row in rows} <= {str, type(None)}
    assert {type(row["expiration_date"]) for row in rows} == {str, type(None)}
    assert {type(row["quantity"]) for row in rows} == {int, float}
    assert any(row["updated_at"] == "2026-11-24T21:00:05Z" for row in rows)
    assert list(rows[0]) == list(POSITION_COLUMNS)


def test_greeks_that_are_not_finite_are_null(alice, varied_book):
    with rls.as_service():
        leg = Position.objects.filter(portfolio=varied_book).first()
        Position.objects.filter(pk=leg.pk).update(
            delta=float("nan"), theta=float("inf"), vega=float("-inf")
        )
    with rls.as_user(alice.pk):
        rows = position_page(user_id=alice.pk, portfolio_id=varied_book.pk).rows
    written = next(row for row in rows if row["id"] == leg.pk)
    assert (written["delta"], written["theta"], written["vega"]) == (None, None, None)


def test_indented_and_browsable_output_parse_the_raw_json(alice, varied_book):
    with rls.as_user(alice.pk):
        page = position_page(user_id=alice.pk, portfolio_id=varied_book.pk, limit=3)
    pretty = OrjsonRenderer().render(
        {"results": RawJSON(page.results_json)}, "application/json; indent=2"
    )
    assert b"\n  " in pretty
    assert orjson.loads(pretty)["results"] == page.rows


def test_the_request_time_zone_is_honoured(alice, varied_book):
    with timezone.override(ZoneInfo("America/New_York")), rls.as_user(alice.pk):
        assert position_updated_at_writer() != UPDATED_AT_UTC  # the serializer's converter
        rows, _ = fast_page(alice, varied_book, PositionFilters())
        assert (rows, 60) == orm_page(varied_book, PositionFilters())
    assert any(row["updated_at"] == "2026-11-24T16:00:05-05:00" for row in rows)


def test_an_empty_portfolio_is_an_empty_page(alice):
    with rls.as_user(alice.pk):
        portfolio = make_portfolio(owner=alice, name="Empty")
        assert fast_page(alice, portfolio, PositionFilters()) == ([], 0)
        assert fast_page(alice, portfolio, PositionFilters(), 10, 30) == ([], 0)


def test_another_traders_portfolio_is_404_under_either_context(alice, bob, varied_book):
    with rls.as_user(bob.pk), pytest.raises(Http404):
        fast_page(bob, varied_book, PositionFilters())
    # The explicit owner filter holds even where RLS would let the row through.
    with rls.as_service(), pytest.raises(Http404):
        fast_page(bob, varied_book, PositionFilters())


def test_one_statement_whatever_the_page(alice, varied_book):
    for limit in (1, 60):
        with rls.as_user(alice.pk), CaptureQueriesContext(connection) as queries:
            position_page(
                user_id=alice.pk,
                portfolio_id=varied_book.pk,
                filters=PositionFilters(underlyings=("SPY",)),
                limit=limit,
            )
        assert len(queries) == 1


def test_an_offset_beyond_any_bigint_is_an_empty_page_not_an_error(alice, alice_api, varied_book):
    response = alice_api.get(f"/api/portfolio/{varied_book.pk}/positions/?offset={10**20}&limit=5")
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["results"], body["next"]) == (60, [], None)


def test_fractional_quantities_keep_every_digit(alice, varied_book):
    with rls.as_service():
        leg = Position.objects.filter(portfolio=varied_book, instrument_type="Equity").first()
        Position.objects.filter(pk=leg.pk).update(quantity=Decimal("123456789012.123456"))
    with rls.as_user(alice.pk):
        rows = position_page(user_id=alice.pk, portfolio_id=varied_book.pk).rows
    written = next(row for row in rows if row["id"] == leg.pk)
    assert written["quantity"] == float(Decimal("123456789012.123456"))
