"""`manage.py restore FILE`: pg_restore into the configured (empty) database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from thetavue_site.ops.backups import BackupError, Target, backup_restore, default_target


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
        target = default_target()
        if database_url:
            target = Target(database_url, maintenance=False)
        try:
            backup_restore(path=Path(file), target=target)
        except BackupError as error:
            raise CommandError(f"restore failed: {error}") from None
        self.stdout.write(f"restored {file}")
