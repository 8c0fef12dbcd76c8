"""Re-encrypt every stored broker token with the newest FIELD_ENCRYPTION_KEYS key."""

from __future__ import annotations

from django.core.management.base import BaseCommand
from django.db import transaction

from brokers.models import BrokerConnection
from brokers.token_crypto import rotate_ciphertext
from thetavue_site import rls


class Command(BaseCommand):
    help = "Re-encrypt broker tokens with the newest key (prepend a key first)."

    def handle(self, *args, **options):
        rotated = 0
        with rls.as_service(), transaction.atomic():
            # Row locks in pk order: a sync refreshing a token waits instead of
            # writing a ciphertext this command would then overwrite.
            connections = BrokerConnection.objects.select_for_update().order_by("pk")
            for connection in connections.only(
                "pk", "access_token_encrypted", "refresh_token_encrypted"
            ):
                connection.access_token_encrypted = rotate_ciphertext(
                    connection.access_token_encrypted
                )
                connection.refresh_token_encrypted = rotate_ciphertext(
                    connection.refresh_token_encrypted
                )
                connection.save(update_fields=["access_token_encrypted", "refresh_token_encrypted"])
                rotated += 1
        self.stdout.write(f"re-encrypted tokens of {rotated} connection(s)")
