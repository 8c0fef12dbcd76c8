"""The overview and the portfolio page: figures with units and signs, groups, charts, what-if."""

from __future__ import annotations

import datetime as dt
import re
from http import HTTPStatus

import pytest
from django.utils import timezone

from portfolios.models import Portfolio
from portfolios.selectors import market_today
from tests.world import grow_book
from thetavue_site import rls

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def text(response) -> str:
    """The page's text with tags and runs of whitespace collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_overview_shows_each_portfolio_with_day_change_greeks_and_sync(alice_client, alice_world):
    page = text(alice_client.get("/"))
    # 10 short puts: Δ +30, Θ +5 $/d, ν −10 $/pt each; net liq 125,000 vs 120,037 at the last close.
    assert "Alicebook margin" in page
    assert "$125,000" in page
    assert "+$4,963" in page  # day change since the latest snapshot before today
    assert "+300" in page  # Δ, share-equivalents
    assert "+$50" in page  # Θ per day
    assert "\u2212$100" in page  # ν with a true minus sign
    assert "Synced" in page
    assert "BWD" in page


def test_overview_draws_each_portfolios_30_day_trend(alice_client, alice_world):
    content = alice_client.get("/").content.decode()
    assert 'aria-label="Alicebook margin: net liq over the last 30 days"' in content


def test_a_stale_close_makes_no_day_change(alice_client, alice_world):
    # given: the latest snapshot is a week old (the nightly job stopped)
    with rls.as_service():
        alice_world.portfolio.historical_metrics.filter(
            date__gte=timezone.localdate() - dt.timedelta(days=6)
        ).delete()
    page = text(alice_client.get("/"))
    assert "+$4,963" not in page
    assert "no recent close" in page


def test_todays_own_snapshot_does_not_reset_the_day_change(alice_client, alice_world):
    # given: today's snapshot exists (a first sync writes one; so does tonight's, at 17:15)
    with rls.as_service():
        latest = alice_world.portfolio.historical_metrics.order_by("-date").first()
        latest.pk = None
        latest.date = market_today()
        latest.net_liquidation_value = alice_world.portfolio.net_liquidation_value
        latest.save()
    page = text(alice_client.get("/"))
    # then: the change is still against the last close before today, not $0
    assert "+$4,963" in page


def test_overview_without_history_says_so_instead_of_zero(alice_client, alice_world):
    with rls.as_service():
        alice_world.portfolio.historical_metrics.all().delete()
    page = text(alice_client.get("/"))
    assert "no recent close" in page


def test_portfolio_page_groups_legs_with_greeks_dte_and_totals(alice_client, alice_world):
    response = alice_client.get(f"/portfolios/{alice_world.portfolio.pk}/")
    page = text(response)
    content = response.content.decode()
    assert content.count('<details class="group"') == 10
    assert "Short put" in page and "X000" in page
    assert "30d" in page  # DTE
    assert "Total" in page and "+300.0" in page and "+50.00" in page
    assert f'href="/api/portfolio/{alice_world.portfolio.pk}/positions/?format=csv"' in content
    # History charts are server-side SVG with a text alternative.
    assert content.count('<svg class="chart"') == 3
    assert "Net liquidation value, $" in content and "<desc>" in content


def test_greeks_are_shown_in_neutral_colours_and_only_pnl_in_red_or_green(
    alice_client, alice_world
):
    # given: 10 short puts: each leg Δ +30, Θ +5.00, ν −10.00; the book +300, +$50/day
    content = alice_client.get(f"/portfolios/{alice_world.portfolio.pk}/").content.decode()

    # then: the theta, delta and BWD tiles and every greek cell are neutral
    tiles = dict(
        re.findall(r'<span class="tile-label"[^>]*>([^<]+)</span><span class="([^"]+)">', content)
    )
    assert (tiles["Theta"], tiles["Delta"], tiles["Beta-weighted Δ"]) == ("tile-value",) * 3
    coloured = re.findall(r'class="[^"]*\b(?:pos|neg)\b[^"]*"[^>]*>([^<]*)<', content)
    # (+50.00 is also each leg's P/L open, rightly coloured)
    assert not {"+30.0", "+5.00", "\u221210.00", "+300.0", "\u2212100.00"} & set(coloured)


def test_portfolio_page_shows_exercise_style_iv_rank_iv_percentile_and_rho(
    alice_client, alice_world
):
    # given: X000's legs are American with the broker's IV rank 35 % and IV
    # percentile 62 %, each with rho -2.5 $/rate point
    with rls.as_service():
        alice_world.portfolio.positions.filter(underlying_symbol="X000").update(
            exercise_style="American", iv_rank=0.35, iv_percentile=0.62, rho=-2.5
        )
        Portfolio.objects.filter(pk=alice_world.portfolio.pk).update(sync_version=99)
    # when
    response = alice_client.get(f"/portfolios/{alice_world.portfolio.pk}/")
    page = text(response)
    content = response.content.decode()
    # then: ten legs of X000 carry the badge, the group its IV rank and IV percentile
    assert content.count(">Am</abbr>") == 10
    assert "IV rank 35 %" in page and "IV pctl 62 %" in page
    assert "\u03c1 \u2212$25/rate pt" in page  # the total: 10 x -2.5
    assert "\u03c1 \u22122.50" in page  # one leg


def by_underlying_cells(content: str) -> dict[str, tuple[str, str]]:
    """Each underlying's (IV rank, IV percentile) cells in the by-underlying table."""
    table = content.split('data-table="by-underlying"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr data-underlying="([^"]+)">(.*?)</tr>', table, flags=re.S)
    return {
        name: (
            re.search(r"<td[^>]*data-iv-rank>([^<]*)</td>", row).group(1),
            re.search(r"<td[^>]*data-iv-percentile>([^<]*)</td>", row).group(1),
        )
        for name, row in rows
    }


