"""Sync broker connections now, in the foreground, with progress."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from brokers.models import BrokerConnection
from brokers.sync import connection_sync
from thetavue_site import rls


class Command(BaseCommand):
    help = "Sync one connection (--connection ID) or every active one, in the foreground."

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, help="Only this connection id.")

    def handle(self, *args, connection: int | None, **options):
        with rls.as_service():
            connections = BrokerConnection.objects.exclude(status=BrokerConnection.Status.DISABLED)
            if connection is not None:
                connections = connections.filter(pk=connection)
            targets = list(connections.order_by("pk").values_list("pk", "user_id"))
        if connection is not None and not targets:
            raise CommandError(f"no active connection {connection}")
        failed = 0
        for index, (pk, owner) in enumerate(targets, start=1):
            self.stdout.write(f"[{index}/{len(targets)}] connection {pk} … ", ending="")
            self.stdout.flush()
            outcome = connection_sync(connection_id=pk, owner_id=owner, trigger="manual")
            if outcome.status == "succeeded":
                counts = outcome.counts
                self.stdout.write(
                    self.style.SUCCESS(
                        f"ok: {counts['accounts']} accounts, +{counts['added']} "
                        f"~{counts['updated']} -{counts['closed']} legs"
                    )
                )
            else:
                failed += outcome.status == "failed"
                self.stdout.write(self.style.WARNING(f"{outcome.status}: {outcome.error}"))
        if failed:
            raise CommandError(f"{failed} sync(s) failed")
