"""`migrate` as the owner role, then the application role's grants (thetavue_site.db_roles)."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from thetavue_site import db_roles


class Command(DjangoMigrate):
    help = (
        "Apply migrations as the owner role (DATABASE_OWNER_URL) and grant the "
        "application role only the DML it needs."
    )

    def handle(self, *args, **options):
        alias = options["database"]
        with db_roles.as_owner(alias):
            super().handle(*args, **options)
            db_roles.app_role_grant(alias=alias)
