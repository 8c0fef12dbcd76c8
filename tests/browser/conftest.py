"""Headless Chromium (Debian's chromium + chromedriver) driven by Selenium against live_server.

Every test gets a fresh browser window whose console and network are read at
the end: a console error, or a request to any host but the app's and the
Tastytrade sandbox's, fails the test. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.management import call_command

from thetavue_site import rls

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts"
WAIT_SECONDS = 20
PHONE_WIDTH, DESKTOP_WIDTH = 375, 1280

DEMO_EMAIL = "demo@thetavue.local"
DEMO_PASSWORD = "demo-trader-2026"  # noqa: S105 - bootstrap_demo's public development login


def _missing_browser() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not Path(path).exists():
            return f"{path} is missing: install Debian's chromium and chromium-driver (make browser-deps)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements.txt)"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing_browser()
    if reason is None:
        return
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so the browser fixture knows a test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


class Browser:
    """A Chrome session plus what a test needs: sign in, wait, shoot, audit."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url.rstrip("/")

    # Navigation ----------------------------------------------------------------

    def get(self, path: str) -> None:
        self.driver.get(self.base_url + path)

    def find(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str):
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def wait_for(self, condition, *, timeout: float = WAIT_SECONDS, message: str = ""):
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.support.ui import WebDriverWait

        # htmx swaps elements while a condition reads them: a stale one means "look again".
        return WebDriverWait(
            self.driver,
            timeout,
            poll_frequency=0.1,
            ignored_exceptions=[StaleElementReferenceException],
        ).until(lambda driver: condition(), message)

    def wait_for_css(self, css: str, *, timeout: float = WAIT_SECONDS):
        return self.wait_for(lambda: self.find_all(css), timeout=timeout, message=f"no {css}")[0]

    def wait_for_text(self, css: str, text: str, *, timeout: float = WAIT_SECONDS):
        def seen():
            return any(text in element.text for element in self.find_all(css))

        return self.wait_for(seen, timeout=timeout, message=f"{text!r} never appeared in {css}")

    def sign_in(self, email: str, password: str) -> None:
        self.get("/accounts/login/")
        self.find("#id_login").send_keys(email)
        self.find("#id_password").send_keys(password)
        self.find("form button[type=submit]").click()
        self.wait_for_css("nav.mainnav")

    # Evidence ------------------------------------------------------------------

    def screenshot(self, name: str, *, width: int) -> Path:
        """Save a full-page screenshot of the current page at `width` CSS pixels.

        The viewport is emulated (a phone below 600 px, so the page's meta
        viewport applies), then grown to the page's height and restored.
        """
        ARTIFACTS.mkdir(exist_ok=True)
        phone = width < 600
        metrics = {"width": width, "height": 812 if phone else 900, "deviceScaleFactor": 1}
        metrics["mobile"] = phone
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        if phone:  # what a phone shows before any scrolling
            self.driver.save_screenshot(str(ARTIFACTS / f"{name}-{width}-top.png"))
        height = self.driver.execute_script(
            "return Math.ceil(document.documentElement.scrollHeight)"
        )
        metrics["height"] = min(max(height, 600), 8000)
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
        path = ARTIFACTS / f"{name}-{width}.png"
        self.driver.save_screenshot(str(path))
        self.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        return path

    def console_errors(self, *, ignore_origins: set[str] = frozenset()) -> list[dict]:
        """Severe console entries, but those a third party's own page logged about itself."""
        return [
            entry
            for entry in self.driver.get_log("browser")
            if entry["level"] == "SEVERE"
            and not any(entry["message"].startswith(origin + "/") for origin in ignore_origins)
        ]

    def requested_hosts(self) -> set[str]:
        """Hosts of every request the page made (Chrome's performance log)."""
        hosts = set()
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message.get("method") != "Network.requestWillBeSent":
                continue
            split = urlsplit(message["params"]["request"]["url"])
            if split.scheme not in ("http", "https", "ws", "wss"):
                continue  # data:, blob:, and the browser's own chrome:// pages
            hosts.add(f"{split.hostname}:{split.port}")
        return hosts


def _chrome(user_data_dir: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",  # runs as root on CI and the developer machines
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-features=Translate,OptimizationHints,MediaRouter",
        "--hide-scrollbars",
        f"--user-data-dir={user_data_dir}",
        f"--window-size={DESKTOP_WIDTH},900",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))


@pytest.fixture
def browser(request, live_server, extra_allowed_hosts) -> Iterator[Browser]:
    """A fresh Chromium window; after the test, no console errors and no foreign hosts."""
    user_data_dir = tempfile.mkdtemp(prefix="thetavue-chrome-")
    driver = _chrome(user_data_dir)
    driver.set_page_load_timeout(WAIT_SECONDS)
    session = Browser(driver, live_server.url)
    try:
        yield session
        report = getattr(request.node, "report_call", None)
        if report is not None and report.failed:
            # What the browser showed when the test failed, for the CI artefacts.
            ARTIFACTS.mkdir(exist_ok=True)
            name = f"failed-{request.node.name}"
            driver.save_screenshot(str(ARTIFACTS / f"{name}.png"))
            (ARTIFACTS / f"{name}.html").write_text(driver.page_source)
        # The sandbox's consent page stands in for Tastytrade's: what it logs
        # about itself (its missing favicon) is not the app's.
        errors = session.console_errors(
            ignore_origins={f"http://{host}" for host in extra_allowed_hosts}
        )
        app = urlsplit(live_server.url)
        allowed = {f"{app.hostname}:{app.port}", *extra_allowed_hosts}
        foreign = session.requested_hosts() - allowed
    finally:
        driver.quit()
        shutil.rmtree(user_data_dir, ignore_errors=True)
    assert not errors, f"console errors: {errors}"
    assert not foreign, f"requests left the app: {sorted(foreign)}"


@pytest.fixture
def extra_allowed_hosts() -> set[str]:
    """Hosts besides the app's a test's browser may reach (the sandbox's, when used)."""
    return set()


@pytest.fixture
def demo_trader(settings, transactional_db):
    """The demo trader and their manual book, created by the real bootstrap command."""
    settings.DEBUG = True  # bootstrap_demo refuses to run outside development
    call_command("bootstrap_demo", stdout=io.StringIO())
    settings.DEBUG = False
    from thetavue_site.users.models import User

    with rls.as_service():
        return User.objects.get(email=DEMO_EMAIL)
