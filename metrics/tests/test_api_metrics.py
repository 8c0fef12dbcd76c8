"""GET /api/portfolio/{id}/metrics/ and /api/portfolio/metrics/."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from metrics.services import positions_reprice
from portfolios.models import Portfolio, Position
from portfolios.tests.factories import make_book, make_portfolio, make_short_put
from thetavue_site import rls

pytestmark = pytest.mark.django_db

SYNCED_AT = dt.datetime(2026, 11, 20, 21, 15, tzinfo=dt.UTC)
NOT_FOUND = {"error": {"code": "not_found", "message": "Not found.", "fields": {}}}


def metrics_url(portfolio_id: int) -> str:
    return reverse("metrics-api:portfolio-metrics", args=[portfolio_id])


def make_hand_book(owner) -> Portfolio:
    """One short put, Δ −0.30 per share on a $50 stock, beta 1.2, SPY at $500."""
    portfolio = make_portfolio(
        owner=owner,
        name="Hand",
        account_type="margin",
        net_liquidation_value=Decimal("100000.00"),
        cash_balance=Decimal("100100.00"),
        spy_price=Decimal("500"),
        synced_at=SYNCED_AT,
    )
    make_short_put(
        portfolio=portfolio,
        underlying="XYZ",
        strike=Decimal("45"),
        expiration=dt.date(2026, 12, 18),
        average_open_price=Decimal("1.50"),
        premium_received=Decimal("150.00"),
        mark=Decimal("1.00"),
        previous_close=Decimal("1.20"),
        current_value=Decimal("-100.00"),
        underlying_price=Decimal("50"),
        beta=1.2,
        # Stored per position: Δ −0.30 × quantity −1 × multiplier 100.
        delta=30.0,
        gamma=-3.0,
        theta=2.0,
        vega=-5.0,
        rho=0.75,
        exercise_style="American",
        iv_rank=0.35,
        iv_percentile=0.62,
        implied_volatility=0.4,
        greeks_source="implied",
        strategy_group_id="g1",
    )
    return portfolio


def test_beta_weighted_delta_of_a_hand_computed_book(alice, alice_api):
    # given
    with rls.as_service():
        portfolio = make_hand_book(alice)
    # when
    response = alice_api.get(metrics_url(portfolio.pk))
    # then: +30 deltas × beta 1.2 × $50 / $500 = +3.6 SPY deltas = $1,800 of SPY.
    # Naked put requirement: max(20 % × 50 − 5 OTM + 1.00, 10 % × 45 + 1.00, 2.50) × 100
    # = $600; BPR 600 − 150 received at open = $450.
    assert response.status_code == HTTPStatus.OK
    strategy_totals = {
        "delta": 30.0,
        "gamma": -3.0,
        "theta": 2.0,
        "vega": -5.0,
        "rho": 0.75,
        "beta_weighted_delta": 3.6,
        "unrealized_pnl": "50.00",
        # No fees booked; today: -100.00 - 1.20 x -1 x 100 = +20.00.
        "pnl_open": "50.00",
        "pnl_day": "20.00",
        "fees_since_open": "0.00",
        "legs_without_pnl_day": 0,
        "legs": 1,
        "legs_unpriced": 0,
        "legs_beta_missing": 0,
    }
    assert response.json() == {
        "portfolio_id": portfolio.pk,
        "portfolio_name": "Hand",
        "account_type": "margin",
        "as_of": "2026-11-20T21:15:00Z",
        "sync_version": 0,
        "net_liquidation_value": "100000.00",
        "spy_price": "500.000000",
        "total_delta": 30.0,
        "total_gamma": -3.0,
        "total_theta": 2.0,
        "total_vega": -5.0,
        "total_rho": 0.75,
        "beta_weighted_delta": 3.6,
        "beta_weighted_delta_dollars": 1800.0,
        "theta_over_net_liq": 2.0 / 100000,
        "buying_power_used": "450.00",
        "buying_power_source": "reg_t",
        "buying_power_requirement": "600.00",
        "buying_power_reduction": "450.00",
        "buying_power_unsupported_groups": 0,
        "buying_power_estimated_groups": 0,
        "buying_power_available": None,
        "unrealized_pnl": "50.00",
        "pnl_open": "50.00",
        "pnl_day": "20.00",
        "fees_since_open": "0.00",
        "legs_without_pnl_day": 0,
        "legs": 1,
        "legs_unpriced": 0,
        "legs_unsupported": [],
        "legs_beta_missing": 0,
        "legs_expired": 0,
        "legs_beta_assumed": 0,
        "legs_without_value": 0,
        # $450 of buying power (the reduction) on $100,000 of net liq
        "by_underlying": [
            {
                "underlying": "XYZ",
                **strategy_totals,
                "buying_power_used": "450.00",
                "iv_rank": 0.35,
                "iv_percentile": 0.62,
                "buying_power_fraction": 0.0045,
            }
        ],
        "by_strategy": [
            {
                "group_id": "g1",
                "strategy_type": "short_put",
                "underlying": "XYZ",
                **strategy_totals,
                "buying_power_used": "450.00",
                "buying_power_requirement": "600.00",
            }
        ],
        "net_liq_reconciliation": {
            "ours": "100000.00",
            "broker": "100000.00",
            "difference": "0.00",
            "difference_fraction": 0.0,
            "flagged": False,
        },
    }


def test_broker_figures_win_and_a_net_liq_gap_over_half_a_percent_is_flagged(alice, alice_api):
    # given: the broker reports $2,000 in use and a net liq 1 % above ours
    with rls.as_service():
        portfolio = make_hand_book(alice)
        Portfolio.objects.filter(pk=portfolio.pk).update(
            maintenance_requirement=Decimal("2000.00"),
            net_liquidation_value=Decimal("101010.10"),
        )
    # when
    body = alice_api.get(metrics_url(portfolio.pk)).json()
    # then
    assert (body["buying_power_used"], body["buying_power_source"]) == ("2000.00", "broker")
    assert body["by_strategy"][0]["buying_power_used"] == "450.00"
    reconciliation = body["net_liq_reconciliation"]
    assert reconciliation == {
        "ours": "100000.00",
        "broker": "101010.10",
        "difference": "-1010.10",
        "difference_fraction": float(Decimal("-1010.10") / Decimal("101010.10")),
        "flagged": True,
    }


def test_unpriced_and_unsupported_legs_are_counted_not_zeroed(alice, alice_api):
    # given: a priced short put, an unpriced one, and two short puts under one long
    with rls.as_service():
        portfolio = make_hand_book(alice)
        make_short_put(
            portfolio=portfolio,
            underlying="ABC",
            strike=Decimal("20"),
            underlying_price=Decimal("22"),
            mark=None,
            current_value=None,
            strategy_group_id="g2",
        )
        ratio = dict(
            portfolio=portfolio,
            underlying="RAT",
            underlying_price=Decimal("100"),
            strategy_group_id="g3",
            strategy_type="ratio_spread",
            delta=10.0,
            gamma=0.0,
            theta=1.0,
            vega=-1.0,
            beta=1.0,
        )
        make_short_put(strike=Decimal("90"), quantity=-2, **ratio)
        make_short_put(strike=Decimal("95"), quantity=1, **ratio)
    # when
    body = alice_api.get(metrics_url(portfolio.pk)).json()
    # then
    assert body["legs"] == 4
    assert body["legs_unpriced"] == 1
    assert body["total_delta"] == 30.0 + 10.0 + 10.0
    # RAT splits into a 95/90 put debit spread (requirement 0, debit 0 at equal
    # open prices) and one naked 90P: (20 − 10 + 3.10) × 100 = 1,310 − 435 = 875.
    assert body["buying_power_unsupported_groups"] == 1  # the put without a mark
    assert body["buying_power_used"] == str(Decimal("450.00") + Decimal("875.00"))
    assert body["buying_power_requirement"] == "1910.00"
    assert [row["legs_unpriced"] for row in body["by_underlying"]] == [1, 0, 0]


def test_a_manual_book_is_as_of_its_last_reprice_and_weighted_by_its_spy_leg(alice, alice_api):
    # given: a manual book with a SPY put and no sync (so no portfolio SPY price)
    now = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, account_type="manual")
        make_short_put(
            portfolio=portfolio,
            underlying="SPY",
            strike=Decimal("560"),
            expiration=dt.date(2026, 12, 18),
            mark=Decimal("6.10"),
            underlying_price=Decimal("580"),
        )
        positions_reprice(portfolio=portfolio, now=now)
        leg = Position.objects.get(portfolio=portfolio)
    # when
    body = alice_api.get(metrics_url(portfolio.pk)).json()
    # then: SPY's beta 1 is assumed, and its own price cancels out
    assert body["as_of"] == "2026-11-24T15:00:00Z"
    assert body["spy_price"] == "580.000000"
    assert body["total_delta"] == leg.delta
    assert body["total_theta"] == leg.theta
    assert body["beta_weighted_delta"] == pytest.approx(leg.delta, rel=1e-15)
    assert body["legs_beta_assumed"] == 1
    assert body["net_liq_reconciliation"] is None
    assert body["buying_power_source"] == "reg_t"


@pytest.mark.parametrize("exercise_style", ["American", "European"])
def test_a_leg_whose_mark_is_under_intrinsic_adds_its_intrinsic_delta_to_the_totals(
    alice, alice_api, exercise_style
):
    # given: two short XYZ 70 puts, deep in the money with XYZ at $50, marked at
    # $19.50 (under the $20 intrinsic, and under the European floor 70 e^(-rT) - 50,
    # so no volatility gives that price in either model) and without the broker's
    # IV; priced as a sync prices them, two days before expiry
    now = dt.datetime(2026, 12, 16, 15, 0, tzinfo=dt.UTC)
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, account_type="manual")
        make_short_put(
            portfolio=portfolio,
            underlying="XYZ",
            strike=Decimal("70"),
            expiration=dt.date(2026, 12, 18),
            quantity=-2,
            mark=Decimal("19.50"),
            current_value=Decimal("-3900.00"),
            underlying_price=Decimal("50"),
            implied_volatility=None,
            exercise_style=exercise_style,
            strategy_group_id="deep",
        )
        positions_reprice(portfolio=portfolio, now=now)
        leg = Position.objects.get(portfolio=portfolio)
    # when
    body = alice_api.get(metrics_url(portfolio.pk)).json()
    # then: delta -1 per share x -2 contracts x 100 = +200 share-equivalents,
    # counted as priced, with no gamma, theta, vega or rho
    assert (leg.greeks_source, leg.iv_status) == ("intrinsic", "below_intrinsic")
    assert (leg.delta, leg.gamma, leg.theta, leg.vega, leg.rho) == (200.0, 0.0, 0.0, 0.0, 0.0)
    assert body["legs"] == 1 and body["legs_unpriced"] == 0 and body["legs_expired"] == 0
    totals = ("total_delta", "total_gamma", "total_theta", "total_vega", "total_rho")
    assert [body[name] for name in totals] == [200.0, 0.0, 0.0, 0.0, 0.0]
    [underlying] = body["by_underlying"]
    assert (underlying["underlying"], underlying["delta"], underlying["legs_unpriced"]) == (
        "XYZ",
        200.0,
        0,
    )
    [group] = body["by_strategy"]
    assert (group["group_id"], group["delta"], group["legs_unpriced"]) == ("deep", 200.0, 0)


def test_an_empty_portfolio_has_zero_totals(alice, alice_api):
    with rls.as_service():
        portfolio = make_portfolio(owner=alice)
    body = alice_api.get(metrics_url(portfolio.pk)).json()
    assert (body["total_delta"], body["legs"], body["by_strategy"]) == (0.0, 0, [])
    assert (body["buying_power_used"], body["unrealized_pnl"]) == ("0.00", "0.00")
    assert body["beta_weighted_delta"] is None  # no SPY price to weight against


def test_metrics_list_holds_each_of_my_portfolios_only(alice, bob, alice_api):
    # given
    with rls.as_service():
        hand = make_hand_book(alice)
        empty = make_portfolio(owner=alice, name="Alpha")
        make_portfolio(owner=bob, name="Bob's")
    # when
    response = alice_api.get(reverse("metrics-api:portfolio-metrics-list"))
    # then: ordered by name, each item the same as the single endpoint's
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["count"] == 2
    assert [item["portfolio_id"] for item in body["results"]] == [empty.pk, hand.pk]
    assert body["results"][1] == alice_api.get(metrics_url(hand.pk)).json()


def test_bob_cannot_see_alices_metrics_even_when_cached(alice, alice_api, bob_api):
    # given: alice's metrics are in the cache
    with rls.as_service():
        portfolio = make_hand_book(alice)
    assert alice_api.get(metrics_url(portfolio.pk)).status_code == HTTPStatus.OK
    # when
    response = bob_api.get(metrics_url(portfolio.pk))
    listing = bob_api.get(reverse("metrics-api:portfolio-metrics-list"))
    # then
    assert (response.status_code, response.json()) == (HTTPStatus.NOT_FOUND, NOT_FOUND)
    assert listing.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_anonymous_metrics_request_is_refused(alice, client):
    with rls.as_service():
        portfolio = make_hand_book(alice)
    response = client.get(metrics_url(portfolio.pk))
    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_sync_version_bump_invalidates_the_cached_metrics(alice, alice_api):
    # given: metrics cached, then a leg's stored delta changes without a version bump
    with rls.as_service():
        portfolio = make_hand_book(alice)
    assert alice_api.get(metrics_url(portfolio.pk)).json()["total_delta"] == 30.0
    with rls.as_service():
        Position.objects.filter(portfolio=portfolio).update(delta=45.0)
    assert alice_api.get(metrics_url(portfolio.pk)).json()["total_delta"] == 30.0  # cached
    # when: a sync bumps the version
    with rls.as_service():
        Portfolio.objects.filter(pk=portfolio.pk).update(sync_version=F("sync_version") + 1)
    body = alice_api.get(metrics_url(portfolio.pk)).json()
    # then
    assert (body["total_delta"], body["sync_version"]) == (45.0, 1)


def warm_up(api) -> None:
    """Load the middleware chain: its first run in a process reads the sync gauges."""
    api.get(metrics_url(0))


@pytest.mark.parametrize("n_legs", [10, 500])
def test_metrics_query_count_is_flat_in_legs(alice, alice_api, django_assert_num_queries, n_legs):
    # given
    with rls.as_service():
        portfolio = make_portfolio(owner=alice, spy_price=Decimal("500"))
        make_book(portfolio=portfolio, n_positions=n_legs)
    warm_up(alice_api)
    # when / then: savepoint, RLS context, user, portfolio, legs, release (session: Redis)
    with django_assert_num_queries(6):
        body = alice_api.get(metrics_url(portfolio.pk)).json()
    assert body["legs"] == n_legs
    assert body["total_delta"] == pytest.approx(30.0 * n_legs)
    # Cached: the owner check still reads the portfolio; the legs are not read.
    with django_assert_num_queries(5):
        assert alice_api.get(metrics_url(portfolio.pk)).json() == body


def test_metrics_list_query_count_is_flat_in_portfolios(alice, alice_api):
    # given
    url = reverse("metrics-api:portfolio-metrics-list")
    with rls.as_service():
        for index in range(2):
            make_book(portfolio=make_portfolio(owner=alice, name=f"P{index}"), n_positions=3)
    warm_up(alice_api)
    with CaptureQueriesContext(connection) as few:
        alice_api.get(url)
    with rls.as_service():
        for index in range(2, 8):
            make_book(portfolio=make_portfolio(owner=alice, name=f"P{index}"), n_positions=3)
    # when
    with CaptureQueriesContext(connection) as many:
        body = alice_api.get(url).json()
    # then: savepoint, RLS context, user, count, page, legs of the portfolios
    # not cached, release (the session is read from Redis)
    assert body["count"] == 8
    assert len(many.captured_queries) == len(few.captured_queries) == 7
