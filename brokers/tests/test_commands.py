"""connect_demo goes through the real OAuth flow; sync_broker syncs in the foreground."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from brokers.models import BrokerConnection, SyncRun
from portfolios.models import Position
from thetavue_site import rls

pytestmark = pytest.mark.django_db


@pytest.fixture
def sandbox(tastytrade_sandbox):
    with override_settings(
        DEBUG=True,
        TASTYTRADE_API_BASE_URL=tastytrade_sandbox.base_url,
        TASTYTRADE_AUTHORIZE_URL=tastytrade_sandbox.authorize_url,
        TASTYTRADE_REDIRECT_URI=tastytrade_sandbox.config.redirect_uris[0],
    ):
        yield tastytrade_sandbox


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
