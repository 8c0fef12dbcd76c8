"""Connect the demo trader to the local sandbox through the real OAuth flow (development).

Runs at every `make run`: the sandbox keeps its grants in memory, so each
start connects again (the same connection row gets fresh tokens) and the
first sync is queued at once.

The consent is given on the sandbox's own authorize page (its auto-approve
parameters stand in for the click), the code comes back through the
registered redirect, and the same service as the callback view exchanges it.
"""

from __future__ import annotations

import threading
import time
from urllib.parse import parse_qs, urlparse

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brokers.connections import authorize_url_for, connection_create_from_code
from thetavue_site import rls
from thetavue_site.users.models import User

DEMO_EMAIL = "demo@thetavue.local"
SANDBOX_LOGIN = "demo"


class Command(BaseCommand):
    help = "Connect the demo trader to the local Tastytrade sandbox (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="Wait up to 60 s for the sandbox.")
        parser.add_argument(
            "--stay",
            action="store_true",
            help="Print where everything runs, then stay up (a process of `make run`).",
        )

    def handle(self, *args, wait: bool, stay: bool = False, **options):
        try:
            self._connect(wait)
        except CommandError as error:
            if not stay:
                raise
            self.stderr.write(f"demo connection not made: {error}")
        if stay:
            self._banner()
            # honcho stops every process when one ends: stay up until Ctrl-C.
            threading.Event().wait()

    def _banner(self) -> None:
        self.stdout.write(
            self.style.SUCCESS(
                "\nThetaVue is running:\n"
                "  dashboards  http://127.0.0.1:8000/\n"
                "  API docs    http://127.0.0.1:8000/api/docs/\n"
                "  admin       http://127.0.0.1:8000/admin/\n"
                f"  sandbox     {settings.TASTYTRADE_API_BASE_URL}\n"
                "  demo trader demo@thetavue.local / demo-trader-2026\n"
                "  admin       admin@thetavue.local / admin-thetavue-2026\n"
                "Ctrl-C stops everything.\n"
            )
        )

    def _connect(self, wait: bool) -> None:
        if not settings.DEBUG:
            raise CommandError("connect_demo is for development; DEBUG is off.")
        with rls.as_service():
            user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            raise CommandError("no demo trader: run `manage.py bootstrap_demo` first")
        self._wait_for_sandbox(60 if wait else 0)
        authorize = authorize_url_for(user_id=user.pk)
        consent = requests.get(
            authorize,
            params={"sandbox_login": SANDBOX_LOGIN, "sandbox_approve": "1"},
            allow_redirects=False,
            timeout=10,
        )
        if consent.status_code not in (302, 303):
            raise CommandError(f"the sandbox refused the consent: HTTP {consent.status_code}")
        query = parse_qs(urlparse(consent.headers["Location"]).query)
        with rls.as_user(user.pk):
            connection, run = connection_create_from_code(
                user=user, code=query["code"][0], state=query["state"][0]
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"demo trader connected (connection {connection.pk}); first sync queued"
            )
        )

    def _wait_for_sandbox(self, seconds: int) -> None:
        deadline = time.monotonic() + seconds
        url = settings.TASTYTRADE_AUTHORIZE_URL
        while True:
            try:
                requests.get(url, timeout=2)
                return
            except requests.ConnectionError:
                if time.monotonic() > deadline:
                    raise CommandError(f"the sandbox at {url} does not answer") from None
                time.sleep(1)
