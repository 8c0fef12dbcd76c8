"""6. One account's sync write of 1,000 legs vs COPY into a staging table.

Ours: ``portfolios.sync_apply.account_snapshot_apply`` inside
``rls.as_user`` (as ``brokers.sync`` calls it), on an account already
holding 1,000 legs: the snapshot changes every mark and greek, opens 50 new
legs and closes 50, with a balance and no transactions. Two snapshots
alternate, so every run does the same amount of upserting and deleting.

Floor: the least work that gets the same 1,000 rows into the server: one
``COPY … FROM STDIN`` of the same columns into a temporary staging table
(no indexes, no RLS, no WAL), in one transaction. Target ≤ 3×, and the
number of statements per table must be the same for 10 legs as for 1,000.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

import psycopg

from bench import seed
from bench.runner import Context, Result, interleaved, median

TARGET = 3.0
LEGS = 1000
CHURN = 50  # legs closed and opened by each snapshot
SMALL = 10
BALANCE = {
    "net_liquidating_value": Decimal("251234.56"),
    "cash_balance": Decimal("150000.00"),
    "equity_buying_power": Decimal("300000.00"),
    "derivative_buying_power": Decimal("150000.00"),
    "used_derivative_buying_power": Decimal("50000.00"),
    "maintenance_requirement": Decimal("50000.00"),
    "maintenance_excess": Decimal("100000.00"),
    "broker_updated_at": None,
}
_TABLE = re.compile(r'(?:FROM|INTO|UPDATE|JOIN)\s+"?([a-z_]+)"?', re.IGNORECASE)


def snapshots(today: dt.date, size: int) -> tuple[list[dict], list[dict]]:
    """Return two snapshots of one account: B moves every mark, closes CHURN legs of A, opens CHURN."""
    churn = max(1, size * CHURN // LEGS)
    legs = seed.book_legs(size + churn, seed=11, today=today)
    first = legs[:size]
    second = []
    for leg in legs[churn:]:
        moved = dict(leg)
        moved["mark"] = leg["mark"] + Decimal("0.05")
        moved["current_value"] = leg["current_value"] + Decimal("0.05") * leg["quantity"] * 100
        moved["delta"] = leg["delta"] * 1.01
        moved["theta"] = leg["theta"] * 0.99
        second.append(moved)
    return first, second


def statements_by_table(queries: list[dict]) -> dict[str, int]:
    """Count statements by the first table each names ("-" for BEGIN, set_config, …)."""
    counts: Counter[str] = Counter()
    for query in queries:
        match = _TABLE.search(query["sql"])
        counts[match.group(1) if match else "-"] += 1
    return dict(sorted(counts.items()))


class CopyFloor:
    """COPY the snapshot's rows, as they are, into a temporary staging table."""

    def __init__(self, database_url: str, columns: list[str]) -> None:
        self.conn = psycopg.connect(database_url)
        self.columns = columns
        names = ", ".join(columns)
        create = (
            f"CREATE TEMP TABLE staging_positions AS SELECT {names} FROM positions WITH NO DATA"  # noqa: S608 - the model's own field names
        )
        with self.conn.cursor() as cursor:
            cursor.execute(create)
        self.conn.commit()
        self._copy = f"COPY staging_positions ({names}) FROM STDIN"

    def reset(self) -> None:
        self.conn.execute("TRUNCATE staging_positions")
        self.conn.commit()

    def write(self, legs: list[dict]) -> None:
        with self.conn.cursor() as cursor, cursor.copy(self._copy) as copy:
            for leg in legs:
                copy.write_row([leg[column] for column in self.columns])
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


def run(ctx: Context) -> list[Result]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from brokers.models import BrokerConnection
    from portfolios.models import Position
    from portfolios.sync_apply import AccountSnapshot, account_snapshot_apply
    from thetavue_site import rls

    today = timezone.localdate()
    with rls.as_service():
        user_id, small_user_id = seed.make_users("syncwrite", 2)
        link = BrokerConnection.objects.create(user_id=user_id, environment="bench")
        small_link = BrokerConnection.objects.create(user_id=small_user_id, environment="bench")

    def apply(owner: str, link_id: int, legs: list[dict]):
        snapshot = AccountSnapshot(
            broker_account_id="5WTBENCH1",
            name="Bench margin",
            account_type="margin",
            legs=legs,
            spy_price=seed.SPY_PRICE,
            balance=BALANCE,
            transactions=[],
        )
        with rls.as_user(owner):
            return account_snapshot_apply(
                user_id=owner, connection_id=link_id, snapshot=snapshot, synced_at=timezone.now()
            )

    first, second = snapshots(today, LEGS)
    small_first, small_second = snapshots(today, SMALL)
    apply(user_id, link.pk, first)
    apply(small_user_id, small_link.pk, small_first)
    seed.analyze()

    # Statements per table, for one write of each size (the second snapshot each time).
    counts = {}
    for size, owner, link_id, legs in (
        (SMALL, small_user_id, small_link.pk, small_second),
        (LEGS, user_id, link.pk, second),
    ):
        with CaptureQueriesContext(connection) as captured:
            result = apply(owner, link_id, legs)
        counts[size] = statements_by_table(captured.captured_queries)
        assert result.closed > 0 and result.added > 0, result
    apply(small_user_id, small_link.pk, small_first)  # leave both accounts at `first`

    columns = ["symbol", *(name for name in first[0] if name != "symbol")]
    floor = CopyFloor(ctx.env.database_url, columns)
    state = {"next": second}

    def ours():
        legs = state["next"]
        apply(user_id, link.pk, legs)
        state["next"] = first if legs is second else second

    repeat = 5 if ctx.quick else 21
    try:
        ours_times, floor_times = interleaved(
            ours, lambda: floor.write(state["next"]), repeat=repeat, before=floor.reset
        )
    finally:
        floor.close()
    with rls.as_user(user_id):
        held = Position.objects.filter(portfolio__broker_account_id="5WTBENCH1").count()
    return [
        Result(
            name="6 sync write 1,000 legs",
            ours=median(ours_times),
            floor=median(floor_times),
            target=TARGET,
            checks={"statements per table constant": counts[SMALL] == counts[LEGS]},
            details={
                "legs": LEGS,
                "closed_and_opened_per_run": CHURN,
                "runs": repeat,
                "legs_held_after": held,
                "statements_at_10_legs": counts[SMALL],
                "statements_at_1000_legs": counts[LEGS],
            },
        )
    ]
