"""The risk graph: P/L at expiry and today across moves, from the what-if engine."""

from __future__ import annotations

from decimal import Decimal

import pytest

from metrics.selectors import risk_graph
from metrics.tests.pnl_book import make_pnl_book
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    return make_pnl_book(alice)


def test_the_condors_graph_has_its_payoff_and_breakevens(book):
    with rls.as_service():
        graph = risk_graph(portfolio=book, group_id="condor")
    moves = graph["underlying_moves_pct"]
    expiry = dict(zip(moves, graph["pnl_at_expiry"], strict=True))
    # SPY at 530: flat, the whole 240 credit is kept; +10 % (583) is past the
    # 560/570 call spread: 240 − 1,000 = −760; −10 % (477) past 490/500 likewise.
    assert abs(expiry[0.0] - Decimal("240")) <= Decimal("0.05")
    assert abs(expiry[10.0] - Decimal("-760")) <= Decimal("0.05")
    assert abs(expiry[-10.0] - Decimal("-760")) <= Decimal("0.05")
    # breakevens 560 + 2.40 and 500 − 2.40, as moves from 530
    low, high = graph["breakevens_pct"]
    assert low == pytest.approx((497.6 / 530 - 1) * 100, abs=0.01)
    assert high == pytest.approx((562.4 / 530 - 1) * 100, abs=0.01)
    assert expiry[moves[graph["max_profit_index"]]] == max(expiry.values())
    # today the wings still hold time value: less than the expiry payoff at the money
    today = dict(zip(moves, graph["pnl_today"], strict=True))
    assert today[0.0] < expiry[0.0]


def test_the_page_draws_the_books_graph_and_a_groups_on_demand(alice_client, book):
    page = alice_client.get(f"/portfolios/{book.pk}/").content.decode()
    assert 'class="chart risk-chart"' in page and "Today (T+0)" in page
    fragment = alice_client.get(
        f"/portfolios/{book.pk}/risk-graph?group=condor", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<!doctype" not in fragment.lower()
    assert 'class="breakeven"' in fragment and "max +$240" in fragment
    assert "−6.1 %" in fragment and "+6.1 %" in fragment


def test_another_traders_portfolio_has_no_graph(bob_client, book):
    assert bob_client.get(f"/portfolios/{book.pk}/risk-graph?group=condor").status_code == 404
