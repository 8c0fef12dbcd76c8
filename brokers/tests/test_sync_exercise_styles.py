"""Exercise styles in the sync: the broker's instrument data first, the table as fallback."""

from __future__ import annotations

import re

import pytest

from brokers.models import SyncRun
from brokers.sync import connection_sync
from brokers.tests.sync_helpers import fast_client_factory, granted_connection
from metrics import exercise
from portfolios.models import Position
from thetavue_site import rls

pytestmark = pytest.mark.django_db

INSTRUMENT_LISTS = "/instruments/"
OPTIONS = ("Equity Option", "Future Option")


def sync(connection):
    outcome = connection_sync(
        connection_id=connection.pk,
        owner_id=connection.user_id,
        client_factory=fast_client_factory,
    )
    assert outcome.status == "succeeded", outcome.error
    return outcome


def option_styles(user) -> dict[str, tuple[str, str]]:
    """Symbol → (exercise style, where it came from) for every stored option leg."""
    with rls.as_user(user.pk):
        rows = Position.objects.filter(instrument_type__in=OPTIONS).values_list(
            "symbol", "exercise_style", "exercise_style_source"
        )
        return {symbol: (style, source) for symbol, style, source in rows}


def micro_weekly(user) -> str:
    """The demo book's /MES option: a CME Micro E-mini weekly (EX3), European-listed."""
    with rls.as_user(user.pk):
        symbols = Position.objects.filter(
            instrument_type="Future Option", underlying_symbol__startswith="/MES"
        ).values_list("symbol", flat=True)
        return symbols.get()


def test_the_brokers_stated_style_overrides_the_table(sandbox, alice, alice_api, monkeypatch):
    # A table that does not know the micro weeklies (EX1-EX4) as European, as
    # ours did until it learnt them: on its own it would price this leg American.
    monkeypatch.setattr(exercise, "_EUROPEAN_FUTURE_OPTION_ROOT", re.compile(r"^EW[1-4]?$"))
    connection = granted_connection(sandbox, alice)

    sync(connection)

    styles = option_styles(alice)
    symbol = micro_weekly(alice)
    table_says = exercise.exercise_style(
        instrument_type="Future Option", underlying_symbol="/MES", root="EX3"
    )
    assert (table_says, styles[symbol]) == ("American", ("European", "broker"))
    # Every option leg took the broker's word; SPXW is European, equities American.
    assert {source for _, source in styles.values()} == {"broker"}
    spxw = {style for s, (style, _) in styles.items() if s.startswith("SPXW")}
    aapl = {style for s, (style, _) in styles.items() if s.startswith("AAPL")}
    assert (spxw, aapl) == ({"European"}, {"American"})
    # One list per option kind, every held option symbol asked once.
    asked = sandbox.requests(path=INSTRUMENT_LISTS)
    assert sorted(entry.path for entry in asked) == [
        "/instruments/equity-options",
        "/instruments/future-options",
    ]
    assert sorted(s for entry in asked for s in entry.query["symbol[]"]) == sorted(styles)
    # The positions API says which model priced the leg and where that came from.
    with rls.as_user(alice.pk):
        portfolio_id = Position.objects.get(symbol=symbol).portfolio_id
    listed = alice_api.get(f"/api/portfolio/{portfolio_id}/positions/", {"limit": 500}).json()
    leg = next(row for row in listed["results"] if row["symbol"] == symbol)
    assert (leg["exercise_style"], leg["exercise_style_source"]) == ("European", "broker")


def test_a_steady_state_sync_asks_for_no_instrument_data(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    first = sync(connection)
    before = option_styles(alice)
    sandbox.tick(15)
    sandbox.clear_log()

    second = sync(connection)

    assert sandbox.requests(path=INSTRUMENT_LISTS) == []
    with rls.as_user(alice.pk):
        runs = {run.pk: run.requests_made for run in SyncRun.objects.all()}
    # The first sync's two instrument lists are not repeated (nor its balance
    # snapshots); the second sync's calls are all in the log, none of them one.
    assert runs[first.run_id] == 14
    assert runs[second.run_id] == len(sandbox.requests()) < 14
    assert option_styles(alice) == before


def test_only_symbols_without_a_broker_stated_style_are_asked_for(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    sync(connection)
    symbol = micro_weekly(alice)
    with rls.as_service():
        Position.objects.filter(symbol=symbol).update(
            exercise_style="American", exercise_style_source="table"
        )
    sandbox.clear_log()

    sync(connection)

    asked = sandbox.requests(path=INSTRUMENT_LISTS)
    assert [(entry.path, entry.query["symbol[]"]) for entry in asked] == [
        ("/instruments/future-options", [symbol])
    ]
    assert option_styles(alice)[symbol] == ("European", "broker")


@pytest.mark.parametrize(
    "fault",
    [
        {"kind": "server_error"},
        {"kind": "malformed_json"},
        {"kind": "status", "status": 403},
        {"kind": "schema_drift", "mode": "shape"},
    ],
    ids=["5xx", "malformed-json", "403", "broken-envelope"],
)
def test_an_instruments_outage_keeps_the_sync_and_the_next_sync_asks_again(sandbox, alice, fault):
    connection = granted_connection(sandbox, alice)
    sandbox.add_fault(**fault, path="/instruments/*", times=None)

    outage = sync(connection)

    # The sync succeeded on the table's styles, stored as such.
    styles = option_styles(alice)
    symbol = micro_weekly(alice)
    assert styles and {source for _, source in styles.values()} == {"table"}
    # The table knows CME's micro weeklies as European too.
    assert styles[symbol] == ("European", "table")
    with rls.as_user(alice.pk):
        run = SyncRun.objects.get(pk=outage.run_id)
        connection.refresh_from_db()
    assert (run.status, run.error, connection.status) == ("succeeded", "", "active")

    # when the broker answers again
    sandbox.clear_faults()
    sandbox.clear_log()
    sync(connection)

    assert len(sandbox.requests(path=INSTRUMENT_LISTS)) == 2
    recovered = option_styles(alice)
    assert recovered[symbol] == ("European", "broker")
    assert {source for _, source in recovered.values()} == {"broker"}


def test_refused_instrument_lists_still_give_the_brokers_styles_one_by_one(sandbox, alice):
    connection = granted_connection(sandbox, alice)
    sandbox.add_fault("status", status=403, path="/instruments/*-options", times=None)

    sync(connection)

    styles = option_styles(alice)
    assert styles[micro_weekly(alice)] == ("European", "broker")
    assert {source for _, source in styles.values()} == {"broker"}
    asked = sandbox.requests(path=INSTRUMENT_LISTS)
    # Each list refused once, then every held option symbol asked alone.
    assert sorted(entry.status for entry in asked) == [200] * len(styles) + [403, 403]
