"""connect_demo goes through the real OAuth flow; sync_broker syncs in the foreground."""

from decimal import Decimal
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.test import override_settings

from brokers.models import BrokerConnection, SyncRun
from portfolios.models import Portfolio, Position
from thetavue_site import rls
from thetavue_site.users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(sandbox):
    with override_settings(DEBUG=True):  # the demo commands refuse to run outside development
        yield sandbox


def test_connect_demo_then_sync_broker(sandbox):
    call_command("bootstrap_demo", stdout=StringIO())
    out = StringIO()
    call_command("connect_demo", stdout=out)
    assert "connected" in out.getvalue()
    call_command("connect_demo", stdout=out)  # again: fresh tokens on the same connection
    assert len(sandbox.requests(path="/oauth/token")) == 2

    progress = StringIO()
    call_command("sync_broker", stdout=progress)

    assert "ok: 2 accounts" in progress.getvalue()
    with rls.as_service():
        connection = BrokerConnection.objects.get()
        assert connection.status == "active"
        assert Position.objects.filter(portfolio__broker_connection=connection).count() > 10
        assert SyncRun.objects.filter(status="succeeded").count() == 1
        # The demo trader holds what real books hold, in both of their books.
        synced = Position.objects.filter(portfolio__broker_connection=connection)
        kinds = set(synced.values_list("instrument_type", flat=True))
        assert kinds == {"Equity", "Equity Option", "Future", "Future Option", "Cryptocurrency"}
        symbols = set(synced.values_list("symbol", flat=True))
        assert {symbol[:4] for symbol in symbols} >= {"/MYM", "/MBT", "./ME"}
        manual = Position.objects.filter(portfolio__broker_connection=None)
        assert {"Future", "Cryptocurrency"} <= set(manual.values_list("instrument_type", flat=True))


def test_bootstrap_demo_creates_logins_and_a_priced_book_once(settings):
    # given
    settings.DEBUG = True
    # when: run twice, as a second `make run` does
    call_command("bootstrap_demo", stdout=StringIO())
    call_command("bootstrap_demo", stdout=StringIO())
    # then
    with rls.as_service():
        trader = User.objects.get(email="demo@thetavue.local")
        admin = User.objects.get(email="admin@thetavue.local")
        assert (trader.is_staff, admin.is_staff, admin.is_superuser) == (False, True, True)
        assert trader.check_password("demo-trader-2026")
        assert EmailAddress.objects.get(user=trader).verified
        book = Portfolio.objects.get(user=trader)
        legs = Position.objects.filter(portfolio=book)
        assert book.is_manual and book.sync_version == 1
        assert book.net_liquidation_value == sum(
            (leg.current_value for leg in legs), start=Decimal(50_000)
        )
        # Priced by the re-pricing: every leg has a greeks source, options an IV.
        assert not legs.filter(greeks_source__isnull=True).exists()
        assert legs.filter(greeks_source="implied").exists()
        # Grouped by detection: no option leg keeps the placeholder type.
        assert not legs.filter(instrument_type="Equity Option", strategy_type="other").exists()
