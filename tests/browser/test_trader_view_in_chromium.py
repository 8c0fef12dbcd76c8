"""The trader's view in headless Chromium: P/L on the overview and the portfolio page.

Numbers on the page must equal the API's for the same portfolio, and no page
may scroll sideways on a 375 px phone. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest
from django.db.models import F
from rest_framework.test import APIClient

from conftest import login
from metrics.tests.pnl_book import make_pnl_book
from portfolios.models import Portfolio
from tests.browser.conftest import (
    ARTIFACTS,
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DESKTOP_WIDTH,
    PHONE_WIDTH,
)
from thetavue_site import rls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def no_sideways_scroll(browser, width: int) -> None:
    """Assert the page is no wider than a `width` px viewport."""
    browser.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": 812, "deviceScaleFactor": 1, "mobile": width < 600},
    )
    scroll_width = browser.driver.execute_script("return document.documentElement.scrollWidth")
    browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert scroll_width <= width, f"{browser.driver.current_url}: {scroll_width} px wide"


def api_metrics(user, portfolio_id: int) -> dict:
    return login(APIClient(), user).get(f"/api/portfolio/{portfolio_id}/metrics/").json()


def usd(text: str) -> str:
    """The pages' signed dollars ("+$423.02") for an API decimal string ("423.02")."""
    value = float(text)
    return f"{'+' if value > 0 else '−' if value < 0 else ''}${abs(value):,.2f}"


def test_pnl_on_the_overview_and_the_portfolio_page_equals_the_api(browser, demo_trader):
    # given: the demo trader also holds the hand-computed book
    book = make_pnl_book(demo_trader)
    metrics = api_metrics(demo_trader, book.pk)
    # and a plan the condor's $760 max loss breaks, saved through the API
    plan = {"name": "Small risk", "portfolio": book.pk, "risk_per_trade": "500.00"}
    saved = login(APIClient(), demo_trader).post("/api/trade-plans/", plan, format="json")
    assert saved.status_code == 201, saved.json()
    # when
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.get("/")
    # then: the book's row shows the API's P/L open and day
    row = next(r for r in browser.find_all("table.data tbody tr") if "Hand P/L" in r.text)
    pnl_open = row.find_element("css selector", "[data-figure=pnl-open]").text
    pnl_day = row.find_element("css selector", "[data-figure=pnl-day]").text
    assert (pnl_open, pnl_day) == (usd(metrics["pnl_open"]), usd(metrics["pnl_day"]))
    assert browser.find("[data-figure=pnl] .tile-label").text.lower() == "p/l open"
    assert browser.find("h1 .plan-badge").get_attribute("data-plan-status") == "breach"
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        no_sideways_scroll(browser, width)
        browser.screenshot("i18-overview-pnl", width=width)

    # when: the portfolio page
    browser.get(f"/portfolios/{book.pk}/")
    browser.wait_for_css("#groups details")
    assert browser.find("h1 .plan-badge").get_attribute("data-plan-status") == "breach"
    marked = browser.find(".group-breach [data-breach-rule=risk_per_trade]")
    assert "Risk per trade" in marked.text
    tile = browser.find("[data-figure=pnl]")
    assert usd(metrics["pnl_open"]) in tile.text
    assert f"{usd(metrics['pnl_day'])} today" in tile.text
    condor = next(
        group for group in metrics["by_strategy"] if group["strategy_type"] == "iron_condor"
    )
    assert any(
        f"+{condor['pnl_open']}" in summary.text and "12.5 % of max" in summary.text
        for summary in browser.find_all("#groups summary")
    )
    assert browser.find("#risk-title ~ [data-risk-graph] svg.risk-chart")
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        no_sideways_scroll(browser, width)
        browser.screenshot("i18-portfolio-pnl", width=width)

    # when: the condor's own risk graph is asked for (htmx swaps it into the group)
    condor_group = next(d for d in browser.find_all("#groups details") if "Iron condor" in d.text)
    condor_group.find_element("css selector", ".group-risk a").click()
    browser.wait_for_css("#groups [data-risk-graph] svg.risk-chart")
    graph = browser.find("#groups [data-risk-graph]")
    assert "max +$240" in graph.get_attribute("innerHTML")
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        no_sideways_scroll(browser, width)
        browser.screenshot("i18-risk-graph", width=width)
    # the graph alone, as a phone shows it
    browser.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 812, "deviceScaleFactor": 1, "mobile": True},
    )
    graph = browser.find("#groups [data-risk-graph]")
    graph.screenshot(str(ARTIFACTS / f"i18-risk-graph-group-{PHONE_WIDTH}.png"))
    browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_the_browser_reports_its_time_zone_once_and_the_account_page_changes_it(
    browser, demo_trader
):
    from thetavue_site import rls
    from thetavue_site.users.models import User

    def zone() -> str:
        with rls.as_service():
            return User.objects.get(pk=demo_trader.pk).time_zone

    # given: the demo trader has no zone; when: they sign in (any page loads the script)
    assert zone() == ""
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    # then: the browser's own zone is stored
    browser.wait_for(lambda: zone() != "", message="the browser never reported its zone")
    reported = browser.driver.execute_script(
        "return Intl.DateTimeFormat().resolvedOptions().timeZone"
    )
    assert zone() == reported
    # when: they choose another on the account page
    browser.get("/account/")
    from selenium.webdriver.support.ui import Select

    Select(browser.find("#id_time_zone")).select_by_value("Asia/Tokyo")
    browser.find(".tz-form button[type=submit]").click()
    browser.wait_for_text(".msg-success", "Asia/Tokyo")
    assert zone() == "Asia/Tokyo"
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        no_sideways_scroll(browser, width)
        browser.screenshot("i18-account-time-zone", width=width)


