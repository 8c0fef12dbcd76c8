"""The dashboards in a real browser: sign in, the demo book, OAuth connect, live sync, plans.

Runs against pytest-django's live_server, a dedicated Tastytrade sandbox that
redirects back to it, and a real Celery worker. The browser fixture fails a
test on any console error or any request to a host but the app's and the
sandbox's. Screenshots at 375 and 1280 px land in test-artifacts/.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from selenium.webdriver.support.expected_conditions import staleness_of

from brokers.models import SyncRun
from brokers.tests.celery_worker import running_worker
from metrics.models import HistoricalMetric
from portfolios.models import Portfolio
from tastytrade_sandbox import start_sandbox
from tests.browser.conftest import DEMO_EMAIL, DEMO_PASSWORD, DESKTOP_WIDTH, PHONE_WIDTH
from thetavue_site import rls

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Slow the sandbox's account list a little so a run stays "running" long enough
# to be seen; the sync itself is real.
ACCOUNT_LIST_LATENCY_SECONDS = 1.5
SYNC_SECONDS = 60


@pytest.fixture
def sandbox(live_server, settings):
    """A sandbox whose OAuth page redirects to this live server's callback."""
    callback = f"{live_server.url}/api/tastytrade/callback"
    server = start_sandbox(host="127.0.0.1", port=0, redirect_uris=(callback,))
    settings.TASTYTRADE_API_BASE_URL = server.base_url
    settings.TASTYTRADE_AUTHORIZE_URL = f"{server.base_url}/auth.html"
    settings.TASTYTRADE_REDIRECT_URI = callback
    yield server
    server.stop()


@pytest.fixture
def extra_allowed_hosts(sandbox):
    split = urlsplit(sandbox.base_url)
    return {f"{split.hostname}:{split.port}"}


@pytest.fixture
def worker(sandbox):
    with running_worker(base_url=sandbox.base_url) as process:
        yield process


def synced_history_days(user) -> dict[str, int]:
    """Each synced portfolio's history rows, by broker account."""
    with rls.as_service():
        return {
            portfolio.broker_account_id: HistoricalMetric.objects.filter(
                portfolio=portfolio
            ).count()
            for portfolio in Portfolio.objects.filter(user=user).exclude(account_type="manual")
        }


def sync_states(browser, *, until: str = "ok") -> list[str]:
    """Watch the live sync status (htmx polling) until it reads `until`; return what it showed."""
    seen: list[str] = []

    def settled():
        states = [element.get_attribute("data-state") for element in browser.find_all(".sync")]
        if states and (not seen or seen[-1] != states[0]):
            seen.append(states[0])
        return bool(states) and states[0] in (until, "failed")

    browser.wait_for(settled, timeout=SYNC_SECONDS, message=f"sync never settled: {seen}")
    return seen


def test_demo_trader_connects_through_oauth_watches_syncs_and_reads_the_book(
    browser, demo_trader, sandbox, worker
):
    # given: the demo trader, signed in, sees their manual demo book
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.wait_for_text("table.data", "Demo: held elsewhere")

    # when: they agree to the privacy summary and connect Tastytrade
    sandbox.add_fault(
        "latency", path="/customers/me/accounts", seconds=ACCOUNT_LIST_LATENCY_SECONDS, times=None
    )
    browser.get("/connections/")
    browser.find("#consent-new").click()
    browser.find("#consent-new").find_element("xpath", "ancestor::form//button").click()
    browser.wait_for(lambda: "sandbox" in browser.driver.title.lower())
    browser.find("button[value=allow]").click()

    # then: back on the connections page, the first sync runs live and finishes
    browser.wait_for_text(".msg-success", "Tastytrade connected")
    first = sync_states(browser)
    assert first[0] in ("queued", "running") and first[-1] == "ok", first
    # the card refreshes itself when the run ends: the synced accounts are listed
    browser.wait_for_text(".conn-meta", "5WT00001")
    browser.screenshot("connections", width=PHONE_WIDTH)
    browser.screenshot("connections", width=DESKTOP_WIDTH)

    # and the first sync left each synced account a year of history (the
    # broker's net liq, then today's row), so the overview has its trend at once
    history = synced_history_days(demo_trader)
    assert history and all(days >= 250 for days in history.values()), history
    browser.get("/")
    rows = browser.find_all("table.data tbody tr")
    assert len(rows) >= 2
    browser.screenshot("overview", width=PHONE_WIDTH)
    browser.screenshot("overview", width=DESKTOP_WIDTH)

    # when: a minute has passed (the manual-sync cooldown) and they press "Sync now"
    with rls.as_service():
        SyncRun.objects.filter(connection__user=demo_trader).update(
            created_at=timezone.now() - dt.timedelta(minutes=2)
        )
    synced = [
        link.get_attribute("href")
        for link in browser.find_all("table.data tbody th a")
        if "Demo: held elsewhere" not in link.text
    ]
    browser.driver.get(synced[0])
    browser.wait_for_css("#groups details")
    book_before = browser.find("#book")
    browser.find(".head-side .sync button").click()

    # then: the status goes through queued/running to synced without a reload
    browser.wait_for(
        lambda: browser.find(".head-side .sync").get_attribute("data-state") != "ok",
        message="Sync now did not start a run",
    )
    second = sync_states(browser)
    assert second[0] in ("queued", "running") and second[-1] == "ok", second
    browser.wait_for_text(".sync", "Synced just now")
    # and the figures swap themselves in when the run ends (htmx, no reload)
    browser.wait_for(
        lambda: staleness_of(book_before)(browser.driver), message="book not refreshed"
    )
    browser.wait_for_css("#book #groups details")

    # and the book reads as a book: groups expand, totals, a what-if grid
    group = browser.find("#groups details")
    assert group.find_element("css selector", ".strategy").text
    browser.find("[data-toggle-all]").click()
    browser.find(".whatif-form button[type=submit]").click()
    browser.wait_for_css("#what-if-result table")
    assert browser.find_all("#what-if-result tbody tr")
    browser.screenshot("portfolio", width=PHONE_WIDTH)
    browser.screenshot("portfolio", width=DESKTOP_WIDTH)


