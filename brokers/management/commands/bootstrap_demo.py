"""Create the demo trader, an admin and the demo manual book (idempotent).

It lives in brokers, the top app, because it composes three apps' services:
users creates the logins, portfolios the book, metrics prices it. connect_demo
then connects the trader to the sandbox.
"""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from metrics.services import positions_reprice
from portfolios.demo import demo_portfolio_create
from thetavue_site import rls
from thetavue_site.users.services import user_get_or_create_local

DEMO_EMAIL = "demo@thetavue.local"
ADMIN_EMAIL = "admin@thetavue.local"


def _password(variable: str, default: str) -> str:
    return os.environ.get(variable, default)


class Command(BaseCommand):
    help = "Create the demo trader, an admin and a manual demo book (development only)."

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("bootstrap_demo is for development; DEBUG is off.")
        demo_password = _password("DEMO_PASSWORD", "demo-trader-2026")
        admin_password = _password("ADMIN_PASSWORD", "admin-thetavue-2026")
        with rls.as_service(), transaction.atomic():
            trader = user_get_or_create_local(
                email=DEMO_EMAIL, password=demo_password, display_name="Demo Trader"
            )
            user_get_or_create_local(
                email=ADMIN_EMAIL, password=admin_password, display_name="Admin", is_staff=True
            )
            portfolio = demo_portfolio_create(user=trader, today=timezone.localdate())
            if portfolio is not None:
                positions_reprice(portfolio=portfolio)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo trader: {DEMO_EMAIL} / {demo_password}\nadmin:       {ADMIN_EMAIL} / {admin_password}"
            )
        )
