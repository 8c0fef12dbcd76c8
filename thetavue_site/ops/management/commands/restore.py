"""`manage.py restore FILE`: pg_restore into the configured (empty) database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from thetavue_site import db_roles
from thetavue_site.ops.backups import BackupError, Target, backup_restore, restore_target


class Command(BaseCommand):
    help = "Restore a dump made by `backup` into an empty database."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--database-url",
            default="",
            help="Restore into this database instead of the configured one.",
        )

    def handle(self, *args, file, database_url, **options):
        target = restore_target()
        if database_url:
            target = Target(database_url, maintenance=False)
        try:
            backup_restore(path=Path(file), target=target)
        except BackupError as error:
            raise CommandError(f"restore failed: {error}") from None
        if not database_url:
            # The dump carries no privileges: give the application role its DML again.
            with db_roles.as_owner():
                db_roles.app_role_grant()
        self.stdout.write(f"restored {file}")