def test_a_plan_with_a_validation_error_is_fixed_and_measured(browser, demo_trader):
    from selenium.webdriver.support.ui import Select

    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.get("/plans/new/")

    # given: a plan whose short-delta range runs backwards
    browser.find("#id_name").send_keys("Wheel, 30-delta puts")
    browser.find("#id_monthly_income_target").send_keys("1500")
    browser.find("#id_risk_per_trade").send_keys("800")
    Select(browser.find("#id_strategies-0-strategy_type")).select_by_value("short_put")
    browser.find("#id_strategies-0-allocation_percentage").send_keys("40")
    browser.find("#id_strategies-0-delta_range_min").send_keys("0.35")
    browser.find("#id_strategies-0-delta_range_max").send_keys("0.15")
    browser.find("form button.btn-primary[type=submit]").click()

    # then: the service's message sits next to the field it names
    error = browser.wait_for_css("#id_strategies-0-delta_range_max_error1")
    assert "Must be at least the minimum delta" in error.text
    browser.screenshot("plan-error", width=PHONE_WIDTH)
    browser.screenshot("plan-error", width=DESKTOP_WIDTH)

    # when: the range is fixed
    low = browser.find("#id_strategies-0-delta_range_min")
    high = browser.find("#id_strategies-0-delta_range_max")
    low.clear()
    low.send_keys("0.15")
    high.clear()
    high.send_keys("0.35")
    browser.find("form button.btn-primary[type=submit]").click()

    # then: the plan is saved and measured against the live book
    browser.wait_for_text(".msg-success", "created")
    browser.wait_for_css(".status-pill")
    assert browser.find_all(".checks li")
    browser.screenshot("plan", width=PHONE_WIDTH)
    browser.screenshot("plan", width=DESKTOP_WIDTH)
    browser.get("/plans/")
    browser.wait_for_text("table.data", "Wheel, 30-delta puts")
    browser.screenshot("plans", width=DESKTOP_WIDTH)


def test_account_token_is_shown_once_and_privacy_is_readable(browser, demo_trader):
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    browser.get("/account/")
    browser.find("#id_name").send_keys("spreadsheet")
    browser.find("form[action='/account/tokens'] button[type=submit]").click()
    token = browser.wait_for_css("#new-token")
    assert token.text.startswith("tv_")
    browser.screenshot("account", width=PHONE_WIDTH)
    browser.screenshot("account", width=DESKTOP_WIDTH)
    browser.get("/account/")
    assert not browser.find_all("#new-token")  # shown once
    browser.get("/privacy/")
    browser.wait_for_text("h1", "Privacy")
    browser.screenshot("privacy", width=PHONE_WIDTH)


def test_notifications_are_counted_and_marked_read(browser, demo_trader):
    from thetavue_site.users.models import Notification

    with rls.as_service():
        Notification.objects.create(
            user=demo_trader,
            kind="broker_needs_reauth",
            level="error",
            title="Reconnect your Tastytrade account",
            body="Tastytrade no longer accepts ThetaVue's access. Your last synced positions are kept.",
        )
        Notification.objects.create(
            user=demo_trader,
            kind="plan_breach",
            level="warning",
            title="Plan “Wheel” breached: risk per trade",
            body="SPY short put 540 ×2 has undefined risk.",
        )
    browser.sign_in(DEMO_EMAIL, DEMO_PASSWORD)
    assert browser.find(".bell .count").text == "2"
    browser.find(".bell").click()
    browser.wait_for_css(".notif.unread")
    browser.screenshot("notifications", width=PHONE_WIDTH)
    browser.screenshot("notifications", width=DESKTOP_WIDTH)
    browser.find(".notif.unread form button").click()
    browser.wait_for(lambda: browser.find(".bell .count").text == "1")


def test_anonymous_visitors_are_sent_to_sign_in(browser):
    browser.get("/")
    browser.wait_for_css("#id_login")
    assert "/accounts/login/" in browser.driver.current_url
    browser.screenshot("sign-in", width=PHONE_WIDTH)
