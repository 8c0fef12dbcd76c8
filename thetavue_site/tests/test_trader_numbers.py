"""The numbers the API has are on the portfolio page: BP available, gamma, per underlying."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from metrics.tests.pnl_book import make_pnl_book
from portfolios.models import Portfolio
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(alice):
    book = make_pnl_book(alice)
    with rls.as_service():
        Portfolio.objects.filter(pk=book.pk).update(buying_power=Decimal("84322.23"))
        book.refresh_from_db()
    return book


def cell_texts(html: str, underlying: str) -> list[str]:
    row = html.split(f'<tr data-underlying="{underlying}">')[1].split("</tr>")[0]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>.*?</td>", row)]


def test_the_page_shows_the_apis_per_underlying_rows_gamma_and_buying_power(
    alice_api, alice_client, book
):
    metrics = alice_api.get(f"/api/portfolio/{book.pk}/metrics/").json()
    page = alice_client.get(f"/portfolios/{book.pk}/").content.decode()
    assert metrics["buying_power_available"] == "84322.23"
    assert "$84,322" in page.split('data-figure="bp"')[1][:400]
    assert "Γ " in page.split('data-figure="gamma"')[1][:80]
    spy = next(row for row in metrics["by_underlying"] if row["underlying"] == "SPY")
    cells = cell_texts(page, "SPY")
    # BP in $ to the cent and as a share of net liq to 0.1 %, P/L open with its sign
    assert cells[5] == f"${Decimal(spy['buying_power_used']):,.2f}"
    assert cells[6] == f"{spy['buying_power_fraction'] * 100:.1f} %"
    assert cells[7] == "+$25.40" == f"+${spy['pnl_open']}"


def test_a_collapsed_group_shows_its_strikes_and_the_underlyings_price(alice_client, book):
    page = alice_client.get(f"/portfolios/{book.pk}/").content.decode()
    condor = page.split("Iron condor")[1].split("</summary>")[0]
    assert re.search(r"data-strikes>490/500/560/570<", condor)
    assert "<span data-underlying-price>SPY $530.00</span>" in condor
