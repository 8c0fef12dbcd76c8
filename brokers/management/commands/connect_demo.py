"""Connect the demo trader to the local sandbox through the real OAuth flow (development).

The consent is given on the sandbox's own authorize page (its auto-approve
parameters stand in for the click), the code comes back through the
registered redirect, and the same service as the callback view exchanges it.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import requests
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from brokers.connections import authorize_url_for, connection_create_from_code
from brokers.models import BrokerConnection
from thetavue_site import rls
from thetavue_site.users.models import User

DEMO_EMAIL = "demo@thetavue.local"
SANDBOX_LOGIN = "demo"


class Command(BaseCommand):
    help = "Connect the demo trader to the local Tastytrade sandbox (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--wait", action="store_true", help="Wait up to 60 s for the sandbox.")

    def handle(self, *args, wait: bool, **options):
        if not settings.DEBUG:
            raise CommandError("connect_demo is for development; DEBUG is off.")
        with rls.as_service():
            user = User.objects.filter(email=DEMO_EMAIL).first()
        if user is None:
            raise CommandError("no demo trader: run `manage.py bootstrap_demo` first")
        with rls.as_user(user.pk):
            if (
                BrokerConnection.objects.filter(
                    user=user, environment=settings.TASTYTRADE_API_BASE_URL
                )
                .exclude(status=BrokerConnection.Status.DISABLED)
                .exists()
            ):
                self.stdout.write("demo trader already connected to the sandbox")
                return
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
