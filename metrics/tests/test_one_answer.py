"""One answer everywhere: the metrics endpoint, trade-plan compliance, the portfolio
page, the strategies endpoint and a zero-move what-if give the same buying power,
delta and groups for the same book, because they all read portfolios/book.py.

The books are the labelled detection books (portfolios/tests), stored as a
manual margin portfolio each and priced once by the re-pricing service.
"""

import datetime as dt
from decimal import Decimal
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from metrics.services import positions_reprice
from portfolios.models import Portfolio, Position
from portfolios.tests.factories import make_book, make_portfolio
from portfolios.tests.labelled_books import LABELLED
from portfolios.tests.strategy_books import BOOKS, MARGIN, TODAY
from thetavue_site import rls
from tradeplans.tests.factories import make_plan

pytestmark = pytest.mark.django_db

ZERO_MOVE = {"underlying_moves_pct": [0], "iv_shift_points": [0], "days_forward": 0}


def _margin_books():
    books = [(b.name, b.legs) for b in LABELLED] + [(b.name, b.legs) for b in BOOKS]
    return [
        (name, legs)
        for name, legs in books
        if all(leg.account == MARGIN and not leg.account_is_cash for leg in legs)
    ][:32]


MARGIN_BOOKS = _margin_books()


def _underlying_prices(legs) -> dict[str, Decimal]:
    """A stock's own price, else the middle strike of the underlying's options."""
    prices: dict[str, Decimal] = {}
    for leg in legs:
        if leg.option_type is None:
            prices[leg.underlying] = Decimal(leg.average_open_price)
    for leg in legs:
        if leg.underlying not in prices:
            strikes = sorted(Decimal(x.strike) for x in legs if x.underlying == leg.underlying)
            prices[leg.underlying] = strikes[len(strikes) // 2]
    return prices


def store_book(owner, name, legs) -> Portfolio:
    """Store the legs (expiries moved to the same distance from today) and price them."""
    today = timezone.localdate()
    prices = _underlying_prices(legs)
    portfolio = make_portfolio(owner=owner, name=name, spy_price=Decimal("500"))
    for leg in legs:
        quantity = Decimal(leg.quantity)
        opened = Decimal(leg.average_open_price)
        is_option = leg.option_type is not None
        mark = max(opened * Decimal("0.8"), Decimal("0.05")) if is_option else opened
        Position.objects.create(
            portfolio=portfolio,
            symbol=f"{leg.underlying} {leg.id}",
            underlying_symbol=leg.underlying,
            instrument_type=leg.instrument_type,
            option_type=leg.option_type,
            strike_price=leg.strike,
            expiration_date=(
                today + (leg.expiration - TODAY) if leg.expiration is not None else None
            ),
            quantity=quantity,
            multiplier=leg.multiplier,
            average_open_price=opened,
            premium_received=-opened * quantity * leg.multiplier,
            mark=mark,
            current_value=mark * quantity * leg.multiplier,
            underlying_price=prices[leg.underlying],
            implied_volatility=0.3 if is_option else None,
            beta=1.0,
            opening_order_id=leg.opening_order_id or "",
        )
    positions_reprice(portfolio=portfolio)
    portfolio.refresh_from_db()
    return portfolio


def _money(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@pytest.mark.parametrize(("name", "legs"), MARGIN_BOOKS, ids=[n for n, _ in MARGIN_BOOKS])
def test_every_surface_gives_the_same_buying_power_delta_and_groups(
    alice, alice_api, alice_client, name, legs
):
    # given
    with rls.as_service():
        portfolio = store_book(alice, name, legs)
        plan = make_plan(owner=alice, portfolio=portfolio)

    # when
    metrics = alice_api.get(f"/api/portfolio/{portfolio.pk}/metrics/").json()
    strategies = alice_api.get(f"/api/portfolio/{portfolio.pk}/strategies/?limit=100").json()
    what_if = alice_api.post(
        f"/api/portfolio/{portfolio.pk}/what-if", ZERO_MOVE, format="json"
    ).json()
    compliance = alice_api.get(f"/api/trade-plans/{plan.pk}/compliance").json()
    page = alice_client.get(reverse("portfolios:detail", args=[portfolio.pk]))
    assert page.status_code == HTTPStatus.OK

    # then: buying power
    used = _money(metrics["buying_power_used"])
    assert used is not None
    assert _money(what_if["buying_power_used"]) == used
    assert _money(page.context["m"]["buying_power_used"]) == used
    compliance_groups = compliance["book"]["groups"]
    assert (
        sum((_money(g["buying_power_effect"]) or 0 for g in compliance_groups), Decimal(0)) == used
    )
    assert (
        sum(
            (_money(g["buying_power_reduction"]) or 0 for g in strategies["results"]),
            Decimal(0),
        )
        == used
    )

    # the per-strategy breakdown shares split legs out and adds up to the totals
    by_strategy = metrics["by_strategy"]
    assert sum((_money(row["buying_power_used"]) or 0 for row in by_strategy), Decimal(0)) == used
    assert sum(row["delta"] for row in by_strategy) == pytest.approx(
        metrics["total_delta"], abs=1e-6
    )

    # delta: the stored greeks' total, and the model at zero move re-prices to it
    total_delta = metrics["total_delta"]
    assert page.context["m"]["total_delta"] == total_delta
    (zero,) = what_if["scenarios"]
    assert zero["delta"] == pytest.approx(total_delta, rel=1e-6, abs=1e-6)
    assert float(compliance["book"]["beta_weighted_delta_dollars"]) == pytest.approx(
        metrics["beta_weighted_delta_dollars"], abs=0.01
    )

    # groups: the same ids, types and legs everywhere
    def quantities(rows):
        return frozenset((row["position_id"], Decimal(str(row["quantity"]))) for row in rows)

    assert {row["group_id"] for row in by_strategy} == {
        g["group_id"] for g in strategies["results"]
    }
    by_api = {
        (g["group_id"], g["strategy_type"], quantities(g["leg_quantities"]))
        for g in strategies["results"]
    }
    by_what_if = {
        (g["group_id"], g["strategy_type"], quantities(g["legs"])) for g in what_if["groups"]
    }
    by_page = {
        (g["group_id"], g["strategy_type"], quantities(g["leg_quantities"]))
        for g in page.context["groups"]
    }
    by_compliance = {
        (g["group_id"], g["strategy_type"], frozenset(g["position_ids"])) for g in compliance_groups
    }
    assert by_what_if == by_api
    assert by_page == by_api
    assert by_compliance == {
        (group_id, stype, frozenset(position for position, _ in legs_held))
        for group_id, stype, legs_held in by_api
    }


def test_the_issues_books_show_the_rules_figures_on_every_surface(alice, alice_api):
    # given: the three books whose figures the surfaces used to disagree on
    books = {
        "3 short puts + 1 long put": ("13820.00", "13000.00"),
        "strangle with 3 puts and 2 calls": ("2070.00", "1500.00"),
        "100 shares + 2 short calls": ("6500.00", "6350.00"),
    }
    from metrics.tests.test_buying_power import CASES

    for name, (requirement, reduction) in books.items():
        _, groups, *_ = CASES[name]
        with rls.as_service():
            portfolio = make_portfolio(owner=alice, name=name)
            stored = {}
            for _, legs in groups.values():
                for leg in legs:
                    key = (leg.option_type, leg.strike)
                    stored.setdefault(key, [leg, Decimal(0), Decimal(0)])
                    stored[key][1] += leg.quantity
                    stored[key][2] += leg.open_premium
            for index, (leg, quantity, premium) in enumerate(stored.values()):
                Position.objects.create(
                    portfolio=portfolio,
                    symbol=f"LEG{index}",
                    underlying_symbol="XYZ",
                    instrument_type=leg.instrument_type,
                    option_type=leg.option_type,
                    strike_price=leg.strike,
                    expiration_date=(
                        timezone.localdate() + dt.timedelta(days=30) if leg.option_type else None
                    ),
                    quantity=quantity,
                    multiplier=int(leg.multiplier),
                    premium_received=premium if leg.option_type else -leg.price * quantity,
                    mark=leg.price,
                    current_value=leg.price * quantity * leg.multiplier,
                    underlying_price=leg.underlying_price,
                )
            plan = make_plan(owner=alice, portfolio=portfolio)

        # when
        metrics = alice_api.get(f"/api/portfolio/{portfolio.pk}/metrics/").json()
        compliance = alice_api.get(f"/api/trade-plans/{plan.pk}/compliance").json()

        # then
        assert (metrics["buying_power_requirement"], metrics["buying_power_reduction"]) == (
            requirement,
            reduction,
        ), name
        assert metrics["buying_power_used"] == reduction, name
        effects = [Decimal(g["buying_power_effect"]) for g in compliance["book"]["groups"]]
        assert sum(effects, Decimal(0)) == Decimal(reduction), name


def _query_count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    return len(queries)


def test_metrics_and_page_query_counts_are_flat_in_legs(alice, alice_api, alice_client):
    with rls.as_service():
        small = make_portfolio(owner=alice, name="Small")
        make_book(portfolio=small, n_positions=3)
        large = make_portfolio(owner=alice, name="Large")
        make_book(portfolio=large, n_positions=60)
    counts = [
        (
            _query_count(alice_api, f"/api/portfolio/{portfolio.pk}/metrics/"),
            _query_count(alice_client, reverse("portfolios:detail", args=[portfolio.pk])),
        )
        for portfolio in (small, large)
    ]
    assert counts[0] == counts[1]