def test_by_underlying_shows_iv_rank_and_iv_percentile_as_percents_or_a_dash(
    alice_client, alice_world
):
    # given: X000 with the broker's IV rank 0.35 and IV percentile 0.62; X001
    # with a percentile of 0.08 and no rank
    grow_book(alice_world, to_legs=20)
    with rls.as_service():
        positions = alice_world.portfolio.positions
        positions.filter(underlying_symbol="X000").update(iv_rank=0.35, iv_percentile=0.62)
        positions.filter(underlying_symbol="X001").update(iv_rank=None, iv_percentile=0.08)
        Portfolio.objects.filter(pk=alice_world.portfolio.pk).update(sync_version=99)
    # when
    content = alice_client.get(f"/portfolios/{alice_world.portfolio.pk}/").content.decode()
    # then: two labelled columns, each a percent; the missing rank is a dash, not 0
    table = content.split('data-table="by-underlying"', 1)[1].split("</table>", 1)[0]
    headers = re.findall(
        r'<th scope="col"[^>]*data-column="(iv-[a-z]+)"><abbr title="([^"]+)">', table
    )
    assert [column for column, _ in headers] == ["iv-rank", "iv-percentile"]
    assert "52-week low" in headers[0][1] and "past year's days" in headers[1][1]
    assert by_underlying_cells(content) == {
        "X000": ("35 %", "62 %"),
        "X001": ("\u2014", "8 %"),
    }


def test_by_underlying_leaves_out_iv_columns_when_no_underlying_has_figures(
    alice_client, alice_world
):
    content = alice_client.get(f"/portfolios/{alice_world.portfolio.pk}/").content.decode()
    assert "data-iv-rank" not in content and 'data-column="iv-percentile"' not in content


def test_a_manual_portfolio_has_no_sync_controls(alice_client, alice):
    with rls.as_service():
        manual = Portfolio.objects.create(user=alice, name="Held elsewhere", account_type="manual")
    page = text(alice_client.get(f"/portfolios/{manual.pk}/"))
    assert "Manual portfolio" in page
    assert "Sync now" not in page
    assert "No open positions" in page
    assert "No nightly snapshots yet" in page


def test_the_snapshot_time_on_the_page_is_the_setting(alice_client, alice, settings):
    settings.SNAPSHOT_TIME = "18:05"
    with rls.as_service():
        manual = Portfolio.objects.create(user=alice, name="Held elsewhere", account_type="manual")
    page = text(alice_client.get(f"/portfolios/{manual.pk}/"))
    assert "after the market closes (18:05 New York)" in page


def test_what_if_with_htmx_returns_the_grid_only(alice_client, alice_world):
    response = alice_client.post(
        f"/portfolios/{alice_world.portfolio.pk}/what-if",
        {"moves": "-10, 0, 10", "iv_shifts": "0, 5", "days_forward": "7"},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert content.startswith('<div id="what-if-result"')
    assert content.count("<tr") == 4  # a header and one row per move
    assert "7 days forward" in text(response)


def test_what_if_without_htmx_renders_the_whole_page(alice_client, alice_world):
    response = alice_client.post(
        f"/portfolios/{alice_world.portfolio.pk}/what-if",
        {"moves": "\u22125, 5", "iv_shifts": "0", "days_forward": "0"},
    )
    assert response.status_code == HTTPStatus.OK
    assert "<html" in response.content.decode()
    assert 'id="what-if-result"' in response.content.decode()


@pytest.mark.parametrize(
    ("moves", "message"),
    [("", "This field is required."), ("up", "Numbers only"), ("-99", "from -95 to 500")],
)
def test_what_if_names_a_bad_input(alice_client, alice_world, moves, message):
    response = alice_client.post(
        f"/portfolios/{alice_world.portfolio.pk}/what-if",
        {"moves": moves, "iv_shifts": "0", "days_forward": "0"},
        **HTMX,
    )
    assert message in response.content.decode()


def test_what_if_on_an_empty_book_is_a_grid_of_zeros(alice_client, alice):
    with rls.as_service():
        empty = Portfolio.objects.create(user=alice, name="Empty", account_type="manual")
    response = alice_client.post(
        f"/portfolios/{empty.pk}/what-if",
        {"moves": "-5, 5", "iv_shifts": "0", "days_forward": "0"},
        **HTMX,
    )
    assert response.status_code == HTTPStatus.OK
    assert "$0" in text(response)