def test_redoc_loads_without_csp_errors_or_remote_requests(browser, demo_trader):
    # The browser fixture fails the test on any console error or foreign request.
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.get("/api/redoc/")
    browser.wait_for_css(".menu-content")
    browser.wait_for(lambda: browser.find_all("[role=search] input, .search-input"))
    browser.screenshot("i18-redoc", width=DESKTOP_WIDTH)
    browser.get("/favicon.ico")
    assert browser.driver.current_url.endswith(".svg")


def test_a_manual_book_is_made_from_the_pages(browser, demo_trader):
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.get("/")
    browser.find(".head-actions a").click()
    browser.find("#id_name").send_keys("Held elsewhere too")
    browser.find("#id_net_liquidation_value").send_keys("25000")
    browser.find(".manual-form button[type=submit]").click()
    browser.wait_for_text(".msg-success", "created")
    browser.find(".head-actions a").click()  # Add position
    browser.find("#id_symbol").send_keys("SPY")
    browser.find("#id_quantity").send_keys("ten")
    browser.find(".manual-form button[type=submit]").click()
    error = browser.wait_for_css("#id_quantity_error1")
    assert "valid number" in error.text
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        no_sideways_scroll(browser, width)
        browser.screenshot("i18-manual-position-error", width=width)
    quantity = browser.find("#id_quantity")
    quantity.clear()
    quantity.send_keys("100")
    browser.find("#id_mark").send_keys("600")
    browser.find(".manual-form button[type=submit]").click()
    browser.wait_for_text(".msg-success", "Position saved")
    assert "SPY" in browser.find("#groups").text


def test_iv_rank_and_percentile_columns_scroll_inside_the_by_underlying_table(browser, demo_trader):
    # given: the demo book's SPY with IV rank 35 % and IV percentile 62 %, QQQ
    # with a percentile only
    with rls.as_service():
        book = Portfolio.objects.get(user=demo_trader)
        book.positions.filter(underlying_symbol="SPY").update(iv_rank=0.35, iv_percentile=0.62)
        book.positions.filter(underlying_symbol="QQQ").update(iv_percentile=0.08)
        Portfolio.objects.filter(pk=book.pk).update(sync_version=F("sync_version") + 1)
    # when
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.get(f"/portfolios/{book.pk}/")
    table = browser.wait_for_css("[data-table=by-underlying]")
    # then: both columns, each a percent or a dash
    cells = {
        row.get_attribute("data-underlying"): (
            row.find_element("css selector", "[data-iv-rank]").get_attribute("textContent"),
            row.find_element("css selector", "[data-iv-percentile]").get_attribute("textContent"),
        )
        for row in table.find_elements("css selector", "tbody tr")
    }
    assert (cells["SPY"], cells["QQQ"]) == (("35 %", "62 %"), ("\u2014", "8 %"))
    # and on a phone the table scrolls inside its card instead of widening the page
    no_sideways_scroll(browser, PHONE_WIDTH)
    browser.driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": PHONE_WIDTH, "height": 812, "deviceScaleFactor": 1, "mobile": True},
    )
    wrap = browser.driver.execute_script(
        "const w = arguments[0].closest('.table-wrap');"
        "return [w.scrollWidth, w.clientWidth, getComputedStyle(w).overflowX];",
        table,
    )
    browser.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert wrap[0] > wrap[1] and wrap[2] == "auto", wrap
    for width in (PHONE_WIDTH, DESKTOP_WIDTH):
        no_sideways_scroll(browser, width)
        browser.screenshot("i16p-portfolio-iv-columns", width=width)
