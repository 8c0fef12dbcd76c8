"""Create the demo trader, an admin and the demo manual book (idempotent).

It lives in brokers, the top app, because it writes portfolios and prices
them with metrics; connect_demo then connects the trader to the sandbox.
"""

from __future__ import annotations

import datetime as dt
import os

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from metrics.services import positions_reprice
from portfolios import demo
from portfolios.models import Portfolio, Position
from portfolios.services import positions_regroup
from thetavue_site import rls
from thetavue_site.users.models import User

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
            trader = self._user(DEMO_EMAIL, demo_password, display_name="Demo Trader")
            self._user(
                ADMIN_EMAIL, admin_password, display_name="Admin", is_staff=True, is_superuser=True
            )
            self._demo_book(trader)
        self.stdout.write(
            self.style.SUCCESS(
                f"demo trader: {DEMO_EMAIL} / {demo_password}\nadmin:       {ADMIN_EMAIL} / {admin_password}"
            )
        )

    def _user(self, email: str, password: str, **fields) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=password, **fields)
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"primary": True, "verified": True}
            )
        return user

    def _demo_book(self, trader: User) -> None:
        portfolio, created = Portfolio.objects.get_or_create(
            user=trader,
            name=demo.DEMO_PORTFOLIO_NAME,
            defaults={"account_type": Portfolio.AccountType.MANUAL},
        )
        if not created:
            return
        today = timezone.localdate()
        legs = []
        for leg in demo.demo_legs():
            expiry = demo.monthly_expiry(today, leg.months_ahead) if leg.option_type else None
            symbol = (
                demo.occ_symbol(leg.underlying, expiry, leg.option_type, leg.strike)
                if leg.option_type
                else leg.underlying
            )
            if leg.instrument_type == "Future":
                symbol = demo.front_future(leg.underlying, today)
            legs.append(
                Position(
                    portfolio=portfolio,
                    symbol=symbol,
                    underlying_symbol=symbol if leg.instrument_type == "Future" else leg.underlying,
                    instrument_type=leg.instrument_type,
                    option_type=leg.option_type,
                    strike_price=leg.strike,
                    expiration_date=expiry,
                    quantity=leg.quantity,
                    multiplier=leg.multiplier,
                    open_date=today - dt.timedelta(days=14),
                    average_open_price=leg.average_open_price,
                    premium_received=-leg.average_open_price * leg.quantity * leg.multiplier,
                    mark=leg.mark,
                    current_value=leg.mark * leg.quantity * leg.multiplier,
                    underlying_price=leg.underlying_price,
                    beta=leg.beta,
                    opening_order_id=leg.opening_order_id,
                    strategy_type="stock" if leg.option_type is None else "other",
                )
            )
        Position.objects.bulk_create(legs)
        portfolio.net_liquidation_value = (
            sum((leg.current_value for leg in legs), start=portfolio.net_liquidation_value or 0)
            + 50_000
        )
        portfolio.save(update_fields=["net_liquidation_value", "updated_at"])
        positions_regroup(portfolio=portfolio)
        positions_reprice(portfolio=portfolio)
