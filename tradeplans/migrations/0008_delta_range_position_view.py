"""Rewrite signed delta ranges from the option's own delta to the position view.

Delta ranges used to compare a short leg's own option Δ (a put's < 0, a
call's > 0) when a bound was negative; they now compare the leg's position
delta as Tastytrade shows it (a short call's < 0, a short put's > 0), which
is −Δ. A signed range [min, max] over Δ is the range [−max, −min] over the
position delta, so each stored signed range is negated and swapped:

- a range with a bound on each side of zero (−0.30 to 0.20) keeps its exact
  meaning; an open top (−0.30 to null) becomes −1 to 0.30, not null to
  0.30, which would read as |Δ| ≤ 0.30;
- an all-negative range (−0.30 to −0.16) selected short puts of 16 to 30
  delta and no short call; it becomes 0.16 to 0.30, which selects those
  puts exactly and compares a call by its size;
- except on strategies whose short legs are all calls: an all-negative
  range there could match no short call before, and the trader typed it as
  a short call's delta, which is what it now means: left as written.

Ranges with no negative bound compare |Δ| before and after: unchanged.
Backwards, every signed range is negated and swapped again (a call-only
range written as −0.30 to −0.10 then reads 0.10 to 0.30, its meaning in
the old convention). One thing a rollback cannot restore: an all-negative
put range rewritten forwards as 0.16 to 0.30 is indistinguishable from a
range typed that way, so it stays a |Δ| range (it then admits calls of that
size too, where before it refused every call).
"""

from decimal import Decimal

from django.db import migrations
from django.db.models import Q

CALL_ONLY = (
    "short_call",
    "covered_call",
    "call_credit_spread",
    "call_debit_spread",
    "collar",
    "synthetic_short",
)
SIGNED = Q(delta_range_min__lt=0) | Q(delta_range_max__lt=0)


def _flip(rows) -> list:
    changed = []
    for row in rows:
        low, high = row.delta_range_min, row.delta_range_max
        # An open bound is ±1; the new minimum is written out so the range
        # stays signed (an open minimum with a positive maximum reads as |Δ|).
        row.delta_range_min = Decimal(-1) if high is None else -high
        row.delta_range_max = None if low is None else -low
        changed.append(row)
    return changed


def _strategies(apps, schema_editor):
    # trade_plan_strategies has FORCE ROW LEVEL SECURITY: the owner role sees
    # rows only as the service.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT set_config('app.service', 'on', true)")
    return apps.get_model("tradeplans", "TradePlanStrategy").objects


def to_position_view(apps, schema_editor):
    strategies = _strategies(apps, schema_editor)
    rows = strategies.filter(SIGNED).exclude(
        Q(delta_range_max__lte=0) & Q(strategy_type__in=CALL_ONLY)
    )
    strategies.bulk_update(_flip(rows), ["delta_range_min", "delta_range_max"])


def to_option_delta(apps, schema_editor):
    strategies = _strategies(apps, schema_editor)
    strategies.bulk_update(
        _flip(strategies.filter(SIGNED)), ["delta_range_min", "delta_range_max"]
    )


class Migration(migrations.Migration):
    dependencies = [("tradeplans", "0007_merge_0005_verbose_names_0006_merge_20261206_1541")]

    operations = [migrations.RunPython(to_position_view, to_option_delta)]
