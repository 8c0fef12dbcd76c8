"""`flush` as the owner role: the application role may not TRUNCATE (it would skip RLS)."""

from django.core.management.commands.flush import Command as DjangoFlush

from thetavue_site import db_roles


class Command(DjangoFlush):
    def handle(self, **options):
        with db_roles.as_owner(options["database"]):
            super().handle(**options)
