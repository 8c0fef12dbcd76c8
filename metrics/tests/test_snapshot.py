"""The nightly snapshot: one set-based upsert per New York trading day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics import selectors
from metrics.models import HistoricalMetric
from metrics.snapshot import history_start, is_trading_day, snapshot_all
from metrics.tasks import snapshot_all_task
from portfolios.models import Portfolio, Position
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")
TUESDAY = dt.date(2026, 11, 24)


def new_york(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=NEW_YORK)


def rows() -> list[dict]:
    with rls.as_service():
        return list(
            HistoricalMetric.objects.order_by("portfolio_id", "date").values(
                "portfolio_id",
                "date",
                "net_liquidation_value",
                "total_delta",
                "total_gamma",
                "total_theta",
                "total_vega",
                "beta_weighted_delta",
                "legs_unpriced",
            )
        )


def make_mixed_book(owner, **fields) -> Portfolio:
    """Options with and without beta, SPY without beta, stock priced by its mark, an unpriced leg."""
    portfolio = make_portfolio(owner=owner, account_type="margin", spy_price=Decimal("581.25"))
    Portfolio.objects.filter(pk=portfolio.pk).update(**fields)
    greeks = {"gamma": -1.5, "theta": 4.25, "vega": -7.5}
    make_short_put(
        portfolio=portfolio,
        underlying="XYZ",
        underlying_price=Decimal("47.31"),
        beta=1.37,
        delta=23.7,
        **greeks,
    )
    make_short_put(
        portfolio=portfolio,
        underlying="SPY",
        underlying_price=Decimal("580.10"),
        delta=11.3,
        **greeks,
    )
    make_short_put(  # no beta and not SPY: out of BWD, still in the totals
        portfolio=portfolio, underlying="NOB", underlying_price=Decimal("12.5"), delta=5.0, **greeks
    )
    make_short_put(portfolio=portfolio, underlying="UNP", underlying_price=Decimal("33"))
    Position.objects.create(
        portfolio=portfolio,
        symbol="STK",
        underlying_symbol="STK",
        instrument_type="Equity",
        quantity=Decimal(-40),
        multiplier=1,
        mark=Decimal("101.37"),
        underlying_price=Decimal("101.00"),
        beta=0.83,
        delta=-40.0,
        gamma=0.0,
        theta=0.0,
        vega=0.0,
    )
    return portfolio


def python_totals(portfolio: Portfolio) -> dict:
    """The same figures summed leg by leg in Python (exposure's rules)."""
    with rls.as_service():
        legs = list(Position.objects.filter(portfolio=portfolio))
        portfolio.refresh_from_db()
    priced = [leg for leg in legs if None not in (leg.delta, leg.gamma, leg.theta, leg.vega)]
    spy = float(portfolio.spy_price)
    bwd = 0.0
    for leg in priced:
        beta = (
            leg.beta if leg.beta is not None else (1.0 if leg.underlying_symbol == "SPY" else None)
        )
        price = leg.mark if leg.instrument_type == "Equity" else leg.underlying_price
        if beta is not None and price is not None:
            bwd += leg.delta * beta * float(price) / spy
    return {
        "portfolio_id": portfolio.pk,
        "net_liquidation_value": portfolio.net_liquidation_value,
        "total_delta": pytest.approx(sum(leg.delta for leg in priced), rel=1e-12),
        "total_gamma": pytest.approx(sum(leg.gamma for leg in priced), rel=1e-12),
        "total_theta": pytest.approx(sum(leg.theta for leg in priced), rel=1e-12),
        "total_vega": pytest.approx(sum(leg.vega for leg in priced), rel=1e-12),
        "beta_weighted_delta": pytest.approx(bwd, rel=1e-12),
        "legs_unpriced": len(legs) - len(priced),
    }


def test_snapshot_aggregate_equals_python_sums_and_the_live_metrics(alice, bob):
    # given: two tenants' books, seeded as service; the snapshot runs with no context
    with rls.as_service():
        mixed = make_mixed_book(alice, net_liquidation_value=Decimal("123456.78"))
        empty = make_portfolio(owner=bob, name="Empty", spy_price=Decimal("500"))
    # when
    with time_machine.travel(new_york(2026, 11, 24, 17, 15), tick=False):
        written = snapshot_all()
    # then
    assert written == 2
    assert rows() == [
        {"date": TUESDAY, **python_totals(mixed)},
        {
            "portfolio_id": empty.pk,
            "date": TUESDAY,
            "net_liquidation_value": Decimal("100000.00"),
            "total_delta": 0.0,
            "total_gamma": 0.0,
            "total_theta": 0.0,
            "total_vega": 0.0,
            "beta_weighted_delta": 0.0,
            "legs_unpriced": 0,
        },
    ]
    # The night's row equals the real-time figures of the same legs.
    with rls.as_service():
        live = selectors.portfolio_metrics(portfolio=Portfolio.objects.get(pk=mixed.pk))
    night = rows()[0]
    assert night["total_delta"] == pytest.approx(live["total_delta"], rel=1e-12)
    assert night["total_theta"] == pytest.approx(live["total_theta"], rel=1e-12)
    assert night["beta_weighted_delta"] == pytest.approx(live["beta_weighted_delta"], rel=1e-12)
    assert night["legs_unpriced"] == live["legs_unpriced"] == 1


def test_snapshot_without_a_spy_price_has_no_beta_weighted_delta(alice):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
        make_book(portfolio=portfolio, n_positions=2)
    with time_machine.travel(new_york(2026, 11, 24, 17, 15), tick=False):
        snapshot_all()
    (row,) = rows()
    assert (row["total_delta"], row["beta_weighted_delta"]) == (60.0, None)


def test_snapshot_twice_on_a_day_keeps_one_row_per_portfolio_with_the_latest_values(alice, bob):
    # given
    with rls.as_service():
        first = make_portfolio(owner=alice, spy_price=Decimal("500"))
        make_book(portfolio=first, n_positions=3)
        second = make_portfolio(owner=bob, spy_price=Decimal("500"))
    with time_machine.travel(new_york(2026, 11, 24, 17, 15), tick=False):
        assert snapshot_all() == 2
    # when: the book changes and the snapshot runs again that evening
    with rls.as_service():
        Position.objects.filter(portfolio=first).update(delta=12.5)
        Portfolio.objects.filter(pk=first.pk).update(net_liquidation_value=Decimal("99000.00"))
    with time_machine.travel(new_york(2026, 11, 24, 23, 59), tick=False):
        assert snapshot_all() == 2
    # then
    assert [(row["portfolio_id"], row["date"]) for row in rows()] == [
        (first.pk, TUESDAY),
        (second.pk, TUESDAY),
    ]
    assert rows()[0]["total_delta"] == 37.5
    assert rows()[0]["net_liquidation_value"] == Decimal("99000.00")


@pytest.mark.parametrize(
    "when",
    [
        new_york(2026, 11, 26, 17, 15),  # Thanksgiving
        new_york(2026, 11, 28, 17, 15),  # Saturday
        new_york(2026, 11, 29, 17, 15),  # Sunday
        new_york(2026, 7, 3, 17, 15),  # Independence Day observed (a Friday)
    ],
)
def test_no_snapshot_on_a_weekend_or_nyse_holiday(alice, when):
    with rls.as_service():
        make_portfolio(owner=alice)
    with time_machine.travel(when, tick=False):
        assert snapshot_all() == 0
    assert rows() == []


def test_the_day_after_thanksgiving_is_a_trading_day():
    assert not is_trading_day(dt.date(2026, 11, 26))
    assert is_trading_day(dt.date(2026, 11, 27))  # an early close, still a session


@pytest.mark.parametrize(
    ("when", "date"),
    [
        # The days the clocks change (Sundays: snapshotted only when forced).
        (new_york(2026, 3, 8, 17, 15), dt.date(2026, 3, 8)),
        (new_york(2026, 11, 1, 17, 15), dt.date(2026, 11, 1)),
        # The first evenings after: already the next day in UTC.
        (new_york(2026, 3, 9, 20, 30), dt.date(2026, 3, 9)),  # 00:30 UTC on 10 March
        (new_york(2026, 11, 2, 19, 30), dt.date(2026, 11, 2)),  # 00:30 UTC on 3 November
        # Just after midnight EDT is still the day before in EST (UTC−5).
        (new_york(2026, 3, 10, 0, 30), dt.date(2026, 3, 10)),
    ],
)
def test_snapshot_lands_on_the_new_york_date_across_dst_changes(alice, when, date):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    with time_machine.travel(when, tick=False):
        assert selectors.new_york_today() == date
        assert snapshot_all(force=True) == 1
    assert [(row["portfolio_id"], row["date"]) for row in rows()] == [(portfolio.pk, date)]


def test_a_sunday_dst_change_is_not_snapshotted_unless_forced(alice):
    with rls.as_service():
        make_portfolio(owner=alice)
    with time_machine.travel(new_york(2026, 3, 8, 17, 15), tick=False):
        assert snapshot_all() == 0


def test_snapshot_is_one_statement_whatever_the_number_of_portfolios(alice, bob):
    with rls.as_service():
        for index in range(5):
            make_book(portfolio=make_portfolio(owner=alice, name=f"A{index}"), n_positions=4)
        make_portfolio(owner=bob)
    with (
        time_machine.travel(new_york(2026, 11, 24, 17, 15), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        assert snapshot_all() == 6
    inserts = [q["sql"] for q in queries.captured_queries if "historical_metrics" in q["sql"]]
    assert len(inserts) == 1
    assert inserts[0].lstrip().startswith("INSERT INTO historical_metrics")


def test_a_backfill_fills_gaps_and_never_overwrites_a_recorded_night(alice, bob):
    # given: alice's portfolio has a row for Monday, bob's has none
    monday = dt.date(2026, 11, 23)
    with rls.as_service():
        recorded = make_portfolio(owner=alice, spy_price=Decimal("500"))
        make_book(portfolio=recorded, n_positions=1)
        missing = make_portfolio(owner=bob)
    with time_machine.travel(new_york(2026, 11, 23, 17, 15), tick=False):
        snapshot_all(date=monday)
    with rls.as_service():
        HistoricalMetric.objects.filter(portfolio=missing).delete()
        Position.objects.filter(portfolio=recorded).update(delta=99.0)
    # when: backfilled on Tuesday
    with time_machine.travel(new_york(2026, 11, 24, 9, 0), tick=False):
        written = snapshot_all(date=monday)
    # then
    assert written == 1
    assert [(row["portfolio_id"], row["date"], row["total_delta"]) for row in rows()] == [
        (recorded.pk, monday, 30.0),
        (missing.pk, monday, 0.0),
    ]


def test_a_future_date_is_refused(alice):
    with time_machine.travel(new_york(2026, 11, 24, 23, 59), tick=False):
        with pytest.raises(ValueError, match="future"):
            snapshot_all(date=dt.date(2026, 11, 25))


def test_the_task_is_registered_under_its_beat_name_and_snapshots(alice):
    from thetavue_site.celery import app

    with rls.as_service():
        make_portfolio(owner=alice)
    schedule = settings.CELERY_BEAT_SCHEDULE["snapshot-metrics-nightly"]
    assert schedule["task"] == "metrics.snapshot_all"
    assert app.tasks["metrics.snapshot_all"].name == snapshot_all_task.name
    with time_machine.travel(new_york(2026, 11, 24, 17, 15), tick=False):
        assert snapshot_all_task.apply().get() == 1
    assert len(rows()) == 1


class TestCommand:
    def test_backfills_a_trading_day(self, alice, capsys):
        with rls.as_service():
            make_portfolio(owner=alice)
        with time_machine.travel(new_york(2026, 11, 24, 9, 0), tick=False):
            call_command("snapshot_metrics", "--date", "2026-11-23")
        assert "Snapshot for 2026-11-23: 1 rows written." in capsys.readouterr().out
        assert [row["date"] for row in rows()] == [dt.date(2026, 11, 23)]

    def test_refuses_a_holiday_unless_forced(self, alice):
        with rls.as_service():
            make_portfolio(owner=alice)
        with time_machine.travel(new_york(2026, 11, 27, 9, 0), tick=False):
            with pytest.raises(CommandError, match="Thanksgiving Day.*--force"):
                call_command("snapshot_metrics", "--date", "2026-11-26")
            assert rows() == []
            call_command("snapshot_metrics", "--date", "2026-11-26", "--force")
        assert [row["date"] for row in rows()] == [dt.date(2026, 11, 26)]

    @pytest.mark.parametrize(
        ("date", "message"), [("2026-11-25", "in the future"), ("24/11/2026", "YYYY-MM-DD")]
    )
    def test_refuses_a_future_or_malformed_date(self, db, date, message):
        with time_machine.travel(new_york(2026, 11, 24, 17, 15), tick=False):
            with pytest.raises(CommandError, match=message):
                call_command("snapshot_metrics", "--date", date)


def test_a_year_of_backfilled_net_liq_is_one_statement_and_keeps_recorded_days(alice):
    # given: two new portfolios, a year of broker net liq each; one day already recorded
    with rls.as_service():
        first, second = make_portfolio(owner=alice, name="A"), make_portfolio(owner=alice, name="B")
        HistoricalMetric.objects.create(
            portfolio=first, date=dt.date(2026, 11, 20), net_liquidation_value=Decimal("1.00")
        )
    days = [TUESDAY - dt.timedelta(days=n) for n in range(1, 366)]
    history = {
        first.pk: [(day, Decimal("50000.00") + n) for n, day in enumerate(days)],
        second.pk: [(day, None if n == 0 else Decimal("7000.10")) for n, day in enumerate(days)],
    }

    # when
    with (
        time_machine.travel(new_york(2026, 11, 24, 10, 0), tick=False),
        CaptureQueriesContext(connection) as queries,
    ):
        written = history_start(portfolio_ids=[], net_liq_history=history)

    # then: every day but the recorded one, in one INSERT
    inserts = [q["sql"] for q in queries.captured_queries if "historical_metrics" in q["sql"]]
    assert len(inserts) == 1
    assert written == 2 * 365 - 1
    with rls.as_service():
        stored = dict(
            HistoricalMetric.objects.filter(portfolio=first).values_list(
                "date", "net_liquidation_value"
            )
        )
        assert stored[dt.date(2026, 11, 20)] == Decimal("1.00")  # never overwritten
        assert stored[dt.date(2026, 11, 23)] == Decimal("50000.00")
        assert HistoricalMetric.objects.filter(portfolio=second, backfilled=True).count() == 365
        assert (
            HistoricalMetric.objects.get(portfolio=second, date=dt.date(2026, 11, 23))
        ).net_liquidation_value is None
