"""manage.py snapshot_metrics [--date YYYY-MM-DD] [--force]: the nightly snapshot, now."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics import snapshot
from metrics.selectors import new_york_today


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Snapshot every portfolio's metrics into historical_metrics for a New York date "
        "(default today). Rerunning today replaces today's rows; an earlier date only fills "
        "portfolios that have no row for it, with the current figures."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", type=str, help="New York date, YYYY-MM-DD (not future).")
        parser.add_argument(
            "--force", action="store_true", help="Snapshot even on a weekend or NYSE holiday."
        )

    def handle(self, *args, **options) -> None:
        today = new_york_today()
        date = _date(options["date"]) if options["date"] else today
        if date > today:
            raise CommandError(f"{date} is in the future: today in New York is {today}.")
        if not options["force"] and not snapshot.is_trading_day(date):
            reason = snapshot.exchange_holiday(date) or "a weekend"
            raise CommandError(
                f"{date} is not a NYSE trading day ({reason}); pass --force to snapshot it anyway."
            )
        written = snapshot.snapshot_all(date=date, force=options["force"])
        self.stdout.write(self.style.SUCCESS(f"Snapshot for {date}: {written} rows written."))
